// Operand access for handlers: where an operand lives (operand-0 register, operand-1
// register, memory, immediate) is fixed at decode time and becomes a template argument, so
// each handler instantiation touches its operands without branching on their kind.
// Context: hot path, header-only.
#pragma once
#include "cpu/core.h"
#include "cpu/isa/registry.h"

namespace cpu {

enum class Loc : uint8_t { reg0, reg1, mem, imm };

template <Loc L, unsigned N>
inline bool load(Core& c, const Insn& i, uint64_t ea, uint64_t& v) {
    if constexpr (L == Loc::reg0) v = c.reg<N>(i.reg);
    else if constexpr (L == Loc::reg1) v = c.reg<N>(i.rm);
    else if constexpr (L == Loc::imm) v = i.imm & mask_of<N>();
    else return c.read<N>(i.seg, ea, v);
    return true;
}

template <Loc L, unsigned N>
inline bool store(Core& c, const Insn& i, uint64_t ea, uint64_t v) {
    static_assert(L != Loc::imm, "an immediate is not a destination");
    if constexpr (L == Loc::reg0) c.set_reg<N>(i.reg, v);
    else if constexpr (L == Loc::reg1) c.set_reg<N>(i.rm, v);
    else return c.write<N>(i.seg, ea, v);
    return true;
}

template <Loc A, Loc B>
inline uint64_t ea_if_memory(const Core& c, const Insn& i) {
    if constexpr (A == Loc::mem || B == Loc::mem) return c.effective_address(i);
    else return 0;
}

// The two-operand forms (dst, src) of a decoded instruction, or false if it has another shape.
// Fills i.reg / i.rm / i.imm for the register and immediate operands.
struct BinaryForm {
    Loc dst, src;
};
inline bool binary_form(const DecodeContext& c, Insn& i, BinaryForm& f) {
    if (c.count() < 2) return false;
    if (c.is_gpr(0)) {
        f.dst = Loc::reg0;
        i.reg = c.gpr(0);
    } else if (c.is_mem(0)) {
        f.dst = Loc::mem;
    } else {
        return false;
    }
    if (c.is_gpr(1)) {
        f.src = Loc::reg1;
        i.rm = c.gpr(1);
    } else if (c.is_mem(1) && f.dst != Loc::mem) {
        f.src = Loc::mem;
    } else if (c.is_imm(1)) {
        f.src = Loc::imm;
        i.imm = c.imm(1);
    } else {
        return false;
    }
    return true;
}

// Instantiates H<dst, src, width> for a decoded form: H is a class template with a static
// `run` taking (Core&, const Insn&).
template <template <Loc, Loc, unsigned> class H>
Handler pick_binary(const BinaryForm& f, unsigned bytes) {
    auto by_src = [&](auto dst) -> Handler {
        constexpr Loc D = decltype(dst)::value;
        switch (f.src) {
            case Loc::reg1: return by_width(bytes, [](auto w) -> Handler { return &H<D, Loc::reg1, w.value>::run; });
            case Loc::mem:
                if constexpr (D == Loc::mem) return nullptr;
                else return by_width(bytes, [](auto w) -> Handler { return &H<D, Loc::mem, w.value>::run; });
            case Loc::imm: return by_width(bytes, [](auto w) -> Handler { return &H<D, Loc::imm, w.value>::run; });
            default: return nullptr;
        }
    };
    if (f.dst == Loc::reg0) return by_src(std::integral_constant<Loc, Loc::reg0>{});
    if (f.dst == Loc::mem) return by_src(std::integral_constant<Loc, Loc::mem>{});
    return nullptr;
}

}  // namespace cpu
