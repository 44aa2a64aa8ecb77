// The bits of the VMX control fields, named after the SDM (Vol. 3C 25.6.1 Table 25-5 pin-based,
// 25.6.2 Tables 25-6 and 25-7 processor-based, 25.7.1 Table 25-13 VM-exit, 25.8.1 Table 25-15
// VM-entry), and of the interruption-information and interruptibility fields (25.4.2, 25.8.3).
// Context: constants shared by every file of vmx/.
#pragma once
#include <cstdint>

namespace vmx {

namespace pin {
inline constexpr uint32_t external_interrupt_exiting = 1u << 0, nmi_exiting = 1u << 3,
                          virtual_nmis = 1u << 5, preemption_timer = 1u << 6,
                          posted_interrupts = 1u << 7;
inline constexpr uint32_t default1 = 0x16;  // bits 1, 2, 4 (A.3.1)
}  // namespace pin

namespace proc {
inline constexpr uint32_t interrupt_window_exiting = 1u << 2, use_tsc_offsetting = 1u << 3,
                          hlt_exiting = 1u << 7, invlpg_exiting = 1u << 9,
                          mwait_exiting = 1u << 10, rdpmc_exiting = 1u << 11,
                          rdtsc_exiting = 1u << 12, cr3_load_exiting = 1u << 15,
                          cr3_store_exiting = 1u << 16, tertiary_controls = 1u << 17,
                          cr8_load_exiting = 1u << 19, cr8_store_exiting = 1u << 20,
                          use_tpr_shadow = 1u << 21, nmi_window_exiting = 1u << 22,
                          mov_dr_exiting = 1u << 23, unconditional_io_exiting = 1u << 24,
                          use_io_bitmaps = 1u << 25, monitor_trap_flag = 1u << 27,
                          use_msr_bitmaps = 1u << 28, monitor_exiting = 1u << 29,
                          pause_exiting = 1u << 30, secondary_controls = 1u << 31;
inline constexpr uint32_t default1 = 0x0401e172;       // bits 1, 4-6, 8, 13-16, 26 (A.3.2)
inline constexpr uint32_t true_default1 = 0x04006172;  // CR3-load/-store exiting may be 0
}  // namespace proc

namespace proc2 {
inline constexpr uint32_t virtualize_apic_accesses = 1u << 0, enable_ept = 1u << 1,
                          descriptor_table_exiting = 1u << 2, enable_rdtscp = 1u << 3,
                          enable_vpid = 1u << 5, wbinvd_exiting = 1u << 6,
                          unrestricted_guest = 1u << 7, pause_loop_exiting = 1u << 10,
                          rdrand_exiting = 1u << 11, enable_invpcid = 1u << 12,
                          enable_vm_functions = 1u << 13, rdseed_exiting = 1u << 16;
}  // namespace proc2

namespace exit_ctl {
inline constexpr uint32_t save_debug_controls = 1u << 2, host_address_space_size = 1u << 9,
                          load_perf_global_ctrl = 1u << 12, acknowledge_interrupt = 1u << 15,
                          save_pat = 1u << 18, load_pat = 1u << 19, save_efer = 1u << 20,
                          load_efer = 1u << 21, save_preemption_timer = 1u << 22;
inline constexpr uint32_t default1 = 0x00036dff;       // bits 0-8, 10, 11, 13, 14, 16, 17 (A.4)
inline constexpr uint32_t true_default1 = 0x00036dfb;  // "save debug controls" may be 0
}  // namespace exit_ctl

namespace entry_ctl {
inline constexpr uint32_t load_debug_controls = 1u << 2, ia32e_mode_guest = 1u << 9,
                          entry_to_smm = 1u << 10, deactivate_dual_monitor = 1u << 11,
                          load_perf_global_ctrl = 1u << 13, load_pat = 1u << 14,
                          load_efer = 1u << 15;
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
