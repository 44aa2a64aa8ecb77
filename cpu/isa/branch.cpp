// Near JMP and Jcc (relative and indirect). CALL/RET/LOOP live in cpu/isa/call.cpp.
// Targets are truncated to the operand size (SDM Vol. 2 "JMP": IP/EIP wrap).
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

inline uint64_t ip_mask(const Insn& i) { return ~0ull >> (64 - 8 * i.opsize); }

Outcome jmp_rel(Core& c, const Insn& i) {
    c.state().rip() = (c.rip() + i.length + i.imm) & ip_mask(i);
    return Outcome::branch;
}

// One instantiation per condition and operand size keeps the test a few instructions.
template <unsigned CC, unsigned N>
Outcome jcc_rel(Core& c, const Insn& i) {
    if (!condition(c.state().flags, CC)) return Outcome::next;
    c.state().rip() = (c.rip() + i.length + i.imm) & mask_of<N>();
    return Outcome::branch;
}

template <Loc S, unsigned N>
Outcome jmp_indirect(Core& c, const Insn& i) {
    uint64_t target;
    if (!load<S, N>(c, i, ea_if_memory<S, S>(c, i), target)) return Outcome::fault;
    c.state().rip() = target;
    return Outcome::branch;
}

bool build_jmp(const DecodeContext& c, Insn& i) {
    if (c.is_imm(0) && c.op(0).imm.is_relative) {
        i.imm = c.imm(0);
        i.fn = &jmp_rel;
        return true;
    }
    if (c.is_gpr(0)) {
        i.rm = c.gpr(0);
        i.fn = by_width_no8(c.width(0), [](auto w) -> Handler { return &jmp_indirect<Loc::reg1, w.value>; });
    } else if (c.is_mem(0) && c.op(0).size <= 64 && c.zi.meta.branch_type != ZYDIS_BRANCH_TYPE_FAR) {
        i.fn = by_width_no8(c.width(0), [](auto w) -> Handler { return &jmp_indirect<Loc::mem, w.value>; });
    } else {
        return false;  // far forms: cpu/isa/far.cpp
    }
    return i.fn != nullptr;
}

template <unsigned CC>
bool build_jcc(const DecodeContext& c, Insn& i) {
    if (!c.is_imm(0)) return false;
    i.imm = c.imm(0);
    i.cc = CC;
    i.fn = by_width_no8(i.opsize, [](auto w) -> Handler { return &jcc_rel<CC, w.value>; });
    return i.fn != nullptr;
}

}  // namespace

void register_branch(Registry& r) {
    r.add(ZYDIS_MNEMONIC_JMP, &build_jmp);
    r.add(ZYDIS_MNEMONIC_JO, &build_jcc<0>);
    r.add(ZYDIS_MNEMONIC_JNO, &build_jcc<1>);
    r.add(ZYDIS_MNEMONIC_JB, &build_jcc<2>);
    r.add(ZYDIS_MNEMONIC_JNB, &build_jcc<3>);
    r.add(ZYDIS_MNEMONIC_JZ, &build_jcc<4>);
    r.add(ZYDIS_MNEMONIC_JNZ, &build_jcc<5>);
    r.add(ZYDIS_MNEMONIC_JBE, &build_jcc<6>);
    r.add(ZYDIS_MNEMONIC_JNBE, &build_jcc<7>);
    r.add(ZYDIS_MNEMONIC_JS, &build_jcc<8>);
    r.add(ZYDIS_MNEMONIC_JNS, &build_jcc<9>);
    r.add(ZYDIS_MNEMONIC_JP, &build_jcc<10>);
    r.add(ZYDIS_MNEMONIC_JNP, &build_jcc<11>);
    r.add(ZYDIS_MNEMONIC_JL, &build_jcc<12>);
    r.add(ZYDIS_MNEMONIC_JNL, &build_jcc<13>);
    r.add(ZYDIS_MNEMONIC_JLE, &build_jcc<14>);
    r.add(ZYDIS_MNEMONIC_JNLE, &build_jcc<15>);
}

}  // namespace cpu
