// EPT misconfigurations one rule at a time (SDM Vol. 3C 29.3.3.1), their precedence over
// violations, and the EPTP VM-entry check (SDM Vol. 3C 27.2.1.1).
#include <string>

#include <gtest/gtest.h>

#include "mmu/ept.h"
#include "second_level_tables.h"

namespace mmu_test {
namespace {

using mmu::Access;
using mmu::EptFailure;
using mmu::EptMisconfig;

constexpr uint64_t gpa = 0x12345678;
constexpr uint64_t frame = 0x9000;

class EptMisconfiguration : public ::testing::Test {
protected:
    void map(uint64_t page_size, uint64_t leaf_flags = ept_rwx | ept_wb) {
        ept_.map(gpa, page_size == size_4k ? frame : 0, page_size, leaf_flags, ept_rwx);
    }
    mmu::EptWalkResult walk(Access access = Access::read) {
        return mmu::ept_walk(request(access), memory_);
    }
    mmu::EptWalkRequest request(Access access = Access::read) {
        mmu::EptWalkRequest r = ept_request(make_eptp(ept_.cr3(), 4, false), gpa, access);
        r.maxphyaddr_mask = (uint64_t{1} << 39) - 1;  // MAXPHYADDR 39: bits 51:39 reserved
        return r;
    }
    void expect(const mmu::EptWalkResult& r, EptMisconfig rule, int level) {
        EXPECT_FALSE(r.ok);
        EXPECT_EQ(r.failure, EptFailure::misconfiguration);
        EXPECT_EQ(r.misconfig, rule);
        EXPECT_EQ(r.misconfig_level, level);
    }
    FakeMemory memory_;
    PageTables ept_{memory_, mmu::PagingMode::level4};
};

TEST_F(EptMisconfiguration, write_only_and_write_execute_entries) {
    map(size_4k);
    ept_.set_entry(gpa, 1, (ept_.entry(gpa, 1) & ~ept_rwx) | ept_w);
    expect(walk(), EptMisconfig::write_only, 3);
    ept_.set_entry(gpa, 1, (ept_.entry(gpa, 1) & ~ept_rwx) | ept_w | ept_x);
    expect(walk(), EptMisconfig::write_execute, 3);
}

TEST_F(EptMisconfiguration, an_address_bit_at_or_above_maxphyaddr_at_every_level) {
    map(size_4k);
    for (int depth = 0; depth < 4; ++depth) {
        SCOPED_TRACE("depth " + std::to_string(depth));
        ept_.set_bits(gpa, depth, uint64_t{1} << 39);
        expect(walk(), EptMisconfig::reserved_bits, 4 - depth);
        ept_.clear_bits(gpa, depth, uint64_t{1} << 39);
        EXPECT_TRUE(walk().ok);
    }
}

TEST_F(EptMisconfiguration, bits_63_to_52_are_ignored) {
    map(size_4k);
    for (int depth = 0; depth < 4; ++depth) ept_.set_bits(gpa, depth, uint64_t{0xfff} << 52);
    EXPECT_TRUE(walk().ok);
}

TEST_F(EptMisconfiguration, bits_7_to_3_of_an_entry_that_references_a_table) {
    map(size_4k);
    for (int depth = 0; depth < 3; ++depth) {
        for (unsigned bit = 3; bit <= 7; ++bit) {
            SCOPED_TRACE("depth " + std::to_string(depth) + " bit " + std::to_string(bit));
            ept_.set_bits(gpa, depth, uint64_t{1} << bit);
            const mmu::EptWalkResult r = walk();
            // Bit 7 of a PDPTE or PDE turns it into a page instead (with reserved frame bits).
            if (bit == 7 && depth > 0) {
                EXPECT_EQ(r.failure, EptFailure::misconfiguration);
            } else {
                expect(r, EptMisconfig::reserved_bits, 4 - depth);
            }
            ept_.clear_bits(gpa, depth, uint64_t{1} << bit);
        }
    }
}

TEST_F(EptMisconfiguration, bit_7_of_a_pte_is_ignored) {
    map(size_4k);
    ept_.set_bits(gpa, 3, uint64_t{1} << 7);
    EXPECT_TRUE(walk().ok);
}

TEST_F(EptMisconfiguration, frame_bits_below_a_2m_page) {
    map(size_2m);
    ept_.set_bits(gpa, 2, uint64_t{1} << 12);
    expect(walk(), EptMisconfig::large_page_reserved_bits, 2);
    ept_.clear_bits(gpa, 2, uint64_t{1} << 12);
    ept_.set_bits(gpa, 2, uint64_t{1} << 20);
    expect(walk(), EptMisconfig::large_page_reserved_bits, 2);
}

TEST_F(EptMisconfiguration, frame_bits_below_a_1g_page) {
    map(size_1g);
    ept_.set_bits(gpa, 1, uint64_t{1} << 29);
    expect(walk(), EptMisconfig::large_page_reserved_bits, 3);
}

TEST_F(EptMisconfiguration, large_pages_without_the_capability) {
    map(size_2m);
    mmu::EptWalkRequest r = request();
    r.supported.pages_2m = false;
    expect(mmu::ept_walk(r, memory_), EptMisconfig::large_page_unsupported, 2);

    FakeMemory memory;
    PageTables ept(memory, mmu::PagingMode::level4);
    ept.map(gpa, 0, size_1g, ept_rwx | ept_wb, ept_rwx);
    r = ept_request(make_eptp(ept.cr3(), 4, false), gpa, Access::read);
    r.supported.pages_1g = false;
    expect(mmu::ept_walk(r, memory), EptMisconfig::large_page_unsupported, 3);
}

TEST_F(EptMisconfiguration, memory_types_2_3_and_7_of_the_leaf) {
    map(size_4k);
    for (uint64_t type : {2, 3, 7}) {
        SCOPED_TRACE("type " + std::to_string(type));
        ept_.set_entry(gpa, 3, frame | ept_rwx | ept_type(type));
        expect(walk(), EptMisconfig::invalid_memory_type, 1);
    }
}

TEST_F(EptMisconfiguration, a_not_present_entry_is_a_violation_whatever_its_other_bits) {
    map(size_4k);
    ept_.set_entry(gpa, 2, (uint64_t{1} << 45) | ept_type(7) | (uint64_t{1} << 7));
    const mmu::EptWalkResult r = walk();
    EXPECT_EQ(r.failure, EptFailure::violation);
    EXPECT_EQ(r.violation_bits, mmu::ept_qualification::read);
}

// SDM 29.3.3.2: a violation is only possible when the translation has no misconfiguration,
// even if an upper level already refused the access.
TEST_F(EptMisconfiguration, takes_precedence_over_a_violation_at_a_higher_level) {
    map(size_4k, ept_rwx | ept_type(3));
    ept_.clear_bits(gpa, 0, ept_w);  // the PML4E forbids writes
    expect(walk(Access::write), EptMisconfig::invalid_memory_type, 1);
}

TEST(Eptp, decodes_memory_type_walk_length_accessed_dirty_and_root) {
    const mmu::Eptp e = mmu::decode_eptp(0x123456000 | (4 << 3) | (1 << 6) | 6, (uint64_t{1} << 52) - 1);
    EXPECT_EQ(e.memory_type, 6);
    EXPECT_EQ(e.levels, 5);
    EXPECT_TRUE(e.accessed_dirty);
    EXPECT_EQ(e.root, 0x123456000u);
}

TEST(Eptp, vm_entry_accepts_supported_values_only) {
    mmu::EptCapabilities caps;
    const uint64_t mask = (uint64_t{1} << 39) - 1;
    EXPECT_TRUE(mmu::eptp_valid(make_eptp(0x5000, 4, false), caps, mask));
    EXPECT_TRUE(mmu::eptp_valid(make_eptp(0x5000, 4, true), caps, mask));
    EXPECT_TRUE(mmu::eptp_valid(0x5000 | (3 << 3) | 0, caps, mask));       // UC
    EXPECT_FALSE(mmu::eptp_valid(0x5000 | (3 << 3) | 1, caps, mask));      // WC
    EXPECT_FALSE(mmu::eptp_valid(make_eptp(0x5000, 5, false), caps, mask)); // no 5-level
    EXPECT_FALSE(mmu::eptp_valid(make_eptp(0x5000, 3, false), caps, mask));
    EXPECT_FALSE(mmu::eptp_valid(make_eptp(0x5000, 4, false) | (1 << 8), caps, mask));
    EXPECT_FALSE(mmu::eptp_valid(make_eptp(uint64_t{1} << 39, 4, false), caps, mask));
    caps.accessed_dirty = false;
    EXPECT_FALSE(mmu::eptp_valid(make_eptp(0x5000, 4, true), caps, mask));
    caps.walk_length_5 = true;
    EXPECT_TRUE(mmu::eptp_valid(make_eptp(0x5000, 5, false), caps, mask));
}

}  // namespace
}  // namespace mmu_test
