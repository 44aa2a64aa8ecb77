// Shared by the files of the VM-entry checks (entry_checks*.cpp): the VMCS, capabilities and
// control words seen by every group of checks, and the failure constructors.
// Context: vmx/ VM entry (rare path); internal to vmx/entry_checks*.cpp.
#pragma once
#include <cstdint>

#include "vmcs_fields_table.h"
#include "vmx/entry_checks.h"
#include "vmx_controls_table.h"

namespace vmx::entry {

// The VM-instruction error numbers of SDM Vol. 3C 31.4, Table 31-1.
inline constexpr uint32_t kErrorInvalidControls = 7;
inline constexpr uint32_t kErrorInvalidHostState = 8;
// Exit qualifications of a guest-state failure (SDM 27.8).
inline constexpr uint32_t kQualificationPdpte = 2;
inline constexpr uint32_t kQualificationNmiInjection = 3;
inline constexpr uint32_t kQualificationLinkPointer = 4;

inline EntryCheckResult control_failure(const char* check) {
    return {EntryCheckResult::Kind::vmfail_controls, kErrorInvalidControls, check};
}
inline EntryCheckResult host_failure(const char* check) {
    return {EntryCheckResult::Kind::vmfail_host_state, kErrorInvalidHostState, check};
}
inline EntryCheckResult guest_failure(const char* check, uint32_t qualification = 0) {
    return {EntryCheckResult::Kind::guest_state_failure, qualification, check};
}
inline EntryCheckResult passed() { return {}; }
inline bool failed(const EntryCheckResult& r) { return r.kind != EntryCheckResult::Kind::ok; }

inline constexpr uint32_t bit(VmxControl c) { return static_cast<uint32_t>(c); }

// The inputs of one VM entry, with the control words read once. A control field whose
// activating control is 0 reads as 0 (secondary/tertiary controls, SDM 25.6.2).
struct Context {
    Context(const FieldReader& vmcs, const CapabilityMsrs& caps, const ProcessorContext& cpu,
            const PhysicalReader& memory);

    uint64_t read(VmcsField f) const { return vmcs(static_cast<uint32_t>(f)); }
    bool pin(VmxControl c) const { return pin_controls & bit(c); }
    bool proc(VmxControl c) const { return proc_controls & bit(c); }
    bool proc2(VmxControl c) const { return proc2_controls & bit(c); }
    bool proc3(VmxControl c) const { return proc3_controls & bit(c); }
    bool exit(VmxControl c) const { return exit_controls & bit(c); }
    bool entry(VmxControl c) const { return entry_controls & bit(c); }
    // An address that fits the physical-address width (MAXPHYADDR).
    bool fits_width(uint64_t address) const { return (address >> caps.maxphyaddr) == 0; }
    // A 4-KByte aligned address within the physical-address width (the bitmap and page
    // pointers of 27.2.1.1).
    bool page_address_ok(uint64_t address) const { return (address & 0xfff) == 0 && fits_width(address); }

    const FieldReader& vmcs;
    const CapabilityMsrs& caps;
    const ProcessorContext& cpu;
    const PhysicalReader& memory;
    uint32_t pin_controls, proc_controls, proc2_controls, exit_controls, entry_controls;
    uint64_t proc3_controls;
};

// Canonical in the 48-bit linear-address width (57 with 5-level paging is not modelled).
inline bool canonical(uint64_t address) {
    const int64_t high = static_cast<int64_t>(address) >> 47;
    return high == 0 || high == -1;
}

inline bool ia32e_guest(const Context& c) { return c.entry(VmxControl::entry_ia32e_mode_guest); }

// Each of the eight IA32_PAT entries is a valid memory type: 0, 1, 4, 5, 6 or 7
// (SDM Vol. 3A 13.12.2; checked by 27.2.2 and 27.3.1.1).
inline bool pat_valid(uint64_t pat) {
    for (int i = 0; i < 8; ++i) {
        const uint64_t type = (pat >> (8 * i)) & 0xff;
        if (type == 2 || type == 3 || type > 7) return false;
    }
    return true;
}

// The groups, in the SDM's order (entry_checks.cpp runs them).
EntryCheckResult check_execution_controls(const Context& c);   // 27.2.1.1
EntryCheckResult check_exit_controls(const Context& c);        // 27.2.1.2
EntryCheckResult check_entry_controls(const Context& c);       // 27.2.1.3
EntryCheckResult check_host_state(const Context& c);           // 27.2.2 - 27.2.4
EntryCheckResult check_guest_registers(const Context& c);      // 27.3.1.1
EntryCheckResult check_guest_segments(const Context& c);       // 27.3.1.2
EntryCheckResult check_guest_rip_tables_flags(const Context& c);  // 27.3.1.3, 27.3.1.4
EntryCheckResult check_guest_non_register(const Context& c);   // 27.3.1.5
EntryCheckResult check_guest_pdptes(const Context& c);         // 27.3.1.6

}  // namespace vmx::entry
