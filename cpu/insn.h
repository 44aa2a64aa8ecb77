// A decoded instruction as the core executes it: Zydis decodes once, a builder picks a
// specialised handler and packs the operands. Context: hot path (read-only during execution).
#pragma once
#include <cstdint>

namespace cpu {

class Core;
struct Insn;

// What an instruction handler tells the run loop.
enum class Outcome : uint8_t {
    next,       // retired; RIP advances by the instruction length; go on in this block
    branch,     // retired; the handler set RIP; leave the block
    end_block,  // retired; RIP advances by the length; leave the block (mode change, HLT, STI ...)
    fault,      // not retired: an exception is pending (Core::pending_); RIP is unchanged
    exit,       // not retired: a VM exit happened (cpu/virtualization.h); RIP is the host's
};

using Handler = Outcome (*)(Core&, const Insn&);

namespace pfx {  // prefix bits in Insn::prefixes
inline constexpr uint8_t rep = 1, repne = 2, lock = 4, opsize = 8, adsize = 16;
}

struct Insn {
    Handler fn = nullptr;
    uint64_t imm = 0;     // immediate, moffs address, or branch target offset
    int64_t disp = 0;     // memory displacement (RIP-relative: from this instruction, length added)
    uint16_t mnemonic = 0;  // ZydisMnemonic: names the instruction in events and counters
    uint8_t length = 0;
    uint8_t reg = 0;      // register of operand 0 (as Zydis lists operands), if a register
    uint8_t rm = 0;       // register of operand 1, if a register
    uint8_t base = 16;    // memory base register (reg_none / reg_rip)
    uint8_t index = 16;   // memory index register (reg_none)
    uint8_t scale = 0;    // log2 of the index scale
    uint8_t seg = 3;      // segment register of the memory operand (default DS)
    uint8_t opsize = 0;   // operand size in bytes
    uint8_t adsize = 0;   // address size in bytes: 2, 4 or 8
    uint8_t prefixes = 0; // pfx bits
    uint8_t cc = 0;       // condition code (Jcc/SETcc/CMOVcc), or a family-specific selector
    uint8_t aux = 0;      // a family-specific byte (ENTER nesting level, immediate count ...)
};

}  // namespace cpu
