// LGDT LIDT SGDT SIDT LLDT SLDT LTR STR (SDM Vol. 2 pages of each; 16-byte LDT and TSS
// descriptors in IA-32e mode, Vol. 3A 7.2.3) and LAR LSL VERR VERW (their type tables:
// SDM Vol. 2 "LAR" Table 3-53 and "LSL" Table 3-60 style, "VERR/VERW"). CR4.UMIP makes the
// store forms #GP(0) at CPL > 0 (Vol. 3A 2.5). Context: instruction handlers.
#include <initializer_list>

#include "cpu/isa/operands.h"
#include "cpu/isa/system_descriptors.h"
#include "cpu/isa/transfer.h"

namespace cpu {
namespace {

bool umip_refuses(const State& s) { return (s.cr4 & cr4::umip) && s.mode != Mode::real && s.cpl > 0; }
bool real_or_v86(const State& s) { return s.mode == Mode::real || s.mode == Mode::v8086; }

// ---- LGDT LIDT SGDT SIDT ----

// LGDT/LIDT m16&32 (m16&64 in 64-bit mode): a 16-bit limit, then the base. With a 16-bit
// operand size only base bits 23:0 load. CPL 0 outside real mode; #GP(0) in virtual-8086 mode.
// The base itself is not checked (SDM Vol. 2 "LGDT/LIDT" lists no base check).
// Descriptor-table exiting (VMX) and the SVM table-register intercepts: after the privilege
// and #UD checks, before the operand is accessed (SDM Vol. 3C 26.1.1).
bool exits(Core& c, const Insn& i, Intercept kind, bool memory) {
    InterceptInfo x{kind, 0, 0, 0, 0, memory ? intercept_flag::memory_operand : uint8_t{0}};
    return c.intercepted(i, x);
}

template <bool Idt>
Outcome load_table(Core& c, const Insn& i) {
    State& s = c.state();
    if (s.mode == Mode::v8086 || (s.mode != Mode::real && s.cpl != 0)) return c.raise_gp(0);
    if (exits(c, i, Idt ? Intercept::lidt : Intercept::lgdt, true)) return Outcome::exit;
    const unsigned size = c.long64() ? 10 : 6;
    uint8_t m[10] = {};
    if (!c.read_bytes(i.seg, c.effective_address(i), m, size)) return Outcome::fault;
    uint16_t limit;
    uint64_t base = 0;
    std::memcpy(&limit, m, 2);
    std::memcpy(&base, m + 2, size - 2);
    if (i.opsize == 2 && !c.long64()) base &= 0xffffff;
    (Idt ? s.idtr : s.gdtr) = TableRegister{base, limit};
    return Outcome::next;
}

// SGDT/SIDT: the limit, then the whole base: 4 bytes outside 64-bit mode whatever the operand
// size, 8 bytes in 64-bit mode (SDM Vol. 2 "SGDT": "Full 32-bit base address stored").
template <bool Idt>
Outcome store_table(Core& c, const Insn& i) {
    const State& s = c.state();
    if (umip_refuses(s)) return c.raise_gp(0);
    if (exits(c, i, Idt ? Intercept::sidt : Intercept::sgdt, true)) return Outcome::exit;
    const TableRegister& t = Idt ? s.idtr : s.gdtr;
    const unsigned size = c.long64() ? 10 : 6;
    uint8_t m[10];
    const uint16_t limit = static_cast<uint16_t>(t.limit);
    std::memcpy(m, &limit, 2);
    std::memcpy(m + 2, &t.base, size - 2);
    return c.write_bytes(i.seg, c.effective_address(i), m, size) ? Outcome::next : Outcome::fault;
}

// ---- LLDT LTR ----

// Reads the GDT descriptor of an LDT or TSS selector for LLDT/LTR: #GP(selector) if it names
// the LDT or lies beyond the GDT limit (16 bytes in IA-32e mode), if its type is not one of
// `types`, or (IA-32e) if the upper half's type is not 0 or the base is not canonical;
// #NP(selector) if it is not present (SDM Vol. 2 "LLDT", "LTR" exceptions, in their order).
bool system_segment(Core& c, uint16_t selector, std::initializer_list<unsigned> types, uint64_t& low,
                    uint64_t& high, Segment& out) {
    const State& s = c.state();
    const uint32_t err = selector & ~3u;
    const bool ia32e = s.efer & efer::lma;
    uint64_t at;
    if ((selector & 4) || !descriptor_address(s, selector & ~4u, ia32e ? 16 : 8, at)) return c.raise_gp(err), false;
    if (!c.read_system(at, &low, 8) || (ia32e && !c.read_system(at + 8, &high, 8))) return false;
    if (!ia32e) high = 0;
    out = segment_from_descriptor(selector, low, high);
    bool type_ok = false;
    for (unsigned t : types) type_ok = type_ok || (is_system(out) && type_of(out) == t);
    if (!type_ok) return c.raise_gp(err), false;
    if (ia32e && (!upper_type_clear(high) || !canonical(s, out.base))) return c.raise_gp(err), false;
    if (!out.present()) return c.raise(sim::Vector::segment_not_present, err), false;
    return true;
}

// LLDT r/m16 (SDM Vol. 2 "LLDT"): #UD in real and virtual-8086 mode, #GP(0) at CPL > 0; a
// null selector (bits 15:2 zero) marks LDTR unusable.
template <Loc S>
Outcome lldt(Core& c, const Insn& i) {
    State& s = c.state();
    if (real_or_v86(s)) return c.raise_ud();
    if (s.cpl != 0) return c.raise_gp(0);
    if (exits(c, i, Intercept::lldt, S == Loc::mem)) return Outcome::exit;
    uint64_t v;
    if (!load<S, 2>(c, i, ea_if_memory<S, S>(c, i), v)) return Outcome::fault;
    const auto selector = static_cast<uint16_t>(v);
    if ((selector & 0xfffc) == 0) {
        s.ldtr = Segment{selector, 0, 0, 0x10000};
        return Outcome::next;
    }
    uint64_t low, high;
    Segment ldt;
    if (!system_segment(c, selector, {sys::ldt}, low, high, ldt)) return Outcome::fault;
    s.ldtr = ldt;
    return Outcome::next;
}

// LTR r/m16 (SDM Vol. 2 "LTR"): an available TSS (16- or 32-bit; 64-bit in IA-32e mode),
// marked busy in the GDT by a locked write; a null selector is #GP(0).
template <Loc S>
Outcome ltr(Core& c, const Insn& i) {
    State& s = c.state();
    if (real_or_v86(s)) return c.raise_ud();
    if (s.cpl != 0) return c.raise_gp(0);
    if (exits(c, i, Intercept::ltr, S == Loc::mem)) return Outcome::exit;
    uint64_t v;
    if (!load<S, 2>(c, i, ea_if_memory<S, S>(c, i), v)) return Outcome::fault;
    const auto selector = static_cast<uint16_t>(v);
    if ((selector & 0xfffc) == 0) return c.raise_gp(0);
    const bool ia32e = s.efer & efer::lma;
    uint64_t low, high;
    Segment tss;
    const bool ok = ia32e ? system_segment(c, selector, {sys::tss_available}, low, high, tss)
                          : system_segment(c, selector, {sys::tss16_available, sys::tss_available}, low, high, tss);
    if (!ok) return Outcome::fault;
    low |= uint64_t{2} << 40;  // busy
    if (!c.write_system(s.gdtr.base + (selector & ~7u), &low, 8)) return Outcome::fault;
    tss.attributes |= 2;
    s.tr = tss;
    return Outcome::next;
}

// SLDT/STR: the selector; a 32/64-bit register gets it zero-extended, memory 16 bits
// (SDM Vol. 2 "SLDT", "STR"). #UD in real and virtual-8086 mode, then the UMIP check.
template <bool Tr, unsigned N>
Outcome store_selector_reg(Core& c, const Insn& i) {
    const State& s = c.state();
    if (real_or_v86(s)) return c.raise_ud();
    if (umip_refuses(s)) return c.raise_gp(0);
    if (exits(c, i, Tr ? Intercept::str : Intercept::sldt, false)) return Outcome::exit;
    c.set_reg<N>(i.reg, (Tr ? s.tr : s.ldtr).selector);
    return Outcome::next;
}

template <bool Tr>
Outcome store_selector_mem(Core& c, const Insn& i) {
    const State& s = c.state();
    if (real_or_v86(s)) return c.raise_ud();
    if (umip_refuses(s)) return c.raise_gp(0);
    if (exits(c, i, Tr ? Intercept::str : Intercept::sldt, true)) return Outcome::exit;
    return c.write<2>(i.seg, c.effective_address(i), (Tr ? s.tr : s.ldtr).selector) ? Outcome::next
                                                                                    : Outcome::fault;
}

// ---- LAR LSL VERR VERW ----

enum class Probe : uint8_t { lar, lsl, verr, verw };

// System descriptor types each instruction accepts (SDM Vol. 2 "LAR" and "LSL" type tables;
// VERR/VERW accept none). Bit t set: type t is valid.
uint16_t valid_system_types(Probe p, bool ia32e) {
    using namespace sys;
    const auto bit = [](unsigned t) { return static_cast<uint16_t>(1u << t); };
    if (p == Probe::lar)
        return ia32e ? bit(tss_available) | bit(tss_busy) | bit(call_gate)
                     : bit(tss16_available) | bit(ldt) | bit(tss16_busy) | bit(call_gate16) | bit(task_gate) |
                           bit(tss_available) | bit(tss_busy) | bit(call_gate);
    // IA-32e: LDT and the 64-bit TSS only. Type 0 (what the upper half of a 16-byte descriptor
    // reads as, SDM Vol. 3A Table 3-2) is "Reserved, not valid" in the LSL table, and the APM
    // lists only LDT and 64-bit TSS for long mode (APM Vol. 3 "LSL").
    if (p == Probe::lsl)
        return ia32e ? bit(ldt) | bit(tss_available) | bit(tss_busy)
                     : bit(tss16_available) | bit(ldt) | bit(tss16_busy) | bit(tss_available) | bit(tss_busy);
    return 0;
}

// The checks common to the four (SDM Vol. 2 "LAR" Operation and its description): a null
// selector or one beyond its table clears ZF without a fault; the type must be valid for the
// instruction; DPL >= CPL and DPL >= RPL unless the segment is conforming code (LAR, LSL,
// VERR). Returns whether ZF is set and the descriptor read.
bool probe(Core& c, Probe p, uint16_t selector, uint64_t& d, bool& ok) {
    const State& s = c.state();
    ok = false;
    uint64_t at;
    if ((selector & 0xfffc) == 0 || !descriptor_address(s, selector, 8, at)) return true;
    if (!c.read_system(at, &d, 8)) return false;
    const Segment seg = segment_from_descriptor(selector, d);
    const unsigned rpl = selector & 3;
    const bool visible = s.cpl <= seg.dpl() && rpl <= seg.dpl();
    if (is_system(seg)) {
        ok = ((valid_system_types(p, s.efer & efer::lma) >> type_of(seg)) & 1) && visible;
        return true;
    }
    switch (p) {
        case Probe::lar:
        case Probe::lsl: ok = conforming_code(seg) || visible; break;
        // VERR: readable code (conforming: no privilege check) or any data segment.
        case Probe::verr: ok = seg.code() ? (seg.attributes & 2) && (conforming_code(seg) || visible) : visible; break;
        case Probe::verw: ok = !seg.code() && (seg.attributes & 2) && visible; break;  // writable data only
    }
    return true;
}

inline void set_zf(Core& c, bool v) { c.state().flags.assign(rf::zf, v ? rf::zf : 0); }

// LAR: bits 23:8 of the descriptor's second dword, masked with 00FxFF00H; hvsim (like AMD,
// APM Vol. 3 "LAR") returns the limit bits 19:16 in x. 16-bit: masked with FF00H.
template <Loc S, unsigned N>
Outcome lar(Core& c, const Insn& i) {
    if (real_or_v86(c.state())) return c.raise_ud();
    uint64_t v, d = 0;
    if (!load<S, 2>(c, i, ea_if_memory<S, S>(c, i), v)) return Outcome::fault;
    bool ok;
    if (!probe(c, Probe::lar, static_cast<uint16_t>(v), d, ok)) return Outcome::fault;
    if (ok) c.set_reg<N>(i.reg, (d >> 32) & (N == 2 ? 0xff00 : 0x00ffff00));
    set_zf(c, ok);
    return Outcome::next;
}

// LSL: the byte-granular limit (scaled by G) of the descriptor, truncated to 16 bits for a
// 16-bit destination (SDM Vol. 2 "LSL").
template <Loc S, unsigned N>
Outcome lsl(Core& c, const Insn& i) {
    if (real_or_v86(c.state())) return c.raise_ud();
    uint64_t v, d = 0;
    if (!load<S, 2>(c, i, ea_if_memory<S, S>(c, i), v)) return Outcome::fault;
    bool ok;
    if (!probe(c, Probe::lsl, static_cast<uint16_t>(v), d, ok)) return Outcome::fault;
    if (ok) c.set_reg<N>(i.reg, segment_from_descriptor(0, d).limit);
    set_zf(c, ok);
    return Outcome::next;
}

template <Probe P, Loc S>
Outcome verify(Core& c, const Insn& i) {
    if (real_or_v86(c.state())) return c.raise_ud();
    uint64_t v, d = 0;
    if (!load<S, 2>(c, i, ea_if_memory<S, S>(c, i), v)) return Outcome::fault;
    bool ok;
    if (!probe(c, P, static_cast<uint16_t>(v), d, ok)) return Outcome::fault;
    set_zf(c, ok);
    return Outcome::next;
}

// ---- builders ----

template <Handler H>
bool build_memory_only(const DecodeContext& c, Insn& i) {
    if (!c.is_mem(0)) return false;  // a register operand is #UD at decode
    i.fn = H;
    return true;
}

// r/m16 source forms: one handler for a register, one for memory.
template <Handler R, Handler M>
bool build_rm16(const DecodeContext& c, Insn& i) {
    if (c.is_gpr(0)) {
        i.rm = c.gpr(0);
        i.fn = R;
    } else if (c.is_mem(0)) {
        i.fn = M;
    }
    return i.fn != nullptr;
}

template <bool Tr>
bool build_store_selector(const DecodeContext& c, Insn& i) {
    if (c.is_gpr(0)) {
        i.reg = c.gpr(0);
        i.fn = by_width_no8(c.width(0), [](auto w) -> Handler { return &store_selector_reg<Tr, w.value>; });
    } else if (c.is_mem(0)) {
        i.fn = &store_selector_mem<Tr>;
    }
    return i.fn != nullptr;
}

// LAR/LSL r, r/m16: the destination's width picks the result size.
template <template <Loc, unsigned> class Fn>
bool build_probe_load(const DecodeContext& c, Insn& i) {
    if (!c.is_gpr(0)) return false;
    i.reg = c.gpr(0);
    if (c.is_gpr(1)) {
        i.rm = c.gpr(1);
        i.fn = by_width_no8(c.width(0), [](auto w) -> Handler { return Fn<Loc::reg1, w.value>::fn; });
    } else if (c.is_mem(1)) {
        i.fn = by_width_no8(c.width(0), [](auto w) -> Handler { return Fn<Loc::mem, w.value>::fn; });
    }
    return i.fn != nullptr;
}

template <Loc S, unsigned N> struct LarFn { static constexpr Handler fn = &lar<S, N>; };
template <Loc S, unsigned N> struct LslFn { static constexpr Handler fn = &lsl<S, N>; };

}  // namespace

void register_descriptor_tables(Registry& r) {
    r.add(ZYDIS_MNEMONIC_LGDT, &build_memory_only<&load_table<false>>);
    r.add(ZYDIS_MNEMONIC_LIDT, &build_memory_only<&load_table<true>>);
    r.add(ZYDIS_MNEMONIC_SGDT, &build_memory_only<&store_table<false>>);
    r.add(ZYDIS_MNEMONIC_SIDT, &build_memory_only<&store_table<true>>);
    r.add(ZYDIS_MNEMONIC_LLDT, &build_rm16<&lldt<Loc::reg1>, &lldt<Loc::mem>>);
    r.add(ZYDIS_MNEMONIC_LTR, &build_rm16<&ltr<Loc::reg1>, &ltr<Loc::mem>>);
    r.add(ZYDIS_MNEMONIC_SLDT, &build_store_selector<false>);
    r.add(ZYDIS_MNEMONIC_STR, &build_store_selector<true>);
    r.add(ZYDIS_MNEMONIC_LAR, &build_probe_load<LarFn>);
    r.add(ZYDIS_MNEMONIC_LSL, &build_probe_load<LslFn>);
    r.add(ZYDIS_MNEMONIC_VERR, &build_rm16<&verify<Probe::verr, Loc::reg1>, &verify<Probe::verr, Loc::mem>>);
    r.add(ZYDIS_MNEMONIC_VERW, &build_rm16<&verify<Probe::verw, Loc::reg1>, &verify<Probe::verw, Loc::mem>>);
}

}  // namespace cpu
