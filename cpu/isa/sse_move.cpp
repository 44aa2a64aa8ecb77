// SSE/SSE2 data movement (SDM Vol. 2 pages of each mnemonic): whole-register moves
// (MOVDQA/MOVDQU/MOVAPS/MOVUPS/MOVAPD/MOVUPD, MOVNTDQ/MOVNTPS/MOVNTPD), partial moves
// (MOVD/MOVQ, MOVSS/MOVSD, MOVLPS/MOVHPS/MOVLPD/MOVHPD, MOVHLPS/MOVLHPS), MOVNTI, and the
// shuffles PSHUFD/PSHUFLW/PSHUFHW/SHUFPS/SHUFPD. MMX forms and the string MOVSD are declined.
#include <initializer_list>

#include "cpu/isa/sse_ops.h"

namespace cpu {
namespace {

// ---- whole registers ----------------------------------------------------------------------
// The explicitly aligned forms (Align = 16) #GP(0) on a misaligned operand whatever MXCSR.MM.
Outcome move_rr(Core& c, const Insn& i) {
    if (!sse_usable(c)) return Outcome::fault;
    std::memcpy(c.state().xmm[i.reg], c.state().xmm[i.rm], 16);
    return Outcome::next;
}
template <unsigned Align> Outcome move_load(Core& c, const Insn& i) {
    if (!sse_usable(c)) return Outcome::fault;
    alignas(16) uint8_t b[16];
    if (!c.read_bytes(i.seg, c.effective_address(i), b, 16, Align)) return Outcome::fault;
    std::memcpy(c.state().xmm[i.reg], b, 16);
    return Outcome::next;
}
template <unsigned Align> Outcome move_store(Core& c, const Insn& i) {
    if (!sse_usable(c)) return Outcome::fault;
    if (!c.write_bytes(i.seg, c.effective_address(i), c.state().xmm[i.rm], 16, Align)) return Outcome::fault;
    return Outcome::next;
}

// ---- parts of a register ------------------------------------------------------------------
// xmm <- m32/m64 with the rest of the register zeroed (MOVD/MOVQ/MOVSS/MOVSD loads).
template <unsigned N> Outcome load_zero_extend(Core& c, const Insn& i) {
    if (!sse_usable(c)) return Outcome::fault;
    uint64_t v;
    if (!c.read<N>(i.seg, c.effective_address(i), v)) return Outcome::fault;
    uint8_t* d = c.state().xmm[i.reg];
    std::memset(d, 0, 16);
    std::memcpy(d, &v, N);
    return Outcome::next;
}
// xmm <- r32/r64, zero-extended (MOVD/MOVQ xmm, reg).
template <unsigned N> Outcome from_gpr(Core& c, const Insn& i) {
    if (!sse_usable(c)) return Outcome::fault;
    const uint64_t v = c.reg<N>(i.rm);
    uint8_t* d = c.state().xmm[i.reg];
    std::memset(d, 0, 16);
    std::memcpy(d, &v, N);
    return Outcome::next;
}
// r32/r64 <- the low N bytes (MOVD/MOVQ reg, xmm; a 32-bit write zero-extends).
template <unsigned N> Outcome to_gpr(Core& c, const Insn& i) {
    if (!sse_usable(c)) return Outcome::fault;
    c.set_reg<N>(i.reg, lane<uint_t<N>>(c.state().xmm[i.rm], 0));
    return Outcome::next;
}
// MOVQ xmm, xmm: the low quadword, upper quadword zeroed.
Outcome movq_rr(Core& c, const Insn& i) {
    if (!sse_usable(c)) return Outcome::fault;
    const uint64_t v = lane<uint64_t>(c.state().xmm[i.rm], 0);
    set_lane<uint64_t>(c.state().xmm[i.reg], 0, v);
    set_lane<uint64_t>(c.state().xmm[i.reg], 1, 0);
    return Outcome::next;
}
// m32/m64 <- N bytes of the register at byte Off (stores of MOVD/MOVQ/MOVSS/MOVSD/MOVLPS/MOVHPS).
template <unsigned N, unsigned Off> Outcome store_part(Core& c, const Insn& i) {
    if (!sse_usable(c)) return Outcome::fault;
    const uint64_t v = lane<uint_t<N>>(c.state().xmm[i.rm] + Off, 0);
    if (!c.write<N>(i.seg, c.effective_address(i), v)) return Outcome::fault;
    return Outcome::next;
}
// 8 bytes of memory into bytes Off..Off+7, the rest kept (MOVLPS/MOVHPS/MOVLPD/MOVHPD loads).
template <unsigned Off> Outcome merge_load(Core& c, const Insn& i) {
    if (!sse_usable(c)) return Outcome::fault;
    uint64_t v;
    if (!c.read<8>(i.seg, c.effective_address(i), v)) return Outcome::fault;
    set_lane<uint64_t>(c.state().xmm[i.reg] + Off, 0, v);
    return Outcome::next;
}
// N bytes of register rm at SrcOff into register reg at DstOff, the rest kept
// (MOVSS/MOVSD xmm, xmm; MOVHLPS; MOVLHPS).
template <unsigned N, unsigned DstOff, unsigned SrcOff> Outcome merge_rr(Core& c, const Insn& i) {
    if (!sse_usable(c)) return Outcome::fault;
    std::memmove(c.state().xmm[i.reg] + DstOff, c.state().xmm[i.rm] + SrcOff, N);
    return Outcome::next;
}

// MOVNTI m32/m64, r32/r64: a general-register store; not subject to CR0.EM/TS or CR4.OSFXSR
// (SDM Vol. 3A 2.5 lists MOVNTI among the exceptions; Vol. 2 MOVNTI exceptions).
template <unsigned N> Outcome movnti(Core& c, const Insn& i) {
    if (!c.write<N>(i.seg, c.effective_address(i), c.reg<N>(i.rm))) return Outcome::fault;
    return Outcome::next;
}

// ---- shuffles (dst, src, imm8) ------------------------------------------------------------
void pshufd(uint8_t* d, const uint8_t* s, uint8_t imm) {
    for (unsigned k = 0; k < 4; ++k) set_lane<uint32_t>(d, k, lane<uint32_t>(s, (imm >> (2 * k)) & 3));
}
// PSHUFLW/PSHUFHW: shuffle the words of one quadword, copy the other.
template <unsigned Q> void pshufw_half(uint8_t* d, const uint8_t* s, uint8_t imm) {
    std::memcpy(d, s, 16);
    for (unsigned k = 0; k < 4; ++k)
        set_lane<uint16_t>(d, 4 * Q + k, lane<uint16_t>(s, 4 * Q + ((imm >> (2 * k)) & 3)));
}
void shufps(uint8_t* d, const uint8_t* s, uint8_t imm) {
    alignas(16) uint8_t r[16];
    for (unsigned k = 0; k < 4; ++k)
        set_lane<uint32_t>(r, k, lane<uint32_t>(k < 2 ? d : s, (imm >> (2 * k)) & 3));
    std::memcpy(d, r, 16);
}
void shufpd(uint8_t* d, const uint8_t* s, uint8_t imm) {
    const uint64_t lo = lane<uint64_t>(d, imm & 1), hi = lane<uint64_t>(s, (imm >> 1) & 1);
    set_lane<uint64_t>(d, 0, lo);
    set_lane<uint64_t>(d, 1, hi);
}

// ---- builders -----------------------------------------------------------------------------
// The three shapes of a move: xmm <- xmm, xmm <- mem, mem <- xmm; a null handler declines.
template <Handler RegReg, Handler Load, Handler Store>
bool build_move(const DecodeContext& c, Insn& i) {
    if (is_xmm(c, 0) && is_xmm(c, 1)) {
        i.reg = c.xmm(0);
        i.rm = c.xmm(1);
        i.fn = RegReg;
    } else if (is_xmm(c, 0) && c.is_mem(1)) {
        i.reg = c.xmm(0);
        i.fn = Load;
    } else if (c.is_mem(0) && is_xmm(c, 1)) {
        i.rm = c.xmm(1);
        i.fn = Store;
    } else {
        return false;  // MMX forms, and the string MOVSD (no visible operands)
    }
    return i.fn != nullptr;
}

// MOVD/MOVQ: the general-register forms pick the width from the GPR operand (66 REX.W 0F 6E/7E
// is MOVQ with r64), the others from the memory operand.
bool build_movd_movq(const DecodeContext& c, Insn& i) {
    if (is_xmm(c, 0) && c.is_gpr(1)) {
        i.reg = c.xmm(0);
        i.rm = c.gpr(1);
        i.fn = c.width(1) == 8 ? &from_gpr<8> : &from_gpr<4>;
        return true;
    }
    if (c.is_gpr(0) && is_xmm(c, 1)) {
        i.reg = c.gpr(0);
        i.rm = c.xmm(1);
        i.fn = c.width(0) == 8 ? &to_gpr<8> : &to_gpr<4>;
        return true;
    }
    const unsigned n = c.is_mem(1) ? c.width(1) : c.is_mem(0) ? c.width(0) : 8;
    if (n == 8) return build_move<&movq_rr, &load_zero_extend<8>, &store_part<8, 0>>(c, i);
    return build_move<nullptr, &load_zero_extend<4>, &store_part<4, 0>>(c, i);
}

bool build_movnti(const DecodeContext& c, Insn& i) {
    if (!c.is_mem(0) || !c.is_gpr(1)) return false;
    i.rm = c.gpr(1);
    i.fn = c.width(1) == 8 ? &movnti<8> : &movnti<4>;
    return true;
}

constexpr Builder aligned = &build_move<&move_rr, &move_load<16>, &move_store<16>>;
constexpr Builder unaligned = &build_move<&move_rr, &move_load<1>, &move_store<1>>;
constexpr Builder non_temporal = &build_move<nullptr, nullptr, &move_store<16>>;
constexpr Builder low_quad = &build_move<nullptr, &merge_load<0>, &store_part<8, 0>>;
constexpr Builder high_quad = &build_move<nullptr, &merge_load<8>, &store_part<8, 8>>;

}  // namespace

void register_sse_move(Registry& r) {
    for (auto m : {ZYDIS_MNEMONIC_MOVDQA, ZYDIS_MNEMONIC_MOVAPS, ZYDIS_MNEMONIC_MOVAPD}) r.add(m, aligned);
    for (auto m : {ZYDIS_MNEMONIC_MOVDQU, ZYDIS_MNEMONIC_MOVUPS, ZYDIS_MNEMONIC_MOVUPD}) r.add(m, unaligned);
    for (auto m : {ZYDIS_MNEMONIC_MOVNTDQ, ZYDIS_MNEMONIC_MOVNTPS, ZYDIS_MNEMONIC_MOVNTPD})
        r.add(m, non_temporal);
    r.add(ZYDIS_MNEMONIC_MOVNTI, &build_movnti);
    r.add(ZYDIS_MNEMONIC_MOVD, &build_movd_movq);
    r.add(ZYDIS_MNEMONIC_MOVQ, &build_movd_movq);
    r.add(ZYDIS_MNEMONIC_MOVSS, &build_move<&merge_rr<4, 0, 0>, &load_zero_extend<4>, &store_part<4, 0>>);
    r.add(ZYDIS_MNEMONIC_MOVSD, &build_move<&merge_rr<8, 0, 0>, &load_zero_extend<8>, &store_part<8, 0>>);
    r.add(ZYDIS_MNEMONIC_MOVLPS, low_quad);
    r.add(ZYDIS_MNEMONIC_MOVLPD, low_quad);
    r.add(ZYDIS_MNEMONIC_MOVHPS, high_quad);
    r.add(ZYDIS_MNEMONIC_MOVHPD, high_quad);
    r.add(ZYDIS_MNEMONIC_MOVHLPS, &build_move<&merge_rr<8, 0, 8>, nullptr, nullptr>);
    r.add(ZYDIS_MNEMONIC_MOVLHPS, &build_move<&merge_rr<8, 8, 0>, nullptr, nullptr>);
    r.add(ZYDIS_MNEMONIC_PSHUFD, &build_vec_binary<&pshufd>);
    r.add(ZYDIS_MNEMONIC_PSHUFLW, &build_vec_binary<&pshufw_half<0>>);
    r.add(ZYDIS_MNEMONIC_PSHUFHW, &build_vec_binary<&pshufw_half<1>>);
    r.add(ZYDIS_MNEMONIC_SHUFPS, &build_vec_binary<&shufps>);
    r.add(ZYDIS_MNEMONIC_SHUFPD, &build_vec_binary<&shufpd>);
}

}  // namespace cpu
