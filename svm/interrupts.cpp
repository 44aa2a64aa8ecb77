// Interrupts around and inside a guest: GIF (15.17), the INTR/NMI/INIT intercepts (15.13) and
// virtual interrupts V_IRQ (15.21 "Interrupt and LINT Virtualization").
// Context: the run loop's event recognition (Core::service_events) while attention().
#include "svm/svm.h"

namespace svm {

using cpu::Core;
using cpu::LocalApic;

namespace {
// VINTR fields (offset 060h, Table B-1).
constexpr uint64_t kVIrq = 1ull << 8, kVIgnTpr = 1ull << 20, kVIntrMasking = 1ull << 24;
unsigned v_tpr(uint64_t v) { return v & 0xf; }
unsigned v_prio(uint64_t v) { return (v >> 16) & 0xf; }
uint8_t v_vector(uint64_t v) { return static_cast<uint8_t>(v >> 32); }
bool physical_interrupt(const Core& c) { return c.apic().deliverable() >= 0 || c.apic().extint_pending(); }
}  // namespace

void Svm::update_attention(Core& c) {
    in_guest_ = c.guest_mode();
    attention_ = in_guest_ || !gif_;
    c.virtualization_changed();
}

// In a guest, physical interrupts are ours to route when INTR is intercepted (they belong to
// the host) or under V_INTR_MASKING (the host's IF masks them, not the guest's, 15.21.1). The
// core's hold covers NMIs too, so recognize_events delivers the guest's NMIs itself then.
bool Svm::guest_routes_interrupts() const {
    return in_guest_ && (intercepted(Intercept::intr) || (vintr_ & kVIntrMasking));
}

bool Svm::holds_interrupts() const { return !gif_ || guest_routes_interrupts(); }

// A virtual interrupt is taken when V_IRQ is set, the guest's RFLAGS.IF is 1, no interrupt
// shadow, and its priority beats V_TPR unless V_IGN_TPR (15.21.4).
bool Svm::virtual_interrupt_ready(const Core& c) const {
    if (!(vintr_ & kVIrq) || !c.state().interrupts_enabled() || c.shadow_kind() != Core::Shadow::none) return false;
    return (vintr_ & kVIgnTpr) || v_prio(vintr_) > v_tpr(vintr_);
}

// A physical interrupt is unmasked: with V_INTR_MASKING by the host's RFLAGS.IF (at VMRUN),
// else by the guest's (and no interrupt shadow) (15.21.1).
bool Svm::physical_interrupt_ready(const Core& c) const {
    if (!physical_interrupt(c)) return false;
    if (vintr_ & kVIntrMasking) return host_if_;
    return c.state().interrupts_enabled() && c.shadow_kind() == Core::Shadow::none;
}

bool Svm::physical_interrupt_exit_ready(const Core& c) const {
    return intercepted(Intercept::intr) && physical_interrupt_ready(c);
}

bool Svm::recognize_events(Core& c) {
    if (!c.guest_mode()) return false;  // GIF = 0 in the host: holds_* keep everything pending
    LocalApic& apic = c.apic();
    const bool no_shadow = c.shadow_kind() == Core::Shadow::none;
    if (intercepted(Intercept::init) && apic.init_pending()) return vmexit(c, ExitCode::init), true;
    if (apic.nmi_pending() && !c.nmi_blocked() && no_shadow) {
        if (intercepted(Intercept::nmi)) return vmexit(c, ExitCode::nmi), true;
        if (guest_routes_interrupts()) {  // the guest's NMI, which the core's hold keeps back
            apic.take_nmi();
            c.set_nmi_blocked(true);
            c.set_halted(false);
            c.deliver_event(2, false, 0, false, c.rip(), 0, 2);
            return true;
        }
    }
    if (physical_interrupt_ready(c)) {
        if (intercepted(Intercept::intr)) return vmexit(c, ExitCode::intr), true;
        if (vintr_ & kVIntrMasking) {  // the guest takes it, whatever its own IF
            const uint8_t vector = apic.deliverable() >= 0 ? apic.acknowledge() : apic.acknowledge_extint();
            c.set_halted(false);
            c.deliver_event(vector, false, 0, false, c.rip(), 0, 1);
            return true;
        }
    }
    if (!virtual_interrupt_ready(c)) return false;
    if (intercepted(Intercept::vintr)) return vmexit(c, ExitCode::vintr), true;
    vintr_ &= ~kVIrq;  // taken: V_IRQ clears (15.21.4)
    ++virtual_interrupts_;
    c.set_halted(false);
    c.deliver_event(v_vector(vintr_), false, 0, false, c.rip(), 0, 1);
    return true;
}

uint64_t Svm::deadline() const { return in_guest_ && (vintr_ & kVIrq) ? 0 : ~0ull; }

bool Svm::wake_pending(const Core& c) const {
    if ((vintr_ & kVIrq) && c.state().interrupts_enabled() && ((vintr_ & kVIgnTpr) || v_prio(vintr_) > v_tpr(vintr_)))
        return true;
    if (intercepted(Intercept::init) && c.apic().init_pending()) return true;
    if (c.apic().nmi_pending() && !c.nmi_blocked()) return true;  // exits, or is the guest's
    return physical_interrupt_ready(c) && (intercepted(Intercept::intr) || (vintr_ & kVIntrMasking));
}

}  // namespace svm
