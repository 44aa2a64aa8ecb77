// The VM-exit instruction-information field and the exit qualification of instructions with a
// memory operand (SDM Vol. 3C 28.2.1 "displacement", 28.2.5 Tables 28-9 to 28-15), built from
// the decoded instruction. Context: VM exits on instructions (rare).
#pragma once
#include <cstdint>

#include "cpu/insn.h"

namespace vmx {

// The VMX instructions mark memory operands in Insn::aux (cpu/isa/virtualization.cpp).
inline bool vmx_memory_operand(const cpu::Insn& i) { return i.aux != 0; }

// The displacement of the memory operand, sign-extended (0 without one).
uint64_t memory_operand_displacement(const cpu::Insn& i, bool memory);

// Scaling, address size, segment, index and base of the memory operand (bit 10 clear), or,
// without a memory operand, bit 10 set with `reg1` in bits 6:3. `reg2` goes to bits 31:28.
uint32_t operand_information(const cpu::Insn& i, bool memory, unsigned reg1, unsigned reg2);

// INS/OUTS (Table 28-9): address size in 9:7, segment in 17:15 (ES for INS).
uint32_t string_io_information(const cpu::Insn& i, bool in);

}  // namespace vmx
