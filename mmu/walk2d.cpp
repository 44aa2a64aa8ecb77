// Two-dimensional walk: mmu::walk over guest-physical memory seen through the second level.
// Context: noexcept, no allocation; the guest walker stays unaware of virtualization.
#include "mmu/walk2d.h"

#include <algorithm>

namespace mmu {
namespace {

// Guest-physical memory for the guest's walker: each access to a guest paging-structure
// entry is translated first. The first failure ends the guest walk (the read or write
// returns false) and is remembered here to be reported as what it is.
class GuestPhysicalMemory final : public PhysicalAccess {
public:
    GuestPhysicalMemory(SecondLevel& second_level, PhysicalAccess& host) noexcept
        : second_level_(second_level), host_(host) {}

    bool read64(uint64_t gpa, uint64_t& value) override {
        uint64_t hpa = 0;
        return translate(gpa, Access::read, hpa) && host_ok(gpa, host_.read64(hpa, value));
    }
    bool read32(uint64_t gpa, uint32_t& value) override {
        uint64_t hpa = 0;
        return translate(gpa, Access::read, hpa) && host_ok(gpa, host_.read32(hpa, value));
    }
    bool write64(uint64_t gpa, uint64_t value) override {
        uint64_t hpa = 0;
        return translate(gpa, Access::write, hpa) && host_ok(gpa, host_.write64(hpa, value));
    }
    bool write32(uint64_t gpa, uint32_t value) override {
        uint64_t hpa = 0;
        return translate(gpa, Access::write, hpa) && host_ok(gpa, host_.write32(hpa, value));
    }

    bool failed = false;
    Walk2dFault failure = Walk2dFault::none;
    uint64_t failed_gpa = 0;
    unsigned nested_references = 0;

private:
    bool translate(uint64_t gpa, Access access, uint64_t& hpa) noexcept {
        const SecondLevelResult result = second_level_.translate(gpa, access, true);
        // Only the read walks the second level; the A/D write-back reuses its translation.
        if (access == Access::read) nested_references += result.references;
        if (!result.ok) {
            fail(gpa, result.failure == SecondLevelFailure::bus_error ? Walk2dFault::bus_error
                                                                      : Walk2dFault::nested_fault);
            return false;
        }
        hpa = result.host_physical;
        return true;
    }
    bool host_ok(uint64_t gpa, bool in_ram) noexcept {
        if (!in_ram) fail(gpa, Walk2dFault::bus_error);
        return in_ram;
    }
    void fail(uint64_t gpa, Walk2dFault kind) noexcept {
        failed = true;
        failure = kind;
        failed_gpa = gpa;
    }

    SecondLevel& second_level_;
    PhysicalAccess& host_;
};

}  // namespace

Walk2dResult walk_2d(const WalkRequest& guest, SecondLevel& second_level,
                     PhysicalAccess& host_memory) noexcept {
    GuestPhysicalMemory guest_memory(second_level, host_memory);
    Walk2dResult result;
    result.guest = walk(guest, guest_memory);
    result.guest_references = result.guest.references;
    result.nested_references = guest_memory.nested_references;
    if (guest_memory.failed) {
        result.fault = guest_memory.failure;
        result.failed_guest_physical = guest_memory.failed_gpa;
        result.failed_on_paging_structure = true;
        return result;
    }
    if (!result.guest.ok) {
        // Every access went through guest_memory, so a bus error would have been recorded.
        result.fault = Walk2dFault::guest_page_fault;
        return result;
    }
    result.guest_physical = result.guest.physical;
    const SecondLevelResult final_translation =
        second_level.translate(result.guest_physical, guest.access, false);
    result.nested_references += final_translation.references;
    if (!final_translation.ok) {
        result.fault = final_translation.failure == SecondLevelFailure::bus_error
                           ? Walk2dFault::bus_error
                           : Walk2dFault::nested_fault;
        result.failed_guest_physical = result.guest_physical;
        result.failed_on_paging_structure = false;
        return result;
    }
    result.ok = true;
    result.host_physical = final_translation.host_physical;
    result.page_size = std::min(result.guest.page_size, final_translation.page_size);
    return result;
}

}  // namespace mmu
