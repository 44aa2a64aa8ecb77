// Short names for the bits of the VMX control fields (the one table: sim/tables/vmx_controls.toml,
// SDM Vol. 3C 25.6-25.8), their default-1 classes (Appendix A.3-A.5), and the bits of the
// interruption-information and interruptibility fields (25.4.2, 25.8.3).
// Context: constants shared by every file of vmx/.
#pragma once
#include <cstdint>

#include "vmx_controls_table.h"

namespace vmx {

constexpr uint32_t bit(VmxControl c) { return static_cast<uint32_t>(c); }

namespace pin {
inline constexpr uint32_t external_interrupt_exiting = bit(VmxControl::pin_external_interrupt_exiting);
inline constexpr uint32_t nmi_exiting = bit(VmxControl::pin_nmi_exiting);
inline constexpr uint32_t virtual_nmis = bit(VmxControl::pin_virtual_nmis);
inline constexpr uint32_t preemption_timer = bit(VmxControl::pin_activate_vmx_preemption_timer);
inline constexpr uint32_t posted_interrupts = bit(VmxControl::pin_process_posted_interrupts);
inline constexpr uint32_t default1 = 0x16;  // bits 1, 2, 4 (A.3.1)
}  // namespace pin

namespace proc {
inline constexpr uint32_t interrupt_window_exiting = bit(VmxControl::proc_interrupt_window_exiting);
inline constexpr uint32_t use_tsc_offsetting = bit(VmxControl::proc_use_tsc_offsetting);
inline constexpr uint32_t hlt_exiting = bit(VmxControl::proc_hlt_exiting);
inline constexpr uint32_t invlpg_exiting = bit(VmxControl::proc_invlpg_exiting);
inline constexpr uint32_t mwait_exiting = bit(VmxControl::proc_mwait_exiting);
inline constexpr uint32_t rdpmc_exiting = bit(VmxControl::proc_rdpmc_exiting);
inline constexpr uint32_t rdtsc_exiting = bit(VmxControl::proc_rdtsc_exiting);
inline constexpr uint32_t cr3_load_exiting = bit(VmxControl::proc_cr3_load_exiting);
inline constexpr uint32_t cr3_store_exiting = bit(VmxControl::proc_cr3_store_exiting);
inline constexpr uint32_t cr8_load_exiting = bit(VmxControl::proc_cr8_load_exiting);
inline constexpr uint32_t cr8_store_exiting = bit(VmxControl::proc_cr8_store_exiting);
inline constexpr uint32_t use_tpr_shadow = bit(VmxControl::proc_use_tpr_shadow);
inline constexpr uint32_t nmi_window_exiting = bit(VmxControl::proc_nmi_window_exiting);
inline constexpr uint32_t mov_dr_exiting = bit(VmxControl::proc_mov_dr_exiting);
inline constexpr uint32_t unconditional_io_exiting = bit(VmxControl::proc_unconditional_io_exiting);
inline constexpr uint32_t use_io_bitmaps = bit(VmxControl::proc_use_io_bitmaps);
inline constexpr uint32_t monitor_trap_flag = bit(VmxControl::proc_monitor_trap_flag);
inline constexpr uint32_t use_msr_bitmaps = bit(VmxControl::proc_use_msr_bitmaps);
inline constexpr uint32_t monitor_exiting = bit(VmxControl::proc_monitor_exiting);
inline constexpr uint32_t pause_exiting = bit(VmxControl::proc_pause_exiting);
inline constexpr uint32_t tertiary_controls = bit(VmxControl::proc_activate_tertiary_controls);
inline constexpr uint32_t secondary_controls = bit(VmxControl::proc_activate_secondary_controls);
inline constexpr uint32_t default1 = 0x0401e172;       // bits 1, 4-6, 8, 13-16, 26 (A.3.2)
inline constexpr uint32_t true_default1 = 0x04006172;  // CR3-load/-store exiting may be 0
}  // namespace proc

namespace proc2 {
inline constexpr uint32_t virtualize_apic_accesses = bit(VmxControl::proc2_virtualize_apic_accesses);
inline constexpr uint32_t enable_ept = bit(VmxControl::proc2_enable_ept);
inline constexpr uint32_t descriptor_table_exiting = bit(VmxControl::proc2_descriptor_table_exiting);
inline constexpr uint32_t enable_rdtscp = bit(VmxControl::proc2_enable_rdtscp);
inline constexpr uint32_t enable_vpid = bit(VmxControl::proc2_enable_vpid);
inline constexpr uint32_t wbinvd_exiting = bit(VmxControl::proc2_wbinvd_exiting);
inline constexpr uint32_t unrestricted_guest = bit(VmxControl::proc2_unrestricted_guest);
inline constexpr uint32_t pause_loop_exiting = bit(VmxControl::proc2_pause_loop_exiting);
inline constexpr uint32_t rdrand_exiting = bit(VmxControl::proc2_rdrand_exiting);
inline constexpr uint32_t enable_invpcid = bit(VmxControl::proc2_enable_invpcid);
inline constexpr uint32_t enable_vm_functions = bit(VmxControl::proc2_enable_vm_functions);
inline constexpr uint32_t rdseed_exiting = bit(VmxControl::proc2_rdseed_exiting);
}  // namespace proc2

namespace exit_ctl {
inline constexpr uint32_t save_debug_controls = bit(VmxControl::exit_save_debug_controls);
inline constexpr uint32_t host_address_space_size = bit(VmxControl::exit_host_address_space_size);
inline constexpr uint32_t load_perf_global_ctrl = bit(VmxControl::exit_load_ia32_perf_global_ctrl);
inline constexpr uint32_t acknowledge_interrupt = bit(VmxControl::exit_acknowledge_interrupt_on_exit);
inline constexpr uint32_t save_pat = bit(VmxControl::exit_save_ia32_pat);
inline constexpr uint32_t load_pat = bit(VmxControl::exit_load_ia32_pat);
inline constexpr uint32_t save_efer = bit(VmxControl::exit_save_ia32_efer);
inline constexpr uint32_t load_efer = bit(VmxControl::exit_load_ia32_efer);
inline constexpr uint32_t save_preemption_timer = bit(VmxControl::exit_save_vmx_preemption_timer_value);
inline constexpr uint32_t default1 = 0x00036dff;       // bits 0-8, 10, 11, 13, 14, 16, 17 (A.4)
inline constexpr uint32_t true_default1 = 0x00036dfb;  // "save debug controls" may be 0
}  // namespace exit_ctl

namespace entry_ctl {
inline constexpr uint32_t load_debug_controls = bit(VmxControl::entry_load_debug_controls);
inline constexpr uint32_t ia32e_mode_guest = bit(VmxControl::entry_ia32e_mode_guest);
inline constexpr uint32_t entry_to_smm = bit(VmxControl::entry_entry_to_smm);
inline constexpr uint32_t deactivate_dual_monitor = bit(VmxControl::entry_deactivate_dual_monitor_treatment);
inline constexpr uint32_t load_perf_global_ctrl = bit(VmxControl::entry_load_ia32_perf_global_ctrl);
inline constexpr uint32_t load_pat = bit(VmxControl::entry_load_ia32_pat);
inline constexpr uint32_t load_efer = bit(VmxControl::entry_load_ia32_efer);
inline constexpr uint32_t default1 = 0x000011ff;       // bits 0-8, 12 (A.5)
inline constexpr uint32_t true_default1 = 0x000011fb;  // "load debug controls" may be 0
}  // namespace entry_ctl

// Interruption-information fields (25.8.3 Table 25-17, 28.2.2 Table 28-18, 28.2.4).
namespace interruption {
inline constexpr uint32_t valid = 1u << 31, error_code_valid = 1u << 11,
                          nmi_unblocking_iret = 1u << 12;
inline constexpr uint32_t type_shift = 8;
}  // namespace interruption

// Guest interruptibility state (25.4.2 Table 25-3).
namespace interruptibility {
inline constexpr uint32_t sti = 1u << 0, mov_ss = 1u << 1, smi = 1u << 2, nmi = 1u << 3;
}

// Guest activity states (25.4.2).
enum class Activity : uint32_t { active = 0, hlt = 1, shutdown = 2, wait_for_sipi = 3 };

inline constexpr uint32_t kEntryFailure = 1u << 31;  // exit-reason bit 31 (28.2.1, 27.8)

}  // namespace vmx
