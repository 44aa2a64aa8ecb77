// Events in VMX non-root operation (SDM Vol. 3C 26.2 "Other Causes of VM Exits", 26.7
// "Features Specific to VMX Non-Root Operation"): the exception bitmap with the #PF error-code
// mask/match rule, triple fault, INIT and SIPI, NMI and external-interrupt exiting (with
// "acknowledge interrupt on exit"), interrupt- and NMI-window exiting, the VMX-preemption
// timer and the monitor trap flag, in the priority order of 26.7.2-26.7.6.
// Context: the core's event recognition and delivery in guest mode (slow paths).
#include "vmx/controls.h"
#include "vmx/vmx.h"

namespace vmx {

using cpu::Core;
using cpu::EventType;
using F = VmcsField;

namespace {

uint32_t interruption_info(uint8_t vector, EventType type, bool has_error) {
    return interruption::valid | vector | (static_cast<uint32_t>(type) << interruption::type_shift) |
           (has_error ? interruption::error_code_valid : 0);
}

ExitInfo event_exit(ExitReason reason, uint64_t qualification = 0) {
    ExitInfo e;
    e.reason = static_cast<uint32_t>(reason);
    e.qualification = qualification;
    return e;
}

}  // namespace

// 26.2: an exception (hardware, INT3/INTO, INT1) exits when its bit of the exception bitmap
// is 1; for #PF the bit's meaning flips when (error code AND mask) differs from match (25.6.3).
bool Vmx::exception_exits(const cpu::EventInfo& e) const {
    if (e.type != EventType::hardware_exception && e.type != EventType::software_exception &&
        e.type != EventType::privileged_software_exception)
        return false;
    const bool bit = (vmcs_.get(F::exception_bitmap) >> (e.vector & 31)) & 1;
    if (e.vector != 14) return bit;
    const auto mask = static_cast<uint32_t>(vmcs_.get(F::page_fault_error_code_mask));
    const auto match = static_cast<uint32_t>(vmcs_.get(F::page_fault_error_code_match));
    return ((e.error_code & mask) == match) ? bit : !bit;
}

bool Vmx::event(Core& c, const cpu::EventInfo& e, const cpu::EventInfo* during) {
    if (injecting_ && !during) return false;  // 27.6.1: injection bypasses the bitmap
    if (!exception_exits(e)) return false;
    ExitInfo x = event_exit(ExitReason::exception_or_nmi);
    x.interruption_info = interruption_info(e.vector, e.type, e.has_error);
    x.interruption_error = e.has_error ? e.error_code : 0;
    // 28.2.1: #PF reports the linear address; #DB the DR6-format bits (none pending in hvsim).
    if (e.vector == 14 && e.type == EventType::hardware_exception) x.qualification = e.fault_address;
    if (e.type != EventType::hardware_exception) x.instruction_length = e.instruction_length;
    vm_exit(c, x);
    return true;
}

bool Vmx::triple_fault(Core& c) {
    vm_exit(c, event_exit(ExitReason::triple_fault));
    return true;
}

uint64_t Vmx::preemption_timer_value(const Core& c) const {
    if (preemption_deadline_ == ~0ull || preemption_deadline_ <= c.now()) return 0;
    return (preemption_deadline_ - c.now()) >> preemption_timer_rate(caps_);
}

// 26.5.1: the timer counts down by 1 every 2^rate TSC ticks (MISC[4:0]) from the value in the
// VMCS; at 0 the VM exit happens (immediately for a value of 0). 26.5.2: with the monitor
// trap flag, an exit follows the first guest instruction.
void Vmx::start_guest_timers(Core& c) {
    preemption_deadline_ = mtf_at_ = ~0ull;
    const uint64_t first_guest_cycle = c.now() + 1;  // after VMLAUNCH/VMRESUME retires
    if (pin() & pin::preemption_timer)
        preemption_deadline_ = first_guest_cycle + (vmcs_.get(F::vmx_preemption_timer_value) << preemption_timer_rate(caps_));
    if (proc() & proc::monitor_trap_flag) mtf_at_ = first_guest_cycle + 1;
}

uint64_t Vmx::deadline() const {
    if (!attention_) return ~0ull;
    // Window exits are looked for at every block boundary (blocks end where a window can open).
    if (proc() & (proc::interrupt_window_exiting | proc::nmi_window_exiting)) return 0;
    return std::min(preemption_deadline_, mtf_at_);
}

bool Vmx::recognize_events(Core& c) {
    if (!c.guest_mode()) return false;
    cpu::LocalApic& apic = c.apic();
    const cpu::State& s = c.state();
    // INIT and SIPI always exit (26.2); in wait-for-SIPI nothing else is recognised.
    if (apic.init_pending()) {
        apic.take_init();
        vm_exit(c, event_exit(ExitReason::init_signal));
        return true;
    }
    if (c.waiting_for_sipi()) {
        if (!apic.sipi_pending()) return false;
        // 28.3.4: the exit saves the activity state before it, wait-for-SIPI; vm_exit ends
        // the wait for the host.
        const uint8_t vector = apic.take_sipi();
        apic.enter_wait_for_sipi();
        vm_exit(c, event_exit(ExitReason::sipi, vector));
        return true;
    }
    if (mtf_at_ <= c.now()) {
        vm_exit(c, event_exit(ExitReason::monitor_trap_flag));
        return true;
    }
    if (preemption_deadline_ <= c.now()) {
        vm_exit(c, event_exit(ExitReason::vmx_preemption_timer_expired));
        return true;
    }
    const bool mov_ss = c.shadow_kind() == Core::Shadow::mov_ss;
    const bool any_shadow = c.shadow_kind() != Core::Shadow::none;
    // 26.7.6: NMI-window exiting when there is no (virtual-)NMI blocking and no MOV-SS blocking.
    if ((proc() & proc::nmi_window_exiting) && !c.nmi_blocked() && !mov_ss) {
        vm_exit(c, event_exit(ExitReason::nmi_window));
        return true;
    }
    // 26.2: NMI exiting; with "virtual NMIs" the guest's blocking is virtual and does not hold
    // a physical NMI back.
    const bool nmi_held = mov_ss || (!(pin() & pin::virtual_nmis) && c.nmi_blocked());
    if ((pin() & pin::nmi_exiting) && apic.nmi_pending() && !nmi_held) {
        apic.take_nmi();
        ExitInfo e = event_exit(ExitReason::exception_or_nmi);
        e.interruption_info = interruption_info(2, EventType::nmi, false);
        vm_exit(c, e);
        return true;
    }
    // 26.7.5: interrupt-window exiting when RFLAGS.IF = 1 and no STI/MOV-SS blocking.
    if ((proc() & proc::interrupt_window_exiting) && s.interrupts_enabled() && !any_shadow) {
        vm_exit(c, event_exit(ExitReason::interrupt_window));
        return true;
    }
    // 26.2: external-interrupt exiting; RFLAGS.IF and STI blocking do not hold the exit back
    // (25.3). With "acknowledge interrupt on exit" the APIC is acknowledged and the vector
    // reported (28.2.2); otherwise the interrupt stays pending for the host.
    if ((pin() & pin::external_interrupt_exiting) && (apic.deliverable() >= 0 || apic.extint_pending())) {
        ExitInfo e = event_exit(ExitReason::external_interrupt);
        if (exit_controls() & exit_ctl::acknowledge_interrupt) {
            const uint8_t vector = apic.deliverable() >= 0 ? apic.acknowledge() : apic.acknowledge_extint();
            e.interruption_info = interruption_info(vector, EventType::external, false);
        }
        vm_exit(c, e);
        return true;
    }
    return false;
}

bool Vmx::wake_pending(const Core& c) const {
    const cpu::LocalApic& apic = c.apic();
    if (apic.init_pending()) return true;
    if (c.waiting_for_sipi()) return apic.sipi_pending();
    if (mtf_at_ <= c.now() || preemption_deadline_ <= c.now()) return true;
    if ((proc() & proc::nmi_window_exiting) && !c.nmi_blocked()) return true;
    if ((pin() & pin::nmi_exiting) && apic.nmi_pending()) return true;
    if ((proc() & proc::interrupt_window_exiting) && c.state().interrupts_enabled()) return true;
    return (pin() & pin::external_interrupt_exiting) && (apic.deliverable() >= 0 || apic.extint_pending());
}

}  // namespace vmx
