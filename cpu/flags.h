// Arithmetic flags kept half-lazily: CF, AF and OF are computed when an instruction writes them;
// ZF, SF and PF are derived from the saved (sign-extended) result when somebody reads them.
// Context: hot path; header-only so instruction handlers inline it.
#pragma once
#include <cstdint>

namespace cpu {

namespace rf {  // RFLAGS bits (Intel SDM Vol. 1 3.4.3 "EFLAGS Register")
inline constexpr uint64_t cf = 1u << 0, fixed1 = 1u << 1, pf = 1u << 2, af = 1u << 4,
                          zf = 1u << 6, sf = 1u << 7, tf = 1u << 8, if_ = 1u << 9,
                          df = 1u << 10, of = 1u << 11, iopl = 3u << 12, nt = 1u << 14,
                          rf = 1u << 16, vm = 1u << 17, ac = 1u << 18, vif = 1u << 19,
                          vip = 1u << 20, id = 1u << 21;
inline constexpr uint64_t arith = cf | pf | af | zf | sf | of;
inline constexpr uint64_t defined = arith | fixed1 | tf | if_ | df | iopl | nt | rf | vm | ac | vif |
                                    vip | id;
}  // namespace rf

template <unsigned N> struct UIntOf;
template <> struct UIntOf<1> { using type = uint8_t; using stype = int8_t; };
template <> struct UIntOf<2> { using type = uint16_t; using stype = int16_t; };
template <> struct UIntOf<4> { using type = uint32_t; using stype = int32_t; };
template <> struct UIntOf<8> { using type = uint64_t; using stype = int64_t; };
template <unsigned N> using uint_t = typename UIntOf<N>::type;
template <unsigned N> using sint_t = typename UIntOf<N>::stype;

template <unsigned N> constexpr uint64_t mask_of() { return N == 8 ? ~0ull : (1ull << (8 * N)) - 1; }
template <unsigned N> constexpr unsigned msb_of() { return 8 * N - 1; }
template <unsigned N> inline uint64_t sext(uint64_t v) {
    return static_cast<uint64_t>(static_cast<int64_t>(static_cast<sint_t<N>>(static_cast<uint_t<N>>(v))));
}

struct ArithFlags {
    static constexpr uint64_t explicit_bit = 1ull << 63;  // ZF/SF/PF are in `aux`, not derived

    uint64_t res = 0;  // last flag-setting result, sign-extended from its width
    uint64_t aux = 0;  // CF bit 0, AF bit 4, OF bit 11 (RFLAGS positions); + explicit_bit

    bool cf() const { return aux & rf::cf; }
    bool af() const { return aux & rf::af; }
    bool of() const { return aux & rf::of; }
    bool zf() const { return (aux & explicit_bit) ? (aux & rf::zf) != 0 : res == 0; }
    bool sf() const { return (aux & explicit_bit) ? (aux & rf::sf) != 0 : (res >> 63) != 0; }
    bool pf() const {
        return (aux & explicit_bit) ? (aux & rf::pf) != 0 : !__builtin_parity(static_cast<unsigned>(res & 0xff));
    }

    uint64_t get() const {
        if (aux & explicit_bit) return aux & rf::arith;
        return (aux & (rf::cf | rf::af | rf::of)) | (res == 0 ? rf::zf : 0) | ((res >> 63) ? rf::sf : 0) |
               (__builtin_parity(static_cast<unsigned>(res & 0xff)) ? 0 : rf::pf);
    }
    // Sets all six flags to explicit values (POPF, SAHF, instructions that set ZF alone ...).
    void set(uint64_t rflags) { aux = (rflags & rf::arith) | explicit_bit; }
    // Replaces the flags selected by `which` and keeps the others.
    void assign(uint64_t which, uint64_t values) { set((get() & ~which) | (values & which)); }
    void set_cf(bool v) { aux = (aux & ~rf::cf) | (v ? rf::cf : 0); }

    // Result-derived ZF/SF/PF with the given CF, AF, OF (bits at their RFLAGS positions).
    template <unsigned N> void result(uint64_t r, uint64_t cf_af_of) {
        res = sext<N>(r);
        aux = cf_af_of;
    }
    // Carry-out vector of an addition / subtraction, bit i = carry (borrow) out of bit i.
    template <unsigned N> static uint64_t carries_add(uint64_t a, uint64_t b, uint64_t r) {
        return (a & b) | ((a | b) & ~r);
    }
    template <unsigned N> static uint64_t carries_sub(uint64_t a, uint64_t b, uint64_t r) {
        return (~a & b) | ((~a | b) & r);
    }
    template <unsigned N> static uint64_t from_carries(uint64_t c) {
        constexpr unsigned m = msb_of<N>();
        const uint64_t cf = (c >> m) & 1;
        const uint64_t of = ((c >> m) ^ (c >> (m - 1))) & 1;
        const uint64_t af = (c >> 3) & 1;
        return cf | (af << 4) | (of << 11);
    }
    template <unsigned N> void add(uint64_t a, uint64_t b, uint64_t r) {
        result<N>(r, from_carries<N>(carries_add<N>(a, b, r)));
    }
    template <unsigned N> void sub(uint64_t a, uint64_t b, uint64_t r) {
        result<N>(r, from_carries<N>(carries_sub<N>(a, b, r)));
    }
    // AND/OR/XOR/TEST: CF = OF = 0. AF is undefined (SDM); AMD Zen 4 clears it (checked by
    // tests/diff against the host).
    template <unsigned N> void logic(uint64_t r) { result<N>(r, 0); }
};

// Condition codes in the encoding order of Jcc/SETcc/CMOVcc (SDM Vol. 1 Appendix B).
inline bool condition(const ArithFlags& f, unsigned cc) {
    bool v;
    switch (cc >> 1) {
        case 0: v = f.of(); break;                      // O
        case 1: v = f.cf(); break;                      // B
        case 2: v = f.zf(); break;                      // E
        case 3: v = f.cf() || f.zf(); break;            // BE
        case 4: v = f.sf(); break;                      // S
        case 5: v = f.pf(); break;                      // P
        case 6: v = f.sf() != f.of(); break;            // L
        default: v = f.zf() || (f.sf() != f.of()); break;  // LE
    }
    return v != (cc & 1);
}

}  // namespace cpu
