// Interrupts around and inside a guest: GIF (15.17), the INTR/NMI/INIT intercepts (15.13) and
// virtual interrupts V_IRQ (15.21 "Interrupt and LINT Virtualization").
// Context: the run loop's event recognition (Core::service_events) while attention().
#include "svm/svm.h"

namespace svm {

using cpu::Core;

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

bool Svm::holds_interrupts() const { return !gif_ || (in_guest_ && intercepted(Intercept::intr)); }

// A virtual interrupt is taken when V_IRQ is set, the guest's RFLAGS.IF is 1, no interrupt
// shadow, and its priority beats V_TPR unless V_IGN_TPR (15.21.4).
bool Svm::virtual_interrupt_ready(const Core& c) const {
    if (!(vintr_ & kVIrq) || !c.state().interrupts_enabled() || c.shadow_kind() != Core::Shadow::none) return false;
    return (vintr_ & kVIgnTpr) || v_prio(vintr_) > v_tpr(vintr_);
}

// With V_INTR_MASKING the host's RFLAGS.IF masks physical interrupts, else the guest's (15.21.1).
bool Svm::physical_interrupt_exit_ready(const Core& c) const {
    if (!intercepted(Intercept::intr) || !physical_interrupt(c)) return false;
    if (vintr_ & kVIntrMasking) return host_if_;
    return c.state().interrupts_enabled() && c.shadow_kind() == Core::Shadow::none;
}

bool Svm::recognize_events(Core& c) {
    if (!c.guest_mode()) return false;  // GIF = 0 in the host: holds_* keep everything pending
    Core& core = c;
    if (intercepted(Intercept::init) && core.apic().init_pending()) return vmexit(c, ExitCode::init), true;
    if (intercepted(Intercept::nmi) && core.apic().nmi_pending() && !c.nmi_blocked() &&
        c.shadow_kind() == Core::Shadow::none)
        return vmexit(c, ExitCode::nmi), true;
    if (physical_interrupt_exit_ready(c)) return vmexit(c, ExitCode::intr), true;
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
    if (intercepted(Intercept::nmi) && c.apic().nmi_pending() && !c.nmi_blocked()) return true;
    return physical_interrupt_exit_ready(c);
}

}  // namespace svm
