// Loaders: put an image in guest memory and the boot processor in the entry state the image's
// format defines. Context: machine set-up; errors are sim::ConfigError with one clear line.
//
//   format        detected by                    entry state
//   multiboot v1  header magic 0x1BADB002 in the  32-bit protected mode, paging off, EAX =
//                 first 8 KiB (ELF32 or a.out     0x2BADB002, EBX -> multiboot info at 0x9000
//                 kludge)                         (Multiboot Specification 0.6.96 3.2)
//   ELF64         ELF class 64, EM_X86_64         64-bit ring 0, paging identity-maps all RAM
//                                                 (2 MiB pages, tables at 0x10000), GDT at
//                                                 0x500 (code 0x08, data 0x10), RSP = 0x80000,
//                                                 interrupts off, IDT limit 0
//   Linux         --kernel BZIMAGE (boot.rst     64-bit mode at load address + 0x200, RSI -> zero
//                 64-bit boot protocol)          page at 0x30000, GDT with CS 0x10 / DS 0x18,
//                                                 identity map of all RAM, e820 map, initrd at
//                                                 the top of RAM
//   flat          --load-flat FILE@ADDR           real mode, CS:IP = (ADDR & ~0xffff) >> 4 :
//                                                 ADDR & 0xffff, DL = 0x80 (boot drive), SP 0x7c00
// The area [0x500, 0x80000) belongs to the loader for multiboot and ELF64 images.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/core.h"

namespace sim {

struct LoadedImage {
    std::string format;  // "multiboot", "elf64", "flat"
    uint64_t entry = 0;
    uint64_t lowest = 0, highest = 0;  // physical range written
};

std::vector<uint8_t> read_file(const std::string& path);
// Copies into guest RAM or throws ConfigError naming `what` and the address.
void write_guest(cpu::Core& core, uint64_t paddr, const void* data, size_t size, const std::string& what);

// Chooses multiboot or ELF64 from the file's contents.
LoadedImage load_kernel_image(cpu::Core& core, uint64_t memory_bytes, const std::string& path,
                              const std::string& cmdline = "");
// A Linux bzImage through the 64-bit boot protocol (loader_linux.cpp).
LoadedImage load_linux(cpu::Core& core, uint64_t memory_bytes, const std::string& path,
                       const std::string& initrd_path, const std::string& cmdline);
LoadedImage load_flat(cpu::Core& core, uint64_t memory_bytes, const std::string& path, uint64_t address);
// "file@0x7c00" -> (file, address)
std::pair<std::string, uint64_t> parse_flat_spec(const std::string& spec);

}  // namespace sim
