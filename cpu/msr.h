// Model-specific registers by index: what RDMSR/WRMSR do apart from their privilege checks, for
// the instruction handlers (cpu/isa/msr.cpp) and for whoever else loads or stores MSRs
// (VM-entry/exit MSR areas later). The list is sim/tables/msrs.toml. Context: core services.
#pragma once
#include <cstdint>

#include "cpu/core.h"

namespace cpu {

// Reset values of every table row for this vendor (SDM Vol. 3A 10.1 Table 10-1 "IA-32 and
// Intel 64 Processor States Following Power-up, Reset, or INIT"). `processor` 0 is the BSP
// (no row depends on it today: IA32_APIC_BASE.BSP belongs to the local APIC).
void reset_msrs(State& s, Vendor vendor, unsigned processor);

// The value of MSR `index`, or false when the processor has no such MSR (the caller raises
// #GP(0)). No events, no privilege check.
bool msr_read(Core& c, uint32_t index, uint64_t& value);

// Writes MSR `index` with every side effect (TLB flush for EFER.NXE, FS/GS base reload ...).
// False when the MSR does not exist or refuses the value (the caller raises #GP(0)).
bool msr_write(Core& c, uint32_t index, uint64_t value);

}  // namespace cpu
