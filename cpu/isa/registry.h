// How instruction families plug into the decoder: each family registers builders per Zydis
// mnemonic; a builder inspects the decoded operands and fills an Insn with a specialised
// handler, or declines (another builder of the same mnemonic may take the form).
// Context: block building (slow path), never execution.
#pragma once
#include <Zydis/Zydis.h>

#include <vector>

#include "cpu/insn.h"

namespace cpu {

struct DecodeContext {
    const ZydisDecodedInstruction& zi;
    const ZydisDecodedOperand* ops;
    unsigned code_bits;

    unsigned count() const { return zi.operand_count_visible; }
    const ZydisDecodedOperand& op(unsigned k) const { return ops[k]; }
    bool is_reg(unsigned k) const { return k < count() && ops[k].type == ZYDIS_OPERAND_TYPE_REGISTER; }
    bool is_gpr(unsigned k) const;
    bool is_mem(unsigned k) const { return k < count() && ops[k].type == ZYDIS_OPERAND_TYPE_MEMORY; }
    bool is_imm(unsigned k) const { return k < count() && ops[k].type == ZYDIS_OPERAND_TYPE_IMMEDIATE; }
    unsigned width(unsigned k) const { return ops[k].size / 8; }  // bytes
    // Our register index (cpu::Reg, or high8 | n for AH..BH) of a general-purpose register.
    uint8_t gpr(unsigned k) const;
    // Index of an XMM register operand.
    uint8_t xmm(unsigned k) const;
    uint64_t imm(unsigned k) const { return ops[k].imm.value.u; }
    bool has(uint64_t attribute) const { return (zi.attributes & attribute) != 0; }
};

using Builder = bool (*)(const DecodeContext& ctx, Insn& out);

class Registry {
public:
    void add(ZydisMnemonic m, Builder b);
    const std::vector<Builder>& builders(ZydisMnemonic m) const;

private:
    std::vector<std::vector<Builder>> table_ = std::vector<std::vector<Builder>>(ZYDIS_MNEMONIC_MAX_VALUE + 1);
};

// Fills the common fields (length, mnemonic, sizes, prefixes) and, if operand k is memory,
// the addressing fields. Builders call it first.
void fill_common(const DecodeContext& ctx, Insn& out);
void fill_memory(const DecodeContext& ctx, unsigned k, Insn& out);
uint8_t gpr_index(ZydisRegister r);
uint8_t segment_index(ZydisRegister r);

// Picks the instantiation of a handler template for an operand size in bytes:
//   out.fn = by_width(n, [](auto w) -> Handler { return &add_rr<w.value>; });
template <unsigned N> struct Width { static constexpr unsigned value = N; };
template <class F>
Handler by_width(unsigned bytes, F pick) {
    switch (bytes) {
        case 1: return pick(Width<1>{});
        case 2: return pick(Width<2>{});
        case 4: return pick(Width<4>{});
        case 8: return pick(Width<8>{});
        default: return nullptr;
    }
}
// The same without byte operands (most instructions with 16/32/64-bit forms only).
template <class F>
Handler by_width_no8(unsigned bytes, F pick) {
    switch (bytes) {
        case 2: return pick(Width<2>{});
        case 4: return pick(Width<4>{});
        case 8: return pick(Width<8>{});
        default: return nullptr;
    }
}

// The families (cpu/isa/*.cpp). Each adds its mnemonics; the order decides which builder of
// a shared mnemonic (MOV to a GPR vs MOV to a control register) is asked first.
void register_all(Registry& r);
const Registry& registry();

}  // namespace cpu
