// Reserved bits of present entries fault with RSVD; ignored bits do not (SDM Vol. 3A 4.3,
// 4.4.1, 4.4.2, 4.5.4 and the entry-format tables 4-4 to 4-20).
#include <string>

#include <gtest/gtest.h>

#include "mmu/paging.h"
#include "page_tables.h"

namespace mmu_test {
namespace {

using mmu::Access;
using mmu::PagingMode;

constexpr uint64_t bit(unsigned n) { return uint64_t{1} << n; }
constexpr uint64_t m36 = (uint64_t{1} << 36) - 1, m40 = (uint64_t{1} << 40) - 1;
constexpr uint64_t m32 = (uint64_t{1} << 32) - 1, m52 = (uint64_t{1} << 52) - 1;

struct ReservedCase {
    const char* name;
    PagingMode mode;
    uint64_t page_size;
    int depth;               // entry that gets `extra` (0 = top)
    uint64_t extra;
    bool nxe;
    uint64_t maxphyaddr_mask;
    bool reserved;           // expected: RSVD fault (otherwise the walk succeeds)
};

void PrintTo(const ReservedCase& c, std::ostream* os) { *os << c.name; }

const ReservedCase reserved_cases[] = {
    // 4-level and 5-level paging (SDM 4.5.4).
    {"pml4e_bit_51_above_maxphyaddr_40", PagingMode::level4, size_4k, 0, bit(51), true, m40, true},
    {"pml4e_bit_40_at_maxphyaddr_40", PagingMode::level4, size_4k, 0, bit(40), true, m40, true},
    {"pdpte_bit_45_above_maxphyaddr_40", PagingMode::level4, size_4k, 1, bit(45), true, m40, true},
    {"pde_bit_36_above_maxphyaddr_36", PagingMode::level4, size_4k, 2, bit(36), true, m36, true},
    {"pte_bit_50_above_maxphyaddr_40", PagingMode::level4, size_4k, 3, bit(50), true, m40, true},
    {"pte_bit_39_is_an_address_bit_at_maxphyaddr_40", PagingMode::level4, size_4k, 3, bit(39), true, m40, false},
    {"pte_bit_51_is_an_address_bit_at_maxphyaddr_52", PagingMode::level4, size_4k, 3, bit(51), true, m52, false},
    {"pml4e_ps", PagingMode::level4, size_4k, 0, bit(7), true, m52, true},
    {"pml5e_ps", PagingMode::level5, size_4k, 0, bit(7), true, m52, true},
    {"pml5e_bit_51_above_maxphyaddr_40", PagingMode::level5, size_4k, 0, bit(51), true, m40, true},
    {"pml4e_under_pml5e_ps", PagingMode::level5, size_4k, 1, bit(7), true, m52, true},
    {"pml4e_bit_8_is_ignored", PagingMode::level4, size_4k, 0, bit(8), true, m52, false},
    {"pml4e_bit_6_is_ignored", PagingMode::level4, size_4k, 0, bit(6), true, m52, false},
    {"pml4e_bits_11_to_9_are_ignored", PagingMode::level4, size_4k, 0, bit(9) | bit(10) | bit(11), true, m52, false},
    {"pml4e_bits_62_to_52_are_ignored", PagingMode::level4, size_4k, 0, bit(52) | bit(62), true, m52, false},
    {"pdpte_bits_62_to_52_are_ignored", PagingMode::level4, size_4k, 1, bit(55) | bit(62), true, m52, false},
    {"pde_bits_62_to_52_are_ignored", PagingMode::level4, size_4k, 2, bit(52) | bit(58), true, m52, false},
    {"pte_bits_62_to_52_are_ignored", PagingMode::level4, size_4k, 3, bit(52) | bit(62), true, m52, false},
    {"pml4e_xd_without_nxe", PagingMode::level4, size_4k, 0, bit(63), false, m52, true},
    {"pdpte_xd_without_nxe", PagingMode::level4, size_4k, 1, bit(63), false, m52, true},
    {"pde_xd_without_nxe", PagingMode::level4, size_4k, 2, bit(63), false, m52, true},
    {"pte_xd_without_nxe", PagingMode::level4, size_4k, 3, bit(63), false, m52, true},
    {"pte_xd_with_nxe", PagingMode::level4, size_4k, 3, bit(63), true, m52, false},
    {"pml5e_xd_without_nxe", PagingMode::level5, size_4k, 0, bit(63), false, m52, true},
    {"pte_pat_bit_7_is_not_ps", PagingMode::level4, size_4k, 3, bit(7), true, m52, false},
    {"page_1g_bit_13", PagingMode::level4, size_1g, 1, bit(13), true, m52, true},
    {"page_1g_bit_29", PagingMode::level4, size_1g, 1, bit(29), true, m52, true},
    {"page_1g_pat_bit_12", PagingMode::level4, size_1g, 1, bit(12), true, m52, false},
    {"page_1g_bit_44_above_maxphyaddr_40", PagingMode::level4, size_1g, 1, bit(44), true, m40, true},
    {"page_1g_xd_without_nxe", PagingMode::level4, size_1g, 1, bit(63), false, m52, true},
    {"page_2m_bit_13", PagingMode::level4, size_2m, 2, bit(13), true, m52, true},
    {"page_2m_bit_20", PagingMode::level4, size_2m, 2, bit(20), true, m52, true},
    {"page_2m_pat_bit_12", PagingMode::level4, size_2m, 2, bit(12), true, m52, false},
    {"page_2m_bit_21_is_an_address_bit", PagingMode::level4, size_2m, 2, bit(21), true, m52, false},
    {"page_2m_bits_62_to_52_are_ignored", PagingMode::level4, size_2m, 2, bit(52) | bit(62), true, m52, false},
    {"page_2m_in_5_level_paging_bit_16", PagingMode::level5, size_2m, 3, bit(16), true, m52, true},
    // PAE paging: PDPTE (SDM 4.4.1, table 4-8), PDE and PTE (4.4.2, tables 4-9 to 4-11).
    {"pae_pdpte_rw_bit_1", PagingMode::pae, size_4k, 0, bit(1), true, m52, true},
    {"pae_pdpte_us_bit_2", PagingMode::pae, size_4k, 0, bit(2), true, m52, true},
    {"pae_pdpte_bit_5", PagingMode::pae, size_4k, 0, bit(5), true, m52, true},
    {"pae_pdpte_bit_6", PagingMode::pae, size_4k, 0, bit(6), true, m52, true},
    {"pae_pdpte_ps_bit_7", PagingMode::pae, size_4k, 0, bit(7), true, m52, true},
    {"pae_pdpte_bit_8", PagingMode::pae, size_4k, 0, bit(8), true, m52, true},
    {"pae_pdpte_xd_even_with_nxe", PagingMode::pae, size_4k, 0, bit(63), true, m52, true},
    {"pae_pdpte_bit_52", PagingMode::pae, size_4k, 0, bit(52), true, m52, true},
    {"pae_pdpte_bit_36_above_maxphyaddr_36", PagingMode::pae, size_4k, 0, bit(36), true, m36, true},
    {"pae_pdpte_pwt_and_pcd", PagingMode::pae, size_4k, 0, bit(3) | bit(4), true, m52, false},
    {"pae_pdpte_bits_11_to_9_are_ignored", PagingMode::pae, size_4k, 0, bit(9) | bit(11), true, m52, false},
    {"pae_pde_bit_52_unlike_4_level", PagingMode::pae, size_4k, 1, bit(52), true, m52, true},
    {"pae_pde_bit_62", PagingMode::pae, size_4k, 1, bit(62), true, m52, true},
    {"pae_pte_bit_58", PagingMode::pae, size_4k, 2, bit(58), true, m52, true},
    {"pae_pte_bit_40_above_maxphyaddr_40", PagingMode::pae, size_4k, 2, bit(40), true, m40, true},
    {"pae_pte_bit_39_is_an_address_bit", PagingMode::pae, size_4k, 2, bit(39), true, m40, false},
    {"pae_pde_xd_without_nxe", PagingMode::pae, size_4k, 1, bit(63), false, m52, true},
    {"pae_pte_xd_without_nxe", PagingMode::pae, size_4k, 2, bit(63), false, m52, true},
    {"pae_pte_xd_with_nxe", PagingMode::pae, size_4k, 2, bit(63), true, m52, false},
    {"pae_page_2m_bit_13", PagingMode::pae, size_2m, 1, bit(13), true, m52, true},
    {"pae_page_2m_bit_20", PagingMode::pae, size_2m, 1, bit(20), true, m52, true},
    {"pae_page_2m_pat_bit_12", PagingMode::pae, size_2m, 1, bit(12), true, m52, false},
    // 32-bit paging: only a 4-MByte PDE has reserved bits (SDM 4.3, table 4-4).
    {"legacy32_4m_bit_21", PagingMode::legacy32, size_4m, 0, bit(21), false, m52, true},
    {"legacy32_4m_bit_20_is_address_bit_39", PagingMode::legacy32, size_4m, 0, bit(20), false, m52, false},
    {"legacy32_4m_bit_20_above_maxphyaddr_36", PagingMode::legacy32, size_4m, 0, bit(20), false, m36, true},
    {"legacy32_4m_bit_17_above_maxphyaddr_36", PagingMode::legacy32, size_4m, 0, bit(17), false, m36, true},
    {"legacy32_4m_bit_16_is_address_bit_35", PagingMode::legacy32, size_4m, 0, bit(16), false, m36, false},
    {"legacy32_4m_bit_13_without_pse36", PagingMode::legacy32, size_4m, 0, bit(13), false, m32, true},
    {"legacy32_4m_pat_bit_12", PagingMode::legacy32, size_4m, 0, bit(12), false, m32, false},
    {"legacy32_pde_bits_11_to_8_are_ignored", PagingMode::legacy32, size_4k, 0, bit(8) | bit(11), false, m32, false},
    {"legacy32_pte_bits_11_to_7", PagingMode::legacy32, size_4k, 1, bit(7) | bit(8) | bit(11), false, m32, false},
};

class ReservedBits : public ::testing::TestWithParam<ReservedCase> {};

TEST_P(ReservedBits, fault_with_rsvd_only_where_the_sdm_reserves_them) {
    const ReservedCase& c = GetParam();
    FakeMemory memory;
    PageTables tables(memory, c.mode);
    const uint64_t linear = 0x40000000;
    tables.map(linear, 0, c.page_size, bit_p | bit_rw);
    tables.set_bits(linear, c.depth, c.extra);
    const uint64_t entry_before = tables.entry(linear, c.depth);
    mmu::WalkRequest r = request(c.mode, tables.cr3(), linear, Access::read);
    r.cr4_pse = true;
    r.efer_nxe = c.nxe;
    r.maxphyaddr_mask = c.maxphyaddr_mask;
    const mmu::WalkResult result = mmu::walk(r, memory);
    EXPECT_FALSE(result.bus_error);
    if (c.reserved) {
        EXPECT_FALSE(result.ok);
        EXPECT_EQ(result.error_code, mmu::pf::present | mmu::pf::reserved);
        EXPECT_EQ(tables.entry(linear, c.depth), entry_before) << "an entry that was not used changed";
        // Entries above it were used: the walk stopped exactly at this one.
        const int pdpte_registers = c.mode == PagingMode::pae ? 1 : 0;
        EXPECT_EQ(result.references, c.depth + 1 - pdpte_registers);
    } else {
        EXPECT_TRUE(result.ok) << "error code 0x" << std::hex << result.error_code;
    }
}

INSTANTIATE_TEST_SUITE_P(Paging, ReservedBits, ::testing::ValuesIn(reserved_cases),
                         [](const auto& info) { return std::string(info.param.name); });

// AMD long mode: bit 8 of a PML4E is MBZ (APM Vol. 2 5.3.3, Figure 5-18); bit 8 of a
// non-leaf PDPE and PDE stays ignored.
TEST(ReservedBitFault, amd_reserves_bit_8_of_a_pml4e_only) {
    for (int depth = 0; depth < 3; ++depth) {
        FakeMemory memory;
        PageTables tables(memory, PagingMode::level4);
        tables.map(0x1000, 0x7000, size_4k, bit_p | bit_rw);
        tables.set_bits(0x1000, depth, bit(8));
        mmu::WalkRequest r = request(PagingMode::level4, tables.cr3(), 0x1000);
        r.amd_pml4e_bit8_reserved = true;
        const mmu::WalkResult result = mmu::walk(r, memory);
        EXPECT_EQ(result.ok, depth != 0) << "depth " << depth;
        if (depth == 0) {
            EXPECT_EQ(result.error_code, mmu::pf::present | mmu::pf::reserved);
        }
    }
}

// The #PF error code describes the access as well (SDM 4.7): W/R, U/S and I/D with RSVD.
TEST(ReservedBitFault, reports_the_access_kind_beside_rsvd) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::level4);
    tables.map(0x1000, 0x7000, size_4k, bit_p | bit_rw | bit_us);
    tables.set_bits(0x1000, 2, bit(51));
    mmu::WalkRequest r = request(PagingMode::level4, tables.cr3(), 0x1000, Access::write);
    r.user = true;
    r.maxphyaddr_mask = m40;
    EXPECT_EQ(mmu::walk(r, memory).error_code, 0xfu);
    r.access = Access::execute;
    r.efer_nxe = true;
    EXPECT_EQ(mmu::walk(r, memory).error_code, 0x1du);
}

// Reserved bits are checked only in present entries (SDM 4.7: RSVD implies P).
TEST(ReservedBitFault, is_not_raised_for_a_non_present_entry) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::level4);
    tables.map(0x1000, 0x7000, size_4k, bit_rw | bit(51) | bit(63));
    mmu::WalkRequest r = request(PagingMode::level4, tables.cr3(), 0x1000);
    r.maxphyaddr_mask = m40;
    const mmu::WalkResult result = mmu::walk(r, memory);
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.error_code, 0u);
}

TEST(ReservedBitFault, in_a_pae_pdpte_is_not_raised_when_the_pdpte_is_not_present) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::pae);
    tables.map(0x1000, 0x7000, size_4k, bit_p);
    tables.set_entry(0x1000, 0, bit(1) | bit(2) | bit(63));
    const mmu::WalkResult result = mmu::walk(request(PagingMode::pae, tables.cr3(), 0x1000), memory);
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.error_code, 0u);
}

// A fault higher up stops the walk before a lower entry's reserved bits are seen.
TEST(ReservedBitFault, loses_to_a_non_present_entry_above_it) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::level4);
    tables.map(0x1000, 0x7000, size_4k, bit_p);
    tables.set_bits(0x1000, 3, bit(51));
    tables.clear_bits(0x1000, 1, bit_p);
    mmu::WalkRequest r = request(PagingMode::level4, tables.cr3(), 0x1000);
    r.maxphyaddr_mask = m40;
    const mmu::WalkResult result = mmu::walk(r, memory);
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.error_code, 0u);
    EXPECT_EQ(result.references, 2);
}

// A reserved bit is a fault even when the access rights would refuse the access anyway:
// there is no translation, so rights are never looked at (SDM 4.7).
TEST(ReservedBitFault, wins_over_a_protection_violation) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::level4);
    tables.map(0x1000, 0x7000, size_4k, bit_p);  // supervisor, read-only
    tables.set_bits(0x1000, 3, bit(63));
    mmu::WalkRequest r = request(PagingMode::level4, tables.cr3(), 0x1000, Access::write);
    r.user = true;
    EXPECT_EQ(mmu::walk(r, memory).error_code, 0xfu);
}

}  // namespace
}  // namespace mmu_test
