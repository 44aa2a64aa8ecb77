// Two-dimensional walks under EPT and NPT: reference counts (4 x 4 levels => 24), nested
// faults on guest paging structures vs the final address, guest #PF passed through.
// Guest-physical [0, 1 MiB) lives at host-physical [1 MiB, 2 MiB), so an access through an
// untranslated address lands in the wrong place.
#include <memory>

#include <gtest/gtest.h>

#include "mmu/ept.h"
#include "mmu/npt.h"
#include "mmu/walk2d.h"
#include "second_level_tables.h"

namespace mmu_test {
namespace {

using mmu::Access;
using mmu::PagingMode;
using mmu::Walk2dFault;
namespace q = mmu::ept_qualification;

constexpr uint64_t guest_ram = 0x100000;
constexpr uint64_t host_offset = 0x100000;  // host-physical = guest-physical + 1 MiB
constexpr uint64_t linear = 0x40201abc;
constexpr uint64_t data_gpa = 0x9000;

class TwoDimensional : public ::testing::Test {
protected:
    void SetUp() override {
        guest_.map(linear, data_gpa, size_4k, bit_p | bit_rw | bit_us);
        for (uint64_t page = 0; page < guest_ram; page += size_4k) {
            ept_.map(page, page + host_offset, size_4k, ept_rwx | ept_wb, ept_rwx);
            npt_.map(page, page + host_offset, size_4k, bit_p | bit_rw | bit_us);
        }
    }

    // Each walk starts from the guest tables as built: they are copied into host RAM.
    void copy_guest_into_host() {
        for (uint64_t gpa = 0; gpa < guest_ram; gpa += 8) {
            host_.poke64(gpa + host_offset, guest_image_.peek64(gpa));
        }
    }

    mmu::WalkRequest guest_request(Access access, uint64_t address = linear) const {
        return request(PagingMode::level4, guest_.cr3(), address, access);
    }

    mmu::Walk2dResult walk_ept(const mmu::WalkRequest& guest, bool accessed_dirty = false) {
        copy_guest_into_host();
        ept_translator_ = std::make_unique<mmu::EptTranslator>(
            ept_request(make_eptp(ept_.cr3(), 4, accessed_dirty), 0, Access::read), host_);
        return mmu::walk_2d(guest, *ept_translator_, host_);
    }

    mmu::Walk2dResult walk_npt(const mmu::WalkRequest& guest) {
        copy_guest_into_host();
        npt_translator_ = std::make_unique<mmu::NptTranslator>(npt_request(npt_.cr3(), 0, Access::read), host_);
        return mmu::walk_2d(guest, *npt_translator_, host_);
    }

    uint64_t guest_entry_gpa(int depth) const { return guest_.entry_address(linear, depth); }

    FakeMemory host_{std::size_t{4} << 20};
    FakeMemory guest_image_{guest_ram};
    PageTables guest_{guest_image_, PagingMode::level4, 0x10000};
    PageTables ept_{host_, PagingMode::level4, 0x200000};
    PageTables npt_{host_, PagingMode::level4, 0x300000};
    std::unique_ptr<mmu::EptTranslator> ept_translator_;
    std::unique_ptr<mmu::NptTranslator> npt_translator_;
};

TEST_F(TwoDimensional, a_4_level_guest_under_4_level_ept_reads_24_entries) {
    const mmu::Walk2dResult r = walk_ept(guest_request(Access::read));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.fault, Walk2dFault::none);
    EXPECT_EQ(r.guest_physical, data_gpa | 0xabc);
    EXPECT_EQ(r.host_physical, data_gpa + host_offset + 0xabc);
    EXPECT_EQ(r.page_size, size_4k);
    EXPECT_EQ(r.guest_references, 4u);
    EXPECT_EQ(r.nested_references, 20u);
    EXPECT_EQ(r.references(), 24u);
}

TEST_F(TwoDimensional, a_4_level_guest_under_4_level_npt_reads_24_entries) {
    const mmu::Walk2dResult r = walk_npt(guest_request(Access::write));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.host_physical, data_gpa + host_offset + 0xabc);
    EXPECT_EQ(r.references(), 24u);
}

TEST_F(TwoDimensional, guest_accessed_and_dirty_flags_are_written_at_the_translated_address) {
    ASSERT_TRUE(walk_ept(guest_request(Access::write)).ok);
    const uint64_t pte_gpa = guest_entry_gpa(3);
    EXPECT_EQ(host_.peek64(pte_gpa + host_offset) & (bit_a | bit_d), bit_a | bit_d);
    EXPECT_EQ(host_.peek64(pte_gpa), 0u);  // nothing written at the untranslated address
}

TEST_F(TwoDimensional, a_guest_2m_page_takes_19_references_and_the_smaller_page_size) {
    const uint64_t large = 0x80005abc;
    guest_.map(large, 0, size_2m, bit_p | bit_rw);
    const mmu::Walk2dResult r = walk_ept(guest_request(Access::read, large));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.host_physical, host_offset + 0x5abc);
    EXPECT_EQ(r.references(), 19u);  // 3 guest entries, 3 x 4 nested, 4 for the final address
    EXPECT_EQ(r.page_size, size_4k);
}

TEST_F(TwoDimensional, with_guest_paging_off_only_the_final_address_is_translated) {
    mmu::WalkRequest guest = guest_request(Access::execute, 0x9abc);
    guest.mode = PagingMode::none;
    const mmu::Walk2dResult r = walk_ept(guest);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.host_physical, host_offset + 0x9abc);
    EXPECT_EQ(r.references(), 4u);
}

TEST_F(TwoDimensional, an_ept_violation_on_a_guest_pte_is_reported_as_a_paging_structure_fault) {
    const uint64_t pte_gpa = guest_entry_gpa(3);
    ept_.clear_bits(pte_gpa, 3, ept_rwx);
    const mmu::Walk2dResult r = walk_ept(guest_request(Access::write));
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.fault, Walk2dFault::nested_fault);
    EXPECT_EQ(r.failed_guest_physical, pte_gpa);
    EXPECT_TRUE(r.failed_on_paging_structure);
    EXPECT_EQ(r.references(), 3u + 3 * 4 + 4);  // the failed EPT walk read all four entries
    EXPECT_EQ(ept_translator_->last().violation_bits, q::read);
    mmu::EptViolationContext context;
    context.linear_valid = true;
    EXPECT_EQ(mmu::ept_violation_qualification(ept_translator_->last(), context), 0x81u);
}

TEST_F(TwoDimensional, with_ept_ad_a_read_only_guest_table_fails_on_the_read_as_a_write) {
    const uint64_t pde_gpa = guest_entry_gpa(2);
    ept_.clear_bits(pde_gpa, 3, ept_w);
    const mmu::Walk2dResult r = walk_ept(guest_request(Access::read), true);
    EXPECT_EQ(r.fault, Walk2dFault::nested_fault);
    EXPECT_EQ(r.failed_guest_physical, pde_gpa);
    EXPECT_EQ(r.guest_references, 2u);  // the PDE itself was never read
    EXPECT_EQ(ept_translator_->last().violation_bits, 0x2Bu);  // read, write, readable, executable
}

TEST_F(TwoDimensional, without_ept_ad_a_read_only_guest_table_fails_only_when_setting_accessed) {
    const uint64_t pte_gpa = guest_entry_gpa(3);
    ept_.clear_bits(pte_gpa, 3, ept_w);
    const mmu::Walk2dResult r = walk_ept(guest_request(Access::read));
    EXPECT_EQ(r.fault, Walk2dFault::nested_fault);
    EXPECT_EQ(r.failed_guest_physical, pte_gpa);
    EXPECT_TRUE(r.failed_on_paging_structure);
    EXPECT_EQ(ept_translator_->last().violation_bits, 0x2Au);  // write, readable, executable
    EXPECT_EQ(r.references(), 4u + 4 * 4);  // the A write-back reuses the read's translation

    guest_.set_bits(linear, 3, bit_a);  // nothing to write back: the walk succeeds
    EXPECT_TRUE(walk_ept(guest_request(Access::read)).ok);
}

TEST_F(TwoDimensional, an_ept_violation_on_the_final_address_is_reported_as_such) {
    ept_.clear_bits(data_gpa, 3, ept_w);
    const mmu::Walk2dResult r = walk_ept(guest_request(Access::write));
    EXPECT_EQ(r.fault, Walk2dFault::nested_fault);
    EXPECT_EQ(r.failed_guest_physical, data_gpa | 0xabc);
    EXPECT_FALSE(r.failed_on_paging_structure);
    EXPECT_EQ(r.references(), 24u);
    mmu::EptViolationContext context;
    context.linear_valid = true;
    context.final_translation = !r.failed_on_paging_structure;
    EXPECT_EQ(mmu::ept_violation_qualification(ept_translator_->last(), context), 0x1AAu);
}

TEST_F(TwoDimensional, a_guest_page_fault_is_passed_through_without_translating_the_final_address) {
    guest_.clear_bits(linear, 3, bit_p);
    const mmu::Walk2dResult r = walk_ept(guest_request(Access::write));
    EXPECT_EQ(r.fault, Walk2dFault::guest_page_fault);
    EXPECT_EQ(r.guest.error_code, mmu::pf::write);
    EXPECT_EQ(r.references(), 4u + 4 * 4);
}

TEST_F(TwoDimensional, a_guest_protection_fault_is_a_page_fault_even_if_ept_would_also_refuse) {
    guest_.set_entry(linear, 3, data_gpa | bit_p | bit_us);  // read-only for the guest
    ept_.clear_bits(data_gpa, 3, ept_w);
    mmu::WalkRequest guest = guest_request(Access::write);
    guest.user = true;
    const mmu::Walk2dResult r = walk_ept(guest);
    EXPECT_EQ(r.fault, Walk2dFault::guest_page_fault);
    EXPECT_EQ(r.guest.error_code, mmu::pf::present | mmu::pf::write | mmu::pf::user);
}

TEST_F(TwoDimensional, an_npt_fault_on_a_guest_table_is_a_user_write_with_exitinfo1_bit_33) {
    const uint64_t pdpte_gpa = guest_entry_gpa(1);
    npt_.clear_bits(pdpte_gpa, 3, bit_rw);
    const mmu::Walk2dResult r = walk_npt(guest_request(Access::read));
    EXPECT_EQ(r.fault, Walk2dFault::nested_fault);
    EXPECT_EQ(r.failed_guest_physical, pdpte_gpa);
    EXPECT_TRUE(r.failed_on_paging_structure);
    EXPECT_EQ(mmu::npf_exit_info1(npt_translator_->last().error_code, r.failed_on_paging_structure),
              0x200000007u);
}

TEST_F(TwoDimensional, an_npt_fault_on_the_final_address_sets_exitinfo1_bit_32) {
    npt_.clear_bits(data_gpa, 3, bit_us);
    const mmu::Walk2dResult r = walk_npt(guest_request(Access::read));
    EXPECT_EQ(r.fault, Walk2dFault::nested_fault);
    EXPECT_FALSE(r.failed_on_paging_structure);
    EXPECT_EQ(mmu::npf_exit_info1(npt_translator_->last().error_code, r.failed_on_paging_structure),
              0x100000005u);
}

TEST_F(TwoDimensional, a_guest_table_mapped_outside_host_ram_is_a_bus_error) {
    const uint64_t pte_gpa = guest_entry_gpa(3);
    ept_.set_entry(pte_gpa, 3, 0x7000000 | ept_rwx | ept_wb);
    const mmu::Walk2dResult r = walk_ept(guest_request(Access::read));
    EXPECT_EQ(r.fault, Walk2dFault::bus_error);
    EXPECT_EQ(r.failed_guest_physical, pte_gpa);
    EXPECT_TRUE(r.failed_on_paging_structure);
}

}  // namespace
}  // namespace mmu_test
