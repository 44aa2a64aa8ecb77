// SSE2 integer and bitwise operations on XMM registers (66 0F .. encodings; SDM Vol. 2 pages of
// each mnemonic): logic, compares, unpack/pack, add/sub with and without saturation, min/max,
// average, shifts, multiplies, PSADBW, and the mask extractions PMOVMSKB/MOVMSKPS/MOVMSKPD.
// The MMX forms (MM registers) are declined and stay #UD.
#include <initializer_list>
#include <limits>
#include <type_traits>

#include "cpu/isa/sse_ops.h"

namespace cpu {
namespace {

// ---- element operations -------------------------------------------------------------------
template <class T> T add(T a, T b) { return static_cast<T>(a + b); }
template <class T> T sub(T a, T b) { return static_cast<T>(a - b); }
template <class T> T saturate(int64_t v) {
    constexpr int64_t lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
    return static_cast<T>(v < lo ? lo : v > hi ? hi : v);
}
// Saturating forms: T's signedness picks PADDS*/PSUBS* (signed) or PADDUS*/PSUBUS* (unsigned).
template <class T> T add_sat(T a, T b) { return saturate<T>(int64_t{a} + int64_t{b}); }
template <class T> T sub_sat(T a, T b) { return saturate<T>(int64_t{a} - int64_t{b}); }
template <class T> T min_(T a, T b) { return a < b ? a : b; }
template <class T> T max_(T a, T b) { return a > b ? a : b; }
template <class T> T avg(T a, T b) { return static_cast<T>((uint32_t{a} + uint32_t{b} + 1) >> 1); }
template <class T> T cmp_eq(T a, T b) { return a == b ? static_cast<T>(~T{0}) : T{0}; }
template <class T> T cmp_gt(T a, T b) { return a > b ? static_cast<T>(-1) : T{0}; }  // signed T
uint64_t and_(uint64_t a, uint64_t b) { return a & b; }
uint64_t or_(uint64_t a, uint64_t b) { return a | b; }
uint64_t xor_(uint64_t a, uint64_t b) { return a ^ b; }
uint64_t andn(uint64_t a, uint64_t b) { return ~a & b; }  // PANDN/ANDNPS: NOT dst AND src
int16_t mul_low(int16_t a, int16_t b) { return static_cast<int16_t>(int32_t{a} * b); }
int16_t mul_high(int16_t a, int16_t b) { return static_cast<int16_t>((int32_t{a} * b) >> 16); }
uint16_t mul_high_u(uint16_t a, uint16_t b) { return static_cast<uint16_t>((uint32_t{a} * b) >> 16); }

// ---- whole-register operations ------------------------------------------------------------
// PUNPCKL*/PUNPCKH*: interleave the low (or high) halves of dst and src.
template <class T, bool High>
void unpack(uint8_t* d, const uint8_t* s, uint8_t) {
    constexpr unsigned half = lanes_of<T> / 2, from = High ? half : 0;
    alignas(16) uint8_t r[16];
    for (unsigned k = 0; k < half; ++k) {
        set_lane<T>(r, 2 * k, lane<T>(d, from + k));
        set_lane<T>(r, 2 * k + 1, lane<T>(s, from + k));
    }
    std::memcpy(d, r, 16);
}

// PACKSSWB/PACKUSWB/PACKSSDW: dst's elements then src's, each saturated to To.
template <class From, class To>
void pack(uint8_t* d, const uint8_t* s, uint8_t) {
    constexpr unsigned n = lanes_of<From>;
    alignas(16) uint8_t r[16];
    for (unsigned k = 0; k < n; ++k) {
        set_lane<To>(r, k, saturate<To>(lane<From>(d, k)));
        set_lane<To>(r, n + k, saturate<To>(lane<From>(s, k)));
    }
    std::memcpy(d, r, 16);
}

// PMULUDQ: the even unsigned doublewords multiplied into quadwords.
void mul_udq(uint8_t* d, const uint8_t* s, uint8_t) {
    for (unsigned k = 0; k < 2; ++k)
        set_lane<uint64_t>(d, k, uint64_t{lane<uint32_t>(d, 2 * k)} * lane<uint32_t>(s, 2 * k));
}

// PMADDWD: pairs of signed word products summed; the one overflow (all four words 0x8000)
// wraps to 0x80000000 (SDM Vol. 2 PMADDWD).
void madd_wd(uint8_t* d, const uint8_t* s, uint8_t) {
    for (unsigned k = 0; k < 4; ++k) {
        const int64_t sum = int64_t{lane<int16_t>(d, 2 * k)} * lane<int16_t>(s, 2 * k) +
                            int64_t{lane<int16_t>(d, 2 * k + 1)} * lane<int16_t>(s, 2 * k + 1);
        set_lane<uint32_t>(d, k, static_cast<uint32_t>(sum));
    }
}

// PSADBW: per quadword, the sum of absolute byte differences in its low word, zeros above.
void sad_bw(uint8_t* d, const uint8_t* s, uint8_t) {
    for (unsigned q = 0; q < 2; ++q) {
        uint64_t sum = 0;
        for (unsigned k = 8 * q; k < 8 * q + 8; ++k) sum += d[k] > s[k] ? d[k] - s[k] : s[k] - d[k];
        set_lane<uint64_t>(d, q, sum);
    }
}

// ---- shifts -------------------------------------------------------------------------------
// Counts above the element width clear the element (logical) or fill it with the sign
// (arithmetic); the xmm/m128 count is the whole low quadword (SDM Vol. 2 PSLLW/PSRAW/PSRLW).
enum class Shift : uint8_t { left, right, arith };

template <class T, Shift K>
void shift_lanes(uint8_t* d, uint64_t count) {
    constexpr unsigned bits = 8 * sizeof(T);
    for (unsigned k = 0; k < lanes_of<T>; ++k) {
        const T v = lane<T>(d, k);
        T r;
        if constexpr (K == Shift::arith)
            r = static_cast<T>(static_cast<std::make_signed_t<T>>(v) >> (count < bits ? count : bits - 1));
        else if (count >= bits) r = 0;
        else if constexpr (K == Shift::left) r = static_cast<T>(v << count);
        else r = static_cast<T>(v >> count);
        set_lane<T>(d, k, r);
    }
}
template <class T, Shift K> void shift_by_xmm(uint8_t* d, const uint8_t* s, uint8_t) {
    shift_lanes<T, K>(d, lane<uint64_t>(s, 0));
}
template <class T, Shift K> Outcome shift_by_imm(Core& c, const Insn& i) {
    if (!sse_usable(c)) return Outcome::fault;
    shift_lanes<T, K>(c.state().xmm[i.reg], i.imm & 0xff);
    return Outcome::next;
}

// PSLLDQ/PSRLDQ: whole-register byte shifts; counts above 15 clear it.
template <bool Left> Outcome shift_bytes(Core& c, const Insn& i) {
    if (!sse_usable(c)) return Outcome::fault;
    uint8_t* d = c.state().xmm[i.reg];
    const unsigned n = i.imm > 16 ? 16 : static_cast<unsigned>(i.imm);
    alignas(16) uint8_t r[16] = {};
    if (Left) std::memcpy(r + n, d, 16 - n);
    else std::memcpy(r, d + n, 16 - n);
    std::memcpy(d, r, 16);
    return Outcome::next;
}

// xmm, imm8 (the 66 0F 71/72/73 group) or xmm, xmm/m128.
template <class T, Shift K>
bool build_shift(const DecodeContext& c, Insn& i) {
    if (is_xmm(c, 0) && c.is_imm(1)) {
        i.reg = c.xmm(0);
        i.imm = c.imm(1);
        i.fn = &shift_by_imm<T, K>;
        return true;
    }
    return build_vec_binary<&shift_by_xmm<T, K>>(c, i);
}

template <bool Left>
bool build_shift_bytes(const DecodeContext& c, Insn& i) {
    if (!is_xmm(c, 0) || !c.is_imm(1)) return false;
    i.reg = c.xmm(0);
    i.imm = c.imm(1) & 0xff;
    i.fn = &shift_bytes<Left>;
    return true;
}

// ---- masks to a general register ----------------------------------------------------------
// PMOVMSKB/MOVMSKPS/MOVMSKPD r32/r64, xmm: the sign bit of each element, zero-extended.
template <class T> Outcome move_mask(Core& c, const Insn& i) {
    if (!sse_usable(c)) return Outcome::fault;
    const uint8_t* v = c.state().xmm[i.rm];
    uint64_t m = 0;
    for (unsigned k = 0; k < lanes_of<T>; ++k)
        m |= static_cast<uint64_t>(lane<T>(v, k) >> (8 * sizeof(T) - 1)) << k;
    c.set_reg<8>(i.reg, m);
    return Outcome::next;
}

template <class T>
bool build_move_mask(const DecodeContext& c, Insn& i) {
    if (!c.is_gpr(0) || !is_xmm(c, 1)) return false;
    i.reg = c.gpr(0);
    i.rm = c.xmm(1);
    i.fn = &move_mask<T>;
    return true;
}

template <class T, T (*F)(T, T)> constexpr Builder lanes = &build_vec_binary<&lanewise<T, F>>;
template <VecOp Op> constexpr Builder whole = &build_vec_binary<Op>;

void add_all(Registry& r, std::initializer_list<ZydisMnemonic> ms, Builder b) {
    for (ZydisMnemonic m : ms) r.add(m, b);
}

}  // namespace

void register_sse_int(Registry& r) {
    // Bitwise: the PS/PD forms are the same operation on the same bits.
    add_all(r, {ZYDIS_MNEMONIC_PAND, ZYDIS_MNEMONIC_ANDPS, ZYDIS_MNEMONIC_ANDPD}, lanes<uint64_t, and_>);
    add_all(r, {ZYDIS_MNEMONIC_POR, ZYDIS_MNEMONIC_ORPS, ZYDIS_MNEMONIC_ORPD}, lanes<uint64_t, or_>);
    add_all(r, {ZYDIS_MNEMONIC_PXOR, ZYDIS_MNEMONIC_XORPS, ZYDIS_MNEMONIC_XORPD}, lanes<uint64_t, xor_>);
    add_all(r, {ZYDIS_MNEMONIC_PANDN, ZYDIS_MNEMONIC_ANDNPS, ZYDIS_MNEMONIC_ANDNPD}, lanes<uint64_t, andn>);

    r.add(ZYDIS_MNEMONIC_PCMPEQB, lanes<uint8_t, cmp_eq>);
    r.add(ZYDIS_MNEMONIC_PCMPEQW, lanes<uint16_t, cmp_eq>);
    r.add(ZYDIS_MNEMONIC_PCMPEQD, lanes<uint32_t, cmp_eq>);
    r.add(ZYDIS_MNEMONIC_PCMPEQQ, lanes<uint64_t, cmp_eq>);
    r.add(ZYDIS_MNEMONIC_PCMPGTB, lanes<int8_t, cmp_gt>);
    r.add(ZYDIS_MNEMONIC_PCMPGTW, lanes<int16_t, cmp_gt>);
    r.add(ZYDIS_MNEMONIC_PCMPGTD, lanes<int32_t, cmp_gt>);

    r.add(ZYDIS_MNEMONIC_PMOVMSKB, &build_move_mask<uint8_t>);
    r.add(ZYDIS_MNEMONIC_MOVMSKPS, &build_move_mask<uint32_t>);
    r.add(ZYDIS_MNEMONIC_MOVMSKPD, &build_move_mask<uint64_t>);

    r.add(ZYDIS_MNEMONIC_PUNPCKLBW, whole<&unpack<uint8_t, false>>);
    r.add(ZYDIS_MNEMONIC_PUNPCKLWD, whole<&unpack<uint16_t, false>>);
    r.add(ZYDIS_MNEMONIC_PUNPCKLDQ, whole<&unpack<uint32_t, false>>);
    r.add(ZYDIS_MNEMONIC_PUNPCKLQDQ, whole<&unpack<uint64_t, false>>);
    r.add(ZYDIS_MNEMONIC_PUNPCKHBW, whole<&unpack<uint8_t, true>>);
    r.add(ZYDIS_MNEMONIC_PUNPCKHWD, whole<&unpack<uint16_t, true>>);
    r.add(ZYDIS_MNEMONIC_PUNPCKHDQ, whole<&unpack<uint32_t, true>>);
    r.add(ZYDIS_MNEMONIC_PUNPCKHQDQ, whole<&unpack<uint64_t, true>>);
    r.add(ZYDIS_MNEMONIC_PACKSSWB, whole<&pack<int16_t, int8_t>>);
    r.add(ZYDIS_MNEMONIC_PACKUSWB, whole<&pack<int16_t, uint8_t>>);
    r.add(ZYDIS_MNEMONIC_PACKSSDW, whole<&pack<int32_t, int16_t>>);

    r.add(ZYDIS_MNEMONIC_PADDB, lanes<uint8_t, add>);
    r.add(ZYDIS_MNEMONIC_PADDW, lanes<uint16_t, add>);
    r.add(ZYDIS_MNEMONIC_PADDD, lanes<uint32_t, add>);
    r.add(ZYDIS_MNEMONIC_PADDQ, lanes<uint64_t, add>);
    r.add(ZYDIS_MNEMONIC_PSUBB, lanes<uint8_t, sub>);
    r.add(ZYDIS_MNEMONIC_PSUBW, lanes<uint16_t, sub>);
    r.add(ZYDIS_MNEMONIC_PSUBD, lanes<uint32_t, sub>);
    r.add(ZYDIS_MNEMONIC_PSUBQ, lanes<uint64_t, sub>);
    r.add(ZYDIS_MNEMONIC_PADDUSB, lanes<uint8_t, add_sat>);
    r.add(ZYDIS_MNEMONIC_PADDUSW, lanes<uint16_t, add_sat>);
    r.add(ZYDIS_MNEMONIC_PSUBUSB, lanes<uint8_t, sub_sat>);
    r.add(ZYDIS_MNEMONIC_PSUBUSW, lanes<uint16_t, sub_sat>);
    r.add(ZYDIS_MNEMONIC_PADDSB, lanes<int8_t, add_sat>);
    r.add(ZYDIS_MNEMONIC_PADDSW, lanes<int16_t, add_sat>);
    r.add(ZYDIS_MNEMONIC_PSUBSB, lanes<int8_t, sub_sat>);
    r.add(ZYDIS_MNEMONIC_PSUBSW, lanes<int16_t, sub_sat>);

    r.add(ZYDIS_MNEMONIC_PMINUB, lanes<uint8_t, min_>);
    r.add(ZYDIS_MNEMONIC_PMAXUB, lanes<uint8_t, max_>);
    r.add(ZYDIS_MNEMONIC_PMINSW, lanes<int16_t, min_>);
    r.add(ZYDIS_MNEMONIC_PMAXSW, lanes<int16_t, max_>);
    r.add(ZYDIS_MNEMONIC_PAVGB, lanes<uint8_t, avg>);
    r.add(ZYDIS_MNEMONIC_PAVGW, lanes<uint16_t, avg>);

    r.add(ZYDIS_MNEMONIC_PSLLW, &build_shift<uint16_t, Shift::left>);
    r.add(ZYDIS_MNEMONIC_PSLLD, &build_shift<uint32_t, Shift::left>);
    r.add(ZYDIS_MNEMONIC_PSLLQ, &build_shift<uint64_t, Shift::left>);
    r.add(ZYDIS_MNEMONIC_PSRLW, &build_shift<uint16_t, Shift::right>);
    r.add(ZYDIS_MNEMONIC_PSRLD, &build_shift<uint32_t, Shift::right>);
    r.add(ZYDIS_MNEMONIC_PSRLQ, &build_shift<uint64_t, Shift::right>);
    r.add(ZYDIS_MNEMONIC_PSRAW, &build_shift<uint16_t, Shift::arith>);
    r.add(ZYDIS_MNEMONIC_PSRAD, &build_shift<uint32_t, Shift::arith>);
    r.add(ZYDIS_MNEMONIC_PSLLDQ, &build_shift_bytes<true>);
    r.add(ZYDIS_MNEMONIC_PSRLDQ, &build_shift_bytes<false>);

    r.add(ZYDIS_MNEMONIC_PMULLW, lanes<int16_t, mul_low>);
    r.add(ZYDIS_MNEMONIC_PMULHW, lanes<int16_t, mul_high>);
    r.add(ZYDIS_MNEMONIC_PMULHUW, lanes<uint16_t, mul_high_u>);
    r.add(ZYDIS_MNEMONIC_PMULUDQ, whole<&mul_udq>);
    r.add(ZYDIS_MNEMONIC_PMADDWD, whole<&madd_wd>);
    r.add(ZYDIS_MNEMONIC_PSADBW, whole<&sad_bw>);
}

}  // namespace cpu
