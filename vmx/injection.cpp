// VM-entry event injection (SDM Vol. 3C 27.6): the event of the VM-entry interruption-
// information field is delivered through the guest IDT as if it had occurred right after the
// entry. It does not consult the exception bitmap (27.6.1), but faults during its delivery do
// (IDT-vectoring information, 28.2.4), so it goes through Core::deliver_event in guest mode.
// Context: VM entry (rare path).
#include "vmx/controls.h"
#include "vmx/vmx.h"

namespace vmx {

using cpu::Core;
using cpu::EventType;
using F = VmcsField;

void Vmx::inject_event(Core& c) {
    const auto info = static_cast<uint32_t>(vmcs_.get(F::vm_entry_interruption_information));
    const auto vector = static_cast<uint8_t>(info & 0xff);
    const auto type = static_cast<EventType>((info >> interruption::type_shift) & 7);
    const bool has_error = info & interruption::error_code_valid;
    const auto error = static_cast<uint32_t>(vmcs_.get(F::vm_entry_exception_error_code));
    const auto length = vmcs_.get(F::vm_entry_instruction_length);
    cpu::State& s = c.state();
    // 27.6.2: software interrupts and exceptions push RIP + instruction length; the others RIP.
    const bool software = type == EventType::software_interrupt || type == EventType::software_exception ||
                          type == EventType::privileged_software_exception;
    const uint64_t return_rip = software ? s.rip() + length : s.rip();
    unsigned external = 0;
    if (type == EventType::external) external = 1;
    if (type == EventType::nmi) {
        external = 2;
        c.set_nmi_blocked(true);  // 27.6.2: an injected NMI blocks NMIs (virtual ones with "virtual NMIs")
    }
    // An injected #PF does not load CR2: the VMM set it (27.6.2: no other state changes).
    const uint64_t cr2 = s.cr2;
    injecting_ = true;
    c.deliver_event(vector, has_error, error, software, return_rip, cr2, external);
    injecting_ = false;
    if (c.guest_mode()) s.cr2 = cr2;
    // 27.7.1 / 27.6.3: an injected event leaves HLT and wait-for-SIPI behind (the guest is active).
    if (c.guest_mode() && (proc() & proc::monitor_trap_flag)) mtf_at_ = c.now() + 1;  // 26.7.2: MTF right after injection
}

}  // namespace vmx
