// Access rights (SDM Vol. 3A 4.6) and the #PF error codes of protection faults (4.7):
// a hand-checked table, then every combination against a transcription of the SDM's rules.
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "mmu/paging.h"
#include "page_tables.h"

namespace mmu_test {
namespace {

using mmu::Access;
using mmu::PagingMode;

enum class Who { user, supervisor, implicit };  // CPL 3, CPL < 3 explicit, implicit supervisor

// CPU controls, OR-able in the tables below.
constexpr unsigned wp = 1, nxe = 2, smep = 4, smap = 8, ac = 16;

mmu::WalkRequest rights_request(PagingMode mode, uint64_t cr3, uint64_t linear, Access access,
                                Who who, unsigned controls) {
    mmu::WalkRequest r = request(mode, cr3, linear, access);
    r.user = who == Who::user;
    r.implicit_supervisor = who == Who::implicit;
    r.cr4_pse = true;
    r.cr0_wp = controls & wp;
    r.efer_nxe = controls & nxe;
    r.cr4_smep = controls & smep;
    r.cr4_smap = controls & smap;
    r.rflags_ac = controls & ac;
    return r;
}

struct RightsCase {
    const char* name;
    Who who;
    Access access;
    uint64_t leaf;          // flags of the PTE besides P
    unsigned controls;
    uint32_t expected;      // 0: allowed; otherwise the #PF error code
    int upper_depth = -1;   // optionally change one upper entry (0 = PML4)
    uint64_t upper_clear = 0;
    uint64_t upper_set = 0;
};

void PrintTo(const RightsCase& c, std::ostream* os) { *os << c.name; }

constexpr uint32_t P = mmu::pf::present, W = mmu::pf::write, U = mmu::pf::user,
                   I = mmu::pf::fetch;

const RightsCase rights_cases[] = {
    {"user_reads_a_user_page", Who::user, Access::read, bit_us, 0, 0},
    {"user_reads_a_supervisor_page", Who::user, Access::read, bit_rw, 0, P | U},
    {"user_writes_a_read_only_user_page_even_with_wp_clear", Who::user, Access::write, bit_us, 0, P | W | U},
    {"user_writes_a_writable_user_page", Who::user, Access::write, bit_us | bit_rw, wp, 0},
    {"supervisor_writes_a_read_only_supervisor_page_with_wp_clear", Who::supervisor, Access::write, 0, 0, 0},
    {"supervisor_writes_a_read_only_supervisor_page_with_wp_set", Who::supervisor, Access::write, 0, wp, P | W},
    {"supervisor_writes_a_read_only_user_page_with_wp_clear", Who::supervisor, Access::write, bit_us, 0, 0},
    {"supervisor_writes_a_read_only_user_page_with_wp_set", Who::supervisor, Access::write, bit_us, wp, P | W},
    {"supervisor_reads_a_user_page_under_smap_with_ac_clear", Who::supervisor, Access::read, bit_us, smap, P},
    {"supervisor_reads_a_user_page_under_smap_with_ac_set", Who::supervisor, Access::read, bit_us, smap | ac, 0},
    {"implicit_read_of_a_user_page_under_smap_ignores_ac", Who::implicit, Access::read, bit_us, smap | ac, P},
    {"implicit_read_of_a_user_page_without_smap", Who::implicit, Access::read, bit_us, 0, 0},
    {"implicit_read_of_a_supervisor_page", Who::implicit, Access::read, bit_rw, smap, 0},
    {"implicit_write_of_a_user_page_under_smap_ignores_ac", Who::implicit, Access::write, bit_us | bit_rw, smap | ac, P | W},
    {"supervisor_writes_a_writable_user_page_under_smap_with_ac_set", Who::supervisor, Access::write, bit_us | bit_rw, wp | smap | ac, 0},
    {"supervisor_writes_a_read_only_user_page_under_smap_with_ac_and_wp_set", Who::supervisor, Access::write, bit_us, wp | smap | ac, P | W},
    {"supervisor_writes_a_read_only_user_page_under_smap_with_ac_set_and_wp_clear", Who::supervisor, Access::write, bit_us, smap | ac, 0},
    {"supervisor_writes_a_user_page_under_smap_with_ac_clear_even_with_wp_clear", Who::supervisor, Access::write, bit_us | bit_rw, smap, P | W},
    {"supervisor_fetches_from_a_user_page_under_smep", Who::supervisor, Access::execute, bit_us, smep, P | I},
    {"supervisor_fetches_from_a_user_page_without_smep", Who::supervisor, Access::execute, bit_us, 0, 0},
    {"supervisor_fetches_from_a_supervisor_page_under_smep", Who::supervisor, Access::execute, 0, smep, 0},
    {"user_fetches_from_a_user_page_under_smep", Who::user, Access::execute, bit_us, smep, 0},
    {"user_fetch_from_a_supervisor_page_without_nxe_or_smep_has_no_fetch_bit", Who::user, Access::execute, 0, 0, P | U},
    {"user_fetch_from_a_supervisor_page_with_nxe_has_the_fetch_bit", Who::user, Access::execute, 0, nxe, P | U | I},
    {"supervisor_fetches_from_an_xd_page_with_nxe", Who::supervisor, Access::execute, bit_xd, nxe, P | I},
    {"user_fetches_from_an_xd_user_page_with_nxe", Who::user, Access::execute, bit_us | bit_xd, nxe, P | U | I},
    {"supervisor_writes_an_xd_page", Who::supervisor, Access::write, bit_rw | bit_xd, nxe | wp, 0},
    {"user_reads_an_xd_user_page", Who::user, Access::read, bit_us | bit_xd, nxe, 0},
    {"supervisor_fetch_ignores_smap", Who::supervisor, Access::execute, bit_us, smap, 0},
    {"supervisor_fetch_ignores_wp_and_rw", Who::supervisor, Access::execute, 0, wp, 0},
    {"supervisor_read_ignores_smep", Who::supervisor, Access::read, bit_us, smep, 0},
    {"user_read_ignores_smap_and_smep", Who::user, Access::read, bit_us, smap | smep, 0},
    {"user_read_fails_when_only_the_pml4e_clears_us", Who::user, Access::read, bit_us | bit_rw, 0, P | U, 0, bit_us},
    {"supervisor_write_fails_when_only_the_pdpte_clears_rw_under_wp", Who::supervisor, Access::write, bit_rw, wp, P | W, 1, bit_rw},
    {"user_fetch_fails_when_only_the_pde_sets_xd", Who::user, Access::execute, bit_us | bit_rw, nxe, P | U | I, 2, 0, bit_xd},
    {"smep_spares_a_user_pte_under_a_supervisor_pde", Who::supervisor, Access::execute, bit_us, smep, 0, 2, bit_us},
    {"smap_spares_a_user_pte_under_a_supervisor_pdpte", Who::supervisor, Access::read, bit_us, smap, 0, 1, bit_us},
    {"user_write_fails_when_only_the_pml4e_clears_rw", Who::user, Access::write, bit_us | bit_rw, 0, P | W | U, 0, bit_rw},
};

class AccessRights : public ::testing::TestWithParam<RightsCase> {};

TEST_P(AccessRights, follow_sdm_4_6_in_4_level_paging) {
    const RightsCase& c = GetParam();
    FakeMemory memory;
    PageTables tables(memory, PagingMode::level4);
    const uint64_t linear = 0x00007f0000201000;
    tables.map(linear, 0x5000, size_4k, bit_p | c.leaf);
    if (c.upper_depth >= 0) {
        tables.clear_bits(linear, c.upper_depth, c.upper_clear);
        tables.set_bits(linear, c.upper_depth, c.upper_set);
    }
    const mmu::WalkResult result = mmu::walk(
        rights_request(PagingMode::level4, tables.cr3(), linear, c.access, c.who, c.controls), memory);
    EXPECT_FALSE(result.bus_error);
    if (c.expected == 0) {
        EXPECT_TRUE(result.ok) << "error code 0x" << std::hex << result.error_code;
        EXPECT_EQ(result.physical, 0x5000u);
    } else {
        EXPECT_FALSE(result.ok);
        EXPECT_EQ(result.error_code, c.expected);
    }
}

INSTANTIATE_TEST_SUITE_P(Paging, AccessRights, ::testing::ValuesIn(rights_cases),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- Every combination, against the SDM's text ------------------------------------------

struct Combo {
    bool rw_clear, us_clear, xd_set;  // somewhere on the path (at rw_depth, us_depth, xd_depth)
    int rw_depth, us_depth, xd_depth;
    unsigned controls;
    Access access;
    Who who;
};

enum class Outcome { allowed, protection_fault, reserved_fault };

// SDM 4.6.1, clause by clause: supervisor-mode accesses, then user-mode accesses.
bool sdm_allows(PagingMode mode, const Combo& c) {
    const bool user_address = !c.us_clear;   // U/S = 1 in every entry
    const bool all_rw = !c.rw_clear;         // R/W = 1 in every entry
    const bool xd_forbids = mode != PagingMode::legacy32 && (c.controls & nxe) && c.xd_set;
    const bool wp_on = c.controls & wp, smap_on = c.controls & smap, ac_on = c.controls & ac;
    const bool explicit_access = c.who != Who::implicit;
    if (c.who == Who::user) {
        if (c.access == Access::read) return user_address;
        if (c.access == Access::write) return user_address && all_rw;
        return user_address && !xd_forbids;
    }
    switch (c.access) {
    case Access::read:
        if (!user_address) return true;
        if (!smap_on) return true;
        return ac_on && explicit_access;
    case Access::write:
        if (!user_address) return !wp_on || all_rw;
        if (!wp_on) return !smap_on || (ac_on && explicit_access);
        if (!smap_on) return all_rw;
        return ac_on && explicit_access && all_rw;
    case Access::execute:
        if (user_address && (c.controls & smep)) return false;
        return !xd_forbids;
    }
    return false;
}

Outcome sdm_outcome(PagingMode mode, const Combo& c) {
    if (c.xd_set && !(c.controls & nxe)) return Outcome::reserved_fault;  // SDM 4.4.2, 4.5.4
    return sdm_allows(mode, c) ? Outcome::allowed : Outcome::protection_fault;
}

// SDM 4.7.
uint32_t sdm_error_code(PagingMode mode, const Combo& c, Outcome outcome) {
    uint32_t code = P;
    if (outcome == Outcome::reserved_fault) code |= mmu::pf::reserved;
    if (c.access == Access::write) code |= W;
    if (c.who == Who::user) code |= U;
    const bool pae_nxe = mode != PagingMode::legacy32 && (c.controls & nxe);
    if (c.access == Access::execute && ((c.controls & smep) || pae_nxe)) code |= I;
    return code;
}

std::string describe(const Combo& c) {
    const char* who = c.who == Who::user ? "user" : c.who == Who::supervisor ? "supervisor" : "implicit";
    std::ostringstream out;
    out << who << ' ' << to_string(c.access) << (c.rw_clear ? " R/W=0@" : " R/W=1@") << c.rw_depth
        << (c.us_clear ? " U/S=0@" : " U/S=1@") << c.us_depth << (c.xd_set ? " XD=1@" : " XD=0@")
        << c.xd_depth << ((c.controls & wp) ? " WP" : "") << ((c.controls & nxe) ? " NXE" : "")
        << ((c.controls & smep) ? " SMEP" : "") << ((c.controls & smap) ? " SMAP" : "")
        << ((c.controls & ac) ? " AC" : "");
    return out.str();
}

struct MatrixCase {
    const char* name;
    PagingMode mode;
    uint64_t page_size;
};

void PrintTo(const MatrixCase& c, std::ostream* os) { *os << c.name; }

class AccessRightsMatrix : public ::testing::TestWithParam<MatrixCase> {
protected:
    void SetUp() override {
        tables_.map(linear_, 0x6000 * (GetParam().page_size == size_4k), GetParam().page_size, bit_p);
        const int depth_of_leaf = leaf_depth();
        for (int depth = 0; depth <= depth_of_leaf; ++depth) {
            base_[depth] = tables_.entry(linear_, depth) & ~(bit_rw | bit_us | bit_xd | bit_a | bit_d);
        }
    }

    int leaf_depth() const {
        const uint64_t size = GetParam().page_size;
        const int levels = tables_.depth_count();
        return size == size_4k ? levels - 1 : size == size_1g ? levels - 3 : levels - 2;
    }
    // PAE PDPTEs carry no rights: the first entry that can restrict is the PDE.
    int first_rights_depth() const { return GetParam().mode == PagingMode::pae ? 1 : 0; }

    void write_entries(const Combo& c) {
        for (int depth = 0; depth <= leaf_depth(); ++depth) {
            uint64_t value = base_[depth];
            if (depth >= first_rights_depth()) {
                if (!(c.rw_clear && depth == c.rw_depth)) value |= bit_rw;
                if (!(c.us_clear && depth == c.us_depth)) value |= bit_us;
                if (c.xd_set && depth == c.xd_depth) value |= bit_xd;
            }
            tables_.set_entry(linear_, depth, value);
        }
    }

    FakeMemory memory_{std::size_t{1} << 20};
    PageTables tables_{memory_, GetParam().mode};
    const uint64_t linear_ = 0x40000000;
    uint64_t base_[5] = {};
};

TEST_P(AccessRightsMatrix, every_combination_matches_the_sdm_rules) {
    const PagingMode mode = GetParam().mode;
    const int first = first_rights_depth();
    const int span = leaf_depth() - first + 1;
    const int xd_options = mode == PagingMode::legacy32 ? 1 : 2;  // 4-byte entries have no XD
    int index = 0, checked = 0, failures = 0;
    for (int flags = 0; flags < 4 * xd_options; ++flags)
    for (unsigned controls = 0; controls < 32; ++controls)
    for (Access access : {Access::read, Access::write, Access::execute})
    for (Who who : {Who::user, Who::supervisor, Who::implicit}) {
        ++index;
        const Combo c{(flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0,
                      first + index % span, first + (index / 3) % span, first + (index / 7) % span,
                      controls, access, who};
        write_entries(c);
        const mmu::WalkResult r = mmu::walk(
            rights_request(mode, tables_.cr3(), linear_, access, who, controls), memory_);
        const Outcome outcome = sdm_outcome(mode, c);
        const uint64_t leaf = tables_.entry(linear_, leaf_depth());
        std::ostringstream wrong;
        if (r.ok != (outcome == Outcome::allowed)) wrong << " ok=" << r.ok;
        if (!r.ok && r.error_code != sdm_error_code(mode, c, outcome)) {
            wrong << " error code 0x" << std::hex << r.error_code << std::dec;
        }
        const uint64_t expected_ad =
            outcome != Outcome::allowed ? 0 : access == Access::write ? bit_a | bit_d : bit_a;
        if ((leaf & (bit_a | bit_d)) != expected_ad) wrong << " leaf A/D wrong";
        if (outcome != Outcome::reserved_fault) {
            const bool executable = !(c.xd_set && (controls & nxe) && mode != PagingMode::legacy32);
            if (r.writable == c.rw_clear || r.user_page == c.us_clear || r.executable != executable) {
                wrong << " rights W" << r.writable << " U" << r.user_page << " X" << r.executable;
            }
            if (r.page_size != GetParam().page_size) wrong << " page size " << r.page_size;
        }
        if (r.bus_error) wrong << " bus error";
        ++checked;
        if (!wrong.str().empty() && ++failures <= 20) ADD_FAILURE() << describe(c) << ':' << wrong.str();
    }
    EXPECT_EQ(failures, 0) << "of " << checked << " combinations";
    EXPECT_EQ(checked, 4 * xd_options * 32 * 9);
}

const MatrixCase matrix_cases[] = {
    {"legacy32_4k", PagingMode::legacy32, size_4k}, {"legacy32_4m", PagingMode::legacy32, size_4m},
    {"pae_4k", PagingMode::pae, size_4k},           {"pae_2m", PagingMode::pae, size_2m},
    {"level4_4k", PagingMode::level4, size_4k},     {"level4_2m", PagingMode::level4, size_2m},
    {"level4_1g", PagingMode::level4, size_1g},     {"level5_4k", PagingMode::level5, size_4k},
    {"level5_2m", PagingMode::level5, size_2m},     {"level5_1g", PagingMode::level5, size_1g},
};

INSTANTIATE_TEST_SUITE_P(Paging, AccessRightsMatrix, ::testing::ValuesIn(matrix_cases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace mmu_test
