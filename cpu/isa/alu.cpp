// ADD OR ADC SBB AND SUB XOR CMP TEST: the two-operand integer ALU with exact flags
// (SDM Vol. 2 instruction pages; flags per Vol. 1 Appendix A "EFLAGS Cross-Reference").
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

enum class AluOp { add, or_, adc, sbb, and_, sub, xor_, cmp, test };

template <AluOp Op, unsigned N>
inline uint64_t alu(ArithFlags& f, uint64_t a, uint64_t b) {
    uint64_t r;
    if constexpr (Op == AluOp::add) { r = a + b; f.add<N>(a, b, r); }
    else if constexpr (Op == AluOp::adc) { r = a + b + f.cf(); f.add<N>(a, b, r); }
    else if constexpr (Op == AluOp::sub || Op == AluOp::cmp) { r = a - b; f.sub<N>(a, b, r); }
    else if constexpr (Op == AluOp::sbb) { r = a - b - f.cf(); f.sub<N>(a, b, r); }
    else if constexpr (Op == AluOp::and_ || Op == AluOp::test) { r = a & b; f.logic<N>(r); }
    else if constexpr (Op == AluOp::or_) { r = a | b; f.logic<N>(r); }
    else { r = a ^ b; f.logic<N>(r); }
    return r & mask_of<N>();
}

template <AluOp Op>
struct Alu {
    template <Loc D, Loc S, unsigned N>
    struct H {
        static Outcome run(Core& c, const Insn& i) {
            const uint64_t ea = ea_if_memory<D, S>(c, i);
            uint64_t a, b;
            if (!load<D, N>(c, i, ea, a) || !load<S, N>(c, i, ea, b)) return Outcome::fault;
            ArithFlags& f = c.state().flags;
            if constexpr (Op == AluOp::cmp || Op == AluOp::test) {
                alu<Op, N>(f, a, b);
            } else if constexpr (D == Loc::mem) {
                const ArithFlags saved = f;
                const uint64_t r = alu<Op, N>(f, a, b);
                if (!store<D, N>(c, i, ea, r)) {
                    f = saved;  // a faulting instruction changes nothing
                    return Outcome::fault;
                }
            } else {
                store<D, N>(c, i, ea, alu<Op, N>(f, a, b));
            }
            return Outcome::next;
        }
    };
};

template <AluOp Op>
bool build(const DecodeContext& c, Insn& i) {
    BinaryForm f;
    if (!binary_form(c, i, f)) return false;
    i.fn = pick_binary<Alu<Op>::template H>(f, c.width(0));
    return i.fn != nullptr;
}

}  // namespace

void register_alu(Registry& r) {
    r.add(ZYDIS_MNEMONIC_ADD, &build<AluOp::add>);
    r.add(ZYDIS_MNEMONIC_OR, &build<AluOp::or_>);
    r.add(ZYDIS_MNEMONIC_ADC, &build<AluOp::adc>);
    r.add(ZYDIS_MNEMONIC_SBB, &build<AluOp::sbb>);
    r.add(ZYDIS_MNEMONIC_AND, &build<AluOp::and_>);
    r.add(ZYDIS_MNEMONIC_SUB, &build<AluOp::sub>);
    r.add(ZYDIS_MNEMONIC_XOR, &build<AluOp::xor_>);
    r.add(ZYDIS_MNEMONIC_CMP, &build<AluOp::cmp>);
    r.add(ZYDIS_MNEMONIC_TEST, &build<AluOp::test>);
}

}  // namespace cpu
