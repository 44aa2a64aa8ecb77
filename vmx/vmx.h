// vmx::Vmx: Intel VT-x for one processor (cpu::Virtualization). The header is the index of
// vmx/; each .cpp holds one purpose:
//   vmx.cpp            construction, capability MSRs, IA32_FEATURE_CONTROL, CPUID, CR rules, reset
//   instructions.cpp   VMXON VMXOFF VMCLEAR VMPTRLD VMPTRST VMREAD VMWRITE VMCALL (SDM Vol. 3C 31)
//   invalidation.cpp   INVEPT, INVVPID (31.3)
//   entry.cpp          VMLAUNCH/VMRESUME: checks, guest-state loading, MSR loading (27)
//   injection.cpp      VM-entry event injection (27.6)
//   exit.cpp           VM exits: guest-state saving, host-state loading, MSR lists (28)
//   intercepts.cpp     which instructions exit (26.1-26.3) and what the guest sees otherwise
//   events.cpp         exceptions, triple fault, INIT/SIPI, NMI, interrupts, windows, timer, MTF
//   ept.cpp            second-level translation (29.3) and its exits
//   instruction_info.cpp  the VM-exit instruction-information field (28.2.5)
//   stats.cpp          counts per exit reason
// Context: rare paths of the core (VMX instructions, guest-mode hooks).
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "cpu/core.h"
#include "mmu/ept.h"
#include "vmx/capabilities.h"
#include "vmx/vmcs.h"
#include "vmx_exit_reasons_table.h"

namespace vmx {

// What a VM exit reports besides the guest state (28.2).
struct ExitInfo {
    uint32_t reason = 0;              // basic exit reason, plus bit 31 for entry failures
    uint64_t qualification = 0;
    uint8_t instruction_length = 0;   // instruction exits (28.2.4)
    uint32_t instruction_info = 0;    // 28.2.5
    bool has_instruction_info = false;
    uint64_t guest_linear = 0;
    bool has_guest_linear = false;
    uint64_t guest_physical = 0;
    bool has_guest_physical = false;
    uint32_t interruption_info = 0;   // exits on events (28.2.2)
    uint32_t interruption_error = 0;
};

// The EPT features of IA32_VMX_EPT_VPID_CAP (A.10) in mmu/'s terms (ept.cpp).
mmu::EptCapabilities ept_capabilities(const CapabilityMsrs& caps);

class Vmx final : public cpu::Virtualization {
public:
    Vmx(const CapabilityMsrs& caps, std::string preset);
    const CapabilityMsrs& capabilities() const { return caps_; }

    cpu::Outcome execute(cpu::Core& c, const cpu::Insn& i) override;
    bool intercept(cpu::Core& c, const cpu::Insn& i, cpu::InterceptInfo& info) override;
    bool event(cpu::Core& c, const cpu::EventInfo& e, const cpu::EventInfo* during) override;
    bool triple_fault(cpu::Core& c) override;
    bool translate(cpu::Core& c, const cpu::GuestPhysicalAccess& a, uint64_t& hpa) override;
    bool recognize_events(cpu::Core& c) override;
    bool holds_init() const override { return in_vmx_operation_; }
    bool holds_interrupts() const override { return false; }
    uint64_t deadline() const override;
    bool wake_pending(const cpu::Core& c) const override;
    void adjust_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]) const override;
    cpu::MsrResult read_msr(cpu::Core& c, uint32_t index, uint64_t& value) override;
    cpu::MsrResult write_msr(cpu::Core& c, uint32_t index, uint64_t value) override;
    uint64_t cr4_bits() const override;
    uint64_t efer_bits() const override { return 0; }
    bool cr_write_allowed(const cpu::Core& c, unsigned cr, uint64_t value) const override;
    void reset(cpu::Core& c) override;
    void report(sim::StatsWriter& out, const std::string& prefix) const override;
    uint64_t guest_context() const override { return current_valid() ? vmcs_.address : 0; }

private:
    // ---- instructions.cpp ----
    cpu::Outcome vmxon(cpu::Core& c, const cpu::Insn& i);
    cpu::Outcome vmxoff(cpu::Core& c, const cpu::Insn& i);
    cpu::Outcome vmclear(cpu::Core& c, const cpu::Insn& i);
    cpu::Outcome vmptrld(cpu::Core& c, const cpu::Insn& i);
    cpu::Outcome vmptrst(cpu::Core& c, const cpu::Insn& i);
    cpu::Outcome vmread(cpu::Core& c, const cpu::Insn& i);
    cpu::Outcome vmwrite(cpu::Core& c, const cpu::Insn& i);
    cpu::Outcome vmcall(cpu::Core& c, const cpu::Insn& i);
    // The common prologue of 31.3: #UD outside VMX operation or in the wrong mode, the VM
    // exit in VMX non-root operation, #GP(0) at CPL > 0. Returns true to go on.
    bool common_checks(cpu::Core& c, const cpu::Insn& i, ExitReason reason, cpu::Outcome& o);
    cpu::Outcome succeed(cpu::Core& c);
    cpu::Outcome fail(cpu::Core& c, uint32_t error);  // VMfailInvalid or VMfailValid (31.2)
    cpu::Outcome fail_invalid(cpu::Core& c);
    bool current_valid() const { return vmcs_.address != ~0ull; }
    bool read_pointer_operand(cpu::Core& c, const cpu::Insn& i, uint64_t& pointer);
    bool address_valid(uint64_t pa) const;
    void write_back_current(cpu::Core& c);  // the cache into the region

    // ---- invalidation.cpp ----
    cpu::Outcome invept(cpu::Core& c, const cpu::Insn& i);
    cpu::Outcome invvpid(cpu::Core& c, const cpu::Insn& i);

    // ---- entry.cpp ----
    cpu::Outcome vm_entry(cpu::Core& c, const cpu::Insn& i, bool resume);
    void load_guest_state(cpu::Core& c);
    bool load_entry_msrs(cpu::Core& c, uint32_t& failed_index);
    void start_guest_timers(cpu::Core& c);
    // ---- injection.cpp ----
    void inject_event(cpu::Core& c);

    // ---- exit.cpp ----
public:
    // Performs a VM exit (28): saves the guest state, records `info`, loads the host state.
    void vm_exit(cpu::Core& c, const ExitInfo& info);
private:
    void save_guest_state(cpu::Core& c);
    void load_host_state(cpu::Core& c);
    bool store_exit_msrs(cpu::Core& c);
    bool load_exit_msrs(cpu::Core& c);
    void vmx_abort(cpu::Core& c, uint32_t indicator);
    void record_idt_vectoring(cpu::Core& c);
    // A VM-entry failure after the checks (27.8): exit reason with bit 31, host state loaded.
    void entry_failure(cpu::Core& c, uint32_t reason, uint64_t qualification);

    // ---- intercepts.cpp ----
    bool cr_access_exits(cpu::Core& c, const cpu::Insn& i, cpu::InterceptInfo& x);
    bool write_virtual_tpr(cpu::Core& c, const cpu::Insn& i, uint64_t value);
    bool io_exits(cpu::Core& c, const cpu::InterceptInfo& x) const;
    bool msr_exits(cpu::Core& c, const cpu::InterceptInfo& x) const;
    bool instruction_exit(cpu::Core& c, const cpu::Insn& i, ExitReason r, uint64_t qualification = 0);

    // ---- events.cpp ----
    bool exception_exits(const cpu::EventInfo& e) const;
    uint64_t preemption_timer_value(const cpu::Core& c) const;

    // ---- control fields of the current VMCS ----
    uint32_t pin() const { return static_cast<uint32_t>(vmcs_.get(VmcsField::pin_based_vm_execution_controls)); }
    uint32_t proc() const { return static_cast<uint32_t>(vmcs_.get(VmcsField::primary_processor_based_vm_execution_controls)); }
    uint32_t proc2() const;  // 0 unless "activate secondary controls"
    // The translation contexts of Core::vm_transition (SDM 29.4 "Caching Translation
    // Information"): with VPIDs the guest's are tagged by VPID (and EPTP: combined mappings) and
    // the host's by VPID 0; without, entries and exits invalidate them (29.4.3.3).
    uint64_t guest_tlb_key() const;
    uint64_t host_tlb_key() const;
    uint32_t exit_controls() const { return static_cast<uint32_t>(vmcs_.get(VmcsField::primary_vm_exit_controls)); }
    uint32_t entry_controls() const { return static_cast<uint32_t>(vmcs_.get(VmcsField::vm_entry_controls)); }
    void set_attention(cpu::Core& c);

    CapabilityMsrs caps_;
    std::vector<bool> field_supported_;  // by row of kVmcsFieldTable: its gate is advertised
    std::string preset_;
    uint64_t feature_control_ = 0;
    bool in_vmx_operation_ = false;
    uint64_t vmxon_pointer_ = ~0ull;
    Vmcs vmcs_;

    // Non-root operation.
    uint64_t preemption_deadline_ = ~0ull;  // cycle at which the VMX-preemption timer reaches 0
    uint64_t mtf_at_ = ~0ull;               // cycle at which a monitor-trap-flag exit is due
    bool host_nmi_blocked_ = false;
    bool injecting_ = false;               // VM-entry event injection: no exception-bitmap exit
    uint64_t entry_cycle_ = 0;

    // Statistics (stats.cpp).
    std::array<uint64_t, kExitReasonCount> exits_{};
    uint64_t entries_ = 0, entry_failures_ = 0, vmfails_ = 0, guest_cycles_ = 0;
    std::array<uint64_t, 32> vmfail_errors_{};
};

}  // namespace vmx
