// Shifts and rotates SHL/SAL SHR SAR ROL ROR RCL RCR (by 1, CL or imm8) and the double shifts
// SHLD SHRD (by CL or imm8), register or memory destination (SDM Vol. 2 "SAL/SAR/SHL/SHR",
// "RCL/RCR/ROL/ROR", "SHLD", "SHRD"). The count is masked to 5 bits (6 with 64-bit operands);
// a masked count of 0 changes no flags. Flags the SDM leaves undefined follow the host CPU
// (AMD Zen 4), as measured natively and checked by tests/diff.
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

enum class ShiftOp { rol, ror, rcl, rcr, shl, shr, sar };
enum class CountFrom { imm, cl };

// Shifts that yield 0 for counts of 64 or more instead of being undefined in C++.
inline uint64_t shl64(uint64_t v, unsigned n) { return n >= 64 ? 0 : v << n; }
inline uint64_t shr64(uint64_t v, unsigned n) { return n >= 64 ? 0 : v >> n; }

template <unsigned N> inline uint64_t msb(uint64_t v) { return (v >> msb_of<N>()) & 1; }
// The bit below the most significant one: ROR/RCR/SHRD set OF = MSB XOR this bit.
template <unsigned N> inline uint64_t msb2(uint64_t v) { return (v >> (msb_of<N>() - 1)) & 1; }

inline uint64_t cf_of(uint64_t cf, uint64_t of) { return (cf ? rf::cf : 0) | (of ? rf::of : 0); }

template <unsigned N> inline uint64_t rotl(uint64_t v, unsigned n) {
    constexpr unsigned w = 8 * N;
    n %= w;
    return n == 0 ? v : ((v << n) | (v >> (w - n))) & mask_of<N>();
}
template <unsigned N> inline uint64_t rotr(uint64_t v, unsigned n) {
    constexpr unsigned w = 8 * N;
    n %= w;
    return n == 0 ? v : ((v >> n) | (v << (w - n))) & mask_of<N>();
}

// One shift or rotate by a masked count that is not 0; returns the result and sets the flags.
//   SHL/SHR/SAR: AF is undefined; Zen 4 sets it. OF is defined for a count of 1 only; Zen 4
//     computes it from the last single-bit step for every count: SHL MSB(r) ^ CF, SHR
//     MSB(r) ^ MSB(r before the last step) (so 0 beyond a count of 1), SAR 0. CF beyond the
//     operand width (8/16-bit counts up to 31, undefined) is 0 for SHL/SHR, the sign for SAR.
//   ROL/ROR/RCL/RCR: only CF and OF change. OF is defined for a count of 1 only; Zen 4 uses
//     the count-1 formula on the result for every count: ROL/RCL MSB(r) ^ CF, ROR/RCR
//     MSB(r) ^ MSB-1(r) -- also when the count modulo the width (9/17 for RCL/RCR) is 0.
template <ShiftOp Op, unsigned N>
uint64_t shift(ArithFlags& f, uint64_t v, unsigned n) {
    constexpr unsigned w = 8 * N;
    if constexpr (Op == ShiftOp::shl) {
        const uint64_t r = shl64(v, n) & mask_of<N>();
        const uint64_t cf = n <= w ? (v >> (w - n)) & 1 : 0;
        f.result<N>(r, rf::af | cf_of(cf, msb<N>(r) ^ cf));
        return r;
    } else if constexpr (Op == ShiftOp::shr) {
        const uint64_t r = shr64(v, n);
        const uint64_t cf = n <= w ? (v >> (n - 1)) & 1 : 0;
        f.result<N>(r, rf::af | cf_of(cf, n == 1 ? msb<N>(v) : 0));
        return r;
    } else if constexpr (Op == ShiftOp::sar) {
        const int64_t s = static_cast<int64_t>(sext<N>(v));
        const uint64_t r = static_cast<uint64_t>(s >> (n < 63 ? n : 63)) & mask_of<N>();
        const uint64_t cf = static_cast<uint64_t>(s >> (n - 1 < 63 ? n - 1 : 63)) & 1;
        f.result<N>(r, rf::af | cf_of(cf, 0));
        return r;
    } else if constexpr (Op == ShiftOp::rol || Op == ShiftOp::ror) {
        const uint64_t r = Op == ShiftOp::rol ? rotl<N>(v, n) : rotr<N>(v, n);
        const uint64_t cf = Op == ShiftOp::rol ? r & 1 : msb<N>(r);
        const uint64_t of = Op == ShiftOp::rol ? msb<N>(r) ^ cf : msb<N>(r) ^ msb2<N>(r);
        f.assign(rf::cf | rf::of, cf_of(cf, of));
        return r;
    } else {
        // Through CF: a (w+1)-bit rotation; 8- and 16-bit counts are taken modulo 9 and 17.
        const unsigned k = N <= 2 ? n % (w + 1) : n;
        uint64_t r = v, cf = f.cf();
        if (k != 0) {
            if constexpr (Op == ShiftOp::rcl) {
                r = (shl64(v, k) | (cf << (k - 1)) | shr64(v, w + 1 - k)) & mask_of<N>();
                cf = (v >> (w - k)) & 1;
            } else {
                r = (shr64(v, k) | (cf << (w - k)) | shl64(v, w + 1 - k)) & mask_of<N>();
                cf = (v >> (k - 1)) & 1;
            }
        }
        const uint64_t of = Op == ShiftOp::rcl ? msb<N>(r) ^ cf : msb<N>(r) ^ msb2<N>(r);
        f.assign(rf::cf | rf::of, cf_of(cf, of));
        return r;
    }
}

template <CountFrom C, unsigned N>
inline unsigned count_of(const Core& c, const Insn& i) {
    const uint64_t raw = C == CountFrom::imm ? i.imm : c.reg<1>(rcx);
    return static_cast<unsigned>(raw & (N == 8 ? 63 : 31));
}

template <ShiftOp Op, Loc D, CountFrom C, unsigned N>
Outcome shift_run(Core& c, const Insn& i) {
    const uint64_t ea = ea_if_memory<D, D>(c, i);
    uint64_t v;
    if (!load<D, N>(c, i, ea, v)) return Outcome::fault;
    const unsigned n = count_of<C, N>(c, i);
    ArithFlags& f = c.state().flags;
    const ArithFlags saved = f;
    // A count of 0 still writes the destination: a 32-bit register is zero-extended.
    const uint64_t r = n == 0 ? v : shift<Op, N>(f, v, n);
    if (!store<D, N>(c, i, ea, r)) {
        f = saved;
        return Outcome::fault;
    }
    return Outcome::next;
}

// SHLD/SHRD by a masked count n != 0: dest d, source s. CF is the last bit shifted out of d,
// OF (defined for n = 1) is MSB(r) ^ CF for SHLD and MSB(r) ^ MSB-1(r) for SHRD on Zen 4 for
// every count, AF (undefined) is set. A 16-bit count above 16 gives an undefined result and
// flags; Zen 4 shifts the 48-bit chain d:s:s (SHLD) or s:s:d (SHRD) -- so the result is s
// rotated by n - 16 --, clears CF, and for SHLD sets OF = CF at n = 16 and clears it above.
template <bool Left, unsigned N>
uint64_t double_shift(ArithFlags& f, uint64_t d, uint64_t s, unsigned n) {
    constexpr unsigned w = 8 * N;
    uint64_t r, cf, of;
    if (n < w) {
        r = Left ? ((d << n) | (s >> (w - n))) & mask_of<N>() : ((d >> n) | (s << (w - n))) & mask_of<N>();
        cf = Left ? (d >> (w - n)) & 1 : (d >> (n - 1)) & 1;
        of = Left ? msb<N>(r) ^ cf : msb<N>(r) ^ msb2<N>(r);
    } else {  // 16-bit operands only: n in 16..31
        r = n == w ? s : Left ? rotl<N>(s, n - w) : rotr<N>(s, n - w);
        cf = n == w ? (Left ? d & 1 : msb<N>(d)) : 0;
        of = Left ? (n == w ? cf : 0) : msb<N>(r) ^ msb2<N>(r);
    }
    f.result<N>(r, rf::af | cf_of(cf, of));
    return r;
}

template <bool Left, Loc D, CountFrom C, unsigned N>
Outcome double_run(Core& c, const Insn& i) {
    const uint64_t ea = ea_if_memory<D, D>(c, i);
    uint64_t d;
    if (!load<D, N>(c, i, ea, d)) return Outcome::fault;
    const uint64_t s = c.reg<N>(i.rm);
    const unsigned n = count_of<C, N>(c, i);
    ArithFlags& f = c.state().flags;
    const ArithFlags saved = f;
    const uint64_t r = n == 0 ? d : double_shift<Left, N>(f, d, s, n);
    if (!store<D, N>(c, i, ea, r)) {
        f = saved;
        return Outcome::fault;
    }
    return Outcome::next;
}

// The count operand k: an immediate (also the implicit 1 of D0/D1) or CL.
bool count_operand(const DecodeContext& c, unsigned k, Insn& i, CountFrom& from) {
    if (c.is_imm(k)) {
        i.imm = c.imm(k);
        from = CountFrom::imm;
        return true;
    }
    from = CountFrom::cl;
    return c.is_reg(k) && c.op(k).reg.value == ZYDIS_REGISTER_CL;
}

template <ShiftOp Op, Loc D>
Handler pick_shift(CountFrom from, unsigned bytes) {
    if (from == CountFrom::imm)
        return by_width(bytes, [](auto w) -> Handler { return &shift_run<Op, D, CountFrom::imm, w.value>; });
    return by_width(bytes, [](auto w) -> Handler { return &shift_run<Op, D, CountFrom::cl, w.value>; });
}

template <ShiftOp Op>
bool build_shift(const DecodeContext& c, Insn& i) {
    CountFrom from;
    if (c.count() != 2 || !count_operand(c, 1, i, from)) return false;
    if (c.is_gpr(0)) {
        i.reg = c.gpr(0);
        i.fn = pick_shift<Op, Loc::reg0>(from, c.width(0));
    } else if (c.is_mem(0)) {
        i.fn = pick_shift<Op, Loc::mem>(from, c.width(0));
    }
    return i.fn != nullptr;
}

template <bool Left, Loc D>
Handler pick_double(CountFrom from, unsigned bytes) {
    if (from == CountFrom::imm)
        return by_width_no8(bytes, [](auto w) -> Handler { return &double_run<Left, D, CountFrom::imm, w.value>; });
    return by_width_no8(bytes, [](auto w) -> Handler { return &double_run<Left, D, CountFrom::cl, w.value>; });
}

template <bool Left>
bool build_double(const DecodeContext& c, Insn& i) {
    CountFrom from;
    if (c.count() != 3 || !c.is_gpr(1) || !count_operand(c, 2, i, from)) return false;
    i.rm = c.gpr(1);
    if (c.is_gpr(0)) {
        i.reg = c.gpr(0);
        i.fn = pick_double<Left, Loc::reg0>(from, c.width(0));
    } else if (c.is_mem(0)) {
        i.fn = pick_double<Left, Loc::mem>(from, c.width(0));
    }
    return i.fn != nullptr;
}

}  // namespace

void register_shift(Registry& r) {
    r.add(ZYDIS_MNEMONIC_ROL, &build_shift<ShiftOp::rol>);
    r.add(ZYDIS_MNEMONIC_ROR, &build_shift<ShiftOp::ror>);
    r.add(ZYDIS_MNEMONIC_RCL, &build_shift<ShiftOp::rcl>);
    r.add(ZYDIS_MNEMONIC_RCR, &build_shift<ShiftOp::rcr>);
    r.add(ZYDIS_MNEMONIC_SHL, &build_shift<ShiftOp::shl>);  // also SAL (D0-D3 /6): Zydis says SHL
    r.add(ZYDIS_MNEMONIC_SHR, &build_shift<ShiftOp::shr>);
    r.add(ZYDIS_MNEMONIC_SAR, &build_shift<ShiftOp::sar>);
    r.add(ZYDIS_MNEMONIC_SHLD, &build_double<true>);
    r.add(ZYDIS_MNEMONIC_SHRD, &build_double<false>);
}

}  // namespace cpu
