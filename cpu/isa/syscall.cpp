// SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS and RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE, with the
// vendor differences of SDM Vol. 2 ("SYSCALL", "SYSRET", "SYSENTER", "SYSEXIT", "SWAPGS",
// "RDFSBASE/RDGSBASE", "WRFSBASE/WRGSBASE") and AMD APM Vol. 3 ("SYSCALL", "SYSRET",
// "SYSENTER", "SYSEXIT"). The fast system calls load CS and SS with fixed flat descriptors
// (no descriptor-table reads). Context: instruction handlers.
#include "cpu/isa/operands.h"
#include "cpu/isa/transfer.h"

namespace cpu {
namespace {

// The fixed hidden parts (VMX access-rights layout, state.h): base 0, limit 4 GiB.
constexpr uint32_t kAccessed = 1, kS = 0x10, kP = 0x80, kL = 0x2000, kDB = 0x4000, kG = 0x8000;
constexpr uint32_t kCodeType = 0xb, kDataType = 0x3;  // execute/read and read/write, accessed

Segment flat(uint16_t selector, uint32_t type, unsigned dpl, uint32_t size_bits) {
    return Segment{selector, 0, 0xffffffff, type | kS | (dpl << 5) | kP | size_bits | kG};
}
Segment code64(uint16_t sel, unsigned dpl) { return flat(sel, kCodeType, dpl, kL); }
Segment code32(uint16_t sel, unsigned dpl) { return flat(sel, kCodeType, dpl, kDB); }
Segment stack32(uint16_t sel, unsigned dpl) { return flat(sel, kDataType, dpl, kDB); }

uint16_t star_field(const State& s, unsigned shift) { return static_cast<uint16_t>(s.msr.star >> shift); }

void set_privilege(Core& c, const Segment& code, const Segment& stack, unsigned cpl) {
    State& s = c.state();
    s.seg[cs] = code;
    s.seg[ss] = stack;
    s.cpl = static_cast<uint8_t>(cpl);
    c.refresh_mode();
}

// ---- SYSCALL ----

// Intel: only in 64-bit mode with EFER.SCE; RCX = next RIP, R11 = RFLAGS, RFLAGS &= ~FMASK,
// RIP = LSTAR, CS = STAR[47:32] & FFFCh (64-bit code, DPL 0), SS = STAR[47:32] + 8.
// AMD: #UD only without EFER.SCE; compatibility mode jumps to CSTAR, legacy mode to
// STAR[31:0] with 32-bit CS/SS and VM, IF, RF cleared (and RCX = next EIP only); in long mode
// R11 gets RFLAGS with RF cleared and RF is cleared too (APM "SYSCALL" Operation).
Outcome syscall(Core& c, const Insn& i) {
    State& s = c.state();
    const bool amd = c.vendor() == Vendor::amd;
    const bool ia32e = s.efer & efer::lma;
    if (!(s.efer & efer::sce) || (!amd && !c.long64())) return c.raise_ud();
    const uint64_t next = c.rip() + i.length;
    const uint16_t sel = star_field(s, 32);
    uint64_t flags = s.rflags();
    if (ia32e) {
        if (amd) flags &= ~rf::rf;
        s.regs[rcx] = next;
        s.regs[r11] = flags;
        s.set_rflags((flags & ~(s.msr.fmask & 0xffffffff)) & ~(amd ? rf::rf : 0));
        s.rip() = c.long64() ? s.msr.lstar : s.msr.cstar;
        set_privilege(c, code64(sel & 0xfffc, 0), stack32(static_cast<uint16_t>(sel + 8), 0), 0);
        return Outcome::branch;
    }
    c.set_reg<4>(rcx, next);
    s.set_rflags(flags & ~(rf::vm | rf::if_ | rf::rf));
    s.rip() = s.msr.star & 0xffffffff;
    set_privilege(c, code32(sel & 0xfffc, 0), stack32(static_cast<uint16_t>(sel + 8), 0), 0);
    return Outcome::branch;
}

// ---- SYSRET ----

// Intel: #UD outside 64-bit mode or without SCE; #GP(0) at CPL > 0 and, for the 64-bit form,
// if RCX is not canonical (checked here, at CPL 0). RFLAGS = R11 & 3C7FD7h | 2; CS =
// STAR[63:48] (+16 for the 64-bit form) | 3; SS = (STAR[63:48] + 8) | 3, both flat, DPL 3.
// AMD: #UD without SCE, #GP(0) outside protected mode or at CPL > 0; no canonical check (a bad
// RIP faults at the fetch, at CPL 3); SS gets only its selector (the hidden part keeps its
// attributes, APM "SYSRET": "SS.sel = ..."); legacy mode sets IF and loads EIP = ECX.
template <unsigned N>
Outcome sysret(Core& c, const Insn&) {
    State& s = c.state();
    const bool amd = c.vendor() == Vendor::amd;
    const bool ia32e = s.efer & efer::lma;
    if (!(s.efer & efer::sce) || (!amd && !c.long64())) return c.raise_ud();
    if (s.mode == Mode::real || s.mode == Mode::v8086 || s.cpl != 0) return c.raise_gp(0);
    const uint64_t target = N == 8 ? s.regs[rcx] : (s.regs[rcx] & 0xffffffff);
    if (N == 8 && !amd && !canonical(s, target)) return c.raise_gp(0);
    const uint16_t base = star_field(s, 48);
    const uint16_t ss_sel = static_cast<uint16_t>((base + 8) | 3);
    const Segment code = N == 8 ? code64(static_cast<uint16_t>((base + 16) | 3), 3) : code32(base | 3, 3);
    if (!ia32e) {  // AMD legacy mode
        s.rflags_other |= rf::if_;
    } else {
        s.set_rflags(amd ? (s.regs[r11] & ~(rf::rf | rf::vm)) | rf::fixed1 : (s.regs[r11] & 0x3c7fd7) | rf::fixed1);
    }
    Segment stack = stack32(ss_sel, 3);
    if (amd) {
        stack = s.seg[ss];
        stack.selector = ss_sel;
    }
    s.rip() = target;
    set_privilege(c, code, stack, 3);
    return Outcome::branch;
}

// ---- SYSENTER / SYSEXIT ----

// SYSENTER (Intel SDM "SYSENTER"): #GP(0) in real mode or with SYSENTER_CS[15:2] = 0; clears
// VM, IF, RF; rSP/rIP from SYSENTER_ESP/EIP (32 bits outside IA-32e mode); CS = SYSENTER_CS &
// FFFCh (64-bit code in IA-32e mode, else 32-bit), SS = CS + 8, DPL 0. AMD: #UD in long mode
// (APM "SYSENTER": "invalid in long mode").
Outcome sysenter(Core& c, const Insn&) {
    State& s = c.state();
    const bool ia32e = s.efer & efer::lma;
    if (ia32e && c.vendor() == Vendor::amd) return c.raise_ud();
    if (s.mode == Mode::real || (s.msr.sysenter_cs & 0xfffc) == 0) return c.raise_gp(0);
    const auto sel = static_cast<uint16_t>(s.msr.sysenter_cs & 0xfffc);
    s.rflags_other &= ~(rf::vm | rf::if_ | rf::rf);
    s.regs[rsp] = ia32e ? s.msr.sysenter_esp : (s.msr.sysenter_esp & 0xffffffff);
    s.rip() = ia32e ? s.msr.sysenter_eip : (s.msr.sysenter_eip & 0xffffffff);
    set_privilege(c, ia32e ? code64(sel, 0) : code32(sel, 0), stack32(static_cast<uint16_t>(sel + 8), 0), 0);
    return Outcome::branch;
}

// SYSEXIT (SDM "SYSEXIT"): #GP(0) with SYSENTER_CS[15:2] = 0, in real mode or at CPL > 0, and
// for the 64-bit form if RCX or RDX is not canonical; rSP = rCX, rIP = rDX; CS = SYSENTER_CS
// + 16 (+32 for the 64-bit form) | 3, SS = CS + 8, DPL 3. AMD: #UD in long mode.
template <unsigned N>
Outcome sysexit(Core& c, const Insn&) {
    State& s = c.state();
    if ((s.efer & efer::lma) && c.vendor() == Vendor::amd) return c.raise_ud();
    if ((s.msr.sysenter_cs & 0xfffc) == 0 || s.mode == Mode::real || s.cpl != 0) return c.raise_gp(0);
    const uint64_t sp = N == 8 ? s.regs[rcx] : (s.regs[rcx] & 0xffffffff);
    const uint64_t ip = N == 8 ? s.regs[rdx] : (s.regs[rdx] & 0xffffffff);
    if (N == 8 && (!canonical(s, sp) || !canonical(s, ip))) return c.raise_gp(0);
    const auto sel = static_cast<uint16_t>(((s.msr.sysenter_cs & 0xffff) + (N == 8 ? 32 : 16)) | 3);
    s.regs[rsp] = sp;
    s.rip() = ip;
    set_privilege(c, N == 8 ? code64(sel, 3) : code32(sel, 3), stack32(static_cast<uint16_t>(sel + 8), 3), 3);
    return Outcome::branch;
}

// ---- SWAPGS and the FS/GS base instructions ----

// SWAPGS exchanges the GS base with IA32_KERNEL_GS_BASE: 64-bit mode only (#UD elsewhere),
// CPL 0 (SDM Vol. 2 "SWAPGS").
Outcome swapgs(Core& c, const Insn&) {
    State& s = c.state();
    if (!c.long64()) return c.raise_ud();
    if (s.cpl != 0) return c.raise_gp(0);
    std::swap(s.seg[gs].base, s.msr.kernel_gs_base);
    c.refresh_mode();
    return Outcome::next;
}

// RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE: 64-bit mode and CR4.FSGSBASE (CR4 admits the bit only
// when CPUID reports FSGSBASE), else #UD; a 32-bit source is zero-extended, a 64-bit one must
// be canonical (#GP(0)).
template <unsigned Seg, bool Write, unsigned N>
Outcome fsgsbase(Core& c, const Insn& i) {
    State& s = c.state();
    if (!c.long64() || !(s.cr4 & cr4::fsgsbase)) return c.raise_ud();
    if (!Write) {
        c.set_reg<N>(i.reg, s.seg[Seg].base);
        return Outcome::next;
    }
    const uint64_t v = c.reg<N>(i.reg);
    if (N == 8 && !canonical(s, v)) return c.raise_gp(0);
    s.seg[Seg].base = v;
    c.refresh_mode();
    return Outcome::next;
}

template <Handler H>
bool build(const DecodeContext&, Insn& i) {
    i.fn = H;
    return true;
}

template <template <unsigned> class F>
bool build_sized(const DecodeContext&, Insn& i) {
    i.fn = i.opsize == 8 ? F<8>::fn : F<4>::fn;
    return true;
}
template <unsigned N> struct SysretFn { static constexpr Handler fn = &sysret<N>; };
template <unsigned N> struct SysexitFn { static constexpr Handler fn = &sysexit<N>; };

template <unsigned Seg, bool Write>
bool build_fsgsbase(const DecodeContext& c, Insn& i) {
    if (!c.is_gpr(0)) return false;
    i.reg = c.gpr(0);
    i.fn = c.width(0) == 8 ? &fsgsbase<Seg, Write, 8> : &fsgsbase<Seg, Write, 4>;
    return true;
}

}  // namespace

void register_syscall(Registry& r) {
    r.add(ZYDIS_MNEMONIC_SYSCALL, &build<&syscall>);
    r.add(ZYDIS_MNEMONIC_SYSRET, &build_sized<SysretFn>);
    r.add(ZYDIS_MNEMONIC_SYSENTER, &build<&sysenter>);
    r.add(ZYDIS_MNEMONIC_SYSEXIT, &build_sized<SysexitFn>);
    r.add(ZYDIS_MNEMONIC_SWAPGS, &build<&swapgs>);
    r.add(ZYDIS_MNEMONIC_RDFSBASE, &build_fsgsbase<fs, false>);
    r.add(ZYDIS_MNEMONIC_RDGSBASE, &build_fsgsbase<gs, false>);
    r.add(ZYDIS_MNEMONIC_WRFSBASE, &build_fsgsbase<fs, true>);
    r.add(ZYDIS_MNEMONIC_WRGSBASE, &build_fsgsbase<gs, true>);
}

}  // namespace cpu
