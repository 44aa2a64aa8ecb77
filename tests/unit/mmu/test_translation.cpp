// Translation results of every paging mode and page size: physical address, page size,
// entries referenced, global bit. SDM Vol. 3A 4.3 (32-bit), 4.4 (PAE), 4.5 (4/5-level).
#include <gtest/gtest.h>

#include "mmu/paging.h"
#include "page_tables.h"

namespace mmu_test {
namespace {

using mmu::Access;
using mmu::PagingMode;

struct TranslationCase {
    const char* name;
    PagingMode mode;
    uint64_t page_size;
    uint64_t linear;
    uint64_t frame;
    uint64_t physical;   // expected, worked out by hand
    int references;      // expected entries read
};

void PrintTo(const TranslationCase& c, std::ostream* os) { *os << c.name; }

class EveryModeAndPageSize : public ::testing::TestWithParam<TranslationCase> {};

TEST_P(EveryModeAndPageSize, translates_to_the_frame_plus_the_page_offset) {
    const TranslationCase& c = GetParam();
    FakeMemory memory;
    PageTables tables(memory, c.mode);
    tables.map(c.linear, c.frame, c.page_size, bit_p | bit_rw);
    mmu::WalkRequest r = request(c.mode, tables.cr3(), c.linear);
    r.cr4_pse = true;
    const mmu::WalkResult result = mmu::walk(r, memory);
    ASSERT_TRUE(result.ok) << "error code " << result.error_code;
    EXPECT_FALSE(result.bus_error);
    EXPECT_EQ(result.physical, c.physical);
    EXPECT_EQ(result.page_size, c.page_size);
    EXPECT_EQ(result.references, c.references);
    EXPECT_EQ(memory.reads, c.mode == PagingMode::pae ? c.references + 1 : c.references);
}

const TranslationCase translation_cases[] = {
    {"legacy32_4k", PagingMode::legacy32, size_4k, 0x80403abc, 0x00123000, 0x00123abc, 2},
    {"legacy32_4m", PagingMode::legacy32, size_4m, 0x80523abc, 0x0c000000, 0x0c123abc, 1},
    {"legacy32_4m_pse36_above_4g", PagingMode::legacy32, size_4m, 0x80523abc,
     0x5a0c000000, 0x5a0c123abc, 1},
    {"pae_4k_above_4g", PagingMode::pae, size_4k, 0xc0201abc, 0x1234567000, 0x1234567abc, 2},
    {"pae_2m", PagingMode::pae, size_2m, 0x40345678, 0x123400000, 0x123545678, 1},
    {"pae_4k_in_the_first_gigabyte", PagingMode::pae, size_4k, 0x00001fff, 0x5000, 0x5fff, 2},
    {"level4_4k_at_the_top_of_52_bits", PagingMode::level4, size_4k, 0x00007f1234567abc,
     0x000ffffffffff000, 0x000ffffffffffabc, 4},
    {"level4_2m_in_the_upper_half", PagingMode::level4, size_2m, 0xffff800012345678,
     0x0000004000000000, 0x0000004000145678, 3},
    {"level4_1g", PagingMode::level4, size_1g, 0x000000123456789a, 0x0000008000000000,
     0x000000803456789a, 2},
    {"level5_4k", PagingMode::level5, size_4k, 0x00abcdef01234567, 0x0000000765432000,
     0x0000000765432567, 5},
    {"level5_2m", PagingMode::level5, size_2m, 0x00abcdef01234567, 0x0000000765400000,
     0x0000000765434567, 4},
    {"level5_1g", PagingMode::level5, size_1g, 0xffabcdef01234567, 0x0000000740000000,
     0x0000000741234567, 3},
};

INSTANTIATE_TEST_SUITE_P(Paging, EveryModeAndPageSize, ::testing::ValuesIn(translation_cases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(NoPaging, linear_addresses_are_physical_and_32_bits_wide) {
    FakeMemory memory;
    const mmu::WalkResult result =
        mmu::walk(request(PagingMode::none, 0, 0x12345678abcd, Access::write), memory);
    EXPECT_TRUE(result.ok);
    EXPECT_EQ(result.physical, 0x5678abcdu);
    EXPECT_EQ(result.references, 0);
    EXPECT_EQ(memory.reads + memory.writes, 0);
}

// Tables written entry by entry with addresses computed by hand from SDM figure 4-8:
// PML4 index 1, PDPT index 2, PD index 3, PT index 4.
TEST(FourLevelPaging, reads_the_entries_that_the_linear_address_fields_select) {
    FakeMemory memory;
    memory.poke64(0x1000 + 1 * 8, 0x2000 | bit_p | bit_rw);
    memory.poke64(0x2000 + 2 * 8, 0x3000 | bit_p | bit_rw);
    memory.poke64(0x3000 + 3 * 8, 0x4000 | bit_p | bit_rw);
    memory.poke64(0x4000 + 4 * 8, 0x0abcd000 | bit_p | bit_rw);
    const uint64_t linear = (uint64_t{1} << 39) | (uint64_t{2} << 30) | (3 << 21) | (4 << 12) | 0x123;
    const mmu::WalkResult result = mmu::walk(request(PagingMode::level4, 0x1000, linear), memory);
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(result.physical, 0x0abcd123u);
}

// SDM figure 4-2: PD index 0x201 (4-byte entries), PT index 0x003.
TEST(ThirtyTwoBitPaging, reads_4_byte_entries_that_the_linear_address_fields_select) {
    FakeMemory memory;
    memory.poke32(0x1000 + 0x201 * 4, 0x2000 | bit_p);
    memory.poke32(0x2000 + 0x003 * 4, 0x00777000 | bit_p);
    memory.poke32(0x2000 + 0x003 * 4 + 4, 0xffffffff);  // the neighbour must not be read as high bits
    const mmu::WalkResult result = mmu::walk(request(PagingMode::legacy32, 0x1000, 0x80403010), memory);
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(result.physical, 0x00777010u);
}

// SDM figure 4-5 and 4.4.1: the PDPT is 32-byte aligned at CR3 bits 31:5.
TEST(PaePaging, finds_the_pdpt_at_cr3_bits_31_to_5_and_ignores_pwt_and_pcd) {
    FakeMemory memory;
    memory.poke64(0x10a0 + 3 * 8, 0x3000 | bit_p);
    memory.poke64(0x3000 + 0x1ff * 8, 0x4000 | bit_p | bit_rw);
    memory.poke64(0x4000 + 0x1ff * 8, 0x99999000 | bit_p);
    const mmu::WalkResult result =
        mmu::walk(request(PagingMode::pae, 0x10a0 | 0x18, 0xfffff00f), memory);
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(result.physical, 0x9999900fu);
}

TEST(PaePaging, ignores_linear_address_bits_above_31) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::pae);
    tables.map(0x40001000, 0x7000, size_4k, bit_p);
    const mmu::WalkResult result =
        mmu::walk(request(PagingMode::pae, tables.cr3(), 0xabcd000040001234), memory);
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(result.physical, 0x7234u);
}

TEST(FourLevelPaging, ignores_cr3_bits_11_to_0_which_hold_the_pcid) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::level4);
    tables.map(0x1000, 0x7000, size_4k, bit_p);
    const mmu::WalkResult result =
        mmu::walk(request(PagingMode::level4, tables.cr3() | 0xfff, 0x1000), memory);
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(result.physical, 0x7000u);
}

TEST(ThirtyTwoBitPaging, ignores_cr3_bits_11_to_0) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::legacy32);
    tables.map(0x1000, 0x7000, size_4k, bit_p);
    const mmu::WalkResult result =
        mmu::walk(request(PagingMode::legacy32, tables.cr3() | 0xfff, 0x1000), memory);
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(result.physical, 0x7000u);
}

// Canonicality is checked before paging (#GP/#SS); the walk itself uses bits 47:0 only.
TEST(FourLevelPaging, uses_only_linear_address_bits_47_to_0) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::level4);
    tables.map(0x0000000000401000, 0x7000, size_4k, bit_p);
    const mmu::WalkResult result =
        mmu::walk(request(PagingMode::level4, tables.cr3(), 0x1234000000401008), memory);
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(result.physical, 0x7008u);
}

TEST(FiveLevelPaging, selects_the_pml5_entry_with_linear_address_bits_56_to_48) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::level5);
    const uint64_t low = 0x0000000000401000;
    const uint64_t high = low | (uint64_t{1} << 48);
    tables.map(low, 0x7000, size_4k, bit_p);
    tables.map(high, 0x8000, size_4k, bit_p);
    EXPECT_NE(tables.entry_address(low, 0), tables.entry_address(high, 0));
    const mmu::WalkResult a = mmu::walk(request(PagingMode::level5, tables.cr3(), low), memory);
    const mmu::WalkResult b = mmu::walk(request(PagingMode::level5, tables.cr3(), high), memory);
    ASSERT_TRUE(a.ok);
    ASSERT_TRUE(b.ok);
    EXPECT_EQ(a.physical, 0x7000u);
    EXPECT_EQ(b.physical, 0x8000u);
}

// SDM 4.3: "If CR4.PSE = 0 ... the PS flag is ignored": the PDE still references a page table.
TEST(ThirtyTwoBitPaging, treats_a_pde_with_ps_set_as_a_page_table_reference_when_pse_is_off) {
    // Tables at 4 MiB: the PDE's bits 21:13 are then 0 and it reads as a valid 4-MByte PDE.
    FakeMemory memory(std::size_t{8} << 20);
    PageTables tables(memory, PagingMode::legacy32, 0x400000);
    tables.map(0x00401000, 0x7000, size_4k, bit_p);
    tables.set_bits(0x00401000, 0, bit_ps);
    mmu::WalkRequest r = request(PagingMode::legacy32, tables.cr3(), 0x00401000);
    r.cr4_pse = false;
    const mmu::WalkResult off = mmu::walk(r, memory);
    ASSERT_TRUE(off.ok);
    EXPECT_EQ(off.physical, 0x7000u);
    EXPECT_EQ(off.page_size, size_4k);
    r.cr4_pse = true;
    const mmu::WalkResult on = mmu::walk(r, memory);
    ASSERT_TRUE(on.ok);
    EXPECT_EQ(on.page_size, size_4m);
    EXPECT_EQ(on.physical, 0x00401000u);  // the page table's address read as a 4-MByte frame
}

// PSE-36 is limited to min(MAXPHYADDR, 40) bits (SDM 4.3, table 4-4).
TEST(ThirtyTwoBitPaging, takes_4m_page_address_bits_39_to_32_from_pde_bits_20_to_13) {
    FakeMemory memory;
    memory.poke32(0x1000, 0x00c00000 | (0xffu << 13) | bit_p | bit_ps);
    mmu::WalkRequest r = request(PagingMode::legacy32, 0x1000, 0x00012345);
    r.cr4_pse = true;
    const mmu::WalkResult result = mmu::walk(r, memory);
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(result.physical, 0xff00c12345u);
}

struct GlobalCase {
    const char* name;
    PagingMode mode;
    uint64_t page_size;
};

void PrintTo(const GlobalCase& c, std::ostream* os) { *os << c.name; }

class GlobalBit : public ::testing::TestWithParam<GlobalCase> {};

// G is meaningful only in the entry that maps the page; elsewhere bit 8 is ignored (SDM 4.10.2.4).
TEST_P(GlobalBit, comes_from_the_entry_that_maps_the_page_only) {
    const GlobalCase& c = GetParam();
    FakeMemory memory;
    PageTables tables(memory, c.mode);
    const uint64_t linear = 0x40000000;
    tables.map(linear, 0, c.page_size, bit_p, bit_p | bit_rw | bit_us | bit_g);
    mmu::WalkRequest r = request(c.mode, tables.cr3(), linear);
    r.cr4_pse = true;
    mmu::WalkResult result = mmu::walk(r, memory);
    ASSERT_TRUE(result.ok);
    EXPECT_FALSE(result.global);
    tables.map(linear, 0, c.page_size, bit_p | bit_g, bit_p | bit_rw | bit_us);
    result = mmu::walk(r, memory);
    ASSERT_TRUE(result.ok);
    EXPECT_TRUE(result.global);
}

const GlobalCase global_cases[] = {
    {"legacy32_4k", PagingMode::legacy32, size_4k}, {"legacy32_4m", PagingMode::legacy32, size_4m},
    {"pae_4k", PagingMode::pae, size_4k},           {"pae_2m", PagingMode::pae, size_2m},
    {"level4_4k", PagingMode::level4, size_4k},     {"level4_2m", PagingMode::level4, size_2m},
    {"level4_1g", PagingMode::level4, size_1g},     {"level5_4k", PagingMode::level5, size_4k},
};

INSTANTIATE_TEST_SUITE_P(Paging, GlobalBit, ::testing::ValuesIn(global_cases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace mmu_test
