// Cache and TLB maintenance and XCR0: INVD, WBINVD, CLFLUSH, CLFLUSHOPT, INVLPG, INVPCID,
// XSETBV, XGETBV (SDM Vol. 2 pages of each). hvsim has no cache model: the cache instructions
// are defined no-ops that report a cache_control event. Its software TLB has neither PCID
// tags nor per-page invalidation, so INVLPG and INVPCID flush all of it (invalidating more
// than asked is always allowed, SDM Vol. 3A 4.10.4.4). Context: instruction handlers.
#include "cpu/isa/features.h"
#include "cpu/isa/operands.h"
#include "cpu/isa/transfer.h"

namespace cpu {
namespace {

void report(Core& c, const Insn& i, uint64_t address) {
    c.emit(sim::EventKind::cache_control, i.mnemonic, address);
}

// INVD/WBINVD: CPL 0 (#GP(0); virtual-8086 mode included).
Outcome invalidate_caches(Core& c, const Insn& i) {
    const State& s = c.state();
    if (s.mode != Mode::real && s.cpl != 0) return c.raise_gp(0);
    InterceptInfo x{i.mnemonic == ZYDIS_MNEMONIC_WBINVD ? Intercept::wbinvd : Intercept::invd};
    if (c.intercepted(i, x)) return Outcome::exit;
    report(c, i, 0);
    return Outcome::next;
}

// CLFLUSH m8 / CLFLUSHOPT m8: the faults of a byte load at any privilege (SDM Vol. 2
// "CLFLUSH": "subject to all permission checking and faults associated with a byte load").
// CLFLUSHOPT is #UD unless CPUID reports it. (The SDM also allows flushing through an
// execute-only code segment; hvsim applies the load's read check there too.)
template <bool Opt>
Outcome clflush(Core& c, const Insn& i) {
    if (Opt ? !features(c.vendor()).clflushopt : !features(c.vendor()).clfsh) return c.raise_ud();
    const uint64_t ea = c.effective_address(i);
    uint64_t byte;
    if (!c.read<1>(i.seg, ea, byte)) return Outcome::fault;
    const State& s = c.state();
    report(c, i, (c.long64() && i.seg < fs) ? ea : s.seg[i.seg].base + ea);
    return Outcome::next;
}

// INVLPG m: CPL 0; no fault for the address itself (a non-canonical one is a no-op, SDM Vol. 2
// "INVLPG"). The whole software TLB is flushed.
Outcome invlpg(Core& c, const Insn& i) {
    const State& s = c.state();
    if (s.mode != Mode::real && s.cpl != 0) return c.raise_gp(0);
    const uint64_t ea = c.effective_address(i);
    InterceptInfo x{Intercept::invlpg, 0, 0, (c.long64() && i.seg < fs) ? ea : s.seg[i.seg].base + ea};
    if (c.intercepted(i, x)) return Outcome::exit;
    c.flush_tlb();
    report(c, i, ea);
    return Outcome::end_block;  // the block's later instructions may sit on the flushed page
}

// INVPCID r32/r64, m128 (SDM Vol. 2 "INVPCID"): #UD without CPUID support or in virtual-8086
// mode; #GP(0) at CPL > 0; the descriptor is read (its faults); then #GP(0) for a type > 3,
// descriptor bits 63:12 not zero, a nonzero PCID for types 0/1 while CR4.PCIDE = 0, or a
// non-canonical address for type 0.
template <unsigned N>
Outcome invpcid(Core& c, const Insn& i) {
    const State& s = c.state();
    if (!features(c.vendor()).invpcid || s.mode == Mode::v8086) return c.raise_ud();
    if (s.mode != Mode::real && s.cpl != 0) return c.raise_gp(0);
    InterceptInfo x{Intercept::invpcid, 0, 0, 0, 0, intercept_flag::memory_operand};
    if (c.intercepted(i, x)) return Outcome::exit;
    uint64_t desc[2];
    if (!c.read_bytes(i.seg, c.effective_address(i), desc, 16)) return Outcome::fault;
    const uint64_t type = c.reg<N>(i.reg);
    const uint64_t pcid = desc[0] & 0xfff;
    if (type > 3 || (desc[0] >> 12) != 0) return c.raise_gp(0);
    if (type <= 1 && pcid != 0 && !(s.cr4 & cr4::pcide)) return c.raise_gp(0);
    if (type == 0 && !canonical(s, desc[1])) return c.raise_gp(0);
    c.flush_tlb();
    return Outcome::end_block;
}

// XCR0 (SDM Vol. 1 13.3 "Enabling the XSAVE Feature Set"): x87 (bit 0) must be 1, AVX (2)
// needs SSE (1); hvsim supports the x87 and SSE states only, so no other bit may be set.
constexpr uint64_t kXcr0Supported = 0x3;

// XGETBV: #UD without CR4.OSXSAVE (which CR4 admits only when CPUID reports XSAVE); ECX must
// name XCR0 (XCR1 needs XGETBV_ECX_1, not reported): #GP(0).
Outcome xgetbv(Core& c, const Insn&) {
    const State& s = c.state();
    if (!(s.cr4 & cr4::osxsave)) return c.raise_ud();
    if ((s.regs[rcx] & 0xffffffff) != 0) return c.raise_gp(0);
    c.set_reg<4>(rax, s.xcr0);
    c.set_reg<4>(rdx, s.xcr0 >> 32);
    return Outcome::next;
}

// XSETBV: #UD without CR4.OSXSAVE; #GP(0) at CPL > 0 (and in virtual-8086 mode), for ECX != 0
// and for an invalid XCR0 value (SDM Vol. 2 "XSETBV").
Outcome xsetbv(Core& c, const Insn& i) {
    State& s = c.state();
    if (!(s.cr4 & cr4::osxsave)) return c.raise_ud();
    if (s.mode != Mode::real && s.cpl != 0) return c.raise_gp(0);
    InterceptInfo x{Intercept::xsetbv, static_cast<uint32_t>(s.regs[rcx])};
    if (c.intercepted(i, x)) return Outcome::exit;
    if ((s.regs[rcx] & 0xffffffff) != 0) return c.raise_gp(0);
    const uint64_t v = (s.regs[rdx] << 32) | (s.regs[rax] & 0xffffffff);
    if (!(v & 1) || (v & ~kXcr0Supported)) return c.raise_gp(0);
    s.xcr0 = v;
    return Outcome::next;
}

template <Handler H>
bool build(const DecodeContext&, Insn& i) {
    i.fn = H;
    return true;
}

template <Handler H>
bool build_memory(const DecodeContext& c, Insn& i) {
    if (!c.is_mem(0)) return false;
    i.fn = H;
    return true;
}

bool build_invpcid(const DecodeContext& c, Insn& i) {
    if (!c.is_gpr(0) || !c.is_mem(1)) return false;
    i.reg = c.gpr(0);
    i.fn = c.width(0) == 8 ? &invpcid<8> : &invpcid<4>;
    return true;
}

}  // namespace

void register_cache_tlb(Registry& r) {
    r.add(ZYDIS_MNEMONIC_INVD, &build<&invalidate_caches>);
    r.add(ZYDIS_MNEMONIC_WBINVD, &build<&invalidate_caches>);
    r.add(ZYDIS_MNEMONIC_CLFLUSH, &build_memory<&clflush<false>>);
    r.add(ZYDIS_MNEMONIC_CLFLUSHOPT, &build_memory<&clflush<true>>);
    r.add(ZYDIS_MNEMONIC_INVLPG, &build_memory<&invlpg>);
    r.add(ZYDIS_MNEMONIC_INVPCID, &build_invpcid);
    r.add(ZYDIS_MNEMONIC_XGETBV, &build<&xgetbv>);
    r.add(ZYDIS_MNEMONIC_XSETBV, &build<&xsetbv>);
}

}  // namespace cpu
