// Nested-page-table walks (AMD APM Vol. 2 15.25.5): every access is a user access, walks of
// guest tables are user writes; #NPF EXITINFO1 with bits 32/33 (APM 15.25.6).
#include <memory>

#include <gtest/gtest.h>

#include "mmu/npt.h"
#include "second_level_tables.h"

namespace mmu_test {
namespace {

using mmu::Access;
using mmu::PagingMode;

constexpr uint64_t gpa = 0x12345678;
constexpr uint64_t frame = 0x9000;

class Npt : public ::testing::Test {
protected:
    void map(uint64_t leaf_flags, PagingMode mode = PagingMode::level4) {
        nested_ = std::make_unique<PageTables>(memory_, mode);
        nested_->map(gpa, frame, size_4k, leaf_flags);
        mode_ = mode;
    }
    mmu::WalkResult walk(Access access, bool guest_table = false, bool nxe = true) {
        mmu::NptWalkRequest r = npt_request(nested_->cr3(), gpa, access);
        r.guest_paging_structure = guest_table;
        r.host_mode = mode_;
        r.host_efer_nxe = nxe;
        return mmu::npt_walk(r, memory_);
    }
    FakeMemory memory_;
    std::unique_ptr<PageTables> nested_;
    PagingMode mode_ = PagingMode::level4;
};

TEST_F(Npt, translates_with_the_host_format_and_four_references) {
    map(bit_p | bit_rw | bit_us);
    const mmu::WalkResult r = walk(Access::write);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.physical, frame | (gpa & 0xfff));
    EXPECT_EQ(r.references, 4);
}

TEST_F(Npt, a_supervisor_only_page_refuses_every_access_as_a_user_access) {
    map(bit_p | bit_rw);
    for (Access access : {Access::read, Access::write, Access::execute}) {
        const mmu::WalkResult r = walk(access);
        EXPECT_FALSE(r.ok) << to_string(access);
        const uint32_t kind = access == Access::write ? mmu::pf::write
                              : access == Access::execute ? mmu::pf::fetch : 0;
        EXPECT_EQ(r.error_code, mmu::pf::present | mmu::pf::user | kind) << to_string(access);
    }
}

TEST_F(Npt, a_supervisor_only_table_entry_refuses_too) {
    map(bit_p | bit_rw | bit_us);
    nested_->clear_bits(gpa, 1, bit_us);
    EXPECT_EQ(walk(Access::read).error_code, mmu::pf::present | mmu::pf::user);
}

TEST_F(Npt, nx_refuses_fetches_when_the_host_has_efer_nxe) {
    map(bit_p | bit_rw | bit_us | bit_xd);
    const mmu::WalkResult r = walk(Access::execute);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error_code, 0x15u);  // P, U/S, I/D
    EXPECT_TRUE(walk(Access::read).ok);
}

TEST_F(Npt, nx_without_host_efer_nxe_is_a_reserved_bit) {
    map(bit_p | bit_rw | bit_us | bit_xd);
    EXPECT_EQ(walk(Access::read, false, false).error_code, 0xDu);  // P, U/S, RSVD
}

TEST_F(Npt, a_guest_table_walk_is_a_user_write_even_for_a_read) {
    map(bit_p | bit_us);  // read-only
    EXPECT_TRUE(walk(Access::read).ok);
    const mmu::WalkResult r = walk(Access::read, true);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error_code, 0x7u);  // P, W, U/S
    EXPECT_EQ(mmu::npf_exit_info1(r.error_code, true), 0x200000007u);
}

TEST_F(Npt, a_guest_table_walk_sets_the_nested_dirty_flag) {
    map(bit_p | bit_rw | bit_us);
    ASSERT_TRUE(walk(Access::read, true).ok);
    EXPECT_TRUE(nested_->entry(gpa, 3) & bit_d);
}

TEST_F(Npt, a_final_access_fault_sets_bit_32) {
    map(bit_p | bit_us);
    const mmu::WalkResult r = walk(Access::write);
    EXPECT_EQ(r.error_code, 0x7u);
    EXPECT_EQ(mmu::npf_exit_info1(r.error_code, false), 0x100000007u);
}

TEST_F(Npt, a_not_present_nested_entry_has_p_clear) {
    map(bit_p | bit_rw | bit_us);
    nested_->clear_bits(gpa, 2, bit_p);
    const mmu::WalkResult r = walk(Access::read);
    EXPECT_EQ(r.error_code, mmu::pf::user);
    EXPECT_EQ(mmu::npf_exit_info1(r.error_code, false), 0x100000004u);
    EXPECT_EQ(r.references, 3);
}

TEST_F(Npt, pae_and_legacy_hosts_use_their_own_table_formats) {
    map(bit_p | bit_rw | bit_us, PagingMode::pae);
    mmu::WalkResult r = walk(Access::read);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.physical, frame | (gpa & 0xfff));
    map(bit_p | bit_rw | bit_us, PagingMode::legacy32);
    r = walk(Access::read);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.physical, frame | (gpa & 0xfff));
    EXPECT_EQ(r.references, 2);
}

}  // namespace
}  // namespace mmu_test
