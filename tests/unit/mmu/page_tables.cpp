// Test fakes for mmu/: flat RAM and a paging-structure builder (see page_tables.h).
// Context: unit tests only.
#include "page_tables.h"

#include <cstring>

#include <gtest/gtest.h>

namespace mmu_test {

bool FakeMemory::in_ram(uint64_t paddr, std::size_t size) const {
    return paddr <= bytes_.size() && size <= bytes_.size() - paddr;
}

bool FakeMemory::read64(uint64_t paddr, uint64_t& value) {
    if (!in_ram(paddr, 8)) return false;
    ++reads;
    value = peek64(paddr);
    return true;
}

bool FakeMemory::read32(uint64_t paddr, uint32_t& value) {
    if (!in_ram(paddr, 4)) return false;
    ++reads;
    value = peek32(paddr);
    return true;
}

bool FakeMemory::write64(uint64_t paddr, uint64_t value) {
    if (!in_ram(paddr, 8)) return false;
    ++writes;
    poke64(paddr, value);
    return true;
}

bool FakeMemory::write32(uint64_t paddr, uint32_t value) {
    if (!in_ram(paddr, 4)) return false;
    ++writes;
    poke32(paddr, value);
    return true;
}

// Little-endian host, as the guest: memcpy keeps the byte order.
uint64_t FakeMemory::peek64(uint64_t paddr) const {
    uint64_t value = 0;
    if (in_ram(paddr, 8)) std::memcpy(&value, bytes_.data() + paddr, 8);
    else ADD_FAILURE() << "peek64 outside RAM at 0x" << std::hex << paddr;
    return value;
}

uint32_t FakeMemory::peek32(uint64_t paddr) const {
    uint32_t value = 0;
    if (in_ram(paddr, 4)) std::memcpy(&value, bytes_.data() + paddr, 4);
    else ADD_FAILURE() << "peek32 outside RAM at 0x" << std::hex << paddr;
    return value;
}

void FakeMemory::poke64(uint64_t paddr, uint64_t value) {
    if (in_ram(paddr, 8)) std::memcpy(bytes_.data() + paddr, &value, 8);
    else ADD_FAILURE() << "poke64 outside RAM at 0x" << std::hex << paddr;
}

void FakeMemory::poke32(uint64_t paddr, uint32_t value) {
    if (in_ram(paddr, 4)) std::memcpy(bytes_.data() + paddr, &value, 4);
    else ADD_FAILURE() << "poke32 outside RAM at 0x" << std::hex << paddr;
}

PageTables::PageTables(FakeMemory& memory, mmu::PagingMode mode, uint64_t pool)
    : memory_(memory), mode_(mode), next_table_(pool), root_(0) {
    root_ = new_table();
    // The PAE PDPT is 32-byte aligned, not page aligned: put it mid-page so that a walker
    // which drops CR3 bits 11:5 reads the wrong PDPTEs.
    if (mode_ == mmu::PagingMode::pae) root_ += 0x1e0;
}

int PageTables::depth_count() const {
    switch (mode_) {
    case mmu::PagingMode::legacy32: return 2;
    case mmu::PagingMode::pae: return 3;
    case mmu::PagingMode::level4: return 4;
    case mmu::PagingMode::level5: return 5;
    case mmu::PagingMode::none: break;
    }
    ADD_FAILURE() << "no paging structures without paging";
    return 0;
}

PageTables::Shape PageTables::shape(int depth) const {
    if (mode_ == mmu::PagingMode::legacy32) return depth == 0 ? Shape{22, 10} : Shape{12, 10};
    if (mode_ == mmu::PagingMode::pae && depth == 0) return Shape{30, 2};
    const int level = depth_count() - depth;
    return Shape{12 + 9 * static_cast<unsigned>(level - 1), 9};
}

unsigned PageTables::entry_bytes() const {
    return mode_ == mmu::PagingMode::legacy32 ? 4 : 8;
}

int PageTables::leaf_depth(uint64_t page_size) const {
    switch (page_size) {
    case size_4k: return depth_count() - 1;
    case size_2m:
    case size_4m: return depth_count() - 2;
    case size_1g: return depth_count() - 3;
    default: ADD_FAILURE() << "no such page size " << page_size; return 0;
    }
}

uint64_t PageTables::new_table() {
    const uint64_t table = next_table_;
    next_table_ += size_4k;
    for (uint64_t offset = 0; offset < size_4k; offset += 8) memory_.poke64(table + offset, 0);
    return table;
}

uint64_t PageTables::table_at(uint64_t linear, int depth) const {
    if (depth == 0) return root_;
    const uint64_t frame_mask = mode_ == mmu::PagingMode::legacy32 ? 0xfffff000 : 0x000ffffffffff000;
    return entry(linear, depth - 1) & frame_mask;
}

uint64_t PageTables::entry_address(uint64_t linear, int depth) const {
    const Shape s = shape(depth);
    const uint64_t index = (linear >> s.shift) & ((uint64_t{1} << s.index_bits) - 1);
    return table_at(linear, depth) + index * entry_bytes();
}

uint64_t PageTables::entry(uint64_t linear, int depth) const {
    const uint64_t address = entry_address(linear, depth);
    return entry_bytes() == 4 ? memory_.peek32(address) : memory_.peek64(address);
}

void PageTables::set_entry(uint64_t linear, int depth, uint64_t value) {
    const uint64_t address = entry_address(linear, depth);
    if (entry_bytes() == 4) memory_.poke32(address, static_cast<uint32_t>(value));
    else memory_.poke64(address, value);
}

void PageTables::set_bits(uint64_t linear, int depth, uint64_t mask) {
    set_entry(linear, depth, entry(linear, depth) | mask);
}

void PageTables::clear_bits(uint64_t linear, int depth, uint64_t mask) {
    set_entry(linear, depth, entry(linear, depth) & ~mask);
}

uint64_t PageTables::leaf_value(uint64_t frame, uint64_t page_size, uint64_t flags) const {
    if (page_size == size_4k) return frame | flags;
    if (mode_ == mmu::PagingMode::legacy32) {
        // PSE-36: physical bits 39:32 of a 4-MByte page sit in PDE bits 20:13.
        return (frame & 0xffc00000) | (((frame >> 32) & 0xff) << 13) | bit_ps | flags;
    }
    return frame | bit_ps | flags;
}

void PageTables::map(uint64_t linear, uint64_t frame, uint64_t page_size, uint64_t leaf_flags,
                     uint64_t table_flags) {
    const int leaf = leaf_depth(page_size);
    const uint64_t frame_mask = mode_ == mmu::PagingMode::legacy32 ? 0xfffff000 : 0x000ffffffffff000;
    for (int depth = 0; depth < leaf; ++depth) {
        const uint64_t existing = entry(linear, depth) & frame_mask;
        const uint64_t table = existing != 0 ? existing : new_table();
        const bool pdpte = mode_ == mmu::PagingMode::pae && depth == 0;
        set_entry(linear, depth, table | (pdpte ? bit_p : table_flags));
    }
    set_entry(linear, leaf, leaf_value(frame, page_size, leaf_flags));
}

mmu::WalkRequest request(mmu::PagingMode mode, uint64_t cr3, uint64_t linear, mmu::Access access) {
    mmu::WalkRequest r;
    r.mode = mode;
    r.cr3 = cr3;
    r.linear = linear;
    r.access = access;
    return r;
}

const char* to_string(mmu::PagingMode mode) {
    switch (mode) {
    case mmu::PagingMode::none: return "none";
    case mmu::PagingMode::legacy32: return "legacy32";
    case mmu::PagingMode::pae: return "pae";
    case mmu::PagingMode::level4: return "level4";
    case mmu::PagingMode::level5: return "level5";
    }
    return "?";
}

const char* to_string(mmu::Access access) {
    switch (access) {
    case mmu::Access::read: return "read";
    case mmu::Access::write: return "write";
    case mmu::Access::execute: return "execute";
    }
    return "?";
}

}  // namespace mmu_test
