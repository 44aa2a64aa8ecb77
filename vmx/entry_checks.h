// The checks of VMLAUNCH/VMRESUME before any state is loaded, in the SDM's order: Intel SDM Vol.
// 3C 27.2 "Checks on VMX Controls and Host-State Area" (a failure is VMfailValid with error 7
// or 8) and 27.3.1 "Checks on the Guest-State Area" (a failure is a VM-entry failure: exit
// reason 33 with bit 31 set; 27.8). A pure function of the current VMCS, the capability MSRs
// and the processor's mode, so it is tested one broken field at a time without a core.
// Context: vmx/ VM entry (rare path).
#pragma once
#include <cstdint>
#include <functional>

namespace vmx {

// The VMCS fields by encoding (sim/tables/vmcs_fields.toml); 64-bit fields read whole (the
// "full" encoding).
using FieldReader = std::function<uint64_t(uint32_t encoding)>;
// Host- (or guest-) physical memory the checks must look into: PAE PDPTEs of the guest when
// EPT is off (27.3.1.6), the VMCS link pointer's revision id (27.3.1.5). False: not RAM.
using PhysicalReader = std::function<bool(uint64_t address, void* out, unsigned size)>;

// The capability MSRs the checks consult, as the processor reports them (SDM Appendix A). Every
// control check follows the allowed-0 / allowed-1 rule of A.3-A.5 with the TRUE_* MSRs when
// VMX_BASIC[55] is set.
struct CapabilityMsrs {
    uint64_t basic = 0;               // IA32_VMX_BASIC (A.1)
    uint64_t pinbased = 0, procbased = 0, exit = 0, entry = 0;                     // 481H-484H
    uint64_t true_pinbased = 0, true_procbased = 0, true_exit = 0, true_entry = 0; // 48DH-490H
    uint64_t procbased2 = 0;          // 48BH (allowed-1 in bits 63:32)
    uint64_t procbased3 = 0;          // 492H (allowed-1 bits; 0 when not supported)
    uint64_t exit2 = 0;               // 493H (allowed-1 bits of the secondary VM-exit controls)
    uint64_t misc = 0;                // 485H (A.6)
    uint64_t cr0_fixed0 = 0, cr0_fixed1 = 0, cr4_fixed0 = 0, cr4_fixed1 = 0;      // 486H-489H
    uint64_t vmcs_enum = 0;           // 48AH
    uint64_t ept_vpid_cap = 0;        // 48CH (A.10)
    uint64_t vmfunc = 0;              // 491H
    unsigned maxphyaddr = 0;          // CPUID.80000008H:EAX[7:0]
};

// What the checks need of the processor itself.
struct ProcessorContext {
    bool ia32e = false;          // IA32_EFER.LMA of the host now (27.2.4: host address-space size)
    bool vmresume = false;       // VMRESUME (launch state must be "launched") vs VMLAUNCH
    bool in_smm = false;         // the logical processor is in SMM (27.2.1.3, 27.3.1.5)
    bool sgx = false;            // SGX supported: interruptibility bit 4 may be set (27.3.1.5)
    // The bits of IA32_PERF_GLOBAL_CTRL that are not reserved (one per counter); the
    // "load IA32_PERF_GLOBAL_CTRL" controls require the others to be 0 (27.2.2, 27.3.1.1).
    uint64_t perf_global_ctrl_valid = 0;
};

struct EntryCheckResult {
    enum class Kind : uint8_t { ok, vmfail_controls, vmfail_host_state, guest_state_failure };
    Kind kind = Kind::ok;
    // VMfailValid: 7 "VM entry with invalid control field(s)" or 8 "... invalid host-state
    // field(s)" (30.4 Table 30-1). Guest-state failure: the exit qualification of 27.8 (0 by
    // default, 2 PDPTE loading, 3 NMI injection, 4 VMCS link pointer).
    uint32_t error_or_qualification = 0;
    const char* check = "";      // which rule failed: a stable id for tests and docs/vmx-coverage.md
};

EntryCheckResult check_vm_entry(const FieldReader& vmcs, const CapabilityMsrs& caps,
                                const ProcessorContext& cpu, const PhysicalReader& memory);

}  // namespace vmx
