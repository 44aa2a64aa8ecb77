// The two-dimensional walk of a guest linear address under EPT or NPT: the guest's own walk
// (mmu::walk) with every guest paging-structure access translated through the second level,
// then the translation of the final guest-physical address (SDM Vol. 3C 29.3.2 end, "the
// ultimate guest-physical address"; AMD APM Vol. 2 15.25.5 "Nested Table Walk").
// Context: the core's TLB-miss path in guest mode; noexcept, no allocation.
#pragma once
#include <cstdint>

#include "mmu/paging.h"
#include "mmu/second_level.h"

namespace mmu {

enum class Walk2dFault : uint8_t {
    none,
    guest_page_fault,  // the guest's walk faulted: deliver #PF (guest.error_code) to the guest
    nested_fault,      // EPT violation/misconfiguration or #NPF: the translator has the details
    bus_error,         // a structure or table was not in RAM (host-side diagnostic)
};

struct Walk2dResult {
    bool ok = false;
    Walk2dFault fault = Walk2dFault::none;
    uint64_t host_physical = 0;   // translation of the linear address
    uint64_t guest_physical = 0;  // its guest-physical address (when the guest walk succeeded)
    uint64_t page_size = 4096;    // the smaller of the guest page and the second-level page
    WalkResult guest;             // the guest's walk: #PF error code, rights of the page
    // On a nested fault or bus error: the guest-physical address whose translation (or access)
    // failed, and whether it was a guest paging-structure entry (EPT qualification bit 8 = 0,
    // #NPF EXITINFO1 bit 33) or the final address (bit 8 = 1, bit 32).
    uint64_t failed_guest_physical = 0;
    bool failed_on_paging_structure = false;
    unsigned guest_references = 0;   // guest paging-structure entries read
    unsigned nested_references = 0;  // second-level entries read, for every guest-physical access
    unsigned references() const { return guest_references + nested_references; }
};

// A 4-level guest walk under a 4-level second level with no TLB or paging-structure cache
// reads 4 x 4 + 4 + 4 = 24 entries. A/D write-backs to guest entries reuse the translation of
// the read (a locked read-modify-write of one entry) and add no second-level references.
Walk2dResult walk_2d(const WalkRequest& guest, SecondLevel& second_level,
                     PhysicalAccess& host_memory) noexcept;

}  // namespace mmu
