// Exchanges XCHG XADD CMPXCHG CMPXCHG8B CMPXCHG16B (SDM Vol. 2 instruction pages). LOCK is
// legal on the memory forms (Zydis rejects it elsewhere); one instruction runs at a time, so
// a locked read-modify-write is atomic by construction. Memory is written before any register
// so a faulting instruction changes nothing.
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

// XCHG r/m, r (also the 90+r accumulator forms; 90 itself is NOP, decoded as such).
template <Loc D, Loc S, unsigned N>
struct Xchg {
    static Outcome run(Core& c, const Insn& i) {
        const uint64_t ea = ea_if_memory<D, D>(c, i);
        const uint64_t b = c.reg<N>(i.rm);
        uint64_t a;
        if (!load<D, N>(c, i, ea, a) || !store<D, N>(c, i, ea, b)) return Outcome::fault;
        c.set_reg<N>(i.rm, a);
        return Outcome::next;
    }
};

// XADD r/m, r: TEMP = SRC + DEST; SRC = DEST; DEST = TEMP (so XADD r, r with one register
// leaves the sum). Flags as ADD.
template <Loc D, Loc S, unsigned N>
struct Xadd {
    static Outcome run(Core& c, const Insn& i) {
        const uint64_t ea = ea_if_memory<D, D>(c, i);
        uint64_t d;
        if (!load<D, N>(c, i, ea, d)) return Outcome::fault;
        const uint64_t s = c.reg<N>(i.rm);
        const uint64_t r = (d + s) & mask_of<N>();
        if constexpr (D == Loc::mem) {
            if (!store<D, N>(c, i, ea, r)) return Outcome::fault;
            c.set_reg<N>(i.rm, d);
        } else {
            c.set_reg<N>(i.rm, d);
            c.set_reg<N>(i.reg, r);
        }
        c.state().flags.add<N>(d, s, d + s);
        return Outcome::next;
    }
};

// CMPXCHG r/m, r: flags as CMP rAX, DEST. Equal: DEST = SRC. Not equal: rAX = DEST, and a
// memory destination is written back unchanged (SDM "CMPXCHG": the destination receives a
// write cycle either way). Zen 4 leaves a register destination untouched on a mismatch (a
// 32-bit one is not zero-extended) and rAX untouched on a match.
template <Loc D, Loc S, unsigned N>
struct Cmpxchg {
    static Outcome run(Core& c, const Insn& i) {
        const uint64_t ea = ea_if_memory<D, D>(c, i);
        uint64_t d;
        if (!load<D, N>(c, i, ea, d)) return Outcome::fault;
        const uint64_t acc = c.reg<N>(rax);
        if (acc == d) {
            if (!store<D, N>(c, i, ea, c.reg<N>(i.rm))) return Outcome::fault;
        } else {
            if constexpr (D == Loc::mem) {
                if (!store<D, N>(c, i, ea, d)) return Outcome::fault;
            }
            c.set_reg<N>(rax, d);
        }
        c.state().flags.sub<N>(acc, d, acc - d);
        return Outcome::next;
    }
};

template <template <Loc, Loc, unsigned> class H>
bool build_rm_r(const DecodeContext& c, Insn& i) {
    BinaryForm f;
    if (!binary_form(c, i, f) || f.src != Loc::reg1) return false;
    i.fn = pick_binary<H>(f, c.width(0));
    return i.fn != nullptr;
}

// CMPXCHG8B m64 / CMPXCHG16B m128 (N = 4 / 8): compare rDX:rAX with the memory operand;
// equal: store rCX:rBX, ZF = 1; not equal: load rDX:rAX (zero-extending EDX/EAX), write the
// old value back, ZF = 0. No other flag changes. CMPXCHG16B needs a 16-byte aligned operand,
// else #GP(0) (SDM "CMPXCHG8B/CMPXCHG16B").
template <unsigned N>
Outcome cmpxchg_double(Core& c, const Insn& i) {
    const uint64_t ea = c.effective_address(i);
    uint64_t old[2];
    if constexpr (N == 4) {
        uint64_t v;
        if (!c.read<8>(i.seg, ea, v)) return Outcome::fault;
        old[0] = v & 0xffffffffu;
        old[1] = v >> 32;
    } else {
        if (!c.read_bytes(i.seg, ea, old, 16, 16)) return Outcome::fault;
    }
    const bool equal = old[0] == c.reg<N>(rax) && old[1] == c.reg<N>(rdx);
    const uint64_t next[2] = {equal ? c.reg<N>(rbx) : old[0], equal ? c.reg<N>(rcx) : old[1]};
    if constexpr (N == 4) {
        if (!c.write<8>(i.seg, ea, next[0] | (next[1] << 32))) return Outcome::fault;
    } else {
        if (!c.write_bytes(i.seg, ea, next, 16, 16)) return Outcome::fault;
    }
    if (!equal) {
        c.set_reg<N>(rax, old[0]);
        c.set_reg<N>(rdx, old[1]);
    }
    c.state().flags.assign(rf::zf, equal ? rf::zf : 0);
    return Outcome::next;
}

template <unsigned N>
bool build_cmpxchg_double(const DecodeContext& c, Insn& i) {
    if (c.count() != 1 || !c.is_mem(0)) return false;
    i.fn = &cmpxchg_double<N>;
    return true;
}

}  // namespace

void register_xchg(Registry& r) {
    r.add(ZYDIS_MNEMONIC_XCHG, &build_rm_r<Xchg>);
    r.add(ZYDIS_MNEMONIC_XADD, &build_rm_r<Xadd>);
    r.add(ZYDIS_MNEMONIC_CMPXCHG, &build_rm_r<Cmpxchg>);
    r.add(ZYDIS_MNEMONIC_CMPXCHG8B, &build_cmpxchg_double<4>);
    r.add(ZYDIS_MNEMONIC_CMPXCHG16B, &build_cmpxchg_double<8>);
}

}  // namespace cpu
