// Not-present faults and their error codes (SDM Vol. 3A 4.7), and walks that leave RAM
// (a host-visible bus error, not a #PF).
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

class NotPresent : public ::testing::TestWithParam<ModeCase> {};

TEST_P(NotPresent, an_entry_at_any_level_faults_with_p_clear_and_stops_the_walk) {
    const ModeCase& c = GetParam();
    const uint64_t linear = 0x7fc01000;
    for (int depth = 0;; ++depth) {
        FakeMemory memory;
        PageTables tables(memory, c.mode);
        tables.map(linear, 0x5000, c.page_size, bit_p | bit_rw | bit_us);
        const int levels = tables.depth_count();
        const int leaf = c.page_size == size_4k ? levels - 1 : c.page_size == size_1g ? levels - 3 : levels - 2;
        if (depth > leaf) break;
        SCOPED_TRACE("depth " + std::to_string(depth));
        tables.clear_bits(linear, depth, bit_p);
        mmu::WalkRequest r = request(c.mode, tables.cr3(), linear, Access::write);
        r.user = true;
        r.cr4_pse = true;
        const mmu::WalkResult result = mmu::walk(r, memory);
        EXPECT_FALSE(result.ok);
        EXPECT_FALSE(result.bus_error);
        EXPECT_EQ(result.error_code, mmu::pf::write | mmu::pf::user);
        const int pdpte_registers = c.mode == PagingMode::pae ? 1 : 0;
        EXPECT_EQ(result.references, depth + 1 - pdpte_registers);
        EXPECT_EQ(memory.reads, depth + 1);
    }
}

const ModeCase mode_cases[] = {
    {"legacy32_4k", PagingMode::legacy32, size_4k}, {"legacy32_4m", PagingMode::legacy32, size_4m},
    {"pae_4k", PagingMode::pae, size_4k},           {"pae_2m", PagingMode::pae, size_2m},
    {"level4_4k", PagingMode::level4, size_4k},     {"level4_1g", PagingMode::level4, size_1g},
    {"level5_4k", PagingMode::level5, size_4k},     {"level5_2m", PagingMode::level5, size_2m},
};

INSTANTIATE_TEST_SUITE_P(Paging, NotPresent, ::testing::ValuesIn(mode_cases),
                         [](const auto& info) { return std::string(info.param.name); });

struct ErrorCodeCase {
    const char* name;
    PagingMode mode;
    Access access;
    bool user;
    bool implicit;
    bool nxe;
    bool smep;
    uint32_t expected;
};

void PrintTo(const ErrorCodeCase& c, std::ostream* os) { *os << c.name; }

// Error codes of not-present faults, written out by hand from SDM 4.7.
const ErrorCodeCase error_code_cases[] = {
    {"supervisor_read", PagingMode::level4, Access::read, false, false, false, false, 0x0},
    {"supervisor_write", PagingMode::level4, Access::write, false, false, false, false, 0x2},
    {"user_read", PagingMode::level4, Access::read, true, false, false, false, 0x4},
    {"user_write", PagingMode::level4, Access::write, true, false, false, false, 0x6},
    {"supervisor_fetch_without_nxe_or_smep", PagingMode::level4, Access::execute, false, false, false, false, 0x0},
    {"supervisor_fetch_with_nxe", PagingMode::level4, Access::execute, false, false, true, false, 0x10},
    {"supervisor_fetch_with_smep", PagingMode::level4, Access::execute, false, false, false, true, 0x10},
    {"user_fetch_with_nxe", PagingMode::level5, Access::execute, true, false, true, false, 0x14},
    {"user_fetch_without_nxe_or_smep", PagingMode::level4, Access::execute, true, false, false, false, 0x4},
    {"implicit_supervisor_write", PagingMode::level4, Access::write, false, true, false, false, 0x2},
    {"cpl3_request_also_marked_implicit_is_supervisor", PagingMode::level4, Access::write, true, true, false, false, 0x2},
    {"pae_fetch_with_nxe", PagingMode::pae, Access::execute, false, false, true, false, 0x10},
    {"pae_user_write", PagingMode::pae, Access::write, true, false, true, false, 0x6},
    {"legacy32_fetch_with_nxe_has_no_fetch_bit", PagingMode::legacy32, Access::execute, true, false, true, false, 0x4},
    {"legacy32_fetch_with_smep", PagingMode::legacy32, Access::execute, false, false, false, true, 0x10},
    {"legacy32_user_write", PagingMode::legacy32, Access::write, true, false, false, false, 0x6},
};

class NotPresentErrorCode : public ::testing::TestWithParam<ErrorCodeCase> {};

TEST_P(NotPresentErrorCode, describes_the_access_that_faulted) {
    const ErrorCodeCase& c = GetParam();
    FakeMemory memory;
    PageTables tables(memory, c.mode);
    tables.map(0x1000, 0x7000, size_4k, bit_rw | bit_us);  // leaf not present
    mmu::WalkRequest r = request(c.mode, tables.cr3(), 0x1000, c.access);
    r.user = c.user;
    r.implicit_supervisor = c.implicit;
    r.efer_nxe = c.nxe;
    r.cr4_smep = c.smep;
    const mmu::WalkResult result = mmu::walk(r, memory);
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.error_code, c.expected);
}

INSTANTIATE_TEST_SUITE_P(Paging, NotPresentErrorCode, ::testing::ValuesIn(error_code_cases),
                         [](const auto& info) { return std::string(info.param.name); });

// A protection fault happens on an existing translation: the result still describes it.
TEST(ProtectionFault, result_still_describes_the_translation) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::level4);
    tables.map(0x00200000, 0x00400000, size_2m, bit_p | bit_g);
    mmu::WalkRequest r = request(PagingMode::level4, tables.cr3(), 0x00212345, Access::write);
    r.cr0_wp = true;
    const mmu::WalkResult result = mmu::walk(r, memory);
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.error_code, mmu::pf::present | mmu::pf::write);
    EXPECT_EQ(result.physical, 0x00412345u);
    EXPECT_EQ(result.page_size, size_2m);
    EXPECT_FALSE(result.writable);
    EXPECT_FALSE(result.user_page);
    EXPECT_TRUE(result.global);
    EXPECT_EQ(result.references, 3);
}

// ---- Paging structures outside RAM -------------------------------------------------------

constexpr uint64_t not_ram = 0x80000000;  // FakeMemory's RAM ends at 2 MiB

void expect_bus_error(const mmu::WalkResult& result) {
    EXPECT_FALSE(result.ok);
    EXPECT_TRUE(result.bus_error);
    EXPECT_EQ(result.error_code, 0u);
}

TEST(BusError, when_cr3_points_outside_ram) {
    FakeMemory memory;
    const mmu::WalkResult result = mmu::walk(request(PagingMode::level4, not_ram, 0x1000), memory);
    expect_bus_error(result);
    EXPECT_EQ(result.references, 0);
}

TEST(BusError, when_a_pde_references_a_page_table_outside_ram) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::level4);
    tables.map(0x1000, 0x7000, size_4k, bit_p);
    tables.set_entry(0x1000, 2, not_ram | bit_p | bit_rw);
    const mmu::WalkResult result = mmu::walk(request(PagingMode::level4, tables.cr3(), 0x1000), memory);
    expect_bus_error(result);
    EXPECT_EQ(result.references, 3);
}

TEST(BusError, when_the_pae_pdpt_is_outside_ram) {
    FakeMemory memory;
    expect_bus_error(mmu::walk(request(PagingMode::pae, not_ram | 0x20, 0x1000), memory));
}

TEST(BusError, when_a_pae_pdpte_references_a_directory_outside_ram) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::pae);
    tables.map(0x1000, 0x7000, size_4k, bit_p);
    tables.set_entry(0x1000, 0, not_ram | bit_p);
    expect_bus_error(mmu::walk(request(PagingMode::pae, tables.cr3(), 0x1000), memory));
}

TEST(BusError, when_a_32_bit_pde_references_a_page_table_outside_ram) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::legacy32);
    tables.map(0x1000, 0x7000, size_4k, bit_p);
    tables.set_entry(0x1000, 0, not_ram | bit_p);
    expect_bus_error(mmu::walk(request(PagingMode::legacy32, tables.cr3(), 0x1000), memory));
}

TEST(BusError, when_a_5_level_pml5e_references_a_pml4_outside_ram) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::level5);
    tables.map(0x1000, 0x7000, size_4k, bit_p);
    tables.set_entry(0x1000, 0, (uint64_t{1} << 40) | bit_p | bit_rw);
    expect_bus_error(mmu::walk(request(PagingMode::level5, tables.cr3(), 0x1000), memory));
}

// Only paging structures are read: the page itself may be anything, even not RAM.
TEST(BusError, is_not_raised_for_a_page_frame_outside_ram) {
    FakeMemory memory;
    PageTables tables(memory, PagingMode::level4);
    tables.map(0x1000, 0x000ffffffffff000, size_4k, bit_p);
    const mmu::WalkResult result = mmu::walk(request(PagingMode::level4, tables.cr3(), 0x1000), memory);
    EXPECT_TRUE(result.ok);
    EXPECT_FALSE(result.bus_error);
}

}  // namespace
}  // namespace mmu_test
