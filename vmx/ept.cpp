// EPT in VMX non-root operation (SDM Vol. 3C 29.3): every guest-physical access of the guest
// (paging-structure entries and final addresses) goes through the EPT paging structures of
// the EPTP (mmu/ept.h); a violation is exit 48 with the qualification of 28.2.1 Table 28-7,
// a misconfiguration exit 49 (29.3.3.1). Context: the core's TLB-miss path in guest mode.
#include "mmu/ept.h"

#include "vmx/controls.h"
#include "vmx/vmx.h"

namespace vmx {

namespace {

class PhysicalMemory final : public mmu::PhysicalAccess {
public:
    explicit PhysicalMemory(cpu::Core& c) : c_(c) {}
    bool read64(uint64_t pa, uint64_t& v) override { return c_.read_physical(pa, &v, 8); }
    bool read32(uint64_t pa, uint32_t& v) override { return c_.read_physical(pa, &v, 4); }
    bool write64(uint64_t pa, uint64_t v) override { return c_.write_physical(pa, &v, 8); }
    bool write32(uint64_t pa, uint32_t v) override { return c_.write_physical(pa, &v, 4); }

private:
    cpu::Core& c_;
};

}  // namespace

// The EPT features of IA32_VMX_EPT_VPID_CAP (A.10) in mmu's terms.
mmu::EptCapabilities ept_capabilities(const CapabilityMsrs& caps) {
    const uint64_t v = caps.ept_vpid_cap;
    mmu::EptCapabilities e;
    e.execute_only = v & 1;
    e.walk_length_4 = (v >> 6) & 1;
    e.walk_length_5 = (v >> 7) & 1;
    e.memory_type_uc = (v >> 8) & 1;
    e.memory_type_wb = (v >> 14) & 1;
    e.pages_2m = (v >> 16) & 1;
    e.pages_1g = (v >> 17) & 1;
    e.accessed_dirty = (v >> 21) & 1;
    return e;
}

bool Vmx::translate(cpu::Core& c, const cpu::GuestPhysicalAccess& a, uint64_t& hpa) {
    mmu::EptWalkRequest rq;
    rq.guest_physical = a.gpa;
    rq.access = a.kind == cpu::AccessKind::write ? mmu::Access::write
                : a.kind == cpu::AccessKind::execute ? mmu::Access::execute : mmu::Access::read;
    rq.guest_paging_structure = a.paging_structure;
    rq.eptp = vmcs_.get(VmcsField::ept_pointer);
    rq.supported = ept_capabilities(caps_);
    rq.maxphyaddr_mask = (uint64_t{1} << caps_.maxphyaddr) - 1;
    PhysicalMemory memory(c);
    const mmu::EptWalkResult r = mmu::ept_walk(rq, memory);
    if (r.ok) {
        hpa = r.host_physical;
        return true;
    }
    ExitInfo e;
    e.guest_physical = a.gpa;
    e.has_guest_physical = true;
    e.guest_linear = a.linear;
    e.has_guest_linear = a.linear_valid;
    if (r.failure == mmu::EptFailure::violation) {
        e.reason = static_cast<uint32_t>(ExitReason::ept_violation);
        mmu::EptViolationContext context;
        context.linear_valid = a.linear_valid;
        context.final_translation = a.linear_valid && !a.paging_structure;
        e.qualification = mmu::ept_violation_qualification(r, context);
    } else {
        // A misconfiguration, or EPT paging structures outside RAM: those read as all ones on
        // a PC, which sets reserved bits: a misconfiguration too (29.3.3.1).
        e.reason = static_cast<uint32_t>(ExitReason::ept_misconfiguration);
        e.has_guest_linear = false;
    }
    vm_exit(c, e);
    return false;
}

}  // namespace vmx
