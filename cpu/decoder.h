// Zydis in 16/32/64-bit modes turned into cpu::Insn. Context: block building.
#pragma once
#include <cstddef>
#include <cstdint>

#include "cpu/insn.h"

namespace cpu {

enum class DecodeStatus : uint8_t {
    ok,
    invalid,        // not a valid encoding: #UD
    unimplemented,  // valid, but hvsim has no handler: #UD reported by name
    need_more,      // the bytes end before the instruction does (page boundary)
};

struct DecodeResult {
    DecodeStatus status;
    bool ends_block;  // control transfer or a state change that must end the block
};

// Decodes one instruction from `bytes` (at most `available` of them) for the code size.
DecodeResult decode(const uint8_t* bytes, size_t available, unsigned code_bits, Insn& out);

// Handlers of instructions that could not be decoded or have no implementation.
Outcome raise_invalid_opcode(Core& core, const Insn& i);
Outcome raise_unimplemented(Core& core, const Insn& i);

}  // namespace cpu
