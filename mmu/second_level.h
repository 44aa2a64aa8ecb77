// The second dimension of a guest translation: guest-physical to host-physical, behind one
// interface so that the two-dimensional walk (walk2d.h) serves EPT (ept.h) and NPT (npt.h).
// Context: the core's TLB-miss path in guest mode; noexcept, no allocation.
#pragma once
#include <cstdint>

#include "mmu/paging.h"

namespace mmu {

enum class SecondLevelFailure : uint8_t {
    none,
    fault,      // EPT violation or misconfiguration, or #NPF: the translator keeps the details
    bus_error,  // a second-level paging structure is not in RAM (host-side, not architectural)
};

struct SecondLevelResult {
    bool ok = false;
    SecondLevelFailure failure = SecondLevelFailure::none;
    uint64_t host_physical = 0;
    uint64_t page_size = 4096;  // of the second-level mapping (a TLB entry takes the smaller one)
    uint8_t references = 0;     // second-level paging-structure entries read
};

// Translates one guest-physical access. `guest_paging_structure` marks the processor's own
// accesses to guest paging-structure entries (reads, and writes that set A/D): EPT and NPT
// both treat them specially (SDM Vol. 3C 29.3.3.2 and 29.3.5; APM Vol. 2 15.25.5).
// A translator keeps the vendor-specific details of its last failure for the VM exit.
class SecondLevel {
public:
    virtual ~SecondLevel() = default;
    virtual SecondLevelResult translate(uint64_t guest_physical, Access access,
                                        bool guest_paging_structure) noexcept = 0;
};

}  // namespace mmu
