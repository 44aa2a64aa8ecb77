// Bit tests BT BTS BTR BTC (register or imm8 offset, register or memory base), bit scans
// BSF BSR LZCNT TZCNT, POPCNT, and BSWAP (SDM Vol. 2 instruction pages). Flags the SDM leaves
// undefined follow the host CPU (AMD Zen 4), as measured natively and checked by tests/diff.
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

enum class BitOp { bt, bts, btr, btc };

template <BitOp Op>
inline uint64_t apply(uint64_t v, uint64_t bit) {
    if constexpr (Op == BitOp::bts) return v | bit;
    else if constexpr (Op == BitOp::btr) return v & ~bit;
    else if constexpr (Op == BitOp::btc) return v ^ bit;
    else return v;
}

// CF = the selected bit; OF, SF, AF and PF are undefined and Zen 4 leaves them (and ZF, which
// the SDM says is unaffected) unchanged.
template <BitOp Op, Loc D, Loc S, unsigned N>
Outcome bit_test(Core& c, const Insn& i) {
    uint64_t offset;
    load<S, N>(c, i, 0, offset);  // a register or the immediate: cannot fault
    uint64_t ea = ea_if_memory<D, D>(c, i);
    if constexpr (D == Loc::mem && S == Loc::reg1) {
        // A register offset into memory is signed and may select another operand-sized word:
        // EA + N * (offset SAR log2(8N)) (SDM "BT": "Bit(BitBase, BitOffset)", Figure 3-2).
        constexpr unsigned log2_bits = N == 2 ? 4 : N == 4 ? 5 : 6;
        const int64_t words = static_cast<int64_t>(sext<N>(offset)) >> log2_bits;
        ea = (ea + static_cast<uint64_t>(words) * N) & (~0ull >> (64 - 8 * i.adsize));
    }
    uint64_t v;
    if (!load<D, N>(c, i, ea, v)) return Outcome::fault;
    const uint64_t bit = 1ull << (offset & (8 * N - 1));
    if constexpr (Op != BitOp::bt) {
        if (!store<D, N>(c, i, ea, apply<Op>(v, bit))) return Outcome::fault;
    }
    c.state().flags.set_cf(v & bit);
    return Outcome::next;
}

template <BitOp Op, Loc D>
Handler pick_bit_test(Loc src, unsigned bytes) {
    if (src == Loc::imm)
        return by_width_no8(bytes, [](auto w) -> Handler { return &bit_test<Op, D, Loc::imm, w.value>; });
    return by_width_no8(bytes, [](auto w) -> Handler { return &bit_test<Op, D, Loc::reg1, w.value>; });
}

template <BitOp Op>
bool build_bit_test(const DecodeContext& c, Insn& i) {
    BinaryForm f;
    if (!binary_form(c, i, f) || f.src == Loc::mem) return false;
    i.fn = f.dst == Loc::mem ? pick_bit_test<Op, Loc::mem>(f.src, c.width(0))
                             : pick_bit_test<Op, Loc::reg0>(f.src, c.width(0));
    return i.fn != nullptr;
}

enum class ScanOp { bsf, bsr, lzcnt, tzcnt, popcnt };

inline uint64_t parity_flag(uint64_t v) { return __builtin_parityll(v & 0xff) ? 0 : rf::pf; }

template <ScanOp Op, Loc S, unsigned N>
Outcome scan(Core& c, const Insn& i) {
    uint64_t x;
    if (!load<S, N>(c, i, ea_if_memory<S, S>(c, i), x)) return Outcome::fault;
    constexpr unsigned w = 8 * N;
    ArithFlags& f = c.state().flags;
    if constexpr (Op == ScanOp::bsf || Op == ScanOp::bsr) {
        // A zero source leaves the destination unchanged (undefined in the SDM; AMD APM
        // "BSF" documents it, and Zen 4 keeps even the upper half of a 32-bit register).
        // Flags: ZF = (source == 0); CF, OF, SF, AF and PF are undefined: Zen 4 clears CF,
        // OF, SF and AF and sets PF from the result's low byte (PF = 1 for a zero source).
        if (x == 0) {
            f.set(rf::zf | rf::pf);
            return Outcome::next;
        }
        const unsigned r = Op == ScanOp::bsf ? __builtin_ctzll(x) : 63 - __builtin_clzll(x);
        c.set_reg<N>(i.reg, r);
        f.set(parity_flag(r));
    } else if constexpr (Op == ScanOp::popcnt) {
        // All flags defined: ZF = (source == 0), the others cleared (SDM "POPCNT").
        c.set_reg<N>(i.reg, __builtin_popcountll(x));
        f.set(x == 0 ? rf::zf : 0);
    } else {
        // CF = (source == 0), ZF = (result == 0); OF, SF, AF and PF are undefined: Zen 4
        // leaves OF unchanged and clears SF, AF and PF.
        const unsigned r = x == 0 ? w : Op == ScanOp::tzcnt ? __builtin_ctzll(x) : __builtin_clzll(x) - (64 - w);
        c.set_reg<N>(i.reg, r);
        f.set((f.of() ? rf::of : 0) | (x == 0 ? rf::cf : 0) | (r == 0 ? rf::zf : 0));
    }
    return Outcome::next;
}

template <ScanOp Op>
bool build_scan(const DecodeContext& c, Insn& i) {
    if (c.count() != 2 || !c.is_gpr(0)) return false;
    i.reg = c.gpr(0);
    if (c.is_gpr(1)) {
        i.rm = c.gpr(1);
        i.fn = by_width_no8(c.width(0), [](auto w) -> Handler { return &scan<Op, Loc::reg1, w.value>; });
    } else if (c.is_mem(1)) {
        i.fn = by_width_no8(c.width(0), [](auto w) -> Handler { return &scan<Op, Loc::mem, w.value>; });
    }
    return i.fn != nullptr;
}

// BSWAP of a 16-bit register is undefined (SDM "BSWAP"); Zen 4 clears the low 16 bits.
template <unsigned N>
Outcome bswap(Core& c, const Insn& i) {
    const uint64_t v = c.reg<N>(i.reg);
    if constexpr (N == 2) c.set_reg<2>(i.reg, 0);
    else if constexpr (N == 4) c.set_reg<4>(i.reg, __builtin_bswap32(static_cast<uint32_t>(v)));
    else c.set_reg<8>(i.reg, __builtin_bswap64(v));
    return Outcome::next;
}

bool build_bswap(const DecodeContext& c, Insn& i) {
    if (c.count() != 1 || !c.is_gpr(0)) return false;
    i.reg = c.gpr(0);
    i.fn = by_width_no8(c.width(0), [](auto w) -> Handler { return &bswap<w.value>; });
    return i.fn != nullptr;
}

}  // namespace

void register_bit(Registry& r) {
    r.add(ZYDIS_MNEMONIC_BT, &build_bit_test<BitOp::bt>);
    r.add(ZYDIS_MNEMONIC_BTS, &build_bit_test<BitOp::bts>);
    r.add(ZYDIS_MNEMONIC_BTR, &build_bit_test<BitOp::btr>);
    r.add(ZYDIS_MNEMONIC_BTC, &build_bit_test<BitOp::btc>);
    r.add(ZYDIS_MNEMONIC_BSF, &build_scan<ScanOp::bsf>);
    r.add(ZYDIS_MNEMONIC_BSR, &build_scan<ScanOp::bsr>);
    r.add(ZYDIS_MNEMONIC_LZCNT, &build_scan<ScanOp::lzcnt>);
    r.add(ZYDIS_MNEMONIC_TZCNT, &build_scan<ScanOp::tzcnt>);
    r.add(ZYDIS_MNEMONIC_POPCNT, &build_scan<ScanOp::popcnt>);
    r.add(ZYDIS_MNEMONIC_BSWAP, &build_bswap);
}

}  // namespace cpu
