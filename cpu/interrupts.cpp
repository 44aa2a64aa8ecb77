// Recognition of external events between blocks: INIT and SIPI, NMI, maskable interrupts from
// the local APIC and ExtINT from the 8259, HLT and its wake-up, the STI / MOV SS shadow, and
// time passing while halted. Context: the run loop's slow path, entered only when cycle()
// reaches check_at_ (0 while anything is pending), so the common path pays one compare.
//
// Priorities follow SDM Vol. 3A 6.9 Table 6-2 "Priority Among Simultaneous Exceptions and
// Interrupts": external interventions (INIT) before NMI before maskable interrupts. Events are
// recognised on instruction boundaries; blocks end wherever something may become pending
// (APIC writes, STI/POPF/IRET, timer deadlines), so the boundary is the exact instruction.
#include <algorithm>
#include <cstring>

#include "cpu/core.h"

namespace cpu {

Outcome Core::inhibit_interrupts(Shadow kind) {
    shadow_ = kind;
    shadow_until_ = instruction_index() + 2;  // this instruction and the next one
    return Outcome::end_block;
}

void Core::events_changed() {
    check_at_ = 0;
    if (block_first_) request_end_of_block();
}

void Core::iret_unblocks_nmi() {
    if (!nmi_blocked_) return;
    nmi_blocked_ = false;
    if (apic_->nmi_pending()) events_changed();
}

uint64_t Core::read_cr8() const { return apic_->tpr() >> 4; }
void Core::write_cr8(uint64_t value) { apic_->set_tpr(static_cast<uint8_t>((value & 0xf) << 4)); }

MsrResult Core::apic_read_msr(uint32_t msr, uint64_t& value) { return apic_->read_msr(msr, now(), value); }

MsrResult Core::apic_write_msr(uint32_t msr, uint64_t value) {
    const uint64_t page = apic_->mmio_page();
    const MsrResult r = apic_->write_msr(msr, value, now(), tsc() - now());
    if (apic_->mmio_page() != page) flush_tlb();  // the APIC page moved, appeared or went
    return r;
}

// INIT (SDM 10.1 Table 10-1, column "INIT"): the reset state, except that the x87 and SSE
// state, XCR0, CR0.CD/NW and the MSRs keep their values; the APIC is INIT-reset. An AP then
// waits for a SIPI (9.4 "Multiple-Processor (MP) Initialization"); the BSP starts at the
// reset vector.
void Core::init_signal() {
    const State old = s_;
    reset_state();
    s_.x87 = old.x87;
    std::memcpy(s_.xmm, old.xmm, sizeof s_.xmm);
    s_.mxcsr = old.mxcsr;
    s_.xcr0 = old.xcr0;
    s_.tsc_aux = old.tsc_aux;
    s_.msr = old.msr;
    s_.cr0 = (s_.cr0 & ~(cr0::cd | cr0::nw)) | (old.cr0 & (cr0::cd | cr0::nw));
    apic_->init_reset();
    if (!config_.bsp()) apic_->enter_wait_for_sipi();
    pending_ = {};
    nmi_blocked_ = false;
    shadow_ = Shadow::none;
    halted_ = apic_->waiting_for_sipi();
    ++inits_;
    emit(sim::EventKind::interrupt, 0, 3);
    refresh_mode();
    flush_tlb();
}

// A startup IPI with vector VV starts the AP in real mode at VV00:0000 (SDM 11.6.1
// "Start-Up": physical address 000VV000H).
void Core::start_from_sipi(uint8_t vector) {
    s_.seg[cs] = Segment{static_cast<uint16_t>(vector << 8), static_cast<uint64_t>(vector) << 12, 0xffff, 0x9b};
    s_.rip() = 0;
    halted_ = false;
    ++sipis_;
    emit(sim::EventKind::interrupt, vector, 4);
    refresh_mode();
}

// Where the run loop must look next: now while anything is pending or the processor is
// halted; otherwise at the next timer expiry. A pending event in an interrupt shadow lets
// exactly one instruction run first.
void Core::update_attention() {
    deadline_ = apic_->next_timer_event();
    // The virtualization extension's own deadline (VMX-preemption timer, MTF), or a look at
    // every block boundary (interrupt-window and NMI-window exiting, virtual interrupts).
    bool every_boundary = false;
    if (virt_ && virt_->attention()) {
        const uint64_t d = virt_->deadline();
        if (d <= cycle()) every_boundary = true;
        else deadline_ = std::min(deadline_, d);
    }
    if (!halted_ && !apic_->attention() && !every_boundary) {
        check_at_ = deadline_;
        return;
    }
    check_at_ = 0;
    if (interrupt_shadow()) deadline_ = std::min(deadline_, cycle() + 1);
}

Core::Serviced Core::service_events(uint64_t end) {
    for (;;) {
        apic_->advance(cycle());
        if (shadow_ != Shadow::none && !interrupt_shadow()) shadow_ = Shadow::none;
        if (shutdown_ || trapped_.valid) return update_attention(), Serviced::idle;
        // Guest mode (or SVM's GIF = 0): the extension recognises first (VM exits on external
        // interrupts, NMI, INIT; window exits; virtual interrupts; the preemption timer).
        if (virt_ && virt_->attention() && virt_->recognize_events(*this))
            return update_attention(), Serviced::redirected;
        const bool hold_init = virt_ && virt_->holds_init();
        const bool hold_interrupts = virt_ && virt_->holds_interrupts();
        if (apic_->init_pending() && !hold_init) {
            apic_->take_init();
            init_signal();
            if (!halted_) return update_attention(), Serviced::redirected;
            continue;
        }
        if (apic_->waiting_for_sipi()) {
            if (apic_->sipi_pending()) {
                start_from_sipi(apic_->take_sipi());
                return update_attention(), Serviced::redirected;
            }
        } else if (shadow_ == Shadow::none) {
            // NMIs are blocked from the delivery of one until the next IRET (SDM 6.7.1).
            if (apic_->nmi_pending() && !nmi_blocked_ && !hold_interrupts) {
                apic_->take_nmi();
                halted_ = false;
                nmi_blocked_ = true;
                ++nmis_delivered_;
                deliver_event(static_cast<uint8_t>(sim::Vector::nmi), false, 0, false, s_.rip(), 0, 2);
                return update_attention(), Serviced::redirected;
            }
            // Maskable interrupts need IF = 1 (SDM 6.8.1); the APIC's IRR before ExtINT.
            if (s_.interrupts_enabled() && !hold_interrupts && (apic_->deliverable() >= 0 || apic_->extint_pending())) {
                const uint8_t vector = apic_->deliverable() >= 0 ? apic_->acknowledge() : apic_->acknowledge_extint();
                halted_ = false;
                ++interrupts_delivered_;
                deliver_event(vector, false, 0, false, s_.rip(), 0, 1);
                return update_attention(), Serviced::redirected;
            }
        }
        if (!halted_) return update_attention(), Serviced::resume;
        // Halted (HLT or wait-for-SIPI): time passes to the own timer's expiry if that comes
        // before `end` and could wake the processor; otherwise the caller decides.
        const uint64_t wake = wake_cycle();
        if (wake >= end) return update_attention(), Serviced::idle;
        idle_cycles_ += wake - cycle();
    }
}

bool Core::wake_pending() const {
    if (shutdown_ || trapped_.valid) return false;
    if (guest_ && virt_->wake_pending(*this)) return true;
    if (apic_->init_pending()) return true;
    if (apic_->waiting_for_sipi()) return apic_->sipi_pending();
    if (apic_->nmi_pending() && !nmi_blocked_) return true;
    return s_.interrupts_enabled() && (apic_->deliverable() >= 0 || apic_->extint_pending());
}

uint64_t Core::wake_cycle() const {
    if (shutdown_ || trapped_.valid) return ~0ull;
    // The extension's timer (VMX-preemption timer) in the future; "every boundary" wakes nobody.
    const uint64_t virt_deadline = guest_ && virt_->attention() ? virt_->deadline() : ~0ull;
    const uint64_t own = virt_deadline > cycle() ? virt_deadline : ~0ull;
    if (!apic_->timer_can_interrupt()) return own;
    // A masked (IF = 0) or waiting processor still lets its timer expire (the IRR bit stays),
    // but that wakes nobody: only what can end the halt counts.
    if (apic_->waiting_for_sipi() || (halted_ && !s_.interrupts_enabled())) return own;
    return std::min(own, std::max(apic_->next_timer_event(), cycle()));
}

void Core::idle_until(uint64_t target) {
    if (!halted_ || target <= cycle()) return;
    idle_cycles_ += target - cycle();
    apic_->advance(cycle());
    check_at_ = 0;
}

}  // namespace cpu
