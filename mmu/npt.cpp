// Nested-page-table walk for SVM (AMD APM Vol. 2 15.25): the host-mode walk of mmu::walk
// with the nested-paging access rules. Context: noexcept, no allocation.
#include "mmu/npt.h"

namespace mmu {

// APM 15.25.5 "Nested Table Walk": table walks for guest page tables are always treated as
// user writes at the nested level; the access to the guest page itself is a user access of
// its own kind; hCR0.WP is ignored. A user access is never subject to SMEP or SMAP, so those
// stay off. Nested PAE PDPTEs are read from memory at each walk: the host's PDPTE registers
// belong to the host's CR3, not to nCR3 (hence no pae_pdptes).
WalkResult npt_walk(const NptWalkRequest& request, PhysicalAccess& memory) noexcept {
    WalkRequest nested;
    nested.linear = request.guest_physical;
    nested.access = request.guest_paging_structure ? Access::write : request.access;
    nested.user = true;
    nested.mode = request.host_mode;
    nested.cr3 = request.ncr3;
    nested.cr0_wp = false;
    nested.cr4_pse = request.host_cr4_pse;
    nested.efer_nxe = request.host_efer_nxe;
    nested.maxphyaddr_mask = request.maxphyaddr_mask;
    return walk(nested, memory);
}

// APM 15.25.6: EXITINFO1 holds the #PF-format error code in its low bits, and bit 32 or 33
// says whether the nested fault hit the final guest-physical address or a guest table.
uint64_t npf_exit_info1(uint32_t error_code, bool guest_paging_structure) noexcept {
    return uint64_t{error_code} | (guest_paging_structure ? npf::guest_page_table : npf::final_translation);
}

SecondLevelResult NptTranslator::translate(uint64_t guest_physical, Access access,
                                           bool guest_paging_structure) noexcept {
    request_.guest_physical = guest_physical;
    request_.access = access;
    request_.guest_paging_structure = guest_paging_structure;
    last_ = npt_walk(request_, memory_);
    SecondLevelResult result;
    result.ok = last_.ok;
    result.failure = last_.ok ? SecondLevelFailure::none
                   : last_.bus_error ? SecondLevelFailure::bus_error
                                     : SecondLevelFailure::fault;
    result.host_physical = last_.physical;
    result.page_size = last_.page_size;
    result.references = last_.references;
    return result;
}

}  // namespace mmu
