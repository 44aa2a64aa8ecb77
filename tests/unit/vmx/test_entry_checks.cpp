// The VM-entry checks (vmx/entry_checks.h; SDM Vol. 3C 27.2, 27.3.1): valid baselines pass,
// and each table row breaks one field of the baseline and expects the exact outcome (kind,
// VM-instruction error or exit qualification, check id). With HVSIM_ENTRY_CHECK_DOC=PATH the
// table is also written as docs/vmx-entry-checks.md.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "entry_checks_fixture.h"

namespace {

using namespace vmx_test;

struct Expect {
    Kind kind;
    uint32_t code;
    const char* check;
};
Expect ctl(const char* id) { return {Kind::vmfail_controls, 7, id}; }
Expect host(const char* id) { return {Kind::vmfail_host_state, 8, id}; }
Expect guest(const char* id, uint32_t qualification = 0) { return {Kind::guest_state_failure, qualification, id}; }

struct Case {
    const char* section;  // SDM Vol. 3C section of the rule
    const char* name;     // what the case breaks
    std::function<void(Vm&)> breaks;
    Expect expect;
};

void inject(Vm& v, unsigned type, unsigned vector, bool error_code = false) {
    v[F::vm_entry_interruption_information] = (1u << 31) | (type << 8) | vector | (error_code ? 1u << 11 : 0);
}
void tpr_shadow(Vm& v) {
    v.on("proc_use_tpr_shadow");
    v[F::virtual_apic_address] = kVirtualApic;
}
void posted_interrupts(Vm& v) {
    tpr_shadow(v);
    v.on("pin_external_interrupt_exiting");
    v.on("pin_process_posted_interrupts");
    v.on("proc2_virtual_interrupt_delivery");
    v.on("exit_acknowledge_interrupt_on_exit");
    v[F::posted_interrupt_notification_vector] = 0xf2;
    v[F::posted_interrupt_descriptor_address] = 0x7040;
}
void no_ept(Vm& v) { v.off("proc2_enable_ept"); }
void tertiary(Vm& v, const char* name) {
    v.on("proc_activate_tertiary_controls");
    v.on(name);
}
// A guest at CPL 3 by SS: SS and CS selectors with RPL 3, SS DPL 3, CS conforming DPL 0.
void user_ss(Vm& v) {
    v[F::guest_cs_selector] = 0x0b;
    v[F::guest_cs_access_rights] = 0xa09f;
    v[F::guest_ss_selector] = 0x13;
    v[F::guest_ss_access_rights] = 0xc0f3;
}
void usable_ldtr(Vm& v, uint64_t ar) {
    v[F::guest_ldtr_selector] = 0x20;
    v[F::guest_ldtr_limit] = 0xff;
    v[F::guest_ldtr_access_rights] = ar;
}
void pae_without_ept(Vm& v, uint64_t pdpte0) {
    no_ept(v);
    protected_pae(v);
    v[F::guest_cr3] = 0x8000;
    v.poke64(0x8000, pdpte0);
}

const std::vector<Case>& cases() {
    static const std::vector<Case> k = {
        // 27.2.1.1 Checks on VM-execution control fields
        {"27.2.1.1", "pin-based reserved bit 1 set", [](Vm& v) { v[F::pin_based_vm_execution_controls] |= 2; }, ctl("ctl_pin_allowed")},
        {"27.2.1.1", "pin-based bit the TRUE MSR forces to 1 is 0", [](Vm& v) { v.caps.true_pinbased |= 1; }, ctl("ctl_pin_allowed")},
        {"27.2.1.1", "pin-based default1 bit 0 with BASIC[55]=0", [](Vm& v) { v.caps.basic &= ~(1ull << 55); }, ctl("ctl_pin_allowed")},
        {"27.2.1.1", "primary reserved bit 0 set", [](Vm& v) { v[F::primary_processor_based_vm_execution_controls] |= 1; }, ctl("ctl_proc_allowed")},
        {"27.2.1.1", "primary control not allowed by the TRUE MSR", [](Vm& v) { v.caps.true_procbased &= ~(uint64_t{0x80} << 32); }, ctl("ctl_proc_allowed")},
        {"27.2.1.1", "secondary reserved bit 29 set", [](Vm& v) { v[F::secondary_processor_based_vm_execution_controls] |= 1u << 29; }, ctl("ctl_proc2_allowed")},
        {"27.2.1.1", "tertiary reserved bit 5 set", [](Vm& v) { v.on("proc_activate_tertiary_controls"); v[F::tertiary_processor_based_vm_execution_controls] = 1 << 5; }, ctl("ctl_proc3_allowed")},
        {"27.2.1.1", "CR3-target count 5", [](Vm& v) { v[F::cr3_target_count] = 5; }, ctl("ctl_cr3_target_count")},
        {"27.2.1.1", "I/O bitmap A not page aligned", [](Vm& v) { v.on("proc_use_io_bitmaps"); v[F::io_bitmap_a_address] = 0x1001; v[F::io_bitmap_b_address] = 0x2000; }, ctl("ctl_io_bitmap_address")},
        {"27.2.1.1", "I/O bitmap B beyond MAXPHYADDR", [](Vm& v) { v.on("proc_use_io_bitmaps"); v[F::io_bitmap_a_address] = 0x1000; v[F::io_bitmap_b_address] = 1ull << 39; }, ctl("ctl_io_bitmap_address")},
        {"27.2.1.1", "MSR bitmap not page aligned", [](Vm& v) { v.on("proc_use_msr_bitmaps"); v[F::msr_bitmaps_address] = 0x800; }, ctl("ctl_msr_bitmap_address")},
        {"27.2.1.1", "virtual-APIC address not aligned", [](Vm& v) { tpr_shadow(v); v[F::virtual_apic_address] = 0x3010; }, ctl("ctl_virtual_apic_address")},
        {"27.2.1.1", "virtual-APIC address beyond MAXPHYADDR", [](Vm& v) { tpr_shadow(v); v[F::virtual_apic_address] = 1ull << 40; }, ctl("ctl_virtual_apic_address")},
        {"27.2.1.1", "TPR threshold bits 31:4 set", [](Vm& v) { tpr_shadow(v); v[F::tpr_threshold] = 0x10; }, ctl("ctl_tpr_threshold_reserved")},
        {"27.2.1.1", "TPR threshold above VTPR[7:4]", [](Vm& v) { tpr_shadow(v); v.poke(kVirtualApic + 0x80, "\x20", 1); v[F::tpr_threshold] = 3; }, ctl("ctl_tpr_threshold_vtpr")},
        {"27.2.1.1", "virtualize x2APIC mode without TPR shadow", [](Vm& v) { v.on("proc2_virtualize_x2apic_mode"); }, ctl("ctl_apic_virtualization_without_tpr_shadow")},
        {"27.2.1.1", "APIC-register virtualization without TPR shadow", [](Vm& v) { v.on("proc2_apic_register_virtualization"); }, ctl("ctl_apic_virtualization_without_tpr_shadow")},
        {"27.2.1.1", "virtual-interrupt delivery without TPR shadow", [](Vm& v) { v.on("pin_external_interrupt_exiting"); v.on("proc2_virtual_interrupt_delivery"); }, ctl("ctl_apic_virtualization_without_tpr_shadow")},
        {"27.2.1.1", "virtual NMIs without NMI exiting", [](Vm& v) { v.on("pin_virtual_nmis"); }, ctl("ctl_virtual_nmis_without_nmi_exiting")},
        {"27.2.1.1", "NMI-window exiting without virtual NMIs", [](Vm& v) { v.on("pin_nmi_exiting"); v.on("proc_nmi_window_exiting"); }, ctl("ctl_nmi_window_without_virtual_nmis")},
        {"27.2.1.1", "APIC-access address not aligned", [](Vm& v) { v.on("proc2_virtualize_apic_accesses"); v[F::apic_access_address] = 0xfee00001; }, ctl("ctl_apic_access_address")},
        {"27.2.1.1", "virtualize x2APIC mode with APIC-access virtualization", [](Vm& v) { tpr_shadow(v); v.on("proc2_virtualize_apic_accesses"); v[F::apic_access_address] = 0xfee00000; v.on("proc2_virtualize_x2apic_mode"); }, ctl("ctl_x2apic_mode_with_apic_accesses")},
        {"27.2.1.1", "virtual-interrupt delivery without external-interrupt exiting", [](Vm& v) { tpr_shadow(v); v.on("proc2_virtual_interrupt_delivery"); }, ctl("ctl_vid_without_external_interrupt_exiting")},
        {"27.2.1.1", "posted interrupts without virtual-interrupt delivery", [](Vm& v) { posted_interrupts(v); v.off("proc2_virtual_interrupt_delivery"); }, ctl("ctl_posted_interrupts_without_vid")},
        {"27.2.1.1", "posted interrupts without acknowledge interrupt on exit", [](Vm& v) { posted_interrupts(v); v.off("exit_acknowledge_interrupt_on_exit"); }, ctl("ctl_posted_interrupts_without_ack")},
        {"27.2.1.1", "posted-interrupt notification vector above 255", [](Vm& v) { posted_interrupts(v); v[F::posted_interrupt_notification_vector] = 0x1f2; }, ctl("ctl_posted_interrupt_vector")},
        {"27.2.1.1", "posted-interrupt descriptor not 64-byte aligned", [](Vm& v) { posted_interrupts(v); v[F::posted_interrupt_descriptor_address] = 0x7008; }, ctl("ctl_posted_interrupt_descriptor")},
        {"27.2.1.1", "posted-interrupt descriptor beyond MAXPHYADDR", [](Vm& v) { posted_interrupts(v); v[F::posted_interrupt_descriptor_address] = 1ull << 39; }, ctl("ctl_posted_interrupt_descriptor")},
        {"27.2.1.1", "VPID 0 with enable VPID", [](Vm& v) { v[F::virtual_processor_id] = 0; }, ctl("ctl_vpid_zero")},
        {"27.2.1.1", "EPTP memory type 2 (reserved)", [](Vm& v) { v[F::ept_pointer] = 0x5000 | (3 << 3) | 2; }, ctl("ctl_eptp_invalid")},
        {"27.2.1.1", "EPTP walk length 3", [](Vm& v) { v[F::ept_pointer] = 0x5000 | (2 << 3) | 6; }, ctl("ctl_eptp_invalid")},
        {"27.2.1.1", "EPTP beyond MAXPHYADDR", [](Vm& v) { v[F::ept_pointer] = (1ull << 40) | (3 << 3) | 6; }, ctl("ctl_eptp_invalid")},
        {"27.2.1.1", "PML without EPT", [](Vm& v) { no_ept(v); v.on("proc2_enable_pml"); v[F::pml_address] = 0x9000; }, ctl("ctl_pml_without_ept")},
        {"27.2.1.1", "PML address not aligned", [](Vm& v) { v.on("proc2_enable_pml"); v[F::pml_address] = 0x9100; }, ctl("ctl_pml_address")},
        {"27.2.1.1", "unrestricted guest without EPT", [](Vm& v) { no_ept(v); v.on("proc2_unrestricted_guest"); }, ctl("ctl_unrestricted_guest_without_ept")},
        {"27.2.1.1", "mode-based execute control without EPT", [](Vm& v) { no_ept(v); v.on("proc2_mode_based_execute_control_for_ept"); }, ctl("ctl_mbec_without_ept")},
        {"27.2.1.1", "sub-page write permissions without EPT", [](Vm& v) { no_ept(v); v.on("proc2_sub_page_write_permissions_for_ept"); }, ctl("ctl_spp_without_ept")},
        {"27.2.1.1", "SPPTP not aligned", [](Vm& v) { v.on("proc2_sub_page_write_permissions_for_ept"); v[F::sub_page_permission_table_pointer] = 0xa008; }, ctl("ctl_spptp_address")},
        {"27.2.1.1", "VM-function control bit 1 not allowed", [](Vm& v) { v.on("proc2_enable_vm_functions"); v[F::vm_function_controls] = 2; }, ctl("ctl_vmfunc_allowed")},
        {"27.2.1.1", "EPTP switching without EPT", [](Vm& v) { no_ept(v); v.on("proc2_enable_vm_functions"); v[F::vm_function_controls] = 1; }, ctl("ctl_eptp_switching_without_ept")},
        {"27.2.1.1", "EPTP-list address not aligned", [](Vm& v) { v.on("proc2_enable_vm_functions"); v[F::vm_function_controls] = 1; v[F::eptp_list_address] = 0xb123; }, ctl("ctl_eptp_list_address")},
        {"27.2.1.1", "VMWRITE bitmap not aligned", [](Vm& v) { v.on("proc2_vmcs_shadowing"); v[F::vmread_bitmap_address] = 0xc000; v[F::vmwrite_bitmap_address] = 0xd004; }, ctl("ctl_vmread_vmwrite_bitmap_address")},
        {"27.2.1.1", "VMREAD bitmap beyond MAXPHYADDR", [](Vm& v) { v.on("proc2_vmcs_shadowing"); v[F::vmread_bitmap_address] = 1ull << 45; v[F::vmwrite_bitmap_address] = 0xd000; }, ctl("ctl_vmread_vmwrite_bitmap_address")},
        {"27.2.1.1", "#VE information address not aligned", [](Vm& v) { v.on("proc2_ept_violation_ve"); v[F::virtualization_exception_information_address] = 0xe001; }, ctl("ctl_ve_information_address")},
        {"27.2.1.1", "Intel PT guest-physical without load RTIT_CTL", [](Vm& v) { v.on("proc2_intel_pt_uses_guest_physical_addresses"); v.on("exit_clear_ia32_rtit_ctl"); }, ctl("ctl_pt_guest_physical_requirements")},
        {"27.2.1.1", "HLAT without EPT", [](Vm& v) { no_ept(v); tertiary(v, "proc3_enable_hlat"); }, ctl("ctl_hlat_without_ept")},
        {"27.2.1.1", "HLAT pointer not aligned", [](Vm& v) { tertiary(v, "proc3_enable_hlat"); v[F::hlat_pointer] = 0xf010; }, ctl("ctl_hlat_pointer")},
        {"27.2.1.1", "EPT paging-write control without EPT", [](Vm& v) { no_ept(v); tertiary(v, "proc3_ept_paging_write_control"); }, ctl("ctl_paging_write_without_ept")},
        {"27.2.1.1", "IPI virtualization without virtual-interrupt delivery", [](Vm& v) { tertiary(v, "proc3_ipi_virtualization"); v[F::pid_pointer_table_address] = 0x10000; }, ctl("ctl_ipi_virtualization")},
        // 27.2.1.2 Checks on VM-exit control fields
        {"27.2.1.2", "VM-exit reserved bit 0 set", [](Vm& v) { v[F::primary_vm_exit_controls] |= 1; }, ctl("ctl_exit_allowed")},
        {"27.2.1.2", "VM-exit control forced to 1 is 0", [](Vm& v) { v.caps.true_exit |= 4; }, ctl("ctl_exit_allowed")},
        {"27.2.1.2", "secondary VM-exit control not allowed", [](Vm& v) { v.on("exit_activate_secondary_controls"); v[F::secondary_vm_exit_controls] = 1; }, ctl("ctl_exit2_allowed")},
        {"27.2.1.2", "save preemption timer without the timer", [](Vm& v) { v.on("exit_save_vmx_preemption_timer_value"); }, ctl("ctl_save_preemption_timer_without_timer")},
        {"27.2.1.2", "VM-exit MSR-store area not 16-byte aligned", [](Vm& v) { v[F::vm_exit_msr_store_count] = 1; v[F::vm_exit_msr_store_address] = 0x1008; }, ctl("ctl_exit_msr_store_address")},
        {"27.2.1.2", "VM-exit MSR-store area ends beyond MAXPHYADDR", [](Vm& v) { v[F::vm_exit_msr_store_count] = 2; v[F::vm_exit_msr_store_address] = (1ull << 39) - 16; }, ctl("ctl_exit_msr_store_address")},
        {"27.2.1.2", "VM-exit MSR-load area not aligned", [](Vm& v) { v[F::vm_exit_msr_load_count] = 1; v[F::vm_exit_msr_load_address] = 0x1004; }, ctl("ctl_exit_msr_load_address")},
        // 27.2.1.3 Checks on VM-entry control fields
        {"27.2.1.3", "VM-entry reserved bit 0 set", [](Vm& v) { v[F::vm_entry_controls] |= 1; }, ctl("ctl_entry_allowed")},
        {"27.2.1.3", "inject type 1 (reserved)", [](Vm& v) { inject(v, 1, 0x20); }, ctl("ctl_inject_type_reserved")},
        {"27.2.1.3", "inject other event without MTF support", [](Vm& v) { v.caps.true_procbased &= ~(uint64_t{1u << 27} << 32); inject(v, 7, 0); }, ctl("ctl_inject_type_other_unsupported")},
        {"27.2.1.3", "inject NMI with vector 3", [](Vm& v) { inject(v, 2, 3); }, ctl("ctl_inject_nmi_vector")},
        {"27.2.1.3", "inject hardware exception vector 32", [](Vm& v) { inject(v, 3, 32); }, ctl("ctl_inject_exception_vector")},
        {"27.2.1.3", "inject other event vector 1", [](Vm& v) { inject(v, 7, 1); }, ctl("ctl_inject_other_vector")},
        {"27.2.1.3", "inject #GP without error code", [](Vm& v) { inject(v, 3, 13); }, ctl("ctl_inject_deliver_error_code")},
        {"27.2.1.3", "inject #UD with error code", [](Vm& v) { inject(v, 3, 6, true); }, ctl("ctl_inject_deliver_error_code")},
        {"27.2.1.3", "inject external interrupt with error code", [](Vm& v) { inject(v, 0, 0x20, true); }, ctl("ctl_inject_deliver_error_code")},
        {"27.2.1.3", "inject #GP with error code into real-mode unrestricted guest", [](Vm& v) { real_mode(v); inject(v, 3, 13, true); }, ctl("ctl_inject_deliver_error_code")},
        {"27.2.1.3", "interruption information bit 12 set", [](Vm& v) { inject(v, 3, 6); v[F::vm_entry_interruption_information] |= 1 << 12; }, ctl("ctl_inject_reserved_bits")},
        {"27.2.1.3", "error code bits 31:16 set", [](Vm& v) { inject(v, 3, 13, true); v[F::vm_entry_exception_error_code] = 0x10000; }, ctl("ctl_inject_error_code_reserved")},
        {"27.2.1.3", "software interrupt with instruction length 0", [](Vm& v) { inject(v, 4, 0x80); }, ctl("ctl_inject_instruction_length")},
        {"27.2.1.3", "software exception with instruction length 16", [](Vm& v) { inject(v, 6, 3); v[F::vm_entry_instruction_length] = 16; }, ctl("ctl_inject_instruction_length")},
        {"27.2.1.3", "VM-entry MSR-load area not aligned", [](Vm& v) { v[F::vm_entry_msr_load_count] = 3; v[F::vm_entry_msr_load_address] = 0x2002; }, ctl("ctl_entry_msr_load_address")},
        {"27.2.1.3", "entry to SMM outside SMM", [](Vm& v) { v.on("entry_entry_to_smm"); }, ctl("ctl_entry_smm_outside_smm")},
        {"27.2.1.3", "deactivate dual-monitor treatment outside SMM", [](Vm& v) { v.on("entry_deactivate_dual_monitor_treatment"); }, ctl("ctl_entry_smm_outside_smm")},
        {"27.2.1.3", "entry to SMM and deactivate dual-monitor together", [](Vm& v) { v.cpu.in_smm = true; v.on("entry_entry_to_smm"); v.on("entry_deactivate_dual_monitor_treatment"); }, ctl("ctl_entry_smm_and_deactivate")},
        // 27.2.2 Checks on host control registers and MSRs
        {"27.2.2", "host CR0.NE clear (FIXED0)", [](Vm& v) { v[F::host_cr0] &= ~kCr0Ne; }, host("host_cr0_fixed")},
        {"27.2.2", "host CR0 bit 32 set (FIXED1)", [](Vm& v) { v[F::host_cr0] |= 1ull << 32; }, host("host_cr0_fixed")},
        {"27.2.2", "host CR4.VMXE clear", [](Vm& v) { v[F::host_cr4] &= ~kCr4Vmxe; }, host("host_cr4_fixed")},
        {"27.2.2", "host CR4 bit 25 set", [](Vm& v) { v[F::host_cr4] |= 1 << 25; }, host("host_cr4_fixed")},
        {"27.2.2", "host CR3 beyond MAXPHYADDR", [](Vm& v) { v[F::host_cr3] = 1ull << 40; }, host("host_cr3_width")},
        {"27.2.2", "host SYSENTER_ESP not canonical", [](Vm& v) { v[F::host_ia32_sysenter_esp] = 1ull << 47; }, host("host_sysenter_canonical")},
        {"27.2.2", "host SYSENTER_EIP not canonical", [](Vm& v) { v[F::host_ia32_sysenter_eip] = 0xfff0000000000000; }, host("host_sysenter_canonical")},
        {"27.2.2", "host PERF_GLOBAL_CTRL reserved bit", [](Vm& v) { v.on("exit_load_ia32_perf_global_ctrl"); v[F::host_ia32_perf_global_ctrl] = 1ull << 40; }, host("host_perf_global_ctrl_reserved")},
        {"27.2.2", "host PAT entry 0 type 2", [](Vm& v) { v.on("exit_load_ia32_pat"); v[F::host_ia32_pat] = 0x0007040600070402; }, host("host_pat")},
        {"27.2.2", "host PAT entry 7 type 8", [](Vm& v) { v.on("exit_load_ia32_pat"); v[F::host_ia32_pat] = 0x0807040600070406; }, host("host_pat")},
        {"27.2.2", "host EFER reserved bit 2", [](Vm& v) { v.on("exit_load_ia32_efer"); v[F::host_ia32_efer] = 0xd04; }, host("host_efer_reserved")},
        {"27.2.2", "host EFER.LMA clear with 64-bit host", [](Vm& v) { v.on("exit_load_ia32_efer"); v[F::host_ia32_efer] = 0x900; }, host("host_efer_lma")},
        {"27.2.2", "host EFER.LME clear with 64-bit host and paging", [](Vm& v) { v.on("exit_load_ia32_efer"); v[F::host_ia32_efer] = 0xc00; }, host("host_efer_lme")},
        {"27.2.2", "host PKRS bits 63:32 set", [](Vm& v) { v.on("exit_load_pkrs"); v[F::host_ia32_pkrs] = 1ull << 32; }, host("host_pkrs_reserved")},
        // 27.2.3 Checks on host segment and descriptor-table registers
        {"27.2.3", "host DS selector RPL 3", [](Vm& v) { v[F::host_ds_selector] = 0x13; }, host("host_selector_rpl_ti")},
        {"27.2.3", "host TR selector TI set", [](Vm& v) { v[F::host_tr_selector] = 0x1c; }, host("host_selector_rpl_ti")},
        {"27.2.3", "host CS selector null", [](Vm& v) { v[F::host_cs_selector] = 0; }, host("host_cs_null")},
        {"27.2.3", "host TR selector null", [](Vm& v) { v[F::host_tr_selector] = 0; }, host("host_tr_null")},
        {"27.2.3", "host SS null with 32-bit host", [](Vm& v) { v.off("exit_host_address_space_size"); v[F::host_ss_selector] = 0; }, host("host_ss_null")},
        {"27.2.3", "host FS base not canonical", [](Vm& v) { v[F::host_fs_base] = 1ull << 47; }, host("host_base_canonical")},
        {"27.2.3", "host GDTR base not canonical", [](Vm& v) { v[F::host_gdtr_base] = 0x0000900000000000; }, host("host_base_canonical")},
        {"27.2.3", "host TR base not canonical", [](Vm& v) { v[F::host_tr_base] = 0x8000000000000000; }, host("host_base_canonical")},
        // 27.2.4 Checks related to address-space size
        {"27.2.4", "64-bit host controls outside IA-32e mode", [](Vm& v) { v.cpu.ia32e = false; }, host("host_ia32e_controls_outside_ia32e")},
        {"27.2.4", "32-bit host while in IA-32e mode", [](Vm& v) { v.off("exit_host_address_space_size"); }, host("host_address_space_size_in_ia32e")},
        {"27.2.4", "32-bit host with CR4.PCIDE", [](Vm& v) { v.cpu.ia32e = false; v.off("exit_host_address_space_size"); protected_pae(v); v[F::host_cr4] |= kCr4Pcide; v[F::host_rip] = 0x1000; }, host("host_legacy_pcide")},
        {"27.2.4", "32-bit host with RIP above 4 GB", [](Vm& v) { v.cpu.ia32e = false; v.off("exit_host_address_space_size"); protected_pae(v); v[F::host_rip] = 1ull << 32; }, host("host_legacy_rip_high")},
        {"27.2.4", "64-bit host without CR4.PAE", [](Vm& v) { v[F::host_cr4] &= ~kCr4Pae; }, host("host_64_without_pae")},
        {"27.2.4", "64-bit host RIP not canonical", [](Vm& v) { v[F::host_rip] = 0x0000800000000000; }, host("host_rip_canonical")},
        // 27.3.1.1 Checks on guest control registers, debug registers and MSRs
        {"27.3.1.1", "guest CR0.NE clear", [](Vm& v) { v[F::guest_cr0] &= ~kCr0Ne; }, guest("guest_cr0_fixed")},
        {"27.3.1.1", "guest CR0.PG clear without unrestricted guest", [](Vm& v) { v[F::guest_cr0] &= ~kCr0Pg; }, guest("guest_cr0_fixed")},
        {"27.3.1.1", "guest CR0 bit 32 set", [](Vm& v) { v[F::guest_cr0] |= 1ull << 32; }, guest("guest_cr0_fixed")},
        {"27.3.1.1", "guest CR0.PG without PE (unrestricted guest)", [](Vm& v) { v.on("proc2_unrestricted_guest"); v[F::guest_cr0] &= ~kCr0Pe; }, guest("guest_cr0_pg_without_pe")},
        {"27.3.1.1", "guest CR4.VMXE clear", [](Vm& v) { v[F::guest_cr4] &= ~kCr4Vmxe; }, guest("guest_cr4_fixed")},
        {"27.3.1.1", "guest CR4.CET without CR0.WP", [](Vm& v) { v[F::guest_cr4] |= kCr4Cet; }, guest("guest_cr4_cet_without_wp")},
        {"27.3.1.1", "guest DEBUGCTL reserved bit 2", [](Vm& v) { v.on("entry_load_debug_controls"); v[F::guest_ia32_debugctl] = 4; }, guest("guest_debugctl_reserved")},
        {"27.3.1.1", "guest DEBUGCTL bit 16", [](Vm& v) { v.on("entry_load_debug_controls"); v[F::guest_ia32_debugctl] = 1 << 16; }, guest("guest_debugctl_reserved")},
        {"27.3.1.1", "IA-32e guest without CR4.PAE", [](Vm& v) { v[F::guest_cr4] &= ~kCr4Pae; }, guest("guest_ia32e_without_pg_pae")},
        {"27.3.1.1", "IA-32e guest without CR0.PG (unrestricted guest)", [](Vm& v) { v.on("proc2_unrestricted_guest"); v[F::guest_cr0] &= ~kCr0Pg; }, guest("guest_ia32e_without_pg_pae")},
        {"27.3.1.1", "CR4.PCIDE outside IA-32e mode", [](Vm& v) { protected_pae(v); v[F::guest_cr4] |= kCr4Pcide; }, guest("guest_pcide_outside_ia32e")},
        {"27.3.1.1", "guest CR3 beyond MAXPHYADDR", [](Vm& v) { v[F::guest_cr3] = 1ull << 39; }, guest("guest_cr3_width")},
        {"27.3.1.1", "guest DR7 bits 63:32 set", [](Vm& v) { v.on("entry_load_debug_controls"); v[F::guest_dr7] = (1ull << 32) | 0x400; }, guest("guest_dr7_high")},
        {"27.3.1.1", "guest SYSENTER_ESP not canonical", [](Vm& v) { v[F::guest_ia32_sysenter_esp] = 1ull << 50; }, guest("guest_sysenter_canonical")},
        {"27.3.1.1", "guest SYSENTER_EIP not canonical", [](Vm& v) { v[F::guest_ia32_sysenter_eip] = 0x8000000000000000; }, guest("guest_sysenter_canonical")},
        {"27.3.1.1", "guest PERF_GLOBAL_CTRL reserved bit", [](Vm& v) { v.on("entry_load_ia32_perf_global_ctrl"); v[F::guest_ia32_perf_global_ctrl] = 1ull << 8; }, guest("guest_perf_global_ctrl_reserved")},
        {"27.3.1.1", "guest PAT entry 0 type 3", [](Vm& v) { v.on("entry_load_ia32_pat"); v[F::guest_ia32_pat] = 0x0007040600070403; }, guest("guest_pat")},
        {"27.3.1.1", "guest PAT entry 4 type 0x10", [](Vm& v) { v.on("entry_load_ia32_pat"); v[F::guest_ia32_pat] = 0x0007041000070406; }, guest("guest_pat")},
        {"27.3.1.1", "guest EFER reserved bit 1", [](Vm& v) { v.on("entry_load_ia32_efer"); v[F::guest_ia32_efer] = 0xd02; }, guest("guest_efer_reserved")},
        {"27.3.1.1", "guest EFER.LMA clear for IA-32e guest", [](Vm& v) { v.on("entry_load_ia32_efer"); v[F::guest_ia32_efer] = 0x100; }, guest("guest_efer_lma")},
        {"27.3.1.1", "guest EFER.LMA set for 32-bit guest", [](Vm& v) { protected_pae(v); v.on("entry_load_ia32_efer"); v[F::guest_ia32_efer] = 0x400; }, guest("guest_efer_lma")},
        {"27.3.1.1", "guest EFER.LME clear with paging", [](Vm& v) { v.on("entry_load_ia32_efer"); v[F::guest_ia32_efer] = 0x400; }, guest("guest_efer_lme")},
        {"27.3.1.1", "guest BNDCFGS reserved bit 2", [](Vm& v) { v.on("entry_load_ia32_bndcfgs"); v[F::guest_ia32_bndcfgs] = 4; }, guest("guest_bndcfgs")},
        {"27.3.1.1", "guest BNDCFGS base not canonical", [](Vm& v) { v.on("entry_load_ia32_bndcfgs"); v[F::guest_ia32_bndcfgs] = (1ull << 47) | 1; }, guest("guest_bndcfgs")},
        {"27.3.1.1", "guest PKRS bits 63:32 set", [](Vm& v) { v.on("entry_load_pkrs"); v[F::guest_ia32_pkrs] = 1ull << 40; }, guest("guest_pkrs_reserved")},
        // 27.3.1.2 Checks on guest segment registers
        {"27.3.1.2", "TR selector TI set", [](Vm& v) { v[F::guest_tr_selector] = 0x1c; }, guest("guest_tr_ti")},
        {"27.3.1.2", "usable LDTR selector TI set", [](Vm& v) { usable_ldtr(v, 0x82); v[F::guest_ldtr_selector] = 0x24; }, guest("guest_ldtr_ti")},
        {"27.3.1.2", "SS.RPL differs from CS.RPL", [](Vm& v) { v[F::guest_ss_selector] = 0x13; }, guest("guest_ss_rpl_cs_rpl")},
        {"27.3.1.2", "virtual-8086 DS base not selector*16", [](Vm& v) { virtual_8086(v); v[F::guest_ds_base] = 0x2000; }, guest("guest_v86_base")},
        {"27.3.1.2", "virtual-8086 CS base not selector*16", [](Vm& v) { virtual_8086(v); v[F::guest_cs_selector] = 0x200; }, guest("guest_v86_base")},
        {"27.3.1.2", "TR base not canonical", [](Vm& v) { v[F::guest_tr_base] = 1ull << 47; }, guest("guest_base_canonical")},
        {"27.3.1.2", "GS base not canonical", [](Vm& v) { v[F::guest_gs_base] = 0x00f0000000000000; }, guest("guest_base_canonical")},
        {"27.3.1.2", "usable LDTR base not canonical", [](Vm& v) { usable_ldtr(v, 0x82); v[F::guest_ldtr_base] = 1ull << 48; }, guest("guest_base_canonical")},
        {"27.3.1.2", "CS base bits 63:32 set", [](Vm& v) { v[F::guest_cs_base] = 1ull << 32; }, guest("guest_cs_base_high")},
        {"27.3.1.2", "usable SS base bits 63:32 set", [](Vm& v) { v[F::guest_ss_base] = 1ull << 33; }, guest("guest_base_high")},
        {"27.3.1.2", "usable ES base bits 63:32 set", [](Vm& v) { v[F::guest_es_base] = 1ull << 40; }, guest("guest_base_high")},
        {"27.3.1.2", "virtual-8086 SS limit not FFFFH", [](Vm& v) { virtual_8086(v); v[F::guest_ss_limit] = 0xfffff; }, guest("guest_v86_limit")},
        {"27.3.1.2", "virtual-8086 GS access rights not F3H", [](Vm& v) { virtual_8086(v); v[F::guest_gs_access_rights] = 0xf2; }, guest("guest_v86_access_rights")},
        {"27.3.1.2", "CS type 3 without unrestricted guest", [](Vm& v) { v[F::guest_cs_access_rights] = 0xa093; }, guest("guest_cs_type")},
        {"27.3.1.2", "CS type 8 (execute-only, not accessed)", [](Vm& v) { v[F::guest_cs_access_rights] = 0xa098; }, guest("guest_cs_type")},
        {"27.3.1.2", "SS type 11 (code)", [](Vm& v) { v[F::guest_ss_access_rights] = 0xc09b; }, guest("guest_ss_type")},
        {"27.3.1.2", "SS type 1 (read-only)", [](Vm& v) { v[F::guest_ss_access_rights] = 0xc091; }, guest("guest_ss_type")},
        {"27.3.1.2", "DS not accessed", [](Vm& v) { v[F::guest_ds_access_rights] = 0xc092; }, guest("guest_data_type_accessed")},
        {"27.3.1.2", "FS execute-only code", [](Vm& v) { v[F::guest_fs_access_rights] = 0xc099; }, guest("guest_data_type_readable")},
        {"27.3.1.2", "ES is a system descriptor (S=0)", [](Vm& v) { v[F::guest_es_access_rights] = 0xc083; }, guest("guest_segment_s")},
        {"27.3.1.2", "CS is a system descriptor (S=0)", [](Vm& v) { v[F::guest_cs_access_rights] = 0xa08b; }, guest("guest_segment_s")},
        {"27.3.1.2", "CS type 3 with DPL 3 (unrestricted guest)", [](Vm& v) { v.on("proc2_unrestricted_guest"); v[F::guest_cs_access_rights] = 0xa0f3; }, guest("guest_cs_dpl_type3")},
        {"27.3.1.2", "non-conforming CS DPL differs from SS.DPL", [](Vm& v) { v[F::guest_cs_access_rights] = 0xa0fb; }, guest("guest_cs_dpl_nonconforming")},
        {"27.3.1.2", "conforming CS DPL above SS.DPL", [](Vm& v) { v[F::guest_cs_access_rights] = 0xa0ff; }, guest("guest_cs_dpl_conforming")},
        {"27.3.1.2", "SS.DPL differs from SS.RPL", [](Vm& v) { v[F::guest_cs_access_rights] = 0xa09f; v[F::guest_ss_access_rights] = 0xc0f3; }, guest("guest_ss_dpl_rpl")},
        {"27.3.1.2", "SS.DPL 3 in real mode (unrestricted guest)", [](Vm& v) { real_mode(v); v[F::guest_cs_access_rights] = 0xfb; v[F::guest_ss_access_rights] = 0xf3; }, guest("guest_ss_dpl_real_mode")},
        {"27.3.1.2", "DS.DPL below DS.RPL", [](Vm& v) { v[F::guest_ds_selector] = 0x13; }, guest("guest_data_dpl_rpl")},
        {"27.3.1.2", "DS not present", [](Vm& v) { v[F::guest_ds_access_rights] = 0xc013; }, guest("guest_segment_present")},
        {"27.3.1.2", "CS not present", [](Vm& v) { v[F::guest_cs_access_rights] = 0xa01b; }, guest("guest_segment_present")},
        {"27.3.1.2", "GS access rights bit 8 set", [](Vm& v) { v[F::guest_gs_access_rights] |= 0x100; }, guest("guest_segment_reserved_11_8")},
        {"27.3.1.2", "CS.L and CS.D both set", [](Vm& v) { v[F::guest_cs_access_rights] = 0xe09b; }, guest("guest_cs_l_and_d")},
        {"27.3.1.2", "DS limit 4 GB with G=0", [](Vm& v) { v[F::guest_ds_access_rights] = 0x4093; }, guest("guest_segment_granularity")},
        {"27.3.1.2", "SS limit 1000H with G=1", [](Vm& v) { v[F::guest_ss_limit] = 0x1000; }, guest("guest_segment_granularity")},
        {"27.3.1.2", "ES access rights bit 20 set", [](Vm& v) { v[F::guest_es_access_rights] |= 1 << 20; }, guest("guest_segment_reserved_31_17")},
        {"27.3.1.2", "TR type 3 (16-bit busy TSS) for IA-32e guest", [](Vm& v) { v[F::guest_tr_access_rights] = 0x83; }, guest("guest_tr_type")},
        {"27.3.1.2", "TR type 9 (available TSS)", [](Vm& v) { v[F::guest_tr_access_rights] = 0x89; }, guest("guest_tr_type")},
        {"27.3.1.2", "TR with S=1", [](Vm& v) { v[F::guest_tr_access_rights] = 0x9b; }, guest("guest_tr_s")},
        {"27.3.1.2", "TR not present", [](Vm& v) { v[F::guest_tr_access_rights] = 0x0b; }, guest("guest_tr_present")},
        {"27.3.1.2", "TR access rights bit 9 set", [](Vm& v) { v[F::guest_tr_access_rights] = 0x28b; }, guest("guest_tr_reserved_11_8")},
        {"27.3.1.2", "TR limit 67H with G=1", [](Vm& v) { v[F::guest_tr_access_rights] = 0x808b; }, guest("guest_tr_granularity")},
        {"27.3.1.2", "TR unusable", [](Vm& v) { v[F::guest_tr_access_rights] = 0x1008b; }, guest("guest_tr_unusable")},
        {"27.3.1.2", "TR access rights bit 17 set", [](Vm& v) { v[F::guest_tr_access_rights] = 0x2008b; }, guest("guest_tr_reserved_31_17")},
        {"27.3.1.2", "LDTR type 3", [](Vm& v) { usable_ldtr(v, 0x83); }, guest("guest_ldtr_type")},
        {"27.3.1.2", "LDTR with S=1", [](Vm& v) { usable_ldtr(v, 0x92); }, guest("guest_ldtr_s")},
        {"27.3.1.2", "LDTR not present", [](Vm& v) { usable_ldtr(v, 0x02); }, guest("guest_ldtr_present")},
        {"27.3.1.2", "LDTR access rights bit 8 set", [](Vm& v) { usable_ldtr(v, 0x182); }, guest("guest_ldtr_reserved_11_8")},
        {"27.3.1.2", "LDTR limit FFH with G=1", [](Vm& v) { usable_ldtr(v, 0x8082); }, guest("guest_ldtr_granularity")},
        {"27.3.1.2", "LDTR access rights bit 19 set", [](Vm& v) { usable_ldtr(v, 0x80082); }, guest("guest_ldtr_reserved_31_17")},
        // 27.3.1.3 Checks on guest descriptor-table registers
        {"27.3.1.3", "GDTR base not canonical", [](Vm& v) { v[F::guest_gdtr_base] = 1ull << 47; }, guest("guest_gdtr_idtr_base_canonical")},
        {"27.3.1.3", "IDTR base not canonical", [](Vm& v) { v[F::guest_idtr_base] = 0x7fff000000000000; }, guest("guest_gdtr_idtr_base_canonical")},
        {"27.3.1.3", "GDTR limit above FFFFH", [](Vm& v) { v[F::guest_gdtr_limit] = 0x10000; }, guest("guest_gdtr_idtr_limit")},
        {"27.3.1.3", "IDTR limit above FFFFH", [](Vm& v) { v[F::guest_idtr_limit] = 0x20000; }, guest("guest_gdtr_idtr_limit")},
        // 27.3.1.4 Checks on guest RIP and RFLAGS
        {"27.3.1.4", "RIP above 4 GB in compatibility mode", [](Vm& v) { v[F::guest_cs_access_rights] = 0xc09b; }, guest("guest_rip_high")},
        {"27.3.1.4", "RIP above 4 GB in a 32-bit guest", [](Vm& v) { protected_pae(v); v[F::guest_rip] = 1ull << 32; }, guest("guest_rip_high")},
        {"27.3.1.4", "RIP not canonical in 64-bit mode", [](Vm& v) { v[F::guest_rip] = 0x0000800000000000; }, guest("guest_rip_canonical")},
        {"27.3.1.4", "RFLAGS bit 3 set", [](Vm& v) { v[F::guest_rflags] |= 8; }, guest("guest_rflags_reserved")},
        {"27.3.1.4", "RFLAGS bit 1 clear", [](Vm& v) { v[F::guest_rflags] = 0; }, guest("guest_rflags_reserved")},
        {"27.3.1.4", "RFLAGS bit 22 set", [](Vm& v) { v[F::guest_rflags] |= 1 << 22; }, guest("guest_rflags_reserved")},
        {"27.3.1.4", "RFLAGS bit 15 set", [](Vm& v) { v[F::guest_rflags] |= 1 << 15; }, guest("guest_rflags_reserved")},
        {"27.3.1.4", "RFLAGS.VM in an IA-32e guest", [](Vm& v) { virtual_8086(v); v.on("entry_ia32e_mode_guest"); v[F::guest_rip] = 0x1000; }, guest("guest_rflags_vm")},
        {"27.3.1.4", "external interrupt injected with IF=0", [](Vm& v) { inject(v, 0, 0x20); }, guest("guest_rflags_if_for_external_interrupt")},
        // 27.3.1.5 Checks on guest non-register state
        {"27.3.1.5", "activity state 4", [](Vm& v) { v[F::guest_activity_state] = 4; }, guest("guest_activity_state_value")},
        {"27.3.1.5", "HLT state not supported by MISC", [](Vm& v) { v.caps.misc &= ~(1ull << 6); v[F::guest_activity_state] = 1; }, guest("guest_activity_state_unsupported")},
        {"27.3.1.5", "wait-for-SIPI not supported by MISC", [](Vm& v) { v.caps.misc &= ~(1ull << 8); v[F::guest_activity_state] = 3; }, guest("guest_activity_state_unsupported")},
        {"27.3.1.5", "HLT with SS.DPL 3", [](Vm& v) { user_ss(v); v[F::guest_activity_state] = 1; }, guest("guest_activity_hlt_ss_dpl")},
        {"27.3.1.5", "HLT with blocking by STI", [](Vm& v) { v[F::guest_rflags] |= 0x200; v[F::guest_interruptibility_state] = 1; v[F::guest_activity_state] = 1; }, guest("guest_activity_with_sti_movss_blocking")},
        {"27.3.1.5", "HLT with #UD injected", [](Vm& v) { v[F::guest_activity_state] = 1; inject(v, 3, 6); }, guest("guest_activity_injection")},
        {"27.3.1.5", "shutdown with external interrupt injected", [](Vm& v) { v[F::guest_rflags] |= 0x200; v[F::guest_activity_state] = 2; inject(v, 0, 0x20); }, guest("guest_activity_injection")},
        {"27.3.1.5", "wait-for-SIPI with NMI injected", [](Vm& v) { v[F::guest_activity_state] = 3; inject(v, 2, 2); }, guest("guest_activity_injection")},
        {"27.3.1.5", "wait-for-SIPI with entry to SMM", [](Vm& v) { v.cpu.in_smm = true; v.on("entry_entry_to_smm"); v[F::guest_activity_state] = 3; }, guest("guest_activity_sipi_entry_to_smm")},
        {"27.3.1.5", "interruptibility bit 5 set", [](Vm& v) { v[F::guest_interruptibility_state] = 1 << 5; }, guest("guest_interruptibility_reserved")},
        {"27.3.1.5", "enclave interruption without SGX", [](Vm& v) { v[F::guest_interruptibility_state] = 1 << 4; }, guest("guest_interruptibility_reserved")},
        {"27.3.1.5", "blocking by STI and by MOV SS", [](Vm& v) { v[F::guest_rflags] |= 0x200; v[F::guest_interruptibility_state] = 3; }, guest("guest_interruptibility_sti_and_movss")},
        {"27.3.1.5", "blocking by STI with IF=0", [](Vm& v) { v[F::guest_interruptibility_state] = 1; }, guest("guest_interruptibility_sti_with_if_clear")},
        {"27.3.1.5", "external interrupt injected under MOV-SS blocking", [](Vm& v) { v[F::guest_rflags] |= 0x200; v[F::guest_interruptibility_state] = 2; inject(v, 0, 0x20); }, guest("guest_interruptibility_external_interrupt_blocked")},
        {"27.3.1.5", "external interrupt injected under STI blocking", [](Vm& v) { v[F::guest_rflags] |= 0x200; v[F::guest_interruptibility_state] = 1; inject(v, 0, 0x20); }, guest("guest_interruptibility_external_interrupt_blocked")},
        {"27.3.1.5", "NMI injected under MOV-SS blocking", [](Vm& v) { v[F::guest_interruptibility_state] = 2; inject(v, 2, 2); }, guest("guest_interruptibility_nmi_movss")},
        {"27.3.1.5", "blocking by SMI outside SMM", [](Vm& v) { v[F::guest_interruptibility_state] = 4; }, guest("guest_interruptibility_smi_outside_smm")},
        {"27.3.1.5", "entry to SMM without blocking by SMI", [](Vm& v) { v.cpu.in_smm = true; v.on("entry_entry_to_smm"); }, guest("guest_interruptibility_entry_to_smm_without_smi_blocking")},
        {"27.3.1.5", "virtual NMI injected under virtual-NMI blocking", [](Vm& v) { v.on("pin_nmi_exiting"); v.on("pin_virtual_nmis"); v[F::guest_interruptibility_state] = 8; inject(v, 2, 2); }, guest("guest_interruptibility_virtual_nmi_blocked")},
        {"27.3.1.5", "enclave interruption with MOV-SS blocking", [](Vm& v) { v.cpu.sgx = true; v[F::guest_interruptibility_state] = 0x12; }, guest("guest_interruptibility_enclave_movss")},
        {"27.3.1.5", "NMI injected under STI blocking (qualification 3)", [](Vm& v) { v[F::guest_rflags] |= 0x200; v[F::guest_interruptibility_state] = 1; inject(v, 2, 2); }, guest("guest_interruptibility_nmi_sti", 3)},
        {"27.3.1.5", "pending debug exceptions bit 4", [](Vm& v) { v[F::guest_pending_debug_exceptions] = 1 << 4; }, guest("guest_pending_debug_reserved")},
        {"27.3.1.5", "pending debug exceptions bit 32", [](Vm& v) { v[F::guest_pending_debug_exceptions] = 1ull << 32; }, guest("guest_pending_debug_reserved")},
        {"27.3.1.5", "STI blocking with TF=1 and BS clear", [](Vm& v) { v[F::guest_rflags] |= 0x300; v[F::guest_interruptibility_state] = 1; }, guest("guest_pending_debug_bs_not_set")},
        {"27.3.1.5", "HLT with TF=1 and BS clear", [](Vm& v) { v[F::guest_rflags] |= 0x100; v[F::guest_activity_state] = 1; }, guest("guest_pending_debug_bs_not_set")},
        {"27.3.1.5", "MOV-SS blocking with TF=0 and BS set", [](Vm& v) { v[F::guest_interruptibility_state] = 2; v[F::guest_pending_debug_exceptions] = 1 << 14; }, guest("guest_pending_debug_bs_set")},
        {"27.3.1.5", "HLT with TF=1, BTF=1 and BS set", [](Vm& v) { v.on("entry_load_debug_controls"); v[F::guest_ia32_debugctl] = 2; v[F::guest_rflags] |= 0x100; v[F::guest_activity_state] = 1; v[F::guest_pending_debug_exceptions] = 1 << 14; }, guest("guest_pending_debug_bs_set")},
        {"27.3.1.5", "RTM pending without enabled-breakpoint bit", [](Vm& v) { v[F::guest_pending_debug_exceptions] = 1 << 16; }, guest("guest_pending_debug_rtm")},
        {"27.3.1.5", "RTM pending with B0", [](Vm& v) { v[F::guest_pending_debug_exceptions] = (1 << 16) | (1 << 12) | 1; }, guest("guest_pending_debug_rtm")},
        {"27.3.1.5", "RTM pending under MOV-SS blocking", [](Vm& v) { v[F::guest_interruptibility_state] = 2; v[F::guest_pending_debug_exceptions] = (1 << 16) | (1 << 12); }, guest("guest_pending_debug_rtm")},
        {"27.3.1.5", "VMCS link pointer not 4K aligned (qualification 4)", [](Vm& v) { v[F::vmcs_link_pointer] = 0x6004; }, guest("guest_link_pointer_alignment", 4)},
        {"27.3.1.5", "VMCS link pointer beyond MAXPHYADDR", [](Vm& v) { v[F::vmcs_link_pointer] = 1ull << 40; }, guest("guest_link_pointer_width", 4)},
        {"27.3.1.5", "VMCS link pointer revision mismatch", [](Vm& v) { v.poke32(0x6000, kRevision + 1); v[F::vmcs_link_pointer] = 0x6000; }, guest("guest_link_pointer_revision", 4)},
        {"27.3.1.5", "VMCS link pointer not RAM", [](Vm& v) { v[F::vmcs_link_pointer] = 0x70000; }, guest("guest_link_pointer_revision", 4)},
        {"27.3.1.5", "VMCS link pointer is a shadow VMCS without VMCS shadowing", [](Vm& v) { v.poke32(0x6000, kRevision | 1u << 31); v[F::vmcs_link_pointer] = 0x6000; }, guest("guest_link_pointer_shadow_indicator", 4)},
        {"27.3.1.5", "VMCS shadowing with an ordinary link VMCS", [](Vm& v) { v.on("proc2_vmcs_shadowing"); v[F::vmread_bitmap_address] = 0xc000; v[F::vmwrite_bitmap_address] = 0xd000; v[F::vmcs_link_pointer] = 0x6000; }, guest("guest_link_pointer_shadow_indicator", 4)},
        // 27.3.1.6 Checks on guest page-directory-pointer-table entries
        {"27.3.1.6", "PAE PDPTE0 reserved bit 1 without EPT (qualification 2)", [](Vm& v) { pae_without_ept(v, 0x9003); }, guest("guest_pdpte_reserved", 2)},
        {"27.3.1.6", "PAE PDPTE0 reserved bit 7 without EPT", [](Vm& v) { pae_without_ept(v, 0x9081); }, guest("guest_pdpte_reserved", 2)},
        {"27.3.1.6", "PAE PDPTE3 beyond MAXPHYADDR without EPT", [](Vm& v) { pae_without_ept(v, 0x9001); v.poke64(0x8018, (1ull << 39) | 1); }, guest("guest_pdpte_reserved", 2)},
        {"27.3.1.6", "PAE PDPT not in RAM without EPT", [](Vm& v) { pae_without_ept(v, 0x9001); v[F::guest_cr3] = 0x80000; }, guest("guest_pdpte_unreadable", 2)},
        {"27.3.1.6", "PAE guest PDPTE1 field reserved bit 5 with EPT", [](Vm& v) { protected_pae(v); v[F::guest_pdpte1] = 0x9021; }, guest("guest_pdpte_field_reserved")},
    };
    return k;
}

TEST(EntryChecks, The64BitBaselinePasses) {
    const auto r = baseline().run();
    EXPECT_EQ(r.kind, Kind::ok) << r.check;
}

TEST(EntryChecks, ValidVariantsPass) {
    const std::vector<std::pair<const char*, std::function<void(Vm&)>>> variants = {
        {"unrestricted guest in real mode", real_mode},
        {"32-bit PAE guest with EPT", protected_pae},
        {"32-bit PAE guest without EPT, valid PDPTEs", [](Vm& v) { pae_without_ept(v, 0x9001); v.poke64(0x8008, 0); }},
        {"virtual-8086 guest", virtual_8086},
        {"unusable DS with garbage base and rights", [](Vm& v) { v[F::guest_ds_access_rights] = 0x10000 | 0xf0f00; v[F::guest_ds_base] = ~0ull; }},
        {"valid link pointer", [](Vm& v) { v[F::vmcs_link_pointer] = 0x6000; }},
        {"shadow link VMCS with VMCS shadowing", [](Vm& v) { v.on("proc2_vmcs_shadowing"); v[F::vmread_bitmap_address] = 0xc000; v[F::vmwrite_bitmap_address] = 0xd000; v.poke32(0x6000, kRevision | 1u << 31); v[F::vmcs_link_pointer] = 0x6000; }},
        {"posted interrupts fully configured", posted_interrupts},
        {"inject #PF with error code", [](Vm& v) { inject(v, 3, 14, true); }},
        {"inject external interrupt with IF=1", [](Vm& v) { v[F::guest_rflags] |= 0x200; inject(v, 0, 0x20); }},
        {"HLT with #DB injected", [](Vm& v) { v[F::guest_activity_state] = 1; inject(v, 3, 1); }},
        {"STI blocking with TF=1 and BS set", [](Vm& v) { v[F::guest_rflags] |= 0x300; v[F::guest_interruptibility_state] = 1; v[F::guest_pending_debug_exceptions] = 1 << 14; }},
        {"load EFER matching the IA-32e guest", [](Vm& v) { v.on("entry_load_ia32_efer"); v[F::guest_ia32_efer] = 0xd01; v.on("exit_load_ia32_efer"); v[F::host_ia32_efer] = 0xd01; }},
        {"32-bit host outside IA-32e mode", [](Vm& v) { v.cpu.ia32e = false; v.off("exit_host_address_space_size"); protected_pae(v); v[F::host_rip] = 0x1000; }},
        {"TPR threshold at VTPR", [](Vm& v) { tpr_shadow(v); v[F::tpr_threshold] = 0xf; }},
    };
    for (const auto& [name, make] : variants) {
        Vm v = baseline();
        make(v);
        const auto r = v.run();
        EXPECT_EQ(r.kind, Kind::ok) << name << ": failed " << r.check;
    }
}

TEST(EntryChecks, EachBrokenFieldGivesItsArchitecturalOutcome) {
    for (const Case& c : cases()) {
        Vm v = baseline();
        c.breaks(v);
        const auto r = v.run();
        EXPECT_EQ(r.kind, c.expect.kind) << c.name << " (got " << r.check << ")";
        EXPECT_EQ(r.error_or_qualification, c.expect.code) << c.name;
        EXPECT_STREQ(r.check, c.expect.check) << c.name;
    }
    EXPECT_GE(cases().size(), 120u);
}

const char* outcome(const Expect& e) {
    switch (e.kind) {
    case Kind::vmfail_controls: return "VMfailValid(7)";
    case Kind::vmfail_host_state: return "VMfailValid(8)";
    case Kind::guest_state_failure: return "exit reason 33";
    default: return "ok";
    }
}

// docs/vmx-entry-checks.md, generated from the table above (HVSIM_ENTRY_CHECK_DOC=PATH).
TEST(EntryChecks, WritesTheCoverageDocument) {
    const char* path = std::getenv("HVSIM_ENTRY_CHECK_DOC");
    if (!path) GTEST_SKIP() << "set HVSIM_ENTRY_CHECK_DOC to write the document";
    std::ofstream out(path);
    out << "# VM-entry checks (vmx/entry_checks.cpp)\n\n"
        << "Generated by `HVSIM_ENTRY_CHECK_DOC=docs/vmx-entry-checks.md build/tests/unit/vmx/test_vmx`\n"
        << "from the table of tests/unit/vmx/test_entry_checks.cpp. Every check of Intel SDM Vol. 3C 27.2\n"
        << "(VMfailValid with error 7 for the controls, 8 for the host state) and 27.3.1 (VM-entry failure:\n"
        << "exit reason 33 with bit 31 set; qualification 0, 2 PDPTEs, 3 NMI under STI blocking, 4 VMCS link\n"
        << "pointer; SDM 27.8), in the SDM's order: the first failing check decides. Each row is a test case\n"
        << "that breaks one field of a valid 64-bit baseline and expects exactly this outcome.\n\n"
        << "| check id | SDM | outcome | test case |\n|---|---|---|---|\n";
    std::set<std::string> ids;
    for (const Case& c : cases()) {
        ids.insert(c.expect.check);
        out << "| `" << c.expect.check << "` | " << c.section << " | " << outcome(c.expect);
        if (c.expect.kind == Kind::guest_state_failure) out << ", qualification " << c.expect.code;
        out << " | " << c.name << " |\n";
    }
    out << "\n" << ids.size() << " checks, " << cases().size() << " negative cases (plus the valid baselines of\n"
        << "`EntryChecks.ValidVariantsPass`).\n";
}

}  // namespace
