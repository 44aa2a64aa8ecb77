// Near CALL (relative, register, memory), near RET (with and without imm16), LOOP/LOOPE/
// LOOPNE and JCXZ/JECXZ/JRCXZ. Far CALL/RET are declined here (another family's forms).
// Targets wrap to the operand size and are checked before the stack changes (transfer.h).
#include "cpu/isa/operands.h"
#include "cpu/isa/transfer.h"

namespace cpu {
namespace {

template <unsigned N>
inline Outcome call_to(Core& c, const Insn& i, uint64_t target) {
    target &= mask_of<N>();
    if (!near_target_ok(c.state(), target)) return c.raise_gp(0);
    if (!c.push<N>(c.rip() + i.length)) return Outcome::fault;
    c.state().rip() = target;
    return Outcome::branch;
}

template <unsigned N>
Outcome call_rel(Core& c, const Insn& i) {
    return call_to<N>(c, i, c.rip() + i.length + i.imm);
}

// The target is read before the return address is pushed, so CALL [RSP] uses the old RSP.
template <Loc S, unsigned N>
Outcome call_indirect(Core& c, const Insn& i) {
    uint64_t target;
    if (!load<S, N>(c, i, ea_if_memory<S, S>(c, i), target)) return Outcome::fault;
    return call_to<N>(c, i, target);
}

// RET imm16 releases imm16 bytes after popping, in the stack-address size (SDM Vol. 2 "RET").
template <unsigned N>
Outcome ret_near(Core& c, const Insn& i) {
    State& s = c.state();
    const uint64_t mask = c.stack_mask();
    const uint64_t sp = s.regs[rsp] & mask;
    uint64_t target;
    if (!c.read<N>(ss, sp, target)) return Outcome::fault;
    if (!near_target_ok(s, target)) return c.raise_gp(0);
    s.regs[rsp] = (s.regs[rsp] & ~mask) | ((sp + N + i.imm) & mask);
    s.rip() = target;
    return Outcome::branch;
}

// The count register is CX, ECX or RCX by address size (SDM Vol. 2 "LOOP/LOOPcc", "Jcc").
enum class CountOp : uint8_t { loop, loope, loopne, jcxz };

template <CountOp Op, unsigned A>
Outcome count_branch(Core& c, const Insn& i) {
    uint64_t count = c.reg<A>(rcx);
    bool taken;
    if constexpr (Op == CountOp::jcxz) {
        taken = count == 0;
    } else {
        count = (count - 1) & mask_of<A>();
        taken = count != 0;
        if constexpr (Op == CountOp::loope) taken = taken && c.state().flags.zf();
        if constexpr (Op == CountOp::loopne) taken = taken && !c.state().flags.zf();
    }
    if (taken) {
        const uint64_t target = (c.rip() + i.length + i.imm) & (~0ull >> (64 - 8 * i.opsize));
        if (!near_target_ok(c.state(), target)) return c.raise_gp(0);
        c.state().rip() = target;
    }
    if constexpr (Op != CountOp::jcxz) c.set_reg<A>(rcx, count);
    return taken ? Outcome::branch : Outcome::next;
}

bool far(const DecodeContext& c) { return c.zi.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR; }

bool build_call(const DecodeContext& c, Insn& i) {
    if (far(c) || c.count() < 1) return false;  // far forms belong to the far-transfer family
    const unsigned n = i.opsize;
    if (c.is_imm(0) && c.op(0).imm.is_relative) {
        i.imm = c.imm(0);
        i.fn = by_width_no8(n, [](auto w) -> Handler { return &call_rel<w.value>; });
    } else if (c.is_gpr(0)) {
        i.rm = c.gpr(0);
        i.fn = by_width_no8(n, [](auto w) -> Handler { return &call_indirect<Loc::reg1, w.value>; });
    } else if (c.is_mem(0)) {
        i.fn = by_width_no8(n, [](auto w) -> Handler { return &call_indirect<Loc::mem, w.value>; });
    }
    return i.fn != nullptr;
}

bool build_ret(const DecodeContext& c, Insn& i) {
    if (far(c)) return false;
    i.imm = c.is_imm(0) ? (c.imm(0) & 0xffff) : 0;
    i.fn = by_width_no8(i.opsize, [](auto w) -> Handler { return &ret_near<w.value>; });
    return i.fn != nullptr;
}

template <CountOp Op>
bool build_count(const DecodeContext& c, Insn& i) {
    if (!c.is_imm(0)) return false;
    i.imm = c.imm(0);
    i.fn = by_width_no8(i.adsize, [](auto w) -> Handler { return &count_branch<Op, w.value>; });
    return i.fn != nullptr;
}

}  // namespace

void register_call(Registry& r) {
    r.add(ZYDIS_MNEMONIC_CALL, &build_call);
    r.add(ZYDIS_MNEMONIC_RET, &build_ret);
    r.add(ZYDIS_MNEMONIC_LOOP, &build_count<CountOp::loop>);
    r.add(ZYDIS_MNEMONIC_LOOPE, &build_count<CountOp::loope>);
    r.add(ZYDIS_MNEMONIC_LOOPNE, &build_count<CountOp::loopne>);
    r.add(ZYDIS_MNEMONIC_JCXZ, &build_count<CountOp::jcxz>);
    r.add(ZYDIS_MNEMONIC_JECXZ, &build_count<CountOp::jcxz>);
    r.add(ZYDIS_MNEMONIC_JRCXZ, &build_count<CountOp::jcxz>);
}

}  // namespace cpu
