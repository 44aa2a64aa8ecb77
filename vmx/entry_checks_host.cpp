// Checks on the host-state area (Intel SDM Vol. 3C 27.2.2 control registers and MSRs, 27.2.3
// segment and descriptor-table registers, 27.2.4 address-space size). Failure: VMfailValid(8).
// Context: vmx/ VM entry (rare path); pure function of the VMCS and capability MSRs.
#include "vmx/entry_checks_internal.h"

namespace vmx::entry {

namespace {

constexpr uint64_t kCr0Pg = 1ull << 31;
constexpr uint64_t kCr4Pae = 1ull << 5;
constexpr uint64_t kCr4Pcide = 1ull << 17;
constexpr uint64_t kEferLme = 1ull << 8, kEferLma = 1ull << 10;
// IA32_EFER bits that may be 1: SCE, LME, LMA, NXE (SDM Vol. 3A 2.2.1).
constexpr uint64_t kEferDefined = (1ull << 0) | kEferLme | kEferLma | (1ull << 11);

bool host_64(const Context& c) { return c.exit(VmxControl::exit_host_address_space_size); }

EntryCheckResult check_host_registers_and_msrs(const Context& c) {
    const uint64_t cr0 = c.read(VmcsField::host_cr0), cr4 = c.read(VmcsField::host_cr4);
    if ((cr0 & c.caps.cr0_fixed0) != c.caps.cr0_fixed0 || (cr0 & ~c.caps.cr0_fixed1))
        return host_failure("host_cr0_fixed");
    if ((cr4 & c.caps.cr4_fixed0) != c.caps.cr4_fixed0 || (cr4 & ~c.caps.cr4_fixed1))
        return host_failure("host_cr4_fixed");
    if (!c.fits_width(c.read(VmcsField::host_cr3))) return host_failure("host_cr3_width");
    if (!canonical(c.read(VmcsField::host_ia32_sysenter_esp)) || !canonical(c.read(VmcsField::host_ia32_sysenter_eip)))
        return host_failure("host_sysenter_canonical");
    if (c.exit(VmxControl::exit_load_ia32_perf_global_ctrl) &&
        (c.read(VmcsField::host_ia32_perf_global_ctrl) & ~c.cpu.perf_global_ctrl_valid))
        return host_failure("host_perf_global_ctrl_reserved");
    if (c.exit(VmxControl::exit_load_ia32_pat) && !pat_valid(c.read(VmcsField::host_ia32_pat)))
        return host_failure("host_pat");
    if (c.exit(VmxControl::exit_load_ia32_efer)) {
        const uint64_t efer = c.read(VmcsField::host_ia32_efer);
        if (efer & ~kEferDefined) return host_failure("host_efer_reserved");
        if (((efer & kEferLma) != 0) != host_64(c)) return host_failure("host_efer_lma");
        if ((cr0 & kCr0Pg) && ((efer & kEferLme) != 0) != host_64(c)) return host_failure("host_efer_lme");
    }
    if (c.exit(VmxControl::exit_load_pkrs) && (c.read(VmcsField::host_ia32_pkrs) >> 32))
        return host_failure("host_pkrs_reserved");
    return passed();
}

// 27.2.3 "Checks on Host Segment and Descriptor-Table Registers".
EntryCheckResult check_host_segments(const Context& c) {
    for (VmcsField f : {VmcsField::host_es_selector, VmcsField::host_cs_selector, VmcsField::host_ss_selector,
                        VmcsField::host_ds_selector, VmcsField::host_fs_selector, VmcsField::host_gs_selector,
                        VmcsField::host_tr_selector})
        if (c.read(f) & 7) return host_failure("host_selector_rpl_ti");
    if ((c.read(VmcsField::host_cs_selector) & 0xffff) == 0) return host_failure("host_cs_null");
    if ((c.read(VmcsField::host_tr_selector) & 0xffff) == 0) return host_failure("host_tr_null");
    if (!host_64(c) && (c.read(VmcsField::host_ss_selector) & 0xffff) == 0) return host_failure("host_ss_null");
    for (VmcsField f : {VmcsField::host_fs_base, VmcsField::host_gs_base, VmcsField::host_gdtr_base,
                        VmcsField::host_idtr_base, VmcsField::host_tr_base})
        if (!canonical(c.read(f))) return host_failure("host_base_canonical");
    return passed();
}

// 27.2.4 "Checks Related to Address-Space Size".
EntryCheckResult check_host_address_space(const Context& c) {
    const bool ia32e_guest = c.entry(VmxControl::entry_ia32e_mode_guest);
    if (!c.cpu.ia32e && (ia32e_guest || host_64(c))) return host_failure("host_ia32e_controls_outside_ia32e");
    if (c.cpu.ia32e && !host_64(c)) return host_failure("host_address_space_size_in_ia32e");
    const uint64_t rip = c.read(VmcsField::host_rip), cr4 = c.read(VmcsField::host_cr4);
    // "IA-32e mode guest" must be 0 when the host address-space size is 0: implied by the
    // two checks above on a processor that supports Intel 64 (the only kind modelled).
    if (!host_64(c)) {
        if (cr4 & kCr4Pcide) return host_failure("host_legacy_pcide");
        if (rip >> 32) return host_failure("host_legacy_rip_high");
    } else {
        if (!(cr4 & kCr4Pae)) return host_failure("host_64_without_pae");
        if (!canonical(rip)) return host_failure("host_rip_canonical");
    }
    return passed();
}

}  // namespace

EntryCheckResult check_host_state(const Context& c) {
    for (auto group : {check_host_registers_and_msrs, check_host_segments, check_host_address_space}) {
        const EntryCheckResult result = group(c);
        if (failed(result)) return result;
    }
    return passed();
}

}  // namespace vmx::entry
