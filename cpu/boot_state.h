// Architectural entry states that loaders and tests put a processor in, each as its
// specification defines it. Context: machine set-up (host side).
#pragma once
#include <cstdint>

#include "cpu/core.h"

namespace cpu {

// Real mode, CS:IP = segment:offset, other segments = 0, stack below 0x7c00 (as a BIOS
// leaves a boot sector: SS:SP = 0:0x7c00 is a common convention, not a rule).
void enter_real_mode(Core& core, uint16_t cs, uint16_t ip);

// Multiboot v1 (Multiboot Specification 0.6.96, 3.2 "Machine state"): 32-bit protected mode,
// paging off, flat 4 GiB code (read/execute) and data (read/write) segments, EAX = 0x2BADB002,
// EBX = address of the multiboot information, IF = 0, A20 on. GDTR/IDTR contents undefined:
// the loader provides a GDT at `gdt_base` so reloading segments works.
void enter_multiboot(Core& core, uint32_t entry, uint32_t info_address, uint64_t gdt_base);

// 64-bit long mode at CPL 0: paging with the tables at `cr3`, PAE, EFER.LME/LMA/NXE, flat
// 64-bit code segment (selector 0x08) and data segments (0x10) from a GDT the loader writes at
// `gdt_base`, RSP = `stack`, interrupts off, IDT empty (limit 0: any exception triple-faults
// until the guest loads its own).
struct FlatSelectors {
    uint16_t code = 0x08, data = 0x10;
};
void enter_long_mode(Core& core, uint64_t entry, uint64_t cr3, uint64_t stack, uint64_t gdt_base,
                     FlatSelectors selectors = {});

// The GDT the protected-mode entries use: null descriptors but for code (0x08 by default)
// and data (0x10). `long_mode` selects a 64-bit (L=1) or 32-bit (D=1) code descriptor.
// Returns the GDT limit, or 0 if it could not be written.
uint16_t write_flat_gdt(Core& core, uint64_t gdt_base, bool long_mode, FlatSelectors selectors = {});

}  // namespace cpu
