// RDTSC RDTSCP RDPMC PAUSE UD0 UD1 UD2 XLAT: small instructions without a family of their own.
// Context: instruction handlers.
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

// CR4.TSD makes RDTSC/RDTSCP privileged outside real mode (SDM Vol. 2 "RDTSC", "RDTSCP").
bool tsc_allowed(const Core& c) {
    const State& s = c.state();
    return !(s.cr4 & cr4::tsd) || s.mode == Mode::real || s.cpl == 0;
}

// A VM exit comes after the CR4.TSD check (SDM Vol. 3C 26.1.1); without one the guest reads
// the TSC with the extension's offset (and scaling) applied.
Outcome rdtsc(Core& c, const Insn& i) {
    if (!tsc_allowed(c)) return c.raise_gp(0);
    InterceptInfo x{Intercept::rdtsc, 0, c.tsc()};
    if (c.intercepted(i, x)) return Outcome::exit;
    const uint64_t t = x.value;
    c.set_reg<4>(rax, t);
    c.set_reg<4>(rdx, t >> 32);
    return Outcome::next;
}

// RDTSCP also loads ECX with IA32_TSC_AUX[31:0].
Outcome rdtscp(Core& c, const Insn& i) {
    if (!tsc_allowed(c)) return c.raise_gp(0);
    InterceptInfo x{Intercept::rdtscp, 0, c.tsc()};
    if (c.intercepted(i, x)) return Outcome::exit;
    const uint64_t t = x.value;
    c.set_reg<4>(rax, t);
    c.set_reg<4>(rdx, t >> 32);
    c.set_reg<4>(rcx, c.state().tsc_aux);
    return Outcome::next;
}

// RDPMC: CR4.PCE makes it usable outside CPL 0; an unimplemented counter index is #GP(0)
// (SDM Vol. 2 "RDPMC"; APM Vol. 3 "RDPMC": counters 0-3 without PerfCtrExtCore). No counter
// is modelled: each reads 0. The VM exit (RDPMC exiting, SVM's RDPMC intercept) comes after
// the CR4.PCE check (SDM Vol. 3C 26.1.1), before the index check.
Outcome rdpmc(Core& c, const Insn& i) {
    const State& s = c.state();
    if (!(s.cr4 & cr4::pce) && s.mode != Mode::real && s.cpl != 0) return c.raise_gp(0);
    InterceptInfo x{Intercept::rdpmc, static_cast<uint32_t>(c.reg<4>(rcx))};
    if (c.intercepted(i, x)) return Outcome::exit;
    if (c.reg<4>(rcx) > 3) return c.raise_gp(0);
    c.set_reg<4>(rax, 0);
    c.set_reg<4>(rdx, 0);
    return Outcome::next;
}

// PAUSE is a hint (SDM Vol. 2 "PAUSE"); with no spin-wait model it retires as a NOP, unless
// the extension intercepts it (PAUSE exiting, PAUSE-loop exiting, SVM's pause filter).
Outcome pause(Core& c, const Insn& i) {
    InterceptInfo x{Intercept::pause};
    return c.intercepted(i, x) ? Outcome::exit : Outcome::next;
}

// UD0/UD1/UD2 are defined opcodes whose whole purpose is #UD: a plain #UD, not "unimplemented".
Outcome ud(Core& c, const Insn&) { return c.raise_ud(); }

// XLAT: AL <- [seg:rBX + ZeroExtend(AL)] in the address size; DS default, overridable
// (SDM Vol. 2 "XLAT/XLATB").
template <unsigned A>
Outcome xlat(Core& c, const Insn& i) {
    const uint64_t ea = (c.reg<A>(rbx) + c.reg<1>(rax)) & mask_of<A>();
    uint64_t v;
    if (!c.read<1>(i.seg, ea, v)) return Outcome::fault;
    c.set_reg<1>(rax, v);
    return Outcome::next;
}

template <Handler H>
bool build(const DecodeContext&, Insn& i) {
    i.fn = H;
    return true;
}

bool build_xlat(const DecodeContext& c, Insn& i) {
    // The table operand is hidden: its segment carries any override.
    for (unsigned k = 0; k < c.zi.operand_count; ++k)
        if (c.op(k).type == ZYDIS_OPERAND_TYPE_MEMORY) i.seg = segment_index(c.op(k).mem.segment);
    i.fn = by_width_no8(i.adsize, [](auto w) -> Handler { return &xlat<w.value>; });
    return i.fn != nullptr;
}

}  // namespace

void register_misc(Registry& r) {
    r.add(ZYDIS_MNEMONIC_RDTSC, &build<&rdtsc>);
    r.add(ZYDIS_MNEMONIC_RDTSCP, &build<&rdtscp>);
    r.add(ZYDIS_MNEMONIC_RDPMC, &build<&rdpmc>);
    r.add(ZYDIS_MNEMONIC_PAUSE, &build<&pause>);
    r.add(ZYDIS_MNEMONIC_UD0, &build<&ud>);
    r.add(ZYDIS_MNEMONIC_UD1, &build<&ud>);
    r.add(ZYDIS_MNEMONIC_UD2, &build<&ud>);
    r.add(ZYDIS_MNEMONIC_XLAT, &build_xlat);
}

}  // namespace cpu
