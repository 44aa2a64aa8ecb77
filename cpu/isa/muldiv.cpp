// MUL and IMUL (one-, two- and three-operand forms), DIV and IDIV, register or memory source
// (SDM Vol. 2 "MUL", "IMUL", "DIV", "IDIV"). Flags the SDM leaves undefined follow the host
// CPU (AMD Zen 4), as measured natively and checked by tests/diff.
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

__extension__ typedef unsigned __int128 u128;
__extension__ typedef __int128 i128;

// MUL/IMUL define CF = OF = "the upper half is significant"; SF, ZF, AF and PF are undefined
// and Zen 4 leaves them unchanged.
inline void set_overflow(ArithFlags& f, bool over) {
    f.assign(rf::cf | rf::of, over ? rf::cf | rf::of : 0);
}

// MUL/IMUL r/m: AX = AL * src (8-bit), else rDX:rAX = rAX * src.
template <bool Signed, Loc S, unsigned N>
Outcome mul1(Core& c, const Insn& i) {
    uint64_t b;
    if (!load<S, N>(c, i, ea_if_memory<S, S>(c, i), b)) return Outcome::fault;
    const uint64_t a = c.reg<N>(rax);
    constexpr unsigned w = 8 * N;
    u128 p;
    if constexpr (Signed) p = static_cast<u128>(static_cast<i128>(static_cast<int64_t>(sext<N>(a))) *
                                                static_cast<int64_t>(sext<N>(b)));
    else p = static_cast<u128>(a) * b;
    const uint64_t lo = static_cast<uint64_t>(p) & mask_of<N>();
    const uint64_t hi = static_cast<uint64_t>(p >> w) & mask_of<N>();
    const bool over = Signed ? hi != ((lo >> (w - 1)) ? mask_of<N>() : 0) : hi != 0;
    if constexpr (N == 1) {
        c.set_reg<2>(rax, (hi << 8) | lo);
    } else {
        c.set_reg<N>(rax, lo);
        c.set_reg<N>(rdx, hi);
    }
    set_overflow(c.state().flags, over);
    return Outcome::next;
}

// IMUL r, r/m (Imm = false: the factor is the destination) and IMUL r, r/m, imm: the product
// truncated to the operand size.
template <Loc S, bool Imm, unsigned N>
Outcome imul_n(Core& c, const Insn& i) {
    uint64_t b;
    if (!load<S, N>(c, i, ea_if_memory<S, S>(c, i), b)) return Outcome::fault;
    const uint64_t a = Imm ? i.imm : c.reg<N>(i.reg);
    const i128 p = static_cast<i128>(static_cast<int64_t>(sext<N>(a))) * static_cast<int64_t>(sext<N>(b));
    const uint64_t r = static_cast<uint64_t>(p) & mask_of<N>();
    c.set_reg<N>(i.reg, r);
    set_overflow(c.state().flags, p != static_cast<int64_t>(sext<N>(r)));
    return Outcome::next;
}

// DIV/IDIV r/m: the double-width dividend (AX, or rDX:rAX) by the source. #DE for a zero
// divisor and for a quotient that does not fit the operand size (SDM "DIV": "IF temp >
// FFH ..."); a faulting division changes nothing. All six flags are undefined: Zen 4 clears
// SF, ZF and PF, sets AF and leaves CF and OF unchanged.
template <bool Signed, Loc S, unsigned N>
Outcome divide(Core& c, const Insn& i) {
    uint64_t b;
    if (!load<S, N>(c, i, ea_if_memory<S, S>(c, i), b)) return Outcome::fault;
    if (b == 0) return c.raise(sim::Vector::divide_error);
    constexpr unsigned w = 8 * N;
    const u128 dividend = N == 1 ? c.reg<2>(rax) : (static_cast<u128>(c.reg<N>(rdx)) << w) | c.reg<N>(rax);
    uint64_t q, r;
    if constexpr (Signed) {
        // Sign-extend the 2w-bit dividend; -2^127 / -1 would overflow i128 itself.
        const i128 x = static_cast<i128>(dividend << (128 - 2 * w)) >> (128 - 2 * w);
        const i128 y = static_cast<int64_t>(sext<N>(b));
        if (y == -1 && dividend == static_cast<u128>(1) << 127) return c.raise(sim::Vector::divide_error);
        const i128 qs = x / y;
        const i128 limit = static_cast<i128>(1) << (w - 1);
        if (qs < -limit || qs >= limit) return c.raise(sim::Vector::divide_error);
        q = static_cast<uint64_t>(qs) & mask_of<N>();
        r = static_cast<uint64_t>(x % y) & mask_of<N>();
    } else {
        const u128 qu = dividend / b;
        if (qu > mask_of<N>()) return c.raise(sim::Vector::divide_error);
        q = static_cast<uint64_t>(qu);
        r = static_cast<uint64_t>(dividend % b);
    }
    if constexpr (N == 1) {
        c.set_reg<2>(rax, (r << 8) | q);
    } else {
        c.set_reg<N>(rax, q);
        c.set_reg<N>(rdx, r);
    }
    c.state().flags.assign(rf::sf | rf::zf | rf::pf | rf::af, rf::af);
    return Outcome::next;
}

// One-operand forms: the source is operand 0.
template <template <bool, Loc, unsigned> class H, bool Signed>
bool build_one(const DecodeContext& c, Insn& i) {
    if (c.is_gpr(0)) {
        i.reg = c.gpr(0);
        i.fn = by_width(c.width(0), [](auto w) -> Handler { return &H<Signed, Loc::reg0, w.value>::run; });
    } else if (c.is_mem(0)) {
        i.fn = by_width(c.width(0), [](auto w) -> Handler { return &H<Signed, Loc::mem, w.value>::run; });
    }
    return i.fn != nullptr;
}

template <bool Signed, Loc S, unsigned N> struct Mul1 { static Outcome run(Core& c, const Insn& i) { return mul1<Signed, S, N>(c, i); } };
template <bool Signed, Loc S, unsigned N> struct Div { static Outcome run(Core& c, const Insn& i) { return divide<Signed, S, N>(c, i); } };

template <bool Signed>
bool build_mul(const DecodeContext& c, Insn& i) {
    return c.count() == 1 && build_one<Mul1, Signed>(c, i);
}

template <bool Signed>
bool build_div(const DecodeContext& c, Insn& i) {
    return c.count() == 1 && build_one<Div, Signed>(c, i);
}

template <Loc S>
Handler pick_imul(bool imm, unsigned bytes) {
    if (imm) return by_width_no8(bytes, [](auto w) -> Handler { return &imul_n<S, true, w.value>; });
    return by_width_no8(bytes, [](auto w) -> Handler { return &imul_n<S, false, w.value>; });
}

// IMUL r, r/m and IMUL r, r/m, imm (operand 1 is the source; operand 2 the immediate).
bool build_imul(const DecodeContext& c, Insn& i) {
    if (c.count() == 1) return build_mul<true>(c, i);
    if (!c.is_gpr(0) || c.count() > 3) return false;
    i.reg = c.gpr(0);
    const bool imm = c.count() == 3;
    if (imm) {
        if (!c.is_imm(2)) return false;
        i.imm = c.imm(2);
    }
    if (c.is_gpr(1)) {
        i.rm = c.gpr(1);
        i.fn = pick_imul<Loc::reg1>(imm, c.width(0));
    } else if (c.is_mem(1)) {
        i.fn = pick_imul<Loc::mem>(imm, c.width(0));
    }
    return i.fn != nullptr;
}

}  // namespace

void register_muldiv(Registry& r) {
    r.add(ZYDIS_MNEMONIC_MUL, &build_mul<false>);
    r.add(ZYDIS_MNEMONIC_IMUL, &build_imul);
    r.add(ZYDIS_MNEMONIC_DIV, &build_div<false>);
    r.add(ZYDIS_MNEMONIC_IDIV, &build_div<true>);
}

}  // namespace cpu
