// EPT walks (SDM Vol. 3C 29.3): rights ANDed over the levels, violations with their exact
// qualification bits, execute-only, 2M/1G pages, 5 levels, EPT A/D flags, memory types.
#include <string>

#include <gtest/gtest.h>

#include "mmu/ept.h"
#include "second_level_tables.h"

namespace mmu_test {
namespace {

using mmu::Access;
using mmu::EptFailure;
using mmu::EptMisconfig;
namespace q = mmu::ept_qualification;

constexpr uint64_t gpa = 0x12345678;
constexpr uint64_t frame = 0x9000;

uint64_t access_bit(Access access) {
    return access == Access::read ? q::read : access == Access::write ? q::write : q::execute;
}

// One entry on the path gets rights 0..7, the others RWX; every access type is tried.
TEST(EptPermissions, every_rights_value_at_every_level_gives_ok_violation_or_misconfiguration) {
    for (int depth = 0; depth < 4; ++depth) {
        for (uint64_t rights = 0; rights < 8; ++rights) {
            for (Access access : {Access::read, Access::write, Access::execute}) {
                FakeMemory memory;
                PageTables ept(memory, mmu::PagingMode::level4);
                ept.map(gpa, frame, size_4k, ept_rwx | ept_wb, ept_rwx);
                ept.set_entry(gpa, depth, (ept.entry(gpa, depth) & ~ept_rwx) | rights);
                SCOPED_TRACE("depth " + std::to_string(depth) + " rights " + std::to_string(rights) +
                             " " + to_string(access));
                const mmu::EptWalkResult r =
                    mmu::ept_walk(ept_request(make_eptp(ept.cr3(), 4, false), gpa, access), memory);
                if (rights == ept_w || rights == (ept_w | ept_x)) {
                    EXPECT_EQ(r.failure, EptFailure::misconfiguration);
                    EXPECT_EQ(r.misconfig, rights == ept_w ? EptMisconfig::write_only
                                                           : EptMisconfig::write_execute);
                    EXPECT_EQ(r.misconfig_level, 4 - depth);
                    continue;
                }
                const bool allowed = rights & (access == Access::read    ? ept_r
                                               : access == Access::write ? ept_w
                                                                         : ept_x);
                EXPECT_EQ(r.ok, allowed);
                if (allowed) {
                    EXPECT_EQ(r.host_physical, frame | (gpa & 0xfff));
                    EXPECT_EQ(r.failure, EptFailure::none);
                } else {
                    EXPECT_EQ(r.failure, EptFailure::violation);
                    EXPECT_EQ(r.violation_bits, access_bit(access) | (rights << 3));
                }
                // A not-present entry ends the walk; otherwise all four entries are read.
                EXPECT_EQ(r.references, rights == 0 ? depth + 1 : 4);
            }
        }
    }
}

TEST(EptPermissions, a_write_to_a_read_execute_page_reports_exactly_write_readable_executable) {
    FakeMemory memory;
    PageTables ept(memory, mmu::PagingMode::level4);
    ept.map(gpa, frame, size_4k, ept_r | ept_x | ept_wb, ept_rwx);
    const mmu::EptWalkResult r =
        mmu::ept_walk(ept_request(make_eptp(ept.cr3(), 4, false), gpa, Access::write), memory);
    EXPECT_EQ(r.failure, EptFailure::violation);
    EXPECT_EQ(r.violation_bits, 0x2Au);  // bit 1 (write), bit 3 (readable), bit 5 (executable)
    EXPECT_TRUE(r.readable);
    EXPECT_FALSE(r.writable);
    EXPECT_TRUE(r.executable);
}

TEST(EptPermissions, rights_are_the_and_of_all_levels) {
    FakeMemory memory;
    PageTables ept(memory, mmu::PagingMode::level4);
    ept.map(gpa, frame, size_4k, ept_r | ept_w | ept_wb, ept_rwx);
    ept.set_entry(gpa, 1, (ept.entry(gpa, 1) & ~ept_rwx) | ept_r | ept_x);  // PDPTE: no W
    const mmu::EptWalkResult r =
        mmu::ept_walk(ept_request(make_eptp(ept.cr3(), 4, false), gpa, Access::read), memory);
    ASSERT_TRUE(r.ok);
    EXPECT_TRUE(r.readable);
    EXPECT_FALSE(r.writable);    // PDPTE
    EXPECT_FALSE(r.executable);  // PTE
}

TEST(EptExecuteOnly, is_a_translation_for_fetches_when_supported) {
    FakeMemory memory;
    PageTables ept(memory, mmu::PagingMode::level4);
    ept.map(gpa, frame, size_4k, ept_x | ept_wb, ept_rwx);
    mmu::EptWalkRequest request = ept_request(make_eptp(ept.cr3(), 4, false), gpa, Access::execute);
    EXPECT_TRUE(mmu::ept_walk(request, memory).ok);
    request.access = Access::read;
    const mmu::EptWalkResult read = mmu::ept_walk(request, memory);
    EXPECT_EQ(read.failure, EptFailure::violation);
    EXPECT_EQ(read.violation_bits, q::read | q::executable);
}

TEST(EptExecuteOnly, is_a_misconfiguration_at_any_level_without_support) {
    for (int depth = 0; depth < 4; ++depth) {
        FakeMemory memory;
        PageTables ept(memory, mmu::PagingMode::level4);
        ept.map(gpa, frame, size_4k, ept_rwx | ept_wb, ept_rwx);
        ept.set_entry(gpa, depth, (ept.entry(gpa, depth) & ~ept_rwx) | ept_x);
        mmu::EptWalkRequest request = ept_request(make_eptp(ept.cr3(), 4, false), gpa, Access::execute);
        request.supported.execute_only = false;
        const mmu::EptWalkResult r = mmu::ept_walk(request, memory);
        SCOPED_TRACE("depth " + std::to_string(depth));
        EXPECT_EQ(r.failure, EptFailure::misconfiguration);
        EXPECT_EQ(r.misconfig, EptMisconfig::execute_only_unsupported);
        EXPECT_EQ(r.misconfig_level, 4 - depth);
    }
}

TEST(EptPages, a_2m_page_takes_gpa_bits_20_to_0_and_three_references) {
    FakeMemory memory;
    PageTables ept(memory, mmu::PagingMode::level4);
    ept.map(gpa, 0x40000000, size_2m, ept_rwx | ept_wb, ept_rwx);
    const mmu::EptWalkResult r =
        mmu::ept_walk(ept_request(make_eptp(ept.cr3(), 4, false), gpa, Access::write), memory);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.host_physical, 0x40000000u | (gpa & (size_2m - 1)));
    EXPECT_EQ(r.page_size, size_2m);
    EXPECT_EQ(r.references, 3);
}

TEST(EptPages, a_1g_page_takes_gpa_bits_29_to_0_and_two_references) {
    FakeMemory memory;
    PageTables ept(memory, mmu::PagingMode::level4);
    ept.map(gpa, 0x80000000, size_1g, ept_rwx | ept_wb, ept_rwx);
    const mmu::EptWalkResult r =
        mmu::ept_walk(ept_request(make_eptp(ept.cr3(), 4, false), gpa, Access::read), memory);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.host_physical, 0x80000000u | (gpa & (size_1g - 1)));
    EXPECT_EQ(r.page_size, size_1g);
    EXPECT_EQ(r.references, 2);
}

TEST(EptPages, a_5_level_walk_uses_gpa_bits_56_to_48_and_five_references) {
    const uint64_t high_gpa = (uint64_t{0x1a5} << 48) | gpa;
    FakeMemory memory;
    PageTables ept(memory, mmu::PagingMode::level5);
    ept.map(high_gpa, frame, size_4k, ept_rwx | ept_wb, ept_rwx);
    const mmu::EptWalkResult r =
        mmu::ept_walk(ept_request(make_eptp(ept.cr3(), 5, false), high_gpa, Access::read), memory);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.host_physical, frame | (gpa & 0xfff));
    EXPECT_EQ(r.references, 5);
    // The same address with another PML5 index is not mapped.
    const mmu::EptWalkResult other =
        mmu::ept_walk(ept_request(make_eptp(ept.cr3(), 5, false), gpa, Access::read), memory);
    EXPECT_EQ(other.failure, EptFailure::violation);
    EXPECT_EQ(other.references, 1);
}

TEST(EptMemoryType, comes_from_the_leaf_with_its_ipat_bit) {
    for (uint64_t type : {0, 1, 4, 5, 6}) {
        for (bool ipat : {false, true}) {
            FakeMemory memory;
            PageTables ept(memory, mmu::PagingMode::level4);
            ept.map(gpa, frame, size_4k, ept_rwx | ept_type(type) | (ipat ? ept_ipat : 0), ept_rwx);
            const mmu::EptWalkResult r =
                mmu::ept_walk(ept_request(make_eptp(ept.cr3(), 4, false), gpa, Access::read), memory);
            ASSERT_TRUE(r.ok);
            EXPECT_EQ(r.memory_type, type);
            EXPECT_EQ(r.ignore_pat, ipat);
        }
    }
}

class EptAccessedDirty : public ::testing::Test {
protected:
    void SetUp() override { ept_.map(gpa, frame, size_4k, ept_rwx | ept_wb, ept_rwx); }
    mmu::EptWalkResult walk(Access access, bool accessed_dirty, bool paging_structure = false) {
        mmu::EptWalkRequest r = ept_request(make_eptp(ept_.cr3(), 4, accessed_dirty), gpa, access);
        r.guest_paging_structure = paging_structure;
        return mmu::ept_walk(r, memory_);
    }
    FakeMemory memory_;
    PageTables ept_{memory_, mmu::PagingMode::level4};
};

TEST_F(EptAccessedDirty, a_read_sets_accessed_in_every_entry_and_dirty_nowhere) {
    ASSERT_TRUE(walk(Access::read, true).ok);
    for (int depth = 0; depth < 4; ++depth) {
        EXPECT_TRUE(ept_.entry(gpa, depth) & ept_a) << depth;
        EXPECT_FALSE(ept_.entry(gpa, depth) & ept_d) << depth;
    }
}

TEST_F(EptAccessedDirty, a_write_sets_dirty_in_the_leaf_only) {
    ASSERT_TRUE(walk(Access::write, true).ok);
    for (int depth = 0; depth < 4; ++depth) {
        EXPECT_TRUE(ept_.entry(gpa, depth) & ept_a) << depth;
        EXPECT_EQ((ept_.entry(gpa, depth) & ept_d) != 0, depth == 3) << depth;
    }
}

TEST_F(EptAccessedDirty, a_guest_paging_structure_read_counts_as_a_write_and_sets_dirty) {
    ASSERT_TRUE(walk(Access::read, true, true).ok);
    EXPECT_TRUE(ept_.entry(gpa, 3) & ept_d);
}

TEST_F(EptAccessedDirty, a_guest_paging_structure_read_of_a_read_only_page_is_a_write_violation) {
    ept_.clear_bits(gpa, 3, ept_w);
    const mmu::EptWalkResult r = walk(Access::read, true, true);
    EXPECT_EQ(r.failure, EptFailure::violation);
    EXPECT_EQ(r.violation_bits, q::read | q::write | q::readable | q::executable);
    EXPECT_FALSE(ept_.entry(gpa, 3) & (ept_a | ept_d));  // a refused access sets neither
}

TEST_F(EptAccessedDirty, without_ept_ad_a_guest_paging_structure_read_is_a_read) {
    ept_.clear_bits(gpa, 3, ept_w);
    const mmu::EptWalkResult r = walk(Access::read, false, true);
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(memory_.writes, 0);
}

TEST_F(EptAccessedDirty, with_ad_disabled_nothing_is_written) {
    ASSERT_TRUE(walk(Access::write, false).ok);
    EXPECT_EQ(memory_.writes, 0);
    for (int depth = 0; depth < 4; ++depth) EXPECT_FALSE(ept_.entry(gpa, depth) & (ept_a | ept_d));
}

TEST_F(EptAccessedDirty, flags_already_set_are_not_written_again) {
    ASSERT_TRUE(walk(Access::write, true).ok);
    const int writes = memory_.writes;
    EXPECT_EQ(writes, 4);  // A in three tables, A|D in the leaf in one write
    ASSERT_TRUE(walk(Access::write, true).ok);
    EXPECT_EQ(memory_.writes, writes);
}

TEST(EptBusError, a_table_outside_ram_is_a_bus_error_not_a_violation) {
    FakeMemory memory;
    PageTables ept(memory, mmu::PagingMode::level4);
    ept.map(gpa, frame, size_4k, ept_rwx | ept_wb, ept_rwx);
    ept.set_entry(gpa, 2, 0x7ff00000 | ept_rwx);  // the page table: beyond the 2 MiB of RAM
    const mmu::EptWalkResult r =
        mmu::ept_walk(ept_request(make_eptp(ept.cr3(), 4, false), gpa, Access::read), memory);
    EXPECT_EQ(r.failure, EptFailure::bus_error);
    EXPECT_EQ(r.references, 3);
}

TEST(EptQualification, composes_access_rights_linear_final_and_nmi_bits) {
    mmu::EptWalkResult violation;
    violation.failure = EptFailure::violation;
    violation.violation_bits = q::write | q::readable | q::executable;
    EXPECT_EQ(mmu::ept_violation_qualification(violation, {}), 0x2Au);
    mmu::EptViolationContext context;
    context.linear_valid = true;
    EXPECT_EQ(mmu::ept_violation_qualification(violation, context), 0xAAu);
    context.final_translation = true;
    EXPECT_EQ(mmu::ept_violation_qualification(violation, context), 0x1AAu);
    context.nmi_unblocking = true;
    EXPECT_EQ(mmu::ept_violation_qualification(violation, context), 0x11AAu);
    context.advanced_information = true;
    context.linear_user = true;
    context.linear_writable = false;
    context.linear_executable = false;
    EXPECT_EQ(mmu::ept_violation_qualification(violation, context), 0x1BAAu);  // bits 9, 11
}

TEST(EptQualification, bit_8_and_the_advanced_bits_need_bit_7) {
    mmu::EptWalkResult violation;
    violation.violation_bits = q::read;
    mmu::EptViolationContext context;
    context.final_translation = true;
    context.advanced_information = true;
    context.linear_user = true;
    EXPECT_EQ(mmu::ept_violation_qualification(violation, context), 0x1u);
}

}  // namespace
}  // namespace mmu_test
