// svm::Svm: AMD-V (AMD APM Vol. 2 chapter 15 "Secure Virtual Machine") as the core's
// virtualization extension (cpu/virtualization.h). Index of the implementation:
//   presets.cpp       presets and the CPUID 8000_000Ah bits (presets.h)
//   msrs.cpp          CPUID, VM_CR, VM_HSAVE_PA, EFER.SVME, the guest's TSC MSR
//   vmcb.cpp          VMCB fields by name (vmcb.h)
//   instructions.cpp  VMLOAD VMSAVE VMMCALL STGI CLGI INVLPGA SKINIT and the dispatch
//   vmrun.cpp         VMRUN: host save, guest load, event injection
//   checks.cpp        the VMRUN consistency checks (checks.h)
//   vmexit.cpp        #VMEXIT, decode-assist instruction bytes
//   intercepts.cpp    instruction, exception and shutdown intercepts
//   interrupts.cpp    GIF, physical interrupt intercepts, virtual interrupts (V_IRQ)
//   nested_paging.cpp NPT translation and #NPF
//   stats.cpp         statistics
// Context: one instance per processor; slow paths only.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "cpu/core.h"
#include "svm/presets.h"
#include "svm_exit_codes_table.h"
#include "svm_intercepts_table.h"

namespace svm {

// EVENTINJ / EXITINTINFO (15.20 "Event Injection", Figure 15-4).
namespace event_field {
inline constexpr uint64_t valid = 1ull << 31, error_valid = 1ull << 11;
inline constexpr unsigned type_shift = 8;
enum Type : unsigned { intr = 0, nmi = 2, exception = 3, software_interrupt = 4 };
// The EXITINTINFO of an event the core was delivering. INT3/INTO/INT1 are exceptions here
// (type 3), as the APM has no software-exception type.
inline uint64_t encode(const cpu::EventInfo& e) {
    const unsigned type = e.type == cpu::EventType::external ? intr
                          : e.type == cpu::EventType::nmi ? nmi
                          : e.type == cpu::EventType::software_interrupt ? software_interrupt : exception;
    return valid | e.vector | (uint64_t{type} << type_shift) |
           (e.has_error ? error_valid | (uint64_t{e.error_code} << 32) : 0);
}
}  // namespace event_field

class Svm final : public cpu::Virtualization {
public:
    explicit Svm(Features features) : f_(std::move(features)) {}
    const Features& features() const { return f_; }
    bool gif() const { return gif_; }

    cpu::Outcome execute(cpu::Core& c, const cpu::Insn& i) override;
    bool intercept(cpu::Core& c, const cpu::Insn& i, cpu::InterceptInfo& info) override;
    bool event(cpu::Core& c, const cpu::EventInfo& e, const cpu::EventInfo* during) override;
    bool triple_fault(cpu::Core& c) override;
    bool translate(cpu::Core& c, const cpu::GuestPhysicalAccess& a, uint64_t& hpa) override;
    bool recognize_events(cpu::Core& c) override;
    bool holds_init() const override { return !gif_; }
    // GIF = 0; or a guest whose physical interrupts svm routes (INTR intercept, V_INTR_MASKING).
    bool holds_interrupts() const override;
    uint64_t deadline() const override;
    bool wake_pending(const cpu::Core& c) const override;
    void adjust_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]) const override;
    cpu::MsrResult read_msr(cpu::Core& c, uint32_t index, uint64_t& value) override;
    cpu::MsrResult write_msr(cpu::Core& c, uint32_t index, uint64_t value) override;
    uint64_t cr4_bits() const override { return 0; }
    uint64_t efer_bits() const override;
    bool cr_write_allowed(const cpu::Core&, unsigned, uint64_t) const override { return true; }
    void reset(cpu::Core& c) override;
    void report(sim::StatsWriter& out, const std::string& prefix) const override;
    uint64_t guest_context() const override { return vmcb_pa_; }

    // #VMEXIT (15.6): saves the guest into the VMCB, loads the host from the host save area.
    // `next_rip`: the NRIP field (0 when the exit has none).
    void vmexit(cpu::Core& c, ExitCode code, uint64_t info1 = 0, uint64_t info2 = 0,
                uint64_t next_rip = 0, uint64_t exitintinfo = 0);

private:
    // instructions.cpp
    cpu::Outcome vmrun(cpu::Core& c, const cpu::Insn& i);  // vmrun.cpp
    cpu::Outcome vmload_vmsave(cpu::Core& c, const cpu::Insn& i, bool load);
    cpu::Outcome stgi_clgi(cpu::Core& c, const cpu::Insn& i, bool set);
    cpu::Outcome invlpga(cpu::Core& c, const cpu::Insn& i);
    // #UD without EFER.SVME, #GP(0) at CPL > 0 (APM Vol. 3 "VMRUN" ... "INVLPGA").
    bool privileged_checks(cpu::Core& c) const;
    // rAX as a 4 KiB-aligned physical address below MAXPHYADDR, else #GP(0).
    bool rax_address(cpu::Core& c, const cpu::Insn& i, uint64_t& pa) const;
    // The instruction exits if its intercept bit is set (EXITINFO 0, NRIP after it).
    bool instruction_exit(cpu::Core& c, const cpu::Insn& i, Intercept bit, ExitCode code,
                          uint64_t info1 = 0, uint64_t info2 = 0);

    // vmrun.cpp
    void save_host(cpu::Core& c, uint64_t next_rip);
    void load_host(cpu::Core& c);
    void load_guest(cpu::Core& c);
    void load_controls(cpu::Core& c);
    void inject_event(cpu::Core& c);

    // intercepts.cpp
    bool intercepted(Intercept bit) const;
    bool io_exit(cpu::Core& c, const cpu::Insn& i, const cpu::InterceptInfo& x);
    bool msr_exit(cpu::Core& c, const cpu::Insn& i, const cpu::InterceptInfo& x);
    bool cr_exit(cpu::Core& c, const cpu::Insn& i, cpu::InterceptInfo& x);
    bool pause_exit(cpu::Core& c);
    // Decode assists (15.33.4): up to 15 bytes at the guest CS:RIP into the VMCB (#NPF, #PF).
    void save_instruction_bytes(cpu::Core& c);
    // CR8 with V_INTR_MASKING is V_TPR (15.21.1).
    void virtualize_cr8(cpu::Core& c, cpu::InterceptInfo& x);

    // interrupts.cpp
    bool virtual_interrupt_ready(const cpu::Core& c) const;
    bool physical_interrupt_ready(const cpu::Core& c) const;
    bool physical_interrupt_exit_ready(const cpu::Core& c) const;
    bool guest_routes_interrupts() const;
    void update_attention(cpu::Core& c);

    Features f_;
    uint64_t vm_cr_ = 0, hsave_pa_ = 0;
    bool gif_ = true;
    // The guest's VMCB and the controls VMRUN read from it (15.15: a processor may cache them).
    uint64_t vmcb_pa_ = 0;
    std::array<uint32_t, 6> intercepts_{};  // intercept vectors 0-5 (offsets 000h-014h)
    uint64_t iopm_pa_ = 0, msrpm_pa_ = 0, tsc_offset_ = 0, ncr3_ = 0;
    uint64_t vintr_ = 0;  // V_TPR, V_IRQ, V_INTR_PRIO, V_IGN_TPR, V_INTR_MASKING, V_INTR_VECTOR
    uint32_t asid_ = 0;
    uint16_t pause_count_ = 0, pause_count_reload_ = 0, pause_threshold_ = 0;
    uint64_t last_pause_ = 0;
    bool in_guest_ = false;
    bool host_if_ = false;  // host RFLAGS.IF (V_INTR_MASKING: physical interrupts follow it)
    uint64_t host_cr0_ = 0, host_cr4_ = 0, host_efer_ = 0;  // the nested tables' paging mode
    // The event EVENTINJ is delivering: a #VMEXIT before it completes reports it in EXITINTINFO.
    uint64_t injecting_ = 0;
    bool injection_unchecked_ = false;  // the injected event itself is not intercepted (15.20)
    bool fetching_bytes_ = false;  // save_instruction_bytes: a failed translation is no #NPF
    uint64_t fetch_fault_linear_ = ~0ull;  // an #NPF on an instruction fetch: where it stopped

    std::map<int64_t, uint64_t> exits_;  // per EXITCODE
    std::map<std::string, uint64_t> invalid_reasons_;  // VMEXIT_INVALID per failed check
    uint64_t vmruns_ = 0, invalid_vmruns_ = 0, injected_ = 0, virtual_interrupts_ = 0, npfs_ = 0;
};

}  // namespace svm
