// Widening moves MOVZX MOVSX MOVSXD, the accumulator conversions CBW CWDE CDQE CWD CDQ CQO,
// CMOVcc and SETcc, and LAHF/SAHF (SDM Vol. 2 instruction pages). None of them changes a flag
// except SAHF.
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

// MOVZX/MOVSX/MOVSXD r(N), r/m(M). MOVSXD without REX.W copies 32 (or 16) bits: M == N.
template <bool Signed, Loc S, unsigned N, unsigned M>
Outcome extend(Core& c, const Insn& i) {
    uint64_t v;
    if (!load<S, M>(c, i, ea_if_memory<S, S>(c, i), v)) return Outcome::fault;
    c.set_reg<N>(i.reg, Signed ? sext<M>(v) : v);
    return Outcome::next;
}

template <bool Signed>
bool build_extend(const DecodeContext& c, Insn& i) {
    if (c.count() != 2 || !c.is_gpr(0)) return false;
    i.reg = c.gpr(0);
    Loc src;
    if (c.is_gpr(1)) {
        i.rm = c.gpr(1);
        src = Loc::reg1;
    } else if (c.is_mem(1)) {
        src = Loc::mem;
    } else {
        return false;
    }
    const auto by_src = [&](auto m) -> Handler {
        constexpr unsigned M = decltype(m)::value;
        if (src == Loc::reg1)
            return by_width_no8(c.width(0), [](auto w) -> Handler {
                if constexpr (w.value < M) return nullptr;
                else return &extend<Signed, Loc::reg1, w.value, M>;
            });
        return by_width_no8(c.width(0), [](auto w) -> Handler {
            if constexpr (w.value < M) return nullptr;
            else return &extend<Signed, Loc::mem, w.value, M>;
        });
    };
    switch (c.width(1)) {
        case 1: i.fn = by_src(std::integral_constant<unsigned, 1>{}); break;
        case 2: i.fn = by_src(std::integral_constant<unsigned, 2>{}); break;
        case 4: i.fn = by_src(std::integral_constant<unsigned, 4>{}); break;
        default: return false;
    }
    return i.fn != nullptr;
}

// CBW/CWDE/CDQE: rAX = sign-extended lower half of rAX.
template <unsigned N>
Outcome widen_accumulator(Core& c, const Insn&) {
    c.set_reg<N>(rax, sext<N / 2>(c.reg<N / 2>(rax)));
    return Outcome::next;
}

// CWD/CDQ/CQO: rDX = the sign of rAX, repeated.
template <unsigned N>
Outcome sign_into_rdx(Core& c, const Insn&) {
    c.set_reg<N>(rdx, (c.reg<N>(rax) >> msb_of<N>()) ? mask_of<N>() : 0);
    return Outcome::next;
}

bool build_widen(const DecodeContext&, Insn& i) {
    i.fn = by_width_no8(i.opsize, [](auto w) -> Handler { return &widen_accumulator<w.value>; });
    return i.fn != nullptr;
}

bool build_sign(const DecodeContext&, Insn& i) {
    i.fn = by_width_no8(i.opsize, [](auto w) -> Handler { return &sign_into_rdx<w.value>; });
    return i.fn != nullptr;
}

// CMOVcc reads its source whatever the condition (a memory source may fault), and a 32-bit
// destination is zero-extended even when the condition is false (SDM "CMOVcc", Operation).
template <Loc S, unsigned N>
Outcome cmov(Core& c, const Insn& i) {
    uint64_t v;
    if (!load<S, N>(c, i, ea_if_memory<S, S>(c, i), v)) return Outcome::fault;
    if (condition(c.state().flags, i.cc)) c.set_reg<N>(i.reg, v);
    else if constexpr (N == 4) c.set_reg<4>(i.reg, c.reg<4>(i.reg));
    return Outcome::next;
}

template <unsigned CC>
bool build_cmov(const DecodeContext& c, Insn& i) {
    if (c.count() != 2 || !c.is_gpr(0)) return false;
    i.reg = c.gpr(0);
    i.cc = CC;
    if (c.is_gpr(1)) {
        i.rm = c.gpr(1);
        i.fn = by_width_no8(c.width(0), [](auto w) -> Handler { return &cmov<Loc::reg1, w.value>; });
    } else if (c.is_mem(1)) {
        i.fn = by_width_no8(c.width(0), [](auto w) -> Handler { return &cmov<Loc::mem, w.value>; });
    }
    return i.fn != nullptr;
}

template <Loc D>
Outcome setcc(Core& c, const Insn& i) {
    const uint64_t ea = ea_if_memory<D, D>(c, i);
    return store<D, 1>(c, i, ea, condition(c.state().flags, i.cc) ? 1 : 0) ? Outcome::next : Outcome::fault;
}

template <unsigned CC>
bool build_setcc(const DecodeContext& c, Insn& i) {
    if (c.count() != 1) return false;
    i.cc = CC;
    if (c.is_gpr(0)) {
        i.reg = c.gpr(0);
        i.fn = &setcc<Loc::reg0>;
    } else if (c.is_mem(0)) {
        i.fn = &setcc<Loc::mem>;
    }
    return i.fn != nullptr;
}

// LAHF/SAHF move SF ZF AF PF CF (bit 1 reads as 1). In 64-bit mode they need
// CPUID.80000001H:ECX.LAHF-SAHF[bit 0], which this processor reports, so they never #UD.
constexpr uint64_t kAhFlags = rf::sf | rf::zf | rf::af | rf::pf | rf::cf;

Outcome lahf(Core& c, const Insn&) {
    c.set_reg<1>(high8 | rax, (c.state().flags.get() & kAhFlags) | rf::fixed1);
    return Outcome::next;
}

Outcome sahf(Core& c, const Insn&) {
    c.state().flags.assign(kAhFlags, c.reg<1>(high8 | rax));
    return Outcome::next;
}

template <Handler H>
bool build_fixed(const DecodeContext&, Insn& i) {
    i.fn = H;
    return true;
}

}  // namespace

void register_movx(Registry& r) {
    r.add(ZYDIS_MNEMONIC_MOVZX, &build_extend<false>);
    r.add(ZYDIS_MNEMONIC_MOVSX, &build_extend<true>);
    r.add(ZYDIS_MNEMONIC_MOVSXD, &build_extend<true>);
    r.add(ZYDIS_MNEMONIC_CBW, &build_widen);
    r.add(ZYDIS_MNEMONIC_CWDE, &build_widen);
    r.add(ZYDIS_MNEMONIC_CDQE, &build_widen);
    r.add(ZYDIS_MNEMONIC_CWD, &build_sign);
    r.add(ZYDIS_MNEMONIC_CDQ, &build_sign);
    r.add(ZYDIS_MNEMONIC_CQO, &build_sign);
    r.add(ZYDIS_MNEMONIC_LAHF, &build_fixed<&lahf>);
    r.add(ZYDIS_MNEMONIC_SAHF, &build_fixed<&sahf>);
    // Condition codes in encoding order (SDM Vol. 1 Appendix B), as cpu::condition expects.
    r.add(ZYDIS_MNEMONIC_CMOVO, &build_cmov<0>);
    r.add(ZYDIS_MNEMONIC_CMOVNO, &build_cmov<1>);
    r.add(ZYDIS_MNEMONIC_CMOVB, &build_cmov<2>);
    r.add(ZYDIS_MNEMONIC_CMOVNB, &build_cmov<3>);
    r.add(ZYDIS_MNEMONIC_CMOVZ, &build_cmov<4>);
    r.add(ZYDIS_MNEMONIC_CMOVNZ, &build_cmov<5>);
    r.add(ZYDIS_MNEMONIC_CMOVBE, &build_cmov<6>);
    r.add(ZYDIS_MNEMONIC_CMOVNBE, &build_cmov<7>);
    r.add(ZYDIS_MNEMONIC_CMOVS, &build_cmov<8>);
    r.add(ZYDIS_MNEMONIC_CMOVNS, &build_cmov<9>);
    r.add(ZYDIS_MNEMONIC_CMOVP, &build_cmov<10>);
    r.add(ZYDIS_MNEMONIC_CMOVNP, &build_cmov<11>);
    r.add(ZYDIS_MNEMONIC_CMOVL, &build_cmov<12>);
    r.add(ZYDIS_MNEMONIC_CMOVNL, &build_cmov<13>);
    r.add(ZYDIS_MNEMONIC_CMOVLE, &build_cmov<14>);
    r.add(ZYDIS_MNEMONIC_CMOVNLE, &build_cmov<15>);
    r.add(ZYDIS_MNEMONIC_SETO, &build_setcc<0>);
    r.add(ZYDIS_MNEMONIC_SETNO, &build_setcc<1>);
    r.add(ZYDIS_MNEMONIC_SETB, &build_setcc<2>);
    r.add(ZYDIS_MNEMONIC_SETNB, &build_setcc<3>);
    r.add(ZYDIS_MNEMONIC_SETZ, &build_setcc<4>);
    r.add(ZYDIS_MNEMONIC_SETNZ, &build_setcc<5>);
    r.add(ZYDIS_MNEMONIC_SETBE, &build_setcc<6>);
    r.add(ZYDIS_MNEMONIC_SETNBE, &build_setcc<7>);
    r.add(ZYDIS_MNEMONIC_SETS, &build_setcc<8>);
    r.add(ZYDIS_MNEMONIC_SETNS, &build_setcc<9>);
    r.add(ZYDIS_MNEMONIC_SETP, &build_setcc<10>);
    r.add(ZYDIS_MNEMONIC_SETNP, &build_setcc<11>);
    r.add(ZYDIS_MNEMONIC_SETL, &build_setcc<12>);
    r.add(ZYDIS_MNEMONIC_SETNL, &build_setcc<13>);
    r.add(ZYDIS_MNEMONIC_SETLE, &build_setcc<14>);
    r.add(ZYDIS_MNEMONIC_SETNLE, &build_setcc<15>);
}

}  // namespace cpu
