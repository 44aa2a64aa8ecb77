// VM-exit instruction information (SDM Vol. 3C 28.2.5). Context: VM exits (rare).
#include "vmx/instruction_info.h"

#include "cpu/state.h"

namespace vmx {
namespace {

uint32_t address_size_code(uint8_t adsize) { return adsize == 2 ? 0 : adsize == 4 ? 1 : 2; }

}  // namespace

uint64_t memory_operand_displacement(const cpu::Insn& i, bool memory) {
    if (!memory) return 0;
    // RIP-relative operands carry the instruction length in disp (cpu/insn.h).
    const int64_t disp = i.base == cpu::reg_rip ? i.disp - i.length : i.disp;
    return static_cast<uint64_t>(disp);
}

// Bits: 1:0 scaling, 6:3 reg1, 9:7 address size, 10 register (1) or memory (0), 17:15
// segment, 21:18 index, 22 index invalid, 26:23 base, 27 base invalid, 31:28 reg2.
uint32_t operand_information(const cpu::Insn& i, bool memory, unsigned reg1, unsigned reg2) {
    uint32_t info = (reg2 & 15u) << 28;
    if (!memory) return info | (1u << 10) | ((reg1 & 15u) << 3);
    info |= (i.scale & 3u) | (address_size_code(i.adsize) << 7) | ((i.seg & 7u) << 15);
    info |= i.index < 16 ? (uint32_t{i.index} << 18) : (1u << 22);
    info |= i.base < 16 ? (uint32_t{i.base} << 23) : (1u << 27);
    return info;
}

uint32_t string_io_information(const cpu::Insn& i, bool in) {
    const unsigned seg = in ? unsigned{cpu::es} : unsigned{i.seg};
    return (address_size_code(i.adsize) << 7) | ((seg & 7u) << 15);
}

}  // namespace vmx
