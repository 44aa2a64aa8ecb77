// Plumbing of the 128-bit SSE families (sse_move, sse_int): lane access to an XMM image, the
// xmm/m128 source operand, and one handler template for "xmm op= xmm/m128 [, imm8]".
// Context: hot path, header-only.
#pragma once
#include <cstring>

#include "cpu/isa/operands.h"
#include "cpu/isa/sse_checks.h"

namespace cpu {

// Element k of type T in a 16-byte little-endian image.
template <class T> inline T lane(const uint8_t* v, unsigned k) {
    T x;
    std::memcpy(&x, v + k * sizeof(T), sizeof(T));
    return x;
}
template <class T> inline void set_lane(uint8_t* v, unsigned k, T x) {
    std::memcpy(v + k * sizeof(T), &x, sizeof(T));
}
template <class T> inline constexpr unsigned lanes_of = 16 / sizeof(T);

// Operand k is an XMM register (the legacy SSE encodings; MMX forms name MM registers).
inline bool is_xmm(const DecodeContext& c, unsigned k) {
    return c.is_reg(k) && ZydisRegisterGetClass(c.op(k).reg.value) == ZYDIS_REGCLASS_XMM;
}

// Operand 1 as 16 bytes: XMM register i.rm, or m128 with `align` (#GP(0) when misaligned).
template <Loc S>
inline bool read_xmm_source(Core& c, const Insn& i, uint8_t* out, unsigned align) {
    if constexpr (S == Loc::reg1) {
        std::memcpy(out, c.state().xmm[i.rm], 16);
        return true;
    } else {
        return c.read_bytes(i.seg, c.effective_address(i), out, 16, align);
    }
}

// dst = op(dst, src, imm8): one whole-register operation on 16-byte images.
using VecOp = void (*)(uint8_t* dst, const uint8_t* src, uint8_t imm);

template <VecOp Op, Loc S>
Outcome vec_binary(Core& c, const Insn& i) {
    if (!sse_usable(c)) return Outcome::fault;
    alignas(16) uint8_t src[16];
    if (!read_xmm_source<S>(c, i, src, sse_alignment(c))) return Outcome::fault;
    Op(c.state().xmm[i.reg], src, static_cast<uint8_t>(i.imm));
    return Outcome::next;
}

// xmm, xmm/m128 [, imm8]. Declines the MMX forms (MM registers) and anything else.
template <VecOp Op>
bool build_vec_binary(const DecodeContext& c, Insn& i) {
    if (!is_xmm(c, 0)) return false;
    i.reg = c.xmm(0);
    if (c.is_imm(2)) i.imm = c.imm(2);
    if (is_xmm(c, 1)) {
        i.rm = c.xmm(1);
        i.fn = &vec_binary<Op, Loc::reg1>;
    } else if (c.is_mem(1)) {
        i.fn = &vec_binary<Op, Loc::mem>;
    } else {
        return false;
    }
    return true;
}

// Applies F to each pair of lanes of type T.
template <class T, T (*F)(T, T)>
void lanewise(uint8_t* d, const uint8_t* s, uint8_t) {
    for (unsigned k = 0; k < lanes_of<T>; ++k) set_lane<T>(d, k, F(lane<T>(d, k), lane<T>(s, k)));
}

}  // namespace cpu
