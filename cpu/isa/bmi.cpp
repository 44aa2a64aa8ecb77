// BMI1 (ANDN BEXTR BLSI BLSMSK BLSR) and BMI2 (BZHI MULX PDEP PEXT RORX SARX SHLX SHRX): the
// VEX-encoded general-purpose instructions, 32- and 64-bit, register or memory source (SDM Vol. 2
// instruction pages; advertised by CPUID.(EAX=07H,ECX=0):EBX.BMI1[3] and .BMI2[8]). TZCNT, the
// other BMI1 instruction, is a legacy-encoded scan and lives in bit.cpp. Flags the SDM leaves
// undefined follow the host CPU (AMD Zen 4), as measured natively and checked by tests/diff.
#include <cstring>

#include "cpu/isa/operands.h"
#include "cpuid_table.h"

namespace cpu {
namespace {

__extension__ typedef unsigned __int128 u128;

enum class BmiOp { andn, bextr, blsi, blsmsk, blsr, bzhi, mulx, pdep, pext, rorx, sarx, shlx, shrx };

inline uint64_t parity_flag(uint64_t v) { return __builtin_parityll(v & 0xff) ? 0 : rf::pf; }

// PDEP: the low bits of `src` go, in order, to the set bits of `mask` (SDM "PDEP").
inline uint64_t deposit(uint64_t src, uint64_t mask) {
    uint64_t r = 0;
    for (uint64_t k = 1; mask; mask &= mask - 1, k <<= 1)
        if (src & k) r |= mask & (0 - mask);
    return r;
}

// PEXT: the bits of `src` under the set bits of `mask` go, in order, to the low bits (SDM "PEXT").
inline uint64_t extract(uint64_t src, uint64_t mask) {
    uint64_t r = 0;
    for (uint64_t k = 1; mask; mask &= mask - 1, k <<= 1)
        if (src & mask & (0 - mask)) r |= k;
    return r;
}

// One result from the r/m source `s` and the VEX.vvvv source `v` (zero-extended from N bytes).
// Where the SDM leaves AF and PF undefined (ANDN BLSI BLSMSK BLSR BZHI), Zen 4 clears AF and
// sets PF from the result's low byte, which ArithFlags::result derives; BEXTR differs (below).
template <BmiOp Op, unsigned N>
inline uint64_t compute(ArithFlags& f, uint64_t s, uint64_t v, uint64_t imm) {
    constexpr unsigned w = 8 * N;
    constexpr uint64_t m = mask_of<N>();
    if constexpr (Op == BmiOp::andn) {  // CF = OF = 0
        const uint64_t r = ~v & s & m;
        f.logic<N>(r);
        return r;
    } else if constexpr (Op == BmiOp::bextr) {
        // Start v[7:0], length v[15:8]; bits from beyond the operand read as 0. ZF from the
        // result, CF = OF = 0; AF, SF and PF are undefined: Zen 4 sets AF, clears SF and sets
        // PF from the result's low byte.
        const unsigned start = v & 0xff, length = (v >> 8) & 0xff;
        uint64_t r = start < 64 ? s >> start : 0;
        if (length < 64) r &= (1ull << length) - 1;
        f.set(rf::af | (r == 0 ? rf::zf : 0) | parity_flag(r));
        return r;
    } else if constexpr (Op == BmiOp::blsi) {  // CF = (source != 0), OF = 0
        const uint64_t r = s & (0 - s) & m;
        f.result<N>(r, s != 0 ? rf::cf : 0);
        return r;
    } else if constexpr (Op == BmiOp::blsmsk) {  // CF = (source == 0); ZF = 0 (r is never 0)
        const uint64_t r = (s ^ (s - 1)) & m;
        f.result<N>(r, s == 0 ? rf::cf : 0);
        return r;
    } else if constexpr (Op == BmiOp::blsr) {  // CF = (source == 0), OF = 0
        const uint64_t r = s & (s - 1);
        f.result<N>(r, s == 0 ? rf::cf : 0);
        return r;
    } else if constexpr (Op == BmiOp::bzhi) {
        // Index v[7:0]; an index >= the width keeps every bit and sets CF; OF = 0.
        const unsigned n = v & 0xff;
        const uint64_t r = n < w ? s & ((1ull << n) - 1) : s;
        f.result<N>(r, n >= w ? rf::cf : 0);
        return r;
    } else if constexpr (Op == BmiOp::pdep) {  // flags unaffected (also PEXT ... SHRX)
        return deposit(v, s) & m;
    } else if constexpr (Op == BmiOp::pext) {
        return extract(v, s);
    } else if constexpr (Op == BmiOp::rorx) {  // the count is imm8 masked to 5 (6) bits
        const unsigned n = imm & (w - 1);
        return n == 0 ? s : ((s >> n) | (s << (w - n))) & m;
    } else if constexpr (Op == BmiOp::sarx) {  // the count is vvvv masked to 5 (6) bits
        return static_cast<uint64_t>(static_cast<int64_t>(sext<N>(s)) >> (v & (w - 1))) & m;
    } else if constexpr (Op == BmiOp::shlx) {
        return (s << (v & (w - 1))) & m;
    } else {
        static_assert(Op == BmiOp::shrx);
        return s >> (v & (w - 1));
    }
}

constexpr bool is_bmi1(BmiOp op) { return op <= BmiOp::blsr; }
constexpr uint32_t kBmi1 = 1u << 3, kBmi2 = 1u << 8;  // CPUID.(EAX=07H,ECX=0):EBX

// Leaf 7 EBX as CPUID reports it for the vendor (the same table CPUID answers from).
uint32_t leaf7_ebx(Vendor v) {
    for (const CpuidLeaf& row : kCpuidLeafTable)
        if (row.leaf == 7 && row.subleaf == 0 && std::strcmp(row.vendor, to_string(v)) == 0)
            return row.ebx;
    return 0;
}

// SDM Vol. 2A 2.5.1 "Exception Conditions for VEX-Encoded GPR Instructions": #UD in real-address
// and virtual-8086 mode, and when CPUID does not report the instruction's feature. The other #UD
// causes (VEX.L = 1; a LOCK, 66, F2, F3 or REX prefix before VEX) are invalid encodings to Zydis,
// so the decoder already raises #UD for them.
inline bool vex_unavailable(const Core& c, uint32_t feature) {
    static const uint32_t ebx[2] = {leaf7_ebx(Vendor::intel), leaf7_ebx(Vendor::amd)};
    return c.state().mode == Mode::real || c.state().mode == Mode::v8086 ||
           !(ebx[c.vendor() == Vendor::amd] & feature);
}

// Operands: i.reg = the destination (ModRM.reg; VEX.vvvv for BLSI BLSMSK BLSR), S = the
// ModRM.r/m source (i.rm or memory), i.aux = the VEX.vvvv source, i.imm = RORX's imm8.
template <BmiOp Op, Loc S, unsigned N>
Outcome bmi(Core& c, const Insn& i) {
    if (vex_unavailable(c, is_bmi1(Op) ? kBmi1 : kBmi2)) [[unlikely]] return c.raise_ud();
    uint64_t s;
    if (!load<S, N>(c, i, ea_if_memory<S, S>(c, i), s)) return Outcome::fault;
    if constexpr (Op == BmiOp::mulx) {
        // Unsigned EDX/RDX * r/m, no flags changed: the low half to VEX.vvvv (i.aux), then the
        // high half to ModRM.reg, which wins when both name one register (SDM "MULX").
        const u128 p = static_cast<u128>(c.reg<N>(rdx)) * s;
        c.set_reg<N>(i.aux, static_cast<uint64_t>(p));
        c.set_reg<N>(i.reg, static_cast<uint64_t>(p >> (8 * N)));
    } else {
        c.set_reg<N>(i.reg, compute<Op, N>(c.state().flags, s, c.reg<N>(i.aux), i.imm));
    }
    return Outcome::next;
}

template <BmiOp Op, Loc S>
Handler pick(unsigned bytes) {
    return bytes == 4 ? &bmi<Op, S, 4> : bytes == 8 ? &bmi<Op, S, 8> : nullptr;
}

// Zydis lists the destination first, then the sources in manual order; each operand's encoding
// (ModRM.r/m or VEX.vvvv) tells where it goes. The operand size is 32 bits outside 64-bit mode
// whatever VEX.W says, and Zydis reports it so.
template <BmiOp Op>
bool build(const DecodeContext& c, Insn& i) {
    if (c.zi.encoding != ZYDIS_INSTRUCTION_ENCODING_VEX || !c.is_gpr(0)) return false;
    i.reg = c.gpr(0);
    bool memory = false;
    for (unsigned k = 1; k < c.count(); ++k) {
        if (c.is_mem(k)) memory = true;
        else if (c.is_imm(k)) i.imm = c.imm(k);
        else if (!c.is_gpr(k)) return false;
        else if (c.op(k).encoding == ZYDIS_OPERAND_ENCODING_MODRM_RM) i.rm = c.gpr(k);
        else if (c.op(k).encoding == ZYDIS_OPERAND_ENCODING_NDSNDD) i.aux = c.gpr(k);
        else return false;
    }
    i.fn = memory ? pick<Op, Loc::mem>(c.width(0)) : pick<Op, Loc::reg1>(c.width(0));
    return i.fn != nullptr;
}

}  // namespace

void register_bmi(Registry& r) {
    r.add(ZYDIS_MNEMONIC_ANDN, &build<BmiOp::andn>);
    r.add(ZYDIS_MNEMONIC_BEXTR, &build<BmiOp::bextr>);
    r.add(ZYDIS_MNEMONIC_BLSI, &build<BmiOp::blsi>);
    r.add(ZYDIS_MNEMONIC_BLSMSK, &build<BmiOp::blsmsk>);
    r.add(ZYDIS_MNEMONIC_BLSR, &build<BmiOp::blsr>);
    r.add(ZYDIS_MNEMONIC_BZHI, &build<BmiOp::bzhi>);
    r.add(ZYDIS_MNEMONIC_MULX, &build<BmiOp::mulx>);
    r.add(ZYDIS_MNEMONIC_PDEP, &build<BmiOp::pdep>);
    r.add(ZYDIS_MNEMONIC_PEXT, &build<BmiOp::pext>);
    r.add(ZYDIS_MNEMONIC_RORX, &build<BmiOp::rorx>);
    r.add(ZYDIS_MNEMONIC_SARX, &build<BmiOp::sarx>);
    r.add(ZYDIS_MNEMONIC_SHLX, &build<BmiOp::shlx>);
    r.add(ZYDIS_MNEMONIC_SHRX, &build<BmiOp::shrx>);
}

}  // namespace cpu
