// MOV to and from segment registers and LDS/LES/LFS/LGS/LSS (SDM Vol. 2 "MOV—Move" segment
// forms, "LDS/LES/LFS/LGS/LSS—Load Far Pointer"). Loads go through Core::load_segment (the
// checks of each mode); PUSH/POP Sreg live in cpu/isa/stack.cpp and use the same loader.
// Context: instruction handlers.
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

// MOV Sreg, r/m16. Loading CS is #UD (the decoder already refuses 8E /1). MOV SS inhibits
// interrupts and debug traps until the next instruction has run (SDM Vol. 2 "MOV": "Loading
// the SS register with a MOV instruction suppresses or inhibits some debug exceptions and
// inhibits interrupts on the following instruction boundary"), so the block ends there.
template <Loc S>
Outcome mov_to_sreg(Core& c, const Insn& i) {
    if (i.aux == cs) return c.raise_ud();
    uint64_t selector;
    if (!load<S, 2>(c, i, ea_if_memory<S, S>(c, i), selector)) return Outcome::fault;
    if (!c.load_segment(i.aux, static_cast<uint16_t>(selector))) return Outcome::fault;
    return i.aux == ss ? c.inhibit_interrupts(Core::Shadow::mov_ss) : Outcome::next;
}

// MOV r/m, Sreg: a memory destination is always 16 bits; a 32- or 64-bit register receives
// the selector zero-extended (SDM Vol. 2 "MOV": P6 and later fill the upper bytes with zeros;
// APM Vol. 3 "MOV": zero-extended).
template <unsigned N>
Outcome mov_from_sreg_reg(Core& c, const Insn& i) {
    c.set_reg<N>(i.reg, c.state().seg[i.aux].selector);
    return Outcome::next;
}

Outcome mov_from_sreg_mem(Core& c, const Insn& i) {
    return c.write<2>(i.seg, c.effective_address(i), c.state().seg[i.aux].selector) ? Outcome::next
                                                                                      : Outcome::fault;
}

// LDS/LES/LFS/LGS/LSS r, m16:N: the offset (N bytes) then the selector. The segment register
// is loaded (with its checks) before the general register, so a fault leaves both unchanged.
// LDS and LES do not exist in 64-bit mode: C4/C5 are VEX prefixes there and the decoder never
// produces them (SDM Vol. 2 "LDS": "#UD If in 64-bit mode").
template <unsigned N>
Outcome load_far_pointer(Core& c, const Insn& i) {
    const uint64_t ea = c.effective_address(i);
    const uint64_t mask = kAddressMask[i.adsize & 15];
    uint64_t offset, selector;
    if (!c.read<N>(i.seg, ea, offset) || !c.read<2>(i.seg, (ea + N) & mask, selector)) return Outcome::fault;
    if (!c.load_segment(i.aux, static_cast<uint16_t>(selector))) return Outcome::fault;
    c.set_reg<N>(i.reg, offset);
    return Outcome::next;
}

bool segment_register(const DecodeContext& c, unsigned k, uint8_t& index) {
    if (!c.is_reg(k)) return false;
    const ZydisRegister r = c.op(k).reg.value;
    if (r < ZYDIS_REGISTER_ES || r > ZYDIS_REGISTER_GS) return false;
    index = segment_index(r);
    return true;
}

// MOV shares its mnemonic with the general, control and debug register forms: this builder
// takes only the forms with a segment register.
bool build_mov_sreg(const DecodeContext& c, Insn& i) {
    if (c.count() != 2) return false;
    if (segment_register(c, 0, i.aux)) {
        if (c.is_gpr(1)) {
            i.rm = c.gpr(1);
            i.fn = &mov_to_sreg<Loc::reg1>;
        } else if (c.is_mem(1)) {
            i.fn = &mov_to_sreg<Loc::mem>;
        }
    } else if (segment_register(c, 1, i.aux)) {
        if (c.is_gpr(0)) {
            i.reg = c.gpr(0);
            i.fn = by_width_no8(c.width(0), [](auto w) -> Handler { return &mov_from_sreg_reg<w.value>; });
        } else if (c.is_mem(0)) {
            i.fn = &mov_from_sreg_mem;
        }
    }
    return i.fn != nullptr;
}

template <uint8_t Seg>
bool build_load_far_pointer(const DecodeContext& c, Insn& i) {
    if (!c.is_gpr(0) || !c.is_mem(1)) return false;  // a register source is #UD (decoder)
    i.reg = c.gpr(0);
    i.aux = Seg;
    i.fn = by_width_no8(c.width(0), [](auto w) -> Handler { return &load_far_pointer<w.value>; });
    return i.fn != nullptr;
}

}  // namespace

void register_segment_regs(Registry& r) {
    r.add(ZYDIS_MNEMONIC_MOV, &build_mov_sreg);
    r.add(ZYDIS_MNEMONIC_LDS, &build_load_far_pointer<ds>);
    r.add(ZYDIS_MNEMONIC_LES, &build_load_far_pointer<es>);
    r.add(ZYDIS_MNEMONIC_LFS, &build_load_far_pointer<fs>);
    r.add(ZYDIS_MNEMONIC_LGS, &build_load_far_pointer<gs>);
    r.add(ZYDIS_MNEMONIC_LSS, &build_load_far_pointer<ss>);
}

}  // namespace cpu
