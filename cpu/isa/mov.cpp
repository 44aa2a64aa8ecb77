// MOV between general registers, memory and immediates (incl. the moffs forms), LEA, and the
// NOP forms. (MOV to/from segment, control and debug registers: cpu/isa/system families.)
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

template <Loc D, Loc S, unsigned N>
struct Mov {
    static Outcome run(Core& c, const Insn& i) {
        const uint64_t ea = ea_if_memory<D, S>(c, i);
        uint64_t v;
        if (!load<S, N>(c, i, ea, v) || !store<D, N>(c, i, ea, v)) return Outcome::fault;
        return Outcome::next;
    }
};

bool build_mov(const DecodeContext& c, Insn& i) {
    BinaryForm f;
    if (!binary_form(c, i, f)) return false;
    i.fn = pick_binary<Mov>(f, c.width(0));
    return i.fn != nullptr;
}

// LEA computes the effective address in the address size and truncates (or zero-extends) it
// to the operand size (SDM Vol. 2 "LEA", Table 3-54).
template <unsigned N>
Outcome lea(Core& c, const Insn& i) {
    c.set_reg<N>(i.reg, c.effective_address(i));
    return Outcome::next;
}

bool build_lea(const DecodeContext& c, Insn& i) {
    if (!c.is_gpr(0) || !c.is_mem(1)) return false;
    i.reg = c.gpr(0);
    i.fn = by_width_no8(c.width(0), [](auto w) -> Handler { return &lea<w.value>; });
    return i.fn != nullptr;
}

Outcome nop(Core&, const Insn&) { return Outcome::next; }

bool build_nop(const DecodeContext&, Insn& i) {
    i.fn = &nop;
    return true;
}

}  // namespace

void register_mov(Registry& r) {
    r.add(ZYDIS_MNEMONIC_MOV, &build_mov);
    r.add(ZYDIS_MNEMONIC_LEA, &build_lea);
    r.add(ZYDIS_MNEMONIC_NOP, &build_nop);     // 90, 0F 1F /0 (multi-byte NOP)
    r.add(ZYDIS_MNEMONIC_ENDBR64, &build_nop); // CET not enabled: a NOP (SDM Vol. 2 "ENDBR64")
    r.add(ZYDIS_MNEMONIC_ENDBR32, &build_nop);
    // Prefetches are hints without architectural effect and never fault (SDM Vol. 2
    // "PREFETCHh": "does not affect program behavior"); there is no cache model to warm.
    r.add(ZYDIS_MNEMONIC_PREFETCHT0, &build_nop);
    r.add(ZYDIS_MNEMONIC_PREFETCHT1, &build_nop);
    r.add(ZYDIS_MNEMONIC_PREFETCHT2, &build_nop);
    r.add(ZYDIS_MNEMONIC_PREFETCHNTA, &build_nop);
    r.add(ZYDIS_MNEMONIC_PREFETCHW, &build_nop);
    r.add(ZYDIS_MNEMONIC_PREFETCH, &build_nop);
    // Fences order memory accesses; one processor executing one instruction at a time, with
    // processors interleaved at instruction boundaries, already observes program order
    // (SDM Vol. 2 "MFENCE", "LFENCE", "SFENCE").
    r.add(ZYDIS_MNEMONIC_MFENCE, &build_nop);
    r.add(ZYDIS_MNEMONIC_LFENCE, &build_nop);
    r.add(ZYDIS_MNEMONIC_SFENCE, &build_nop);
}

}  // namespace cpu
