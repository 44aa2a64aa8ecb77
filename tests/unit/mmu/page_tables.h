// Test fakes for mmu/: a flat RAM behind mmu::PhysicalAccess, and a builder of paging
// structures for every mode. Context: unit tests only (allocates, asserts with gtest).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "mmu/paging.h"

namespace mmu_test {

// Entry flag bits as the SDM's entry-format tables name them (SDM Vol. 3A 4.3-4.5).
inline constexpr uint64_t bit_p = uint64_t{1} << 0;
inline constexpr uint64_t bit_rw = uint64_t{1} << 1;
inline constexpr uint64_t bit_us = uint64_t{1} << 2;
inline constexpr uint64_t bit_pwt = uint64_t{1} << 3;
inline constexpr uint64_t bit_pcd = uint64_t{1} << 4;
inline constexpr uint64_t bit_a = uint64_t{1} << 5;
inline constexpr uint64_t bit_d = uint64_t{1} << 6;
inline constexpr uint64_t bit_ps = uint64_t{1} << 7;
inline constexpr uint64_t bit_g = uint64_t{1} << 8;
inline constexpr uint64_t bit_xd = uint64_t{1} << 63;

inline constexpr uint64_t size_4k = uint64_t{1} << 12;
inline constexpr uint64_t size_2m = uint64_t{1} << 21;
inline constexpr uint64_t size_4m = uint64_t{1} << 22;
inline constexpr uint64_t size_1g = uint64_t{1} << 30;

// RAM at physical [0, size); anything above is not RAM (reads and writes fail).
class FakeMemory final : public mmu::PhysicalAccess {
public:
    explicit FakeMemory(std::size_t size = std::size_t{1} << 21) : bytes_(size, 0) {}

    bool read64(uint64_t paddr, uint64_t& value) override;
    bool read32(uint64_t paddr, uint32_t& value) override;
    bool write64(uint64_t paddr, uint64_t value) override;
    bool write32(uint64_t paddr, uint32_t value) override;

    // The test's own view of memory: not counted in reads/writes.
    uint64_t peek64(uint64_t paddr) const;
    uint32_t peek32(uint64_t paddr) const;
    void poke64(uint64_t paddr, uint64_t value);
    void poke32(uint64_t paddr, uint32_t value);

    int reads = 0;
    int writes = 0;

private:
    bool in_ram(uint64_t paddr, std::size_t size) const;
    std::vector<uint8_t> bytes_;
};

// Builds the paging structures of one mode in a FakeMemory, allocating tables from `pool`.
// Levels are numbered by depth: 0 is the top (PML5, PML4, PAE PDPT, 32-bit PD).
class PageTables {
public:
    PageTables(FakeMemory& memory, mmu::PagingMode mode, uint64_t pool = 0x10000);

    uint64_t cr3() const { return root_; }
    int depth_count() const;  // levels of a 4-KByte translation

    // Maps the page of `page_size` bytes holding `linear` to `frame`. Entries that reference
    // a table get `table_flags` (PAE PDPTEs get P only: their other flags are reserved); the
    // entry that maps the page gets `leaf_flags`, plus PS for a large page.
    void map(uint64_t linear, uint64_t frame, uint64_t page_size, uint64_t leaf_flags,
             uint64_t table_flags = bit_p | bit_rw | bit_us);

    // Physical address and value of the entry at `depth` on `linear`'s path.
    uint64_t entry_address(uint64_t linear, int depth) const;
    uint64_t entry(uint64_t linear, int depth) const;
    void set_entry(uint64_t linear, int depth, uint64_t value);
    void set_bits(uint64_t linear, int depth, uint64_t mask);
    void clear_bits(uint64_t linear, int depth, uint64_t mask);

private:
    struct Shape {
        unsigned shift;
        unsigned index_bits;
    };
    Shape shape(int depth) const;
    unsigned entry_bytes() const;
    int leaf_depth(uint64_t page_size) const;
    uint64_t table_at(uint64_t linear, int depth) const;
    uint64_t new_table();
    uint64_t leaf_value(uint64_t frame, uint64_t page_size, uint64_t flags) const;

    FakeMemory& memory_;
    mmu::PagingMode mode_;
    uint64_t next_table_;
    uint64_t root_;
};

// A request with everything off: supervisor, explicit, read.
mmu::WalkRequest request(mmu::PagingMode mode, uint64_t cr3, uint64_t linear,
                         mmu::Access access = mmu::Access::read);

const char* to_string(mmu::PagingMode mode);
const char* to_string(mmu::Access access);

}  // namespace mmu_test
