// The capability presets and the rules that read them (SDM Vol. 3D Appendix A). A preset
// advertises only what vmx/ implements (vmx/README.md lists each one).
// Context: construction, VMREAD/VMWRITE field lookup, RDMSR.
#include "vmx/capabilities.h"

#include "vmx/controls.h"
#include <algorithm>

#include "vmcs_fields_table.h"
#include "vmx_msrs_table.h"

namespace vmx {
namespace {

constexpr uint64_t msr_value(uint32_t allowed0, uint32_t allowed1) {
    return (uint64_t{allowed1} << 32) | allowed0;
}

// IA32_VMX_BASIC (A.1): revision id 30:0, VMCS region size 44:32 (4 KiB), memory type WB
// (6) in 53:50, 54: INS/OUTS instruction information, 55: the TRUE_* MSRs exist.
constexpr uint32_t kRevisionId = 0x48565331;  // "1SVH": hvsim's own layout (vmx/vmcs.h)
constexpr uint64_t basic(bool ins_outs_info) {
    return kRevisionId | (uint64_t{4096} << 32) | (uint64_t{6} << 50) |
           (uint64_t{ins_outs_info} << 54) | (uint64_t{1} << 55);
}

// IA32_VMX_MISC (A.6): preemption timer at TSC >> 5; 5: EFER.LMA stored into "IA-32e mode
// guest" on exit; activity states HLT (6), shutdown (7), wait-for-SIPI (8); four CR3-target
// values (24:16); at most 512 MSR-list entries (27:25 = 0); MSEG revision 0.
constexpr uint64_t kMisc = 5 | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) | (4u << 16);

constexpr uint32_t kPinModern = pin::default1 | pin::external_interrupt_exiting |
                                pin::nmi_exiting | pin::virtual_nmis | pin::preemption_timer;
constexpr uint32_t kProcNehalem =
    proc::default1 | proc::interrupt_window_exiting | proc::use_tsc_offsetting |
    proc::hlt_exiting | proc::invlpg_exiting | proc::rdpmc_exiting | proc::rdtsc_exiting | proc::cr3_load_exiting |
    proc::cr3_store_exiting | proc::cr8_load_exiting | proc::cr8_store_exiting |
    proc::use_tpr_shadow | proc::nmi_window_exiting | proc::mov_dr_exiting | proc::unconditional_io_exiting |
    proc::use_io_bitmaps | proc::monitor_trap_flag | proc::use_msr_bitmaps |
    proc::pause_exiting | proc::secondary_controls;
constexpr uint32_t kProc2Nehalem =
    proc2::descriptor_table_exiting | proc2::enable_rdtscp | proc2::wbinvd_exiting;
constexpr uint32_t kProc2Modern = kProc2Nehalem | proc2::enable_ept | proc2::enable_vpid |
                                  proc2::unrestricted_guest;
constexpr uint32_t kExit = exit_ctl::default1 | exit_ctl::host_address_space_size |
                           exit_ctl::acknowledge_interrupt | exit_ctl::save_pat |
                           exit_ctl::load_pat | exit_ctl::save_efer | exit_ctl::load_efer |
                           exit_ctl::save_preemption_timer;
constexpr uint32_t kEntry = entry_ctl::default1 | entry_ctl::ia32e_mode_guest |
                            entry_ctl::load_pat | entry_ctl::load_efer;

// IA32_VMX_EPT_VPID_CAP (A.10): execute-only (0), 4-level walks (6), UC (8) and WB (14)
// EPTP memory types, 2M (16) and 1G (17) pages, INVEPT (20), accessed/dirty flags (21),
// single-context (25) and all-context (26) INVEPT; INVVPID (32) with individual-address (40),
// single-context (41), all-context (42), single-context-retaining-globals (43).
constexpr uint64_t kEptVpidModern = (1ull << 0) | (1ull << 6) | (1ull << 8) | (1ull << 14) |
                                    (1ull << 16) | (1ull << 17) | (1ull << 20) | (1ull << 21) |
                                    (1ull << 25) | (1ull << 26) | (1ull << 32) | (1ull << 40) |
                                    (1ull << 41) | (1ull << 42) | (1ull << 43);

CapabilityMsrs common(bool ins_outs_info) {
    CapabilityMsrs c;
    c.basic = basic(ins_outs_info);
    c.exit = msr_value(exit_ctl::default1, kExit);
    c.true_exit = msr_value(exit_ctl::true_default1, kExit);
    c.entry = msr_value(entry_ctl::default1, kEntry);
    c.true_entry = msr_value(entry_ctl::true_default1, kEntry);
    c.misc = kMisc;
    // A.7, A.8: PE, NE, PG must be 1 (unrestricted guest relaxes PE/PG for the guest only,
    // 27.3.1.1); CR4.VMXE must be 1; FIXED1 of CR4 is completed with the core's CR4 bits.
    c.cr0_fixed0 = 0x80000021;
    c.cr0_fixed1 = 0xffffffff;
    c.cr4_fixed0 = 1u << 13;
    c.cr4_fixed1 = 1u << 13;
    c.maxphyaddr = 0;  // filled in by the caller
    return c;
}

CapabilityMsrs nehalem() {
    CapabilityMsrs c = common(false);
    c.pinbased = msr_value(pin::default1, pin::default1 | pin::external_interrupt_exiting |
                                              pin::nmi_exiting | pin::virtual_nmis |
                                              pin::preemption_timer);
    c.true_pinbased = c.pinbased;
    c.procbased = msr_value(proc::default1, kProcNehalem);
    c.true_procbased = msr_value(proc::true_default1, kProcNehalem);
    c.procbased2 = msr_value(0, kProc2Nehalem);
    return c;
}

CapabilityMsrs modern() {
    CapabilityMsrs c = common(true);
    c.pinbased = msr_value(pin::default1, kPinModern);
    c.true_pinbased = c.pinbased;
    c.procbased = msr_value(proc::default1, kProcNehalem);
    c.true_procbased = msr_value(proc::true_default1, kProcNehalem);
    c.procbased2 = msr_value(0, kProc2Modern);
    c.ept_vpid_cap = kEptVpidModern;
    return c;
}

// Highest index (bits 9:1 of the encoding) of a supported field, for IA32_VMX_VMCS_ENUM (A.9).
uint64_t vmcs_enum(const CapabilityMsrs& c) {
    uint64_t highest = 0;
    for (const auto& row : kVmcsFieldTable)
        if (gate_supported(c, row.gate))
            highest = std::max<uint64_t>(highest, (static_cast<uint32_t>(row.value) >> 1) & 0x1ff);
    return highest << 1;
}

}  // namespace

std::vector<std::string> capability_preset_names() { return {"modern", "nehalem"}; }

std::optional<CapabilityMsrs> capability_preset(std::string_view name) {
    std::optional<CapabilityMsrs> c;
    if (name == "modern") c = modern();
    else if (name == "nehalem") c = nehalem();
    if (c) c->vmcs_enum = vmcs_enum(*c);
    return c;
}

uint32_t allowed1(const CapabilityMsrs& c, ControlField f) {
    switch (f) {
        case ControlField::pin: return static_cast<uint32_t>(c.pinbased >> 32);
        case ControlField::proc: return static_cast<uint32_t>(c.procbased >> 32);
        case ControlField::proc2:
            return (c.procbased >> 32) & proc::secondary_controls ? static_cast<uint32_t>(c.procbased2 >> 32) : 0;
        case ControlField::exit: return static_cast<uint32_t>(c.exit >> 32);
        case ControlField::entry: return static_cast<uint32_t>(c.entry >> 32);
    }
    return 0;
}

// The gates of vmcs_fields.toml by name: the control bit(s) whose support makes the field
// exist. A gate hvsim does not know names a feature it does not implement.
bool gate_supported(const CapabilityMsrs& c, std::string_view gate) {
    using F = ControlField;
    if (gate.empty()) return true;
    if (gate == "use_msr_bitmaps") return supports(c, F::proc, proc::use_msr_bitmaps);
    if (gate == "use_tpr_shadow") return supports(c, F::proc, proc::use_tpr_shadow);
    if (gate == "secondary_controls") return supports(c, F::proc, proc::secondary_controls);
    if (gate == "tertiary_controls") return supports(c, F::proc, proc::tertiary_controls);
    if (gate == "vmx_preemption_timer") return supports(c, F::pin, pin::preemption_timer);
    if (gate == "posted_interrupts") return supports(c, F::pin, pin::posted_interrupts);
    if (gate == "ept") return supports(c, F::proc2, proc2::enable_ept);
    if (gate == "vpid") return supports(c, F::proc2, proc2::enable_vpid);
    if (gate == "virtualize_apic_accesses") return supports(c, F::proc2, proc2::virtualize_apic_accesses);
    if (gate == "pause_loop_exiting") return supports(c, F::proc2, proc2::pause_loop_exiting);
    if (gate == "vm_functions") return supports(c, F::proc2, proc2::enable_vm_functions);
    if (gate == "load_ia32_efer")
        return supports(c, F::entry, entry_ctl::load_efer) || supports(c, F::exit, exit_ctl::load_efer) ||
               supports(c, F::exit, exit_ctl::save_efer);
    if (gate == "load_ia32_pat")
        return supports(c, F::entry, entry_ctl::load_pat) || supports(c, F::exit, exit_ctl::load_pat) ||
               supports(c, F::exit, exit_ctl::save_pat);
    if (gate == "load_ia32_perf_global_ctrl")
        return supports(c, F::entry, entry_ctl::load_perf_global_ctrl) ||
               supports(c, F::exit, exit_ctl::load_perf_global_ctrl);
    return false;
}

std::optional<uint64_t> read_capability_msr(const CapabilityMsrs& c, uint32_t index) {
    const bool secondary = supports(c, ControlField::proc, proc::secondary_controls);
    const uint32_t p2 = allowed1(c, ControlField::proc2);
    switch (static_cast<VmxMsr>(index)) {
        case VmxMsr::vmx_basic: return c.basic;
        case VmxMsr::vmx_pinbased_ctls: return c.pinbased;
        case VmxMsr::vmx_procbased_ctls: return c.procbased;
        case VmxMsr::vmx_exit_ctls: return c.exit;
        case VmxMsr::vmx_entry_ctls: return c.entry;
        case VmxMsr::vmx_misc: return c.misc;
        case VmxMsr::vmx_cr0_fixed0: return c.cr0_fixed0;
        case VmxMsr::vmx_cr0_fixed1: return c.cr0_fixed1;
        case VmxMsr::vmx_cr4_fixed0: return c.cr4_fixed0;
        case VmxMsr::vmx_cr4_fixed1: return c.cr4_fixed1;
        case VmxMsr::vmx_vmcs_enum: return c.vmcs_enum;
        case VmxMsr::vmx_procbased_ctls2:
            if (secondary) return c.procbased2;
            return std::nullopt;
        case VmxMsr::vmx_ept_vpid_cap:
            if (p2 & (proc2::enable_ept | proc2::enable_vpid)) return c.ept_vpid_cap;
            return std::nullopt;
        case VmxMsr::vmx_true_pinbased_ctls:
        case VmxMsr::vmx_true_procbased_ctls:
        case VmxMsr::vmx_true_exit_ctls:
        case VmxMsr::vmx_true_entry_ctls: {
            if (!true_controls(c)) return std::nullopt;
            const auto m = static_cast<VmxMsr>(index);
            return m == VmxMsr::vmx_true_pinbased_ctls    ? c.true_pinbased
                   : m == VmxMsr::vmx_true_procbased_ctls ? c.true_procbased
                   : m == VmxMsr::vmx_true_exit_ctls      ? c.true_exit
                                                          : c.true_entry;
        }
        case VmxMsr::vmx_vmfunc:
            if (p2 & proc2::enable_vm_functions) return c.vmfunc;
            return std::nullopt;
        default: return std::nullopt;
    }
}

}  // namespace vmx
