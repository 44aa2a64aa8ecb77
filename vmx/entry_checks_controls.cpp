// Checks on the VMX controls (Intel SDM Vol. 3C 27.2.1): VM-execution (27.2.1.1), VM-exit
// (27.2.1.2) and VM-entry (27.2.1.3) control fields. A failure is VMfailValid(7).
// Context: vmx/ VM entry (rare path); pure function of the VMCS and capability MSRs.
#include "mmu/ept.h"
#include "vmx/entry_checks_internal.h"

namespace vmx::entry {

namespace {

// SDM Appendix A.3-A.5: bits 31:0 of a capability MSR are the allowed 0-settings (a 1 there
// forces the control to 1), bits 63:32 the allowed 1-settings.
bool allowed(uint32_t value, uint64_t msr) {
    const auto must_be_1 = static_cast<uint32_t>(msr);
    const auto may_be_1 = static_cast<uint32_t>(msr >> 32);
    return (value & must_be_1) == must_be_1 && (value & ~may_be_1) == 0;
}

// The TRUE_* MSRs decide when VMX_BASIC[55] is set (A.3.1, A.3.2, A.4, A.5).
uint64_t pick(const CapabilityMsrs& caps, uint64_t plain, uint64_t true_msr) {
    return (caps.basic >> 55) & 1 ? true_msr : plain;
}

// IA32_VMX_EPT_VPID_CAP (A.10) as the EPT walker's capability set.
mmu::EptCapabilities ept_capabilities(uint64_t cap) {
    mmu::EptCapabilities e;
    e.execute_only = cap & (1ull << 0);
    e.walk_length_4 = cap & (1ull << 6);
    e.walk_length_5 = cap & (1ull << 7);
    e.memory_type_uc = cap & (1ull << 8);
    e.memory_type_wb = cap & (1ull << 14);
    e.pages_2m = cap & (1ull << 16);
    e.pages_1g = cap & (1ull << 17);
    e.accessed_dirty = cap & (1ull << 21);
    return e;
}

EntryCheckResult check_allowed_settings(const Context& c) {
    const CapabilityMsrs& k = c.caps;
    if (!allowed(c.pin_controls, pick(k, k.pinbased, k.true_pinbased)))
        return control_failure("ctl_pin_allowed");
    if (!allowed(c.proc_controls, pick(k, k.procbased, k.true_procbased)))
        return control_failure("ctl_proc_allowed");
    // Secondary controls have no default1 class: allowed-0 bits are all 0 (A.3.3).
    if (!allowed(c.proc2_controls, k.procbased2)) return control_failure("ctl_proc2_allowed");
    // Tertiary controls: IA32_VMX_PROCBASED_CTLS3 lists the allowed 1-settings (A.3.4).
    if (c.proc3_controls & ~k.procbased3) return control_failure("ctl_proc3_allowed");
    return passed();
}

// Use I/O bitmaps, MSR bitmaps, TPR shadow (27.2.1.1 bullets 3-6).
EntryCheckResult check_bitmaps_and_tpr(const Context& c) {
    // The CR3-target count is at most what IA32_VMX_MISC[24:16] reports (4 today).
    if (c.read(VmcsField::cr3_target_count) > ((c.caps.misc >> 16) & 0x1ff))
        return control_failure("ctl_cr3_target_count");
    if (c.proc(VmxControl::proc_use_io_bitmaps) &&
        (!c.page_address_ok(c.read(VmcsField::io_bitmap_a_address)) ||
         !c.page_address_ok(c.read(VmcsField::io_bitmap_b_address))))
        return control_failure("ctl_io_bitmap_address");
    if (c.proc(VmxControl::proc_use_msr_bitmaps) && !c.page_address_ok(c.read(VmcsField::msr_bitmaps_address)))
        return control_failure("ctl_msr_bitmap_address");
    if (c.proc(VmxControl::proc_use_tpr_shadow)) {
        const uint64_t vapic = c.read(VmcsField::virtual_apic_address);
        if (!c.page_address_ok(vapic)) return control_failure("ctl_virtual_apic_address");
        const uint64_t threshold = c.read(VmcsField::tpr_threshold) & 0xffffffff;
        const bool vid = c.proc2(VmxControl::proc2_virtual_interrupt_delivery);
        if (!vid && (threshold >> 4) != 0) return control_failure("ctl_tpr_threshold_reserved");
        // Without APIC-access virtualization and virtual-interrupt delivery, TPR threshold
        // bits 3:0 may not exceed VTPR bits 7:4 (byte 80H of the virtual-APIC page).
        if (!vid && !c.proc2(VmxControl::proc2_virtualize_apic_accesses)) {
            uint8_t vtpr = 0;
            if (!c.memory(vapic + 0x80, &vtpr, 1)) vtpr = 0xff;  // not RAM: reads as all ones
            if ((threshold & 0xf) > (vtpr >> 4u)) return control_failure("ctl_tpr_threshold_vtpr");
        }
    } else if (c.proc2(VmxControl::proc2_virtualize_x2apic_mode) ||
               c.proc2(VmxControl::proc2_apic_register_virtualization) ||
               c.proc2(VmxControl::proc2_virtual_interrupt_delivery)) {
        return control_failure("ctl_apic_virtualization_without_tpr_shadow");
    }
    return passed();
}

// NMI, APIC virtualization and posted interrupts (27.2.1.1 bullets 7-12).
EntryCheckResult check_nmi_and_apic(const Context& c) {
    if (!c.pin(VmxControl::pin_nmi_exiting) && c.pin(VmxControl::pin_virtual_nmis))
        return control_failure("ctl_virtual_nmis_without_nmi_exiting");
    if (!c.pin(VmxControl::pin_virtual_nmis) && c.proc(VmxControl::proc_nmi_window_exiting))
        return control_failure("ctl_nmi_window_without_virtual_nmis");
    if (c.proc2(VmxControl::proc2_virtualize_apic_accesses) && !c.page_address_ok(c.read(VmcsField::apic_access_address)))
        return control_failure("ctl_apic_access_address");
    if (c.proc2(VmxControl::proc2_virtualize_x2apic_mode) && c.proc2(VmxControl::proc2_virtualize_apic_accesses))
        return control_failure("ctl_x2apic_mode_with_apic_accesses");
    if (c.proc2(VmxControl::proc2_virtual_interrupt_delivery) && !c.pin(VmxControl::pin_external_interrupt_exiting))
        return control_failure("ctl_vid_without_external_interrupt_exiting");
    if (c.pin(VmxControl::pin_process_posted_interrupts)) {
        if (!c.proc2(VmxControl::proc2_virtual_interrupt_delivery)) return control_failure("ctl_posted_interrupts_without_vid");
        if (!c.exit(VmxControl::exit_acknowledge_interrupt_on_exit)) return control_failure("ctl_posted_interrupts_without_ack");
        if (c.read(VmcsField::posted_interrupt_notification_vector) & 0xff00)
            return control_failure("ctl_posted_interrupt_vector");
        const uint64_t descriptor = c.read(VmcsField::posted_interrupt_descriptor_address);
        if ((descriptor & 0x3f) || !c.fits_width(descriptor)) return control_failure("ctl_posted_interrupt_descriptor");
    }
    return passed();
}

// VPID, EPT and the features built on EPT (27.2.1.1 bullets 13-20).
EntryCheckResult check_vpid_and_ept(const Context& c) {
    if (c.proc2(VmxControl::proc2_enable_vpid) && (c.read(VmcsField::virtual_processor_id) & 0xffff) == 0)
        return control_failure("ctl_vpid_zero");
    const bool ept = c.proc2(VmxControl::proc2_enable_ept);
    const uint64_t width_mask = c.caps.maxphyaddr >= 64 ? ~0ull : (1ull << c.caps.maxphyaddr) - 1;
    if (ept && !mmu::eptp_valid(c.read(VmcsField::ept_pointer), ept_capabilities(c.caps.ept_vpid_cap), width_mask))
        return control_failure("ctl_eptp_invalid");
    if (c.proc2(VmxControl::proc2_enable_pml)) {
        if (!ept) return control_failure("ctl_pml_without_ept");
        if (!c.page_address_ok(c.read(VmcsField::pml_address))) return control_failure("ctl_pml_address");
    }
    if (c.proc2(VmxControl::proc2_unrestricted_guest) && !ept)
        return control_failure("ctl_unrestricted_guest_without_ept");
    if (c.proc2(VmxControl::proc2_mode_based_execute_control_for_ept) && !ept)
        return control_failure("ctl_mbec_without_ept");
    if (c.proc2(VmxControl::proc2_sub_page_write_permissions_for_ept)) {
        if (!ept) return control_failure("ctl_spp_without_ept");
        if (!c.page_address_ok(c.read(VmcsField::sub_page_permission_table_pointer)))
            return control_failure("ctl_spptp_address");
    }
    if (c.proc2(VmxControl::proc2_enable_vm_functions)) {
        const uint64_t functions = c.read(VmcsField::vm_function_controls);
        if (functions & ~c.caps.vmfunc) return control_failure("ctl_vmfunc_allowed");
        if (functions & 1) {  // EPTP switching (VM function 0)
            if (!ept) return control_failure("ctl_eptp_switching_without_ept");
            if (!c.page_address_ok(c.read(VmcsField::eptp_list_address))) return control_failure("ctl_eptp_list_address");
        }
    }
    if (c.proc2(VmxControl::proc2_vmcs_shadowing) &&
        (!c.page_address_ok(c.read(VmcsField::vmread_bitmap_address)) ||
         !c.page_address_ok(c.read(VmcsField::vmwrite_bitmap_address))))
        return control_failure("ctl_vmread_vmwrite_bitmap_address");
    if (c.proc2(VmxControl::proc2_ept_violation_ve) &&
        !c.page_address_ok(c.read(VmcsField::virtualization_exception_information_address)))
        return control_failure("ctl_ve_information_address");
    // Intel PT using guest-physical addresses needs EPT and the RTIT_CTL load/clear controls.
    if (c.proc2(VmxControl::proc2_intel_pt_uses_guest_physical_addresses) &&
        (!ept || !c.entry(VmxControl::entry_load_ia32_rtit_ctl) || !c.exit(VmxControl::exit_clear_ia32_rtit_ctl)))
        return control_failure("ctl_pt_guest_physical_requirements");
    return passed();
}

// Tertiary controls that reference memory or need EPT (27.2.1.1, last bullets).
EntryCheckResult check_tertiary(const Context& c) {
    const bool ept = c.proc2(VmxControl::proc2_enable_ept);
    if (c.proc3(VmxControl::proc3_enable_hlat)) {
        if (!ept) return control_failure("ctl_hlat_without_ept");
        if (!c.page_address_ok(c.read(VmcsField::hlat_pointer))) return control_failure("ctl_hlat_pointer");
    }
    if ((c.proc3(VmxControl::proc3_ept_paging_write_control) || c.proc3(VmxControl::proc3_guest_paging_verification)) && !ept)
        return control_failure("ctl_paging_write_without_ept");
    if (c.proc3(VmxControl::proc3_ipi_virtualization) &&
        (!c.proc2(VmxControl::proc2_virtual_interrupt_delivery) ||
         !c.page_address_ok(c.read(VmcsField::pid_pointer_table_address))))
        return control_failure("ctl_ipi_virtualization");
    return passed();
}

}  // namespace

EntryCheckResult check_execution_controls(const Context& c) {
    for (auto group : {check_allowed_settings, check_bitmaps_and_tpr, check_nmi_and_apic,
                       check_vpid_and_ept, check_tertiary}) {
        const EntryCheckResult result = group(c);
        if (failed(result)) return result;
    }
    return passed();
}

// 27.2.1.2 "VM-Exit Control Fields".
EntryCheckResult check_exit_controls(const Context& c) {
    const CapabilityMsrs& k = c.caps;
    if (!allowed(c.exit_controls, pick(k, k.exit, k.true_exit))) return control_failure("ctl_exit_allowed");
    if (c.exit(VmxControl::exit_activate_secondary_controls) &&
        (c.read(VmcsField::secondary_vm_exit_controls) & ~k.exit2))
        return control_failure("ctl_exit2_allowed");
    if (!c.pin(VmxControl::pin_activate_vmx_preemption_timer) && c.exit(VmxControl::exit_save_vmx_preemption_timer_value))
        return control_failure("ctl_save_preemption_timer_without_timer");
    // MSR areas: 16-byte aligned, and the last byte within the physical-address width.
    const auto area_ok = [&](VmcsField address, VmcsField count) {
        const uint64_t n = c.read(count) & 0xffffffff;
        if (n == 0) return true;
        const uint64_t a = c.read(address);
        return (a & 0xf) == 0 && c.fits_width(a) && c.fits_width(a + n * 16 - 1);
    };
    if (!area_ok(VmcsField::vm_exit_msr_store_address, VmcsField::vm_exit_msr_store_count))
        return control_failure("ctl_exit_msr_store_address");
    if (!area_ok(VmcsField::vm_exit_msr_load_address, VmcsField::vm_exit_msr_load_count))
        return control_failure("ctl_exit_msr_load_address");
    return passed();
}

namespace {

// Event injection (27.2.1.3, the VM-entry interruption-information field).
EntryCheckResult check_event_injection(const Context& c) {
    const auto info = static_cast<uint32_t>(c.read(VmcsField::vm_entry_interruption_information));
    if (!(info >> 31)) return passed();
    const unsigned vector = info & 0xff, type = (info >> 8) & 7;
    const bool mtf_supported = (pick(c.caps, c.caps.procbased, c.caps.true_procbased) >> 32) &
                               bit(VmxControl::proc_monitor_trap_flag);
    if (type == 1) return control_failure("ctl_inject_type_reserved");
    if (type == 7 && !mtf_supported) return control_failure("ctl_inject_type_other_unsupported");
    if (type == 2 && vector != 2) return control_failure("ctl_inject_nmi_vector");
    if (type == 3 && vector > 31) return control_failure("ctl_inject_exception_vector");
    if (type == 7 && vector != 0) return control_failure("ctl_inject_other_vector");
    // Bit 11 (deliver error code) is 1 exactly for a hardware exception that pushes an error
    // code (#DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP) outside real mode of an unrestricted guest.
    const bool protected_mode = !c.proc2(VmxControl::proc2_unrestricted_guest) || (c.read(VmcsField::guest_cr0) & 1);
    const bool pushes_code = vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
    const bool deliver = (info >> 11) & 1;
    if (deliver != (protected_mode && type == 3 && pushes_code)) return control_failure("ctl_inject_deliver_error_code");
    if (info & 0x7ffff000) return control_failure("ctl_inject_reserved_bits");
    if (deliver && (c.read(VmcsField::vm_entry_exception_error_code) & 0xffff0000u))
        return control_failure("ctl_inject_error_code_reserved");
    // Software interrupts and exceptions: instruction length 1-15 (0 when MISC[30] allows it).
    if (type >= 4 && type <= 6) {
        const uint64_t length = c.read(VmcsField::vm_entry_instruction_length) & 0xffffffff;
        const bool zero_ok = (c.caps.misc >> 30) & 1;
        if (length > 15 || (length == 0 && !zero_ok)) return control_failure("ctl_inject_instruction_length");
    }
    return passed();
}

}  // namespace

// 27.2.1.3 "VM-Entry Control Fields".
EntryCheckResult check_entry_controls(const Context& c) {
    const CapabilityMsrs& k = c.caps;
    if (!allowed(c.entry_controls, pick(k, k.entry, k.true_entry))) return control_failure("ctl_entry_allowed");
    const EntryCheckResult injection = check_event_injection(c);
    if (failed(injection)) return injection;
    const uint64_t n = c.read(VmcsField::vm_entry_msr_load_count) & 0xffffffff;
    const uint64_t a = c.read(VmcsField::vm_entry_msr_load_address);
    if (n != 0 && ((a & 0xf) || !c.fits_width(a) || !c.fits_width(a + n * 16 - 1)))
        return control_failure("ctl_entry_msr_load_address");
    // Outside SMM, "entry to SMM" and "deactivate dual-monitor treatment" must be 0.
    if (!c.cpu.in_smm && (c.entry(VmxControl::entry_entry_to_smm) ||
                          c.entry(VmxControl::entry_deactivate_dual_monitor_treatment)))
        return control_failure("ctl_entry_smm_outside_smm");
    if (c.entry(VmxControl::entry_entry_to_smm) && c.entry(VmxControl::entry_deactivate_dual_monitor_treatment))
        return control_failure("ctl_entry_smm_and_deactivate");
    return passed();
}

}  // namespace vmx::entry
