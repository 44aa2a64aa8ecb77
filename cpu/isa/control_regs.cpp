// MOV to/from CR0, CR2, CR3, CR4, CR8 and DR0-DR7, CLTS, LMSW, SMSW, STAC/CLAC, with the
// reserved-bit and consistency checks of SDM Vol. 3A 2.5 "Control Registers", 4.1.1 / 4.4.1
// (paging modes, PAE PDPTE registers), 10.8.5 "Initializing IA-32e Mode" and Vol. 2 "MOV—Move
// to/from Control Registers", "MOV—Move to/from Debug Registers". Writes that change paging
// flush the software TLB; writes that change the mode or paging end the block.
// Context: instruction handlers.
#include "cpu/isa/features.h"
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

// CR0 bits a MOV can change; ET is hardwired to 1 and the other low reserved bits read as 0
// ("attempts to set them have no impact", SDM Vol. 2 "MOV—Move to/from Control Registers").
constexpr uint64_t kCr0Defined = cr0::pe | cr0::mp | cr0::em | cr0::ts | cr0::et | cr0::ne | cr0::wp |
                                 cr0::am | cr0::nw | cr0::cd | cr0::pg;
// Bits 63:MAXPHYADDR of CR3 and of paging-structure entries (SDM Vol. 3A 4.5.2, 4.4.1).
constexpr uint64_t kAbovePhysAddr = ~((uint64_t{1} << kMaxPhysAddrBits) - 1);
// PAE PDPTE bits that are reserved besides 63:MAXPHYADDR: 2:1 and 8:5 (SDM Vol. 3A Table 4-8).
constexpr uint64_t kPdpteReserved = 0x1e6 | kAbovePhysAddr;
constexpr uint64_t kCr3NoFlush = uint64_t{1} << 63;  // with CR4.PCIDE (SDM Vol. 3A 4.10.4.1)

// Privileged: CPL 0 in protected and IA-32e mode, always allowed in real mode, and #GP(0) in
// virtual-8086 mode (CPL 3 there).
bool privileged(const State& s) { return s.mode == Mode::real || s.cpl == 0; }

// PAE paging is what the processor uses with CR0.PG = 1, CR4.PAE = 1 and IA32_EFER.LMA = 0
// (SDM Vol. 3A 4.1.1, Table 4-1).
bool pae_paging(uint64_t cr0v, uint64_t cr4v, uint64_t eferv) {
    return (cr0v & cr0::pg) && (cr4v & cr4::pae) && !(eferv & efer::lma);
}

// Loads the four PDPTEs from the 32-byte-aligned table at CR3[31:5] (SDM Vol. 3A 4.4.1): #GP(0)
// if a present one has a reserved bit set, and then nothing changes. Intel only: AMD's APM
// describes no PDPTE registers, so on AMD hvsim reads the PDPTE at walk time (a reserved bit
// is then a #PF with RSVD = 1).
bool load_pdptes(Core& c, uint64_t cr3v) {
    if (c.vendor() != Vendor::intel) return true;
    uint64_t p[4];
    if (!c.read_physical(cr3v & 0xffffffe0u, p, sizeof p)) return c.raise_gp(0), false;  // not RAM
    for (uint64_t e : p)
        if ((e & 1) && (e & kPdpteReserved)) return c.raise_gp(0), false;
    State& s = c.state();
    for (unsigned k = 0; k < 4; ++k) s.pdpte[k] = p[k];
    s.pdpte_cr3 = cr3v;
    return true;
}

// In VMX operation CR0 and CR4 keep the bits IA32_VMX_CR0/CR4_FIXED0/1 fix (SDM Vol. 3C 24.8).
bool virtualization_allows(const Core& c, unsigned cr, uint64_t v) {
    return !c.virtualization() || c.virtualization()->cr_write_allowed(c, cr, v);
}

Outcome write_cr0(Core& c, uint64_t v) {
    State& s = c.state();
    const uint64_t old = s.cr0;
    if (v >> 32) return c.raise_gp(0);  // bits 63:32 are reserved (SDM Vol. 3A 2.5)
    v = (v & kCr0Defined) | cr0::et;
    if (!virtualization_allows(c, 0, v)) return c.raise_gp(0);
    // Invalid combinations (SDM Vol. 2 "MOV CR" exceptions): PG without PE, NW without CD.
    if ((v & cr0::pg) && !(v & cr0::pe)) return c.raise_gp(0);
    if ((v & cr0::nw) && !(v & cr0::cd)) return c.raise_gp(0);
    const bool setting_pg = !(old & cr0::pg) && (v & cr0::pg);
    const bool clearing_pg = (old & cr0::pg) && !(v & cr0::pg);
    if (clearing_pg && s.mode == Mode::long64) return c.raise_gp(0);   // "Attempting to clear CR0.PG" (64-bit mode)
    if (clearing_pg && (s.cr4 & cr4::pcide)) return c.raise_gp(0);    // SDM Vol. 3A 4.10.1
    uint64_t new_efer = s.efer;
    if (setting_pg && (s.efer & efer::lme)) {
        // Activating IA-32e mode: the 64-bit consistency checks of SDM Vol. 3A 10.8.5.
        if (!(s.cr4 & cr4::pae)) return c.raise_gp(0);
        if (s.seg[cs].long_mode()) return c.raise_gp(0);
        const unsigned tr_type = s.tr.attributes & 0xf;
        if (tr_type == 1 || tr_type == 3) return c.raise_gp(0);  // TR holds a 16-bit TSS
        new_efer |= efer::lma;
    }
    if (clearing_pg) new_efer &= ~efer::lma;  // leaving IA-32e mode from compatibility mode (10.8.5.4)
    // PDPTEs are loaded when PAE paging is in use afterwards and PG, CD or NW changes (4.4.1).
    if (pae_paging(v, s.cr4, new_efer) && ((old ^ v) & (cr0::pg | cr0::cd | cr0::nw)) && !load_pdptes(c, s.cr3))
        return Outcome::fault;
    s.cr0 = v;
    s.efer = new_efer;
    if ((old ^ v) & (cr0::pg | cr0::pe | cr0::wp)) c.flush_tlb();
    c.refresh_mode();
    return Outcome::end_block;
}

Outcome write_cr3(Core& c, uint64_t v) {
    State& s = c.state();
    if (c.long64()) {
        // With CR4.PCIDE, bit 63 of the source asks not to invalidate the PCID's translations
        // and is not stored (SDM Vol. 3A 4.10.4.1). hvsim's TLB has no PCID tags, so it flushes
        // anyway: invalidating more than required is always allowed (SDM Vol. 3A 4.10.4.4).
        if (s.cr4 & cr4::pcide) v &= ~kCr3NoFlush;
        if (v & kAbovePhysAddr) return c.raise_gp(0);  // reserved bits 63:MAXPHYADDR
    }
    if (pae_paging(s.cr0, s.cr4, s.efer) && !load_pdptes(c, v)) return Outcome::fault;
    s.cr3 = v;
    c.flush_tlb();
    return Outcome::end_block;
}

Outcome write_cr4(Core& c, uint64_t v) {
    State& s = c.state();
    const uint64_t old = s.cr4;
    const bool ia32e = s.efer & efer::lma;
    // Reserved bits, including every bit of a feature CPUID does not report (SDM Vol. 3A 2.5).
    if (v & ~c.cr4_allowed()) return c.raise_gp(0);
    if (!virtualization_allows(c, 4, v)) return c.raise_gp(0);
    if (ia32e && !(v & cr4::pae)) return c.raise_gp(0);  // "leave IA-32e mode by clearing CR4.PAE"
    if (ia32e && ((old ^ v) & cr4::la57)) return c.raise_gp(0);  // LA57 is fixed in IA-32e mode (2.5)
    if (!(old & cr4::pcide) && (v & cr4::pcide)) {
        // SDM Vol. 3A 4.10.1: PCIDE can be set only in IA-32e mode and with CR3[11:0] = 0.
        if (!ia32e || (s.cr3 & 0xfff)) return c.raise_gp(0);
    }
    constexpr uint64_t pdpte_bits = cr4::pae | cr4::pge | cr4::pse | cr4::smep;  // 4.4.1
    if (pae_paging(s.cr0, v, s.efer) && ((old ^ v) & pdpte_bits) && !load_pdptes(c, s.cr3))
        return Outcome::fault;
    s.cr4 = v;
    // Changing these invalidates translations (SDM Vol. 3A 4.10.4.1); a full flush is allowed.
    constexpr uint64_t tlb_bits = cr4::pge | cr4::pae | cr4::pse | cr4::pcide | cr4::smep | cr4::smap | cr4::la57;
    if ((old ^ v) & tlb_bits) c.flush_tlb();
    c.refresh_mode();
    return Outcome::end_block;
}

// CR8 is the local APIC's TPR[7:4]; bits 63:4 are reserved (SDM Vol. 3A 11.8.6.1, 2.5).
Outcome write_cr8(Core& c, uint64_t v) {
    if (v & ~uint64_t{0xf}) return c.raise_gp(0);
    c.write_cr8(v);
    return Outcome::end_block;  // a lower priority may unmask a pending interrupt
}

// MOV CRn, r32/r64: 32 bits outside 64-bit mode (SDM Vol. 2 "MOV—Move to/from Control
// Registers"). Invalid CRn (CR1, CR5-CR7, CR9-CR15) are #UD at decode. Then #GP(0) for CPL > 0.
template <unsigned N>
Outcome mov_to_cr(Core& c, const Insn& i) {
    if (!privileged(c.state())) return c.raise_gp(0);
    // The VM exit comes after the privilege check (SDM Vol. 3C 26.1.1); a guest-mode write may
    // be changed by the extension (bits the host owns keep their value, SDM 26.3).
    InterceptInfo x{Intercept::cr_write, i.aux, c.reg<N>(i.rm)};
    if (c.intercepted(i, x)) return Outcome::exit;
    const uint64_t v = x.value;
    switch (i.aux) {
        case 0: return write_cr0(c, v);
        case 2: c.state().cr2 = v; return Outcome::next;
        case 3: return write_cr3(c, v);
        case 4: return write_cr4(c, v);
        case 8: return write_cr8(c, v);
        default: return c.raise_ud();
    }
}

template <unsigned N>
Outcome mov_from_cr(Core& c, const Insn& i) {
    const State& s = c.state();
    if (!privileged(s)) return c.raise_gp(0);
    uint64_t v;
    switch (i.aux) {
        case 0: v = s.cr0; break;
        case 2: v = s.cr2; break;
        case 3: v = s.cr3; break;
        case 4: v = s.cr4; break;
        case 8: v = c.read_cr8(); break;
        default: return c.raise_ud();
    }
    InterceptInfo x{Intercept::cr_read, i.aux, v};  // read shadows may replace the value
    if (c.intercepted(i, x)) return Outcome::exit;
    c.set_reg<N>(i.reg, x.value);
    return Outcome::next;
}

// ---- Debug registers (SDM Vol. 3A 17.2 "Debug Registers") ----

constexpr uint64_t kDr6Fixed1 = 0xffff0ff0, kDr6Writable = 0xe00f;  // B0-B3, BD, BS, BT
constexpr uint64_t kDr7Fixed1 = 0x400, kDr7Writable = 0xffff23ff;   // L/G 0-3, LE, GE, GD, R/W, LEN
constexpr uint64_t kDr6Bd = 1u << 13, kDr7Gd = 1u << 13;

// DR4/DR5 alias DR6/DR7 unless CR4.DE = 1, when referencing them is #UD (17.2.2). -1: #UD.
int debug_register(const State& s, unsigned n) {
    if (n == 4 || n == 5) return (s.cr4 & cr4::de) ? -1 : static_cast<int>(n + 2);
    return static_cast<int>(n);
}

// The checks of both directions, in the order of the exception lists of SDM Vol. 2 "MOV—Move
// to/from Debug Registers": #GP(0) for CPL > 0, #UD for DR4/DR5 with CR4.DE, then #DB when
// DR7.GD = 1 (general detect, 17.2.4: a fault, with DR6.BD set and DR7.GD cleared so the
// handler may use the debug registers). Breakpoint matching itself is not modelled: the
// values are stored and read back. A VM exit comes after #GP and #UD, before the #DB (SDM Vol.
// 3C 26.1.1 "Relative Priority of Faults and VM Exits").
Outcome debug_access(Core& c, const Insn& i, Intercept kind, int& n) {
    State& s = c.state();
    if (!privileged(s)) return c.raise_gp(0);
    n = debug_register(s, i.aux);
    if (n < 0) return c.raise_ud();
    InterceptInfo x{kind, i.aux};
    if (c.intercepted(i, x)) return Outcome::exit;
    if (s.dr[7] & kDr7Gd) {
        s.dr[6] |= kDr6Bd;
        s.dr[7] &= ~kDr7Gd;
        return c.raise(sim::Vector::debug);
    }
    return Outcome::next;
}

template <unsigned N>
Outcome mov_from_dr(Core& c, const Insn& i) {
    int n = 0;
    if (Outcome o = debug_access(c, i, Intercept::dr_read, n); o != Outcome::next) return o;
    c.set_reg<N>(i.reg, c.state().dr[n]);
    return Outcome::next;
}

template <unsigned N>
Outcome mov_to_dr(Core& c, const Insn& i) {
    int n = 0;
    if (Outcome o = debug_access(c, i, Intercept::dr_write, n); o != Outcome::next) return o;
    uint64_t v = c.reg<N>(i.rm);
    State& s = c.state();
    if (n >= 6 && (v >> 32)) return c.raise_gp(0);  // DR6/DR7 bits 63:32 are reserved (64-bit mode)
    if (n == 6) v = (v & kDr6Writable) | kDr6Fixed1;
    if (n == 7) v = (v & kDr7Writable) | kDr7Fixed1;
    s.dr[n] = v;
    return Outcome::next;
}

// ---- CLTS, LMSW, SMSW, STAC, CLAC ----

Outcome clts(Core& c, const Insn& i) {
    if (!privileged(c.state())) return c.raise_gp(0);
    InterceptInfo x{Intercept::clts, 0, c.state().cr0 & ~cr0::ts};
    if (c.intercepted(i, x)) return Outcome::exit;
    c.state().cr0 &= ~cr0::ts;
    return Outcome::next;
}

// LMSW loads CR0[3:0] (PE, MP, EM, TS); it can set PE but not clear it (SDM Vol. 2 "LMSW").
template <Loc S>
Outcome lmsw(Core& c, const Insn& i) {
    State& s = c.state();
    if (!privileged(s)) return c.raise_gp(0);
    uint64_t v;
    if (!load<S, 2>(c, i, ea_if_memory<S, S>(c, i), v)) return Outcome::fault;
    InterceptInfo x{Intercept::lmsw, 0, v & 0xffff};
    if (S == Loc::mem) x.flags = intercept_flag::memory_operand;
    if (c.intercepted(i, x)) return Outcome::exit;
    s.cr0 = (s.cr0 & ~uint64_t{0xe}) | (x.value & 0xf) | (s.cr0 & cr0::pe);
    c.refresh_mode();
    return Outcome::end_block;
}

// UMIP (SDM Vol. 3A 2.5): with CR4.UMIP = 1, SGDT SIDT SLDT SMSW STR are #GP(0) at CPL > 0.
bool umip_refuses(const State& s) { return (s.cr4 & cr4::umip) && s.mode != Mode::real && s.cpl > 0; }

// SMSW: a register gets CR0 in its operand size (r32: CR0[31:0], r64: CR0[63:0], zero-extended;
// r16: CR0[15:0]); memory always gets the 16-bit MSW (SDM Vol. 2 "SMSW").
template <unsigned N>
Outcome smsw_reg(Core& c, const Insn& i) {
    if (umip_refuses(c.state())) return c.raise_gp(0);
    InterceptInfo x{Intercept::smsw, 0, c.state().cr0};
    if (c.intercepted(i, x)) return Outcome::exit;
    c.set_reg<N>(i.reg, x.value);
    return Outcome::next;
}

Outcome smsw_mem(Core& c, const Insn& i) {
    if (umip_refuses(c.state())) return c.raise_gp(0);
    InterceptInfo x{Intercept::smsw, 0, c.state().cr0, 0, 0, intercept_flag::memory_operand};
    if (c.intercepted(i, x)) return Outcome::exit;
    return c.write<2>(i.seg, c.effective_address(i), x.value & 0xffff) ? Outcome::next : Outcome::fault;
}

// STAC/CLAC set and clear RFLAGS.AC for SMAP: #UD without SMAP, in virtual-8086 mode and at
// CPL > 0 (SDM Vol. 2 "STAC", "CLAC").
template <bool Set>
Outcome stac_clac(Core& c, const Insn&) {
    State& s = c.state();
    if (!features(c.vendor()).smap || (s.mode != Mode::real && s.cpl > 0)) return c.raise_ud();
    if (Set) s.rflags_other |= rf::ac;
    else s.rflags_other &= ~rf::ac;
    return Outcome::next;
}

// ---- builders ----

bool control_register(ZydisRegister r, uint8_t& n) {
    if (r < ZYDIS_REGISTER_CR0 || r > ZYDIS_REGISTER_CR15) return false;
    n = static_cast<uint8_t>(r - ZYDIS_REGISTER_CR0);
    return true;
}

bool debug_register_operand(ZydisRegister r, uint8_t& n) {
    if (r < ZYDIS_REGISTER_DR0 || r > ZYDIS_REGISTER_DR15) return false;
    n = static_cast<uint8_t>(r - ZYDIS_REGISTER_DR0);
    return true;
}

// MOV shares its mnemonic with other families: this builder takes the CRn and DRn forms only.
bool build_mov_cr_dr(const DecodeContext& c, Insn& i) {
    if (c.count() != 2 || !c.is_reg(0) || !c.is_reg(1)) return false;
    const ZydisRegister a = c.op(0).reg.value, b = c.op(1).reg.value;
    if (c.is_gpr(1) && control_register(a, i.aux)) {
        i.rm = c.gpr(1);
        i.fn = c.width(1) == 8 ? &mov_to_cr<8> : &mov_to_cr<4>;
    } else if (c.is_gpr(0) && control_register(b, i.aux)) {
        i.reg = c.gpr(0);
        i.fn = c.width(0) == 8 ? &mov_from_cr<8> : &mov_from_cr<4>;
    } else if (c.is_gpr(1) && debug_register_operand(a, i.aux)) {
        i.rm = c.gpr(1);
        i.fn = c.width(1) == 8 ? &mov_to_dr<8> : &mov_to_dr<4>;
    } else if (c.is_gpr(0) && debug_register_operand(b, i.aux)) {
        i.reg = c.gpr(0);
        i.fn = c.width(0) == 8 ? &mov_from_dr<8> : &mov_from_dr<4>;
    }
    // Only CR0, CR2-CR4, CR8 and DR0-DR7 exist: the decoder refuses the others, and the
    // handlers' own switch would answer #UD.
    return i.fn != nullptr;
}

bool build_lmsw(const DecodeContext& c, Insn& i) {
    if (c.is_gpr(0)) {
        i.rm = c.gpr(0);
        i.fn = &lmsw<Loc::reg1>;
    } else if (c.is_mem(0)) {
        i.fn = &lmsw<Loc::mem>;
    }
    return i.fn != nullptr;
}

bool build_smsw(const DecodeContext& c, Insn& i) {
    if (c.is_gpr(0)) {
        i.reg = c.gpr(0);
        i.fn = by_width_no8(c.width(0), [](auto w) -> Handler { return &smsw_reg<w.value>; });
    } else if (c.is_mem(0)) {
        i.fn = &smsw_mem;
    }
    return i.fn != nullptr;
}

template <Handler H>
bool build(const DecodeContext&, Insn& i) {
    i.fn = H;
    return true;
}

}  // namespace

void register_control_regs(Registry& r) {
    r.add(ZYDIS_MNEMONIC_MOV, &build_mov_cr_dr);
    r.add(ZYDIS_MNEMONIC_CLTS, &build<&clts>);
    r.add(ZYDIS_MNEMONIC_LMSW, &build_lmsw);
    r.add(ZYDIS_MNEMONIC_SMSW, &build_smsw);
    r.add(ZYDIS_MNEMONIC_STAC, &build<&stac_clac<true>>);
    r.add(ZYDIS_MNEMONIC_CLAC, &build<&stac_clac<false>>);
}

}  // namespace cpu
