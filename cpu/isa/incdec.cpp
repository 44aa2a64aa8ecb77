// INC DEC NEG NOT: the one-operand read-modify-write ALU instructions, register or memory
// (LOCK is legal on the memory forms; Zydis rejects it elsewhere). Flags are all defined
// (SDM Vol. 2 "INC", "DEC", "NEG", "NOT").
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

enum class UnaryOp { inc, dec, neg, not_ };

template <UnaryOp Op, unsigned N>
inline uint64_t unary(ArithFlags& f, uint64_t a) {
    if constexpr (Op == UnaryOp::inc || Op == UnaryOp::dec) {
        // INC/DEC leave CF alone and set the other five as ADD/SUB with 1 would.
        const bool cf = f.cf();
        const uint64_t r = Op == UnaryOp::inc ? a + 1 : a - 1;
        if constexpr (Op == UnaryOp::inc) f.add<N>(a, 1, r);
        else f.sub<N>(a, 1, r);
        f.set_cf(cf);
        return r & mask_of<N>();
    } else if constexpr (Op == UnaryOp::neg) {
        // NEG is 0 - a: CF = (a != 0), OF for the most negative value.
        const uint64_t r = 0 - a;
        f.sub<N>(0, a, r);
        return r & mask_of<N>();
    } else {
        return ~a & mask_of<N>();  // NOT changes no flags
    }
}

template <UnaryOp Op, Loc D, unsigned N>
Outcome run(Core& c, const Insn& i) {
    const uint64_t ea = ea_if_memory<D, D>(c, i);
    uint64_t a;
    if (!load<D, N>(c, i, ea, a)) return Outcome::fault;
    ArithFlags& f = c.state().flags;
    const ArithFlags saved = f;
    const uint64_t r = unary<Op, N>(f, a);
    if (!store<D, N>(c, i, ea, r)) {
        f = saved;
        return Outcome::fault;
    }
    return Outcome::next;
}

template <UnaryOp Op>
bool build(const DecodeContext& c, Insn& i) {
    if (c.count() != 1) return false;
    if (c.is_gpr(0)) {
        i.reg = c.gpr(0);
        i.fn = by_width(c.width(0), [](auto w) -> Handler { return &run<Op, Loc::reg0, w.value>; });
    } else if (c.is_mem(0)) {
        i.fn = by_width(c.width(0), [](auto w) -> Handler { return &run<Op, Loc::mem, w.value>; });
    }
    return i.fn != nullptr;
}

}  // namespace

void register_incdec(Registry& r) {
    r.add(ZYDIS_MNEMONIC_INC, &build<UnaryOp::inc>);
    r.add(ZYDIS_MNEMONIC_DEC, &build<UnaryOp::dec>);
    r.add(ZYDIS_MNEMONIC_NEG, &build<UnaryOp::neg>);
    r.add(ZYDIS_MNEMONIC_NOT, &build<UnaryOp::not_>);
}

}  // namespace cpu
