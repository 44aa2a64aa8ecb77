// x87 control instructions (SDM Vol. 2 pages of each): FNINIT, FNCLEX, FNSTCW, FNSTSW (m16 and
// AX), FLDCW and WAIT/FWAIT. Zydis decodes the waiting forms (FINIT, FCLEX, FSTCW, FSTSW) as
// FWAIT followed by the no-wait instruction, so FWAIT carries the pending-exception check.
// None of these updates FOP/FIP/FDP (SDM Vol. 1 8.1.8). Other x87 instructions stay #UD.
#include "cpu/isa/operands.h"
#include "cpu/isa/sse_checks.h"

namespace cpu {
namespace {

// FNINIT: control 0x037f, status 0, all registers empty, pointers cleared (SDM Vol. 2 FINIT).
Outcome fninit(Core& c, const Insn&) {
    if (!x87_usable(c)) return Outcome::fault;
    X87State& x = c.state().x87;
    x.fcw = 0x037f;
    x.fsw = 0;
    x.ftw = 0xffff;
    x.fop = 0;
    x.fip = x.fdp = 0;
    x.fcs = x.fds = 0;
    return Outcome::next;
}

// FNCLEX: clears PE UE OE ZE DE IE, SF, ES and B (SDM Vol. 2 FCLEX; measured 0x7f7f -> 0x7f00).
Outcome fnclex(Core& c, const Insn&) {
    if (!x87_usable(c)) return Outcome::fault;
    c.state().x87.fsw &= 0x7f00;
    return Outcome::next;
}

Outcome fnstcw(Core& c, const Insn& i) {
    if (!x87_usable(c)) return Outcome::fault;
    return c.write<2>(i.seg, c.effective_address(i), c.state().x87.fcw) ? Outcome::next : Outcome::fault;
}

Outcome fnstsw_mem(Core& c, const Insn& i) {
    if (!x87_usable(c)) return Outcome::fault;
    return c.write<2>(i.seg, c.effective_address(i), c.state().x87.fsw) ? Outcome::next : Outcome::fault;
}

Outcome fnstsw_ax(Core& c, const Insn&) {
    if (!x87_usable(c)) return Outcome::fault;
    c.set_reg<2>(rax, c.state().x87.fsw);
    return Outcome::next;
}

// FLDCW waits: a pending unmasked exception is delivered first (#MF; measured on Zen 4). A new
// control word that unmasks a pending flag sets ES and B for the next waiting instruction.
Outcome fldcw(Core& c, const Insn& i) {
    if (!x87_usable(c) || !x87_no_pending_exception(c)) return Outcome::fault;
    uint64_t v;
    if (!c.read<2>(i.seg, c.effective_address(i), v)) return Outcome::fault;
    X87State& x = c.state().x87;
    x.fcw = x87_control_word(static_cast<uint16_t>(v));
    x.fsw = x87_status_word(x.fsw, x.fcw);
    return Outcome::next;
}

// WAIT/FWAIT: #NM only when CR0.MP and CR0.TS are both set, then #MF for a pending exception.
Outcome fwait(Core& c, const Insn&) {
    if (!fwait_usable(c) || !x87_no_pending_exception(c)) return Outcome::fault;
    return Outcome::next;
}

template <Handler H> bool build_plain(const DecodeContext&, Insn& i) {
    i.fn = H;
    return true;
}

template <Handler H> bool build_m16(const DecodeContext& c, Insn& i) {
    if (!c.is_mem(0)) return false;
    i.fn = H;
    return true;
}

bool build_fnstsw(const DecodeContext& c, Insn& i) {
    if (c.is_mem(0)) i.fn = &fnstsw_mem;
    else if (c.is_gpr(0) && c.gpr(0) == rax) i.fn = &fnstsw_ax;
    else return false;
    return true;
}

}  // namespace

void register_x87_control(Registry& r) {
    r.add(ZYDIS_MNEMONIC_FNINIT, &build_plain<&fninit>);
    r.add(ZYDIS_MNEMONIC_FNCLEX, &build_plain<&fnclex>);
    r.add(ZYDIS_MNEMONIC_FWAIT, &build_plain<&fwait>);
    r.add(ZYDIS_MNEMONIC_FNSTCW, &build_m16<&fnstcw>);
    r.add(ZYDIS_MNEMONIC_FLDCW, &build_m16<&fldcw>);
    r.add(ZYDIS_MNEMONIC_FNSTSW, &build_fnstsw);
}

}  // namespace cpu
