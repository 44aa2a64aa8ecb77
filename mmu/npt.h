// AMD nested paging: translation of a guest-physical address through the nested page tables
// at nCR3 (AMD APM Vol. 2 15.25 "Nested Paging"), and the #NPF EXITINFO1 (APM 15.25.6).
// Context: called by svm/ and by the two-dimensional walk; the nested tables have the format
// of the host's paging mode, so the walk is mmu::walk (paging.h) with nested-paging rules.
#pragma once
#include <cstdint>

#include "mmu/paging.h"
#include "mmu/second_level.h"

namespace mmu {

struct NptWalkRequest {
    uint64_t guest_physical = 0;
    Access access = Access::read;
    // The processor's access to a guest paging-structure entry: a user write at the nested
    // level, whatever the guest access (APM 15.25.5).
    bool guest_paging_structure = false;
    // The host's paging state (the one VMRUN saved): the nested tables have its format.
    PagingMode host_mode = PagingMode::level4;
    uint64_t ncr3 = 0;
    bool host_cr4_pse = false;
    bool host_efer_nxe = false;
    uint64_t maxphyaddr_mask = (uint64_t{1} << 52) - 1;
};

// The nested walk's WalkResult: `physical` is the host-physical address; when !ok and not a
// bus error, `error_code` is the #PF-format low half of EXITINFO1.
WalkResult npt_walk(const NptWalkRequest& request, PhysicalAccess& memory) noexcept;

// #NPF EXITINFO1 bits above the error code (APM 15.25.6).
namespace npf {
inline constexpr uint64_t final_translation = uint64_t{1} << 32;  // translating the final gPA
inline constexpr uint64_t guest_page_table = uint64_t{1} << 33;   // translating a guest table
}  // namespace npf

// EXITINFO1 of the #NPF for a failed npt_walk; EXITINFO2 is the faulting guest-physical address.
uint64_t npf_exit_info1(uint32_t error_code, bool guest_paging_structure) noexcept;

// NPT behind the SecondLevel interface: the host paging state is kept; last() holds the
// nested walk of the latest call (its error_code feeds npf_exit_info1).
class NptTranslator final : public SecondLevel {
public:
    NptTranslator(const NptWalkRequest& configuration, PhysicalAccess& host_memory) noexcept
        : request_(configuration), memory_(host_memory) {}
    SecondLevelResult translate(uint64_t guest_physical, Access access,
                                bool guest_paging_structure) noexcept override;
    const WalkResult& last() const noexcept { return last_; }

private:
    NptWalkRequest request_;
    PhysicalAccess& memory_;
    WalkResult last_;
};

}  // namespace mmu
