// Accessed and dirty flags (SDM Vol. 3A 4.8): A in every entry used, D in the entry that
// maps the page on a write; leaf flags untouched by a faulting access (see paging.cpp).
#include <string>

#include <gtest/gtest.h>

#include "mmu/paging.h"
#include "page_tables.h"

namespace mmu_test {
namespace {

using mmu::Access;
using mmu::PagingMode;

struct ModeCase {
    const char* name;
    PagingMode mode;
    uint64_t page_size;
};

void PrintTo(const ModeCase& c, std::ostream* os) { *os << c.name; }

class AccessedDirty : public ::testing::TestWithParam<ModeCase> {
protected:
    void SetUp() override { tables_.map(linear_, 0x9000 * small(), GetParam().page_size, bit_p | bit_rw); }

    bool small() const { return GetParam().page_size == size_4k; }
    int leaf() const {
        const int levels = tables_.depth_count();
        return small() ? levels - 1 : GetParam().page_size == size_1g ? levels - 3 : levels - 2;
    }
    bool is_pdpte_register(int depth) const { return GetParam().mode == PagingMode::pae && depth == 0; }

    mmu::WalkResult walk(Access access) {
        mmu::WalkRequest r = request(GetParam().mode, tables_.cr3(), linear_, access);
        r.cr4_pse = true;
        r.cr0_wp = true;
        return mmu::walk(r, memory_);
    }

    FakeMemory memory_{std::size_t{1} << 20};
    PageTables tables_{memory_, GetParam().mode};
    const uint64_t linear_ = 0x40000000;
};

TEST_P(AccessedDirty, a_read_sets_accessed_in_every_entry_used_and_dirty_nowhere) {
    ASSERT_TRUE(walk(Access::read).ok);
    for (int depth = 0; depth <= leaf(); ++depth) {
        const uint64_t entry = tables_.entry(linear_, depth);
        SCOPED_TRACE("depth " + std::to_string(depth));
        EXPECT_EQ((entry & bit_a) != 0, !is_pdpte_register(depth));  // PAE PDPTEs have no A
        EXPECT_FALSE(entry & bit_d);
    }
}

TEST_P(AccessedDirty, a_write_sets_dirty_only_in_the_entry_that_maps_the_page) {
    const mmu::WalkResult result = walk(Access::write);
    ASSERT_TRUE(result.ok);
    EXPECT_TRUE(result.dirty);
    for (int depth = 0; depth <= leaf(); ++depth) {
        const uint64_t entry = tables_.entry(linear_, depth);
        SCOPED_TRACE("depth " + std::to_string(depth));
        EXPECT_EQ((entry & bit_a) != 0, !is_pdpte_register(depth));
        EXPECT_EQ((entry & bit_d) != 0, depth == leaf());
    }
}

TEST_P(AccessedDirty, a_fetch_sets_accessed_but_not_dirty) {
    const mmu::WalkResult result = walk(Access::execute);
    ASSERT_TRUE(result.ok);
    EXPECT_FALSE(result.dirty);
    EXPECT_TRUE(tables_.entry(linear_, leaf()) & bit_a);
    EXPECT_FALSE(tables_.entry(linear_, leaf()) & bit_d);
}

TEST_P(AccessedDirty, flags_already_set_are_not_written_again) {
    for (int depth = 0; depth <= leaf(); ++depth) {
        if (!is_pdpte_register(depth)) tables_.set_bits(linear_, depth, bit_a);
    }
    tables_.set_bits(linear_, leaf(), bit_d);
    const mmu::WalkResult result = walk(Access::write);
    ASSERT_TRUE(result.ok);
    EXPECT_TRUE(result.dirty);
    EXPECT_EQ(memory_.writes, 0);
}

TEST_P(AccessedDirty, a_read_reports_whether_the_page_is_already_dirty) {
    mmu::WalkResult result = walk(Access::read);
    ASSERT_TRUE(result.ok);
    EXPECT_FALSE(result.dirty);
    tables_.set_bits(linear_, leaf(), bit_d);
    result = walk(Access::read);
    ASSERT_TRUE(result.ok);
    EXPECT_TRUE(result.dirty);
}

// Choice (Intel): the faulting access is not made, so the entry that maps the page keeps A and
// D clear; the entries above it were used to reach it and have A set (SDM 4.8, 4.10.3.1).
TEST_P(AccessedDirty, a_protection_fault_leaves_the_leaf_clean_and_marks_the_entries_above) {
    tables_.clear_bits(linear_, leaf(), bit_rw);
    const mmu::WalkResult result = walk(Access::write);
    ASSERT_FALSE(result.ok);
    EXPECT_EQ(result.error_code, mmu::pf::present | mmu::pf::write);
    EXPECT_FALSE(tables_.entry(linear_, leaf()) & (bit_a | bit_d));
    for (int depth = 0; depth < leaf(); ++depth) {
        SCOPED_TRACE("depth " + std::to_string(depth));
        EXPECT_EQ((tables_.entry(linear_, depth) & bit_a) != 0, !is_pdpte_register(depth));
    }
}

TEST_P(AccessedDirty, a_not_present_leaf_leaves_it_unchanged_and_marks_the_entries_above) {
    tables_.clear_bits(linear_, leaf(), bit_p);
    const uint64_t before = tables_.entry(linear_, leaf());
    const mmu::WalkResult result = walk(Access::write);
    ASSERT_FALSE(result.ok);
    EXPECT_EQ(result.error_code, mmu::pf::write);
    EXPECT_EQ(tables_.entry(linear_, leaf()), before);
    for (int depth = 0; depth < leaf(); ++depth) {
        SCOPED_TRACE("depth " + std::to_string(depth));
        EXPECT_EQ((tables_.entry(linear_, depth) & bit_a) != 0, !is_pdpte_register(depth));
    }
}

TEST_P(AccessedDirty, a_supervisor_write_to_a_read_only_page_with_wp_clear_sets_dirty) {
    tables_.clear_bits(linear_, leaf(), bit_rw);
    mmu::WalkRequest r = request(GetParam().mode, tables_.cr3(), linear_, Access::write);
    r.cr4_pse = true;
    r.cr0_wp = false;
    const mmu::WalkResult result = mmu::walk(r, memory_);
    ASSERT_TRUE(result.ok);
    EXPECT_FALSE(result.writable);  // the page's right, kept for the TLB
    EXPECT_EQ(tables_.entry(linear_, leaf()) & (bit_a | bit_d), bit_a | bit_d);
}

const ModeCase mode_cases[] = {
    {"legacy32_4k", PagingMode::legacy32, size_4k}, {"legacy32_4m", PagingMode::legacy32, size_4m},
    {"pae_4k", PagingMode::pae, size_4k},           {"pae_2m", PagingMode::pae, size_2m},
    {"level4_4k", PagingMode::level4, size_4k},     {"level4_2m", PagingMode::level4, size_2m},
    {"level4_1g", PagingMode::level4, size_1g},     {"level5_4k", PagingMode::level5, size_4k},
    {"level5_2m", PagingMode::level5, size_2m},     {"level5_1g", PagingMode::level5, size_1g},
};

INSTANTIATE_TEST_SUITE_P(Paging, AccessedDirty, ::testing::ValuesIn(mode_cases),
                         [](const auto& info) { return std::string(info.param.name); });

// 32-bit paging entries are 4 bytes: setting A and D must not touch the next entry.
TEST(ThirtyTwoBitPagingAccessedDirty, updates_write_4_bytes_and_leave_the_neighbour_alone) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::legacy32);
    tables.map(0x00401000, 0x7000, size_4k, bit_p | bit_rw);
    const uint64_t next_pte = tables.entry_address(0x00401000, 1) + 4;
    const uint64_t next_pde = tables.entry_address(0x00401000, 0) + 4;
    memory.poke32(next_pte, 0x12345000);
    memory.poke32(next_pde, 0x23456000);
    const mmu::WalkResult result =
        mmu::walk(request(PagingMode::legacy32, tables.cr3(), 0x00401000, Access::write), memory);
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(memory.peek32(next_pte), 0x12345000u);
    EXPECT_EQ(memory.peek32(next_pde), 0x23456000u);
    EXPECT_EQ(tables.entry(0x00401000, 1), 0x7000 | bit_p | bit_rw | bit_a | bit_d);
    EXPECT_EQ(tables.entry(0x00401000, 0) & (bit_a | bit_d), bit_a);
}

TEST(PaePagingAccessedDirty, never_writes_a_pdpte) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::pae);
    tables.map(0x1000, 0x7000, size_4k, bit_p | bit_rw);
    const uint64_t pdpte = tables.entry(0x1000, 0);
    ASSERT_TRUE(mmu::walk(request(PagingMode::pae, tables.cr3(), 0x1000, Access::write), memory).ok);
    EXPECT_EQ(tables.entry(0x1000, 0), pdpte);
    EXPECT_EQ(memory.writes, 2);  // A in the PDE; A and D in the PTE at once
}

// Paging structures that can be read but not written (ROM): the A/D write-back fails.
class ReadOnlyMemory final : public mmu::PhysicalAccess {
public:
    explicit ReadOnlyMemory(FakeMemory& ram) : ram_(ram) {}
    bool read64(uint64_t paddr, uint64_t& value) override { return ram_.read64(paddr, value); }
    bool read32(uint64_t paddr, uint32_t& value) override { return ram_.read32(paddr, value); }
    bool write64(uint64_t, uint64_t) override { return false; }
    bool write32(uint64_t, uint32_t) override { return false; }

private:
    FakeMemory& ram_;
};

TEST(AccessedDirtyWriteBack, that_fails_is_a_bus_error_not_a_page_fault) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::level4);
    tables.map(0x1000, 0x7000, size_4k, bit_p | bit_rw);
    ReadOnlyMemory rom(memory);
    const mmu::WalkResult result = mmu::walk(request(PagingMode::level4, tables.cr3(), 0x1000), rom);
    EXPECT_FALSE(result.ok);
    EXPECT_TRUE(result.bus_error);
    EXPECT_EQ(result.error_code, 0u);
}

TEST(AccessedDirtyWriteBack, is_not_needed_when_every_flag_is_already_set) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::level4);
    tables.map(0x1000, 0x7000, size_4k, bit_p | bit_rw | bit_a | bit_d, bit_p | bit_rw | bit_a);
    ReadOnlyMemory rom(memory);
    const mmu::WalkResult result =
        mmu::walk(request(PagingMode::level4, tables.cr3(), 0x1000, Access::write), rom);
    EXPECT_TRUE(result.ok);
}

}  // namespace
}  // namespace mmu_test
