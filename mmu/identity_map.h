// Builds 4-level page tables that identity-map [0, size) with 2 MiB pages: what loaders hand
// a 64-bit image (and tests a flat long-mode machine). Context: machine set-up, host side.
#pragma once
#include <cstdint>
#include <functional>

namespace mmu {

// Writes the tables at `table_base` (4 KiB aligned) through `write_phys`; returns CR3.
// The tables take 4 KiB for the PML4, 4 KiB for the PDPT and 4 KiB per GiB mapped.
using PhysicalWriter = std::function<bool(uint64_t paddr, const void* data, size_t size)>;
uint64_t build_identity_map(const PhysicalWriter& write_phys, uint64_t table_base, uint64_t size);
inline uint64_t identity_map_bytes(uint64_t size) {
    const uint64_t gib = (size + (1ull << 30) - 1) >> 30;
    return 8192 + 4096 * (gib ? gib : 1);
}

}  // namespace mmu
