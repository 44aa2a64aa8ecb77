// String instructions MOVS STOS LODS CMPS SCAS INS OUTS (b/w/d/q) with REP/REPE/REPNE, in
// 16/32/64-bit address sizes (SI/DI/CX, ESI/EDI/ECX, RSI/RDI/RCX), DF up or down.
// The source is seg:rSI (DS unless overridden); the destination is always ES:rDI
// (SDM Vol. 2 "MOVS/MOVSB...", Vol. 1 7.3.9 "String Operations").
// REP runs every iteration inside one handler call. Each iteration commits rCX/rSI/rDI, so a
// fault leaves them at the faulting iteration with RIP at the instruction: restartable
// (SDM Vol. 2 "REP/REPE/REPZ/REPNE/REPNZ").
#include "cpu/isa/io_permission.h"
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

enum class Str : uint8_t { movs, stos, lods, cmps, scas, ins, outs };

constexpr bool compares(Str s) { return s == Str::cmps || s == Str::scas; }
constexpr bool port_io(Str s) { return s == Str::ins || s == Str::outs; }

// One element: N bytes, A-byte address size. False with an exception pending, nothing changed.
template <Str S, unsigned N, unsigned A>
inline bool element(Core& c, const Insn& i, uint64_t delta) {
    const uint64_t si = c.reg<A>(rsi), di = c.reg<A>(rdi);
    uint64_t a, b;
    if constexpr (S == Str::movs) {
        if (!c.read<N>(i.seg, si, a) || !c.write<N>(es, di, a)) return false;
    } else if constexpr (S == Str::stos) {
        if (!c.write<N>(es, di, c.reg<N>(rax))) return false;
    } else if constexpr (S == Str::lods) {
        if (!c.read<N>(i.seg, si, a)) return false;
        c.set_reg<N>(rax, a);
    } else if constexpr (S == Str::cmps) {
        // CMPS compares [seg:rSI] - [ES:rDI]; SCAS compares rAX - [ES:rDI].
        if (!c.read<N>(i.seg, si, a) || !c.read<N>(es, di, b)) return false;
        c.state().flags.sub<N>(a, b, a - b);
    } else if constexpr (S == Str::scas) {
        if (!c.read<N>(es, di, b)) return false;
        a = c.reg<N>(rax);
        c.state().flags.sub<N>(a, b, a - b);
    } else if constexpr (S == Str::ins) {
        // The port is read before the memory write: a faulting write loses the input, as on
        // hardware, and the restarted instruction reads the port again.
        const uint64_t v = c.port_in(static_cast<uint16_t>(c.reg<2>(rdx)), N);
        if (!c.write<N>(es, di, v)) return false;
    } else {
        if (!c.read<N>(i.seg, si, a)) return false;
        c.port_out(static_cast<uint16_t>(c.reg<2>(rdx)), N, a);
    }
    constexpr bool uses_si = S == Str::movs || S == Str::lods || S == Str::cmps || S == Str::outs;
    constexpr bool uses_di = S != Str::lods && S != Str::outs;
    if constexpr (uses_si) c.set_reg<A>(rsi, si + delta);
    if constexpr (uses_di) c.set_reg<A>(rdi, di + delta);
    return true;
}

template <Str S, unsigned N, unsigned A>
Outcome string_op(Core& c, const Insn& i) {
    if constexpr (port_io(S)) {
        const auto port = static_cast<uint16_t>(c.reg<2>(rdx));
        if (!io_allowed(c, port, N)) return Outcome::fault;
        // The VM exit comes after the I/O permission check, before any element (SDM Vol. 3C
        // 26.1.1); the linear address is that of the first element (28.2.2).
        if (c.guest_mode()) {
            const bool in = S == Str::ins;
            const unsigned seg = in ? static_cast<unsigned>(es) : i.seg;
            const uint64_t offset = c.reg<A>(in ? rdi : rsi);
            InterceptInfo x{Intercept::io, port, 0, (c.long64() && seg < fs ? 0 : c.state().seg[seg].base) + offset, N,
                            static_cast<uint8_t>(intercept_flag::io_string | (in ? intercept_flag::io_in : 0) |
                                                 ((i.prefixes & (pfx::rep | pfx::repne)) ? intercept_flag::io_rep : 0))};
            if (c.intercepted(i, x)) return Outcome::exit;
        }
    }
    const uint64_t delta = c.state().df() ? 0 - static_cast<uint64_t>(N) : N;
    if (!(i.prefixes & (pfx::rep | pfx::repne)))
        return element<S, N, A>(c, i, delta) ? Outcome::next : Outcome::fault;
    // REPE (F3) continues while ZF = 1, REPNE (F2) while ZF = 0; only CMPS/SCAS look at ZF
    // (F2 on the other string instructions repeats like F3).
    const bool until_zf = (i.prefixes & pfx::repne) != 0;
    for (uint64_t count = c.reg<A>(rcx); count != 0;) {
        if (!element<S, N, A>(c, i, delta)) return Outcome::fault;
        c.set_reg<A>(rcx, --count);
        if constexpr (compares(S)) {
            if (c.state().flags.zf() == until_zf) break;
        }
    }
    return Outcome::next;
}

template <Str S, unsigned N>
Handler by_address_size(unsigned adsize) {
    switch (adsize) {
        case 2: return &string_op<S, N, 2>;
        case 4: return &string_op<S, N, 4>;
        case 8: return &string_op<S, N, 8>;
        default: return nullptr;
    }
}

template <Str S>
bool build(const DecodeContext& c, Insn& i) {
    // MOVSD and CMPSD are also SSE instructions: those have visible operands.
    if (c.zi.meta.category != ZYDIS_CATEGORY_STRINGOP && c.zi.meta.category != ZYDIS_CATEGORY_IOSTRINGOP)
        return false;
    // The hidden source operand [seg:rSI] carries any segment override.
    for (unsigned k = 0; k < c.zi.operand_count; ++k) {
        const ZydisDecodedOperand& op = c.op(k);
        if (op.type != ZYDIS_OPERAND_TYPE_MEMORY) continue;
        if (gpr_index(op.mem.base) == rsi) i.seg = segment_index(op.mem.segment);
    }
    const unsigned a = i.adsize;
    i.fn = by_width(i.opsize, [a](auto w) -> Handler {
        if constexpr (port_io(S) && w.value == 8) return nullptr;
        else return by_address_size<S, w.value>(a);
    });
    return i.fn != nullptr;
}

}  // namespace

void register_string(Registry& r) {
    for (auto m : {ZYDIS_MNEMONIC_MOVSB, ZYDIS_MNEMONIC_MOVSW, ZYDIS_MNEMONIC_MOVSD, ZYDIS_MNEMONIC_MOVSQ})
        r.add(m, &build<Str::movs>);
    for (auto m : {ZYDIS_MNEMONIC_STOSB, ZYDIS_MNEMONIC_STOSW, ZYDIS_MNEMONIC_STOSD, ZYDIS_MNEMONIC_STOSQ})
        r.add(m, &build<Str::stos>);
    for (auto m : {ZYDIS_MNEMONIC_LODSB, ZYDIS_MNEMONIC_LODSW, ZYDIS_MNEMONIC_LODSD, ZYDIS_MNEMONIC_LODSQ})
        r.add(m, &build<Str::lods>);
    for (auto m : {ZYDIS_MNEMONIC_CMPSB, ZYDIS_MNEMONIC_CMPSW, ZYDIS_MNEMONIC_CMPSD, ZYDIS_MNEMONIC_CMPSQ})
        r.add(m, &build<Str::cmps>);
    for (auto m : {ZYDIS_MNEMONIC_SCASB, ZYDIS_MNEMONIC_SCASW, ZYDIS_MNEMONIC_SCASD, ZYDIS_MNEMONIC_SCASQ})
        r.add(m, &build<Str::scas>);
    for (auto m : {ZYDIS_MNEMONIC_INSB, ZYDIS_MNEMONIC_INSW, ZYDIS_MNEMONIC_INSD}) r.add(m, &build<Str::ins>);
    for (auto m : {ZYDIS_MNEMONIC_OUTSB, ZYDIS_MNEMONIC_OUTSW, ZYDIS_MNEMONIC_OUTSD}) r.add(m, &build<Str::outs>);
}

}  // namespace cpu
