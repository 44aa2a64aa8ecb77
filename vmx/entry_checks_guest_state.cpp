// Checks on the guest non-register state (Intel SDM Vol. 3C 27.3.1.5: activity state,
// interruptibility state, pending debug exceptions, VMCS link pointer) and on the PDPTEs
// (27.3.1.6). Failure: exit reason 33 with qualification 0, 2 (PDPTEs), 3 (NMI injection
// under STI blocking) or 4 (link pointer) (27.8). Context: vmx/ VM entry (rare path).
#include "vmx/entry_checks_internal.h"

namespace vmx::entry {

namespace {

enum Activity : uint32_t { active = 0, hlt = 1, shutdown = 2, wait_for_sipi = 3 };
// Interruptibility state (SDM Table 25-3).
constexpr uint32_t kBlockingSti = 1u << 0, kBlockingMovSs = 1u << 1, kBlockingSmi = 1u << 2,
                   kBlockingNmi = 1u << 3, kEnclaveInterruption = 1u << 4;
// Pending debug exceptions (SDM Table 25-4): B3:B0, enabled breakpoint, BS, RTM.
constexpr uint64_t kPendingBs = 1ull << 14, kPendingRtm = 1ull << 16;
constexpr uint64_t kPendingDefined = 0xfull | (1ull << 12) | kPendingBs | kPendingRtm;

struct Injection {
    bool valid;
    unsigned type, vector;
};

Injection injection(const Context& c) {
    const auto info = static_cast<uint32_t>(c.read(VmcsField::vm_entry_interruption_information));
    return {(info >> 31) != 0, (info >> 8) & 7, info & 0xff};
}

// Which events an activity state lets VM entry inject (27.3.1.5, activity-state bullets).
bool injection_allowed(uint32_t activity, const Injection& e) {
    if (!e.valid || activity == active) return true;
    const bool nmi = e.type == 2, machine_check = e.type == 3 && e.vector == 18;
    switch (activity) {
    case hlt: return e.type == 0 || nmi || (e.type == 3 && (e.vector == 1 || e.vector == 18)) ||
                     (e.type == 7 && e.vector == 0);
    case shutdown: return nmi || machine_check;
    default: return false;  // wait-for-SIPI
    }
}

EntryCheckResult check_activity(const Context& c, uint32_t activity, uint32_t interruptibility) {
    if (activity > wait_for_sipi) return guest_failure("guest_activity_state_value");
    // IA32_VMX_MISC bits 8:6 report support for HLT, shutdown and wait-for-SIPI (A.6).
    if (activity != active && !((c.caps.misc >> (5 + activity)) & 1)) return guest_failure("guest_activity_state_unsupported");
    const unsigned ss_dpl = (c.read(VmcsField::guest_ss_access_rights) >> 5) & 3;
    if (activity == hlt && ss_dpl != 0) return guest_failure("guest_activity_hlt_ss_dpl");
    if (activity != active && (interruptibility & (kBlockingSti | kBlockingMovSs)))
        return guest_failure("guest_activity_with_sti_movss_blocking");
    if (!injection_allowed(activity, injection(c))) return guest_failure("guest_activity_injection");
    if (c.entry(VmxControl::entry_entry_to_smm) && activity == wait_for_sipi)
        return guest_failure("guest_activity_sipi_entry_to_smm");
    return passed();
}

EntryCheckResult check_interruptibility(const Context& c, uint64_t state) {
    const uint32_t defined = kBlockingSti | kBlockingMovSs | kBlockingSmi | kBlockingNmi |
                             (c.cpu.sgx ? kEnclaveInterruption : 0);
    if (state & ~uint64_t{defined}) return guest_failure("guest_interruptibility_reserved");
    if ((state & kBlockingSti) && (state & kBlockingMovSs)) return guest_failure("guest_interruptibility_sti_and_movss");
    const bool if_flag = (c.read(VmcsField::guest_rflags) >> 9) & 1;
    if (!if_flag && (state & kBlockingSti)) return guest_failure("guest_interruptibility_sti_with_if_clear");
    const Injection e = injection(c);
    if (e.valid && e.type == 0 && (state & (kBlockingSti | kBlockingMovSs)))
        return guest_failure("guest_interruptibility_external_interrupt_blocked");
    if (e.valid && e.type == 2 && (state & kBlockingMovSs)) return guest_failure("guest_interruptibility_nmi_movss");
    if (!c.cpu.in_smm && (state & kBlockingSmi)) return guest_failure("guest_interruptibility_smi_outside_smm");
    if (c.entry(VmxControl::entry_entry_to_smm) && !(state & kBlockingSmi))
        return guest_failure("guest_interruptibility_entry_to_smm_without_smi_blocking");
    if (e.valid && e.type == 2 && c.pin(VmxControl::pin_virtual_nmis) && (state & kBlockingNmi))
        return guest_failure("guest_interruptibility_virtual_nmi_blocked");
    if ((state & kEnclaveInterruption) && (state & kBlockingMovSs))
        return guest_failure("guest_interruptibility_enclave_movss");
    // Injecting an NMI under blocking by STI: the implementation-specific failure of 27.8 (3).
    if (e.valid && e.type == 2 && (state & kBlockingSti))
        return guest_failure("guest_interruptibility_nmi_sti", kQualificationNmiInjection);
    return passed();
}

EntryCheckResult check_pending_debug(const Context& c, uint32_t activity, uint64_t state) {
    const uint64_t pending = c.read(VmcsField::guest_pending_debug_exceptions);
    if (pending & ~kPendingDefined) return guest_failure("guest_pending_debug_reserved");
    // Under STI/MOV-SS blocking or in HLT, BS mirrors a single step that is due: TF = 1 and
    // IA32_DEBUGCTL.BTF = 0.
    if ((state & (kBlockingSti | kBlockingMovSs)) || activity == hlt) {
        const bool tf = (c.read(VmcsField::guest_rflags) >> 8) & 1;
        const bool btf = (c.read(VmcsField::guest_ia32_debugctl) >> 1) & 1;
        const bool bs = pending & kPendingBs;
        if (tf && !btf && !bs) return guest_failure("guest_pending_debug_bs_not_set");
        if ((!tf || btf) && bs) return guest_failure("guest_pending_debug_bs_set");
    }
    // RTM: bit 16 set needs bit 12 set, bits 11:0 and 14:13 clear, no MOV-SS blocking.
    if (pending & kPendingRtm) {
        if ((pending & 0xfff) || (pending & (3ull << 13)) || !(pending & (1ull << 12)) || (state & kBlockingMovSs))
            return guest_failure("guest_pending_debug_rtm");
    }
    return passed();
}

// The VMCS link pointer: all ones, or a 4-KByte aligned address within the physical-address
// width of a VMCS whose revision identifier matches, with the shadow-VMCS indicator equal
// to the "VMCS shadowing" control (qualification 4).
EntryCheckResult check_link_pointer(const Context& c) {
    const uint64_t link = c.read(VmcsField::vmcs_link_pointer);
    if (link == ~0ull) return passed();
    if (link & 0xfff) return guest_failure("guest_link_pointer_alignment", kQualificationLinkPointer);
    if (!c.fits_width(link)) return guest_failure("guest_link_pointer_width", kQualificationLinkPointer);
    uint32_t header = 0;
    if (!c.memory(link, &header, sizeof header)) header = ~0u;
    if ((header & 0x7fffffff) != (c.caps.basic & 0x7fffffff))
        return guest_failure("guest_link_pointer_revision", kQualificationLinkPointer);
    if (((header >> 31) != 0) != c.proc2(VmxControl::proc2_vmcs_shadowing))
        return guest_failure("guest_link_pointer_shadow_indicator", kQualificationLinkPointer);
    return passed();
}

}  // namespace

EntryCheckResult check_guest_non_register(const Context& c) {
    const auto activity = static_cast<uint32_t>(c.read(VmcsField::guest_activity_state));
    const uint64_t state = c.read(VmcsField::guest_interruptibility_state) & 0xffffffff;
    EntryCheckResult result = check_activity(c, activity, static_cast<uint32_t>(state));
    if (!failed(result)) result = check_interruptibility(c, state);
    if (!failed(result)) result = check_pending_debug(c, activity, state);
    if (!failed(result)) result = check_link_pointer(c);
    return result;
}

// 27.3.1.6 "Checks on Guest Page-Directory-Pointer-Table Entries": PAE paging outside
// IA-32e mode. Without EPT the four PDPTEs are read from CR3[31:5]; with EPT the VMCS holds
// them. A present PDPTE may not set reserved bits (2:1, 8:5, MAXPHYADDR and above).
EntryCheckResult check_guest_pdptes(const Context& c) {
    const uint64_t cr0 = c.read(VmcsField::guest_cr0), cr4 = c.read(VmcsField::guest_cr4);
    const bool pae_paging = (cr0 >> 31) & 1 && (cr4 >> 5) & 1 && !ia32e_guest(c);
    if (!pae_paging) return passed();
    const uint64_t reserved = 0x1e6ull | (c.caps.maxphyaddr >= 64 ? 0 : ~0ull << c.caps.maxphyaddr);
    uint64_t pdpte[4] = {};
    const bool ept = c.proc2(VmxControl::proc2_enable_ept);
    if (ept) {
        const VmcsField fields[] = {VmcsField::guest_pdpte0, VmcsField::guest_pdpte1, VmcsField::guest_pdpte2,
                                    VmcsField::guest_pdpte3};
        for (int i = 0; i < 4; ++i) pdpte[i] = c.read(fields[i]);
    } else {
        const uint64_t table = c.read(VmcsField::guest_cr3) & 0xffffffe0;
        if (!c.memory(table, pdpte, sizeof pdpte)) return guest_failure("guest_pdpte_unreadable", kQualificationPdpte);
    }
    for (uint64_t e : pdpte)
        if ((e & 1) && (e & reserved))
            return ept ? guest_failure("guest_pdpte_field_reserved") : guest_failure("guest_pdpte_reserved", kQualificationPdpte);
    return passed();
}

}  // namespace vmx::entry
