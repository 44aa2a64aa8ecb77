// Local APIC: reset states, acceptance of interrupt messages, priorities (TPR/PPR/ISR/IRR),
// EOI, the LINT pins, and sending IPIs (SDM Vol. 3A 11.4.7, 11.5.1, 11.6, 11.8).
// Context: the owning core's slow paths and the machine's interrupt fabric.
#include "cpu/apic/local_apic.h"

namespace cpu {

LocalApic::LocalApic(const LocalApicConfig& config) : config_(config) {
    if (config_.bus_divisor == 0) config_.bus_divisor = 1;
    reset();
}

int LocalApic::highest(const uint32_t (&r)[8]) {
    for (int w = 7; w >= 0; --w)
        if (r[w]) return w * 32 + 31 - __builtin_clz(r[w]);
    return -1;
}

// SDM 11.4.7.1 "Local APIC State After Power-Up or Reset": IRR, ISR, TMR, ICR, LDR, TPR, the
// timer counts and divide configuration are 0; DFR all ones; LVT entries masked; SVR 0FFh
// (software-disabled).
void LocalApic::reset_registers() {
    xapic_id_ = config_.id << 24;
    tpr_ = ldr_ = 0;
    dfr_ = ~0u;
    svr_ = 0xff;
    for (auto* r : {&irr_, &isr_, &tmr_})
        for (uint32_t& w : *r) w = 0;
    esr_ = esr_pending_ = 0;
    for (uint32_t& l : lvt_) l = kLvtMask;
    icr_ = 0;
    initial_count_ = divide_config_ = 0;
    timer_deadline_ = ~0ull;
    tsc_deadline_ = 0;
}

void LocalApic::reset() {
    base_ = kDefaultBase | kBaseEnable | (config_.bsp ? kBaseBsp : 0);
    reset_registers();
    // hvsim has no firmware: the BSP's LINT0/LINT1 are left as a BIOS leaves them for the
    // 8259 "virtual wire" (MultiProcessor Specification 1.4, 3.6.2.2), ExtINT and NMI, so
    // legacy interrupts reach the processor before the guest programs its APIC.
    if (config_.bsp) {
        lvt_[lvt_lint0] = static_cast<uint32_t>(DeliveryMode::extint) << 8;
        lvt_[lvt_lint1] = static_cast<uint32_t>(DeliveryMode::nmi) << 8;
    }
    signals_ = 0;
    // SDM 9.4.1 "BSP and AP Processors": after reset the APs wait for a startup IPI.
    wait_for_sipi_ = !config_.bsp;
    update_mmio_page();
}

// SDM 11.4.7.3 "Local APIC State After an INIT Reset (Wait-for-SIPI State)": as after
// power-up, except that the APIC ID and IA32_APIC_BASE keep their values; a SIPI that arrived
// after the INIT stays pending.
void LocalApic::init_reset() {
    const uint32_t id = xapic_id_;
    const uint8_t sipi = signals_ & kSipi;
    reset_registers();
    xapic_id_ = id;
    signals_ = sipi;
}

uint32_t LocalApic::id() const { return x2apic() ? config_.id : xapic_id_ >> 24; }

// x2APIC: the logical ID is derived from the x2APIC ID, cluster in 31:16 and one bit of 15:0
// (SDM 11.12.10.2 "Deriving Logical x2APIC ID from the Local x2APIC ID").
uint32_t LocalApic::logical_id() const {
    if (x2apic()) return ((config_.id >> 4) << 16) | (1u << (config_.id & 0xf));
    return ldr_;
}

// PPR (SDM 11.8.3.1): TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4] with sub-class 0.
uint8_t LocalApic::ppr() const {
    const int isrv = highest(isr_);
    const uint32_t isr_class = isrv < 0 ? 0 : static_cast<uint32_t>(isrv) & 0xf0;
    return static_cast<uint8_t>((tpr_ & 0xf0) >= isr_class ? tpr_ : isr_class);
}

void LocalApic::set_tpr(uint8_t value) {
    tpr_ = value;
    notify();
}

// SDM 11.8.4 "Interrupt Acceptance for Fixed Interrupts": the highest IRR vector is
// dispatched when its priority class is above the processor priority class. A software-
// disabled APIC holds what its IRR has (SDM 11.4.7.2) and presents nothing.
int LocalApic::deliverable() const {
    if (!hardware_enabled() || !software_enabled()) return -1;
    const int v = highest(irr_);
    if (v < 0 || (static_cast<unsigned>(v) & 0xf0) <= (ppr() & 0xf0u)) return -1;
    return v;
}

uint8_t LocalApic::acknowledge() {
    const int v = deliverable();
    // SDM 11.9 "Spurious Interrupt": nothing left to dispense at INTA time -> the spurious
    // vector, without an ISR bit. (Recognition and acknowledgement are one step here, so the
    // core only asks when deliverable() said yes.)
    if (v < 0) return static_cast<uint8_t>(svr_ & 0xff);
    const auto vector = static_cast<uint8_t>(v);
    clear(irr_, vector);
    set(isr_, vector);
    return vector;
}

// INTR from the 8259 reaches the processor through LINT0 programmed as ExtINT, or directly when
// the APIC is globally disabled (the processor then behaves as one without an APIC, SDM 11.4.3,
// its LINT0/LINT1 pins acting as INTR/NMI); an I/O APIC ExtINT message works the same way.
bool LocalApic::extint_pending() const {
    if (signals_ & kExtintMessage) return true;
    if (!lint_level_[0]) return false;
    if (!hardware_enabled()) return true;
    const uint32_t l = lvt_[lvt_lint0];
    return !(l & kLvtMask) && ((l >> 8) & 7) == static_cast<uint32_t>(DeliveryMode::extint);
}

uint8_t LocalApic::acknowledge_extint() {
    signals_ &= ~kExtintMessage;
    return extint_ack_ ? extint_ack_() : static_cast<uint8_t>(svr_ & 0xff);
}

uint8_t LocalApic::take_sipi() {
    signals_ &= ~kSipi;
    wait_for_sipi_ = false;
    return sipi_vector_;
}

// SDM 11.5.3 "Error Handling": errors collect internally; a write to the ESR makes them
// readable. The LVT error entry signals them.
void LocalApic::signal_error(uint32_t esr_bit) {
    const bool first = (esr_pending_ & esr_bit) == 0;
    esr_pending_ |= esr_bit;
    if (first) lvt_fire(lvt_error);
}

// Vectors 0-15 are illegal for fixed delivery (SDM 11.5.2 "Valid Interrupt Vectors"): the
// receiver records "receive illegal vector" (ESR bit 6) and drops the interrupt.
void LocalApic::raise_fixed(uint8_t vector, bool level) {
    if (vector < 16) {
        signal_error(1u << 6);
        return;
    }
    set(irr_, vector);
    if (level) set(tmr_, vector);
    else clear(tmr_, vector);
    notify();
}

// A local source through its LVT entry (SDM 11.5.1 "Local Vector Table"). Timer, error,
// thermal, performance and CMCI entries are edge-triggered; LINT entries decode the mode.
void LocalApic::lvt_fire(Lvt which) {
    const uint32_t l = lvt_[which];
    if (l & kLvtMask) return;
    const auto mode = static_cast<DeliveryMode>((l >> 8) & 7);
    const bool has_mode = which != lvt_timer && which != lvt_error;
    if (!has_mode || mode == DeliveryMode::fixed) {
        const bool level = (which == lvt_lint0 || which == lvt_lint1) && (l & (1u << 15));
        if (level) lvt_[which] |= 1u << 14;  // remote IRR, until the EOI
        raise_fixed(static_cast<uint8_t>(l), level);
    } else if (mode == DeliveryMode::nmi) {
        signals_ |= kNmi;
        notify();
    } else if (mode == DeliveryMode::init) {
        signals_ |= kInit;
        notify();
    }
    // ExtINT is a level the core samples (extint_pending); SMI is not modelled.
}

void LocalApic::set_lint(unsigned pin, bool asserted) {
    if (pin > 1) return;
    const bool rising = asserted && !lint_level_[pin];
    lint_level_[pin] = asserted;
    const Lvt which = pin ? lvt_lint1 : lvt_lint0;
    if (!hardware_enabled()) {
        // No APIC: LINT1 is the NMI pin (edge), LINT0 is INTR (a level, see extint_pending).
        if (pin == 1 && rising) signals_ |= kNmi;
        notify();
        return;
    }
    const uint32_t l = lvt_[which];
    const auto mode = static_cast<DeliveryMode>((l >> 8) & 7);
    const bool level_fixed = mode == DeliveryMode::fixed && (l & (1u << 15));
    if (mode == DeliveryMode::extint) notify();
    else if (rising || (asserted && level_fixed && !(l & (1u << 14)))) lvt_fire(which);
}

// SDM 11.8.5 "Signaling Interrupt Servicing Completion": EOI clears the highest ISR bit; for a
// level-triggered vector (TMR set: it tells the trigger mode of the last acceptance, 11.8.4)
// the EOI is broadcast to the I/O APICs. A LINT entry in level mode with that vector has its
// remote IRR cleared, and fires again if still asserted.
void LocalApic::eoi() {
    const int v = highest(isr_);
    if (v < 0) return;
    const auto vector = static_cast<uint8_t>(v);
    clear(isr_, vector);
    if (test(tmr_, vector)) {
        for (Lvt which : {lvt_lint0, lvt_lint1}) {
            uint32_t& l = lvt_[which];
            if ((l & (1u << 14)) && (l & 0xff) == vector) {
                l &= ~(1u << 14);
                if (lint_level_[which == lvt_lint1]) lvt_fire(which);
            }
        }
        if (eoi_broadcast_) eoi_broadcast_(vector);
    }
    notify();
}

// Destination matching without shorthand (SDM 11.6.2 "Determining IPI Destination").
bool LocalApic::matches(const Ipi& m) const {
    if (!hardware_enabled()) return false;
    const uint32_t all = m.x2apic_format ? ~0u : 0xffu;
    if (m.destination == all) return true;
    if (!m.logical) return m.destination == id();
    if (x2apic()) {
        // 11.12.10.2: cluster in 31:16 must match, then any of the 16 member bits.
        if (!m.x2apic_format) return false;  // 8-bit logical messages are for xAPIC mode
        const uint32_t ldr = logical_id();
        return (m.destination >> 16) == (ldr >> 16) && (m.destination & ldr & 0xffff) != 0;
    }
    const uint32_t dest = m.destination & 0xff, ldr = ldr_ >> 24;
    if ((dfr_ >> 28) == 0xf) return (dest & ldr) != 0;                    // flat model
    return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf) != 0;          // cluster model
}

// SDM 11.6.1: what each delivery mode does at the receiving APIC. A software-disabled APIC
// still takes NMI, INIT and SIPI, but no fixed interrupts (11.4.7.2). Lowest priority is
// delivered as fixed: the fabric picks one target (the lowest-numbered that matches).
void LocalApic::receive(const Ipi& m) {
    switch (m.mode) {
        case DeliveryMode::fixed:
        case DeliveryMode::lowest_priority:
            if (software_enabled()) raise_fixed(m.vector, m.level);
            return;
        case DeliveryMode::nmi:
            signals_ |= kNmi;
            break;
        case DeliveryMode::init:
            if (m.level && !m.assert_level) return;  // INIT level de-assert: arbitration IDs only
            signals_ |= kInit;
            break;
        case DeliveryMode::startup:
            // A SIPI is taken only in the wait-for-SIPI state (SDM 9.4.4.1 "Typical BSP
            // Initialization Sequence" sends two: the second is ignored by a started AP).
            if (!wait_for_sipi_ && !(signals_ & kInit)) return;
            sipi_vector_ = m.vector;
            signals_ |= kSipi;
            break;
        case DeliveryMode::extint:
            signals_ |= kExtintMessage;
            break;
        default:
            return;  // SMI and reserved modes: not modelled
    }
    notify();
}

// ICR -> message (SDM 11.6.1 Figure 11-12; x2APIC: one 64-bit register, 11.12.9).
void LocalApic::send_icr(uint64_t icr) {
    Ipi m;
    m.vector = static_cast<uint8_t>(icr);
    m.mode = static_cast<DeliveryMode>((icr >> 8) & 7);
    m.logical = icr & (1u << 11);
    m.assert_level = icr & (1u << 14);
    m.level = icr & (1u << 15);
    m.shorthand = static_cast<Shorthand>((icr >> 18) & 3);
    m.x2apic_format = x2apic();
    m.destination = x2apic() ? static_cast<uint32_t>(icr >> 32) : static_cast<uint32_t>(icr >> 56);
    if (m.mode == DeliveryMode::init && m.level && !m.assert_level) return;  // de-assert: no effect
    if ((m.mode == DeliveryMode::fixed || m.mode == DeliveryMode::lowest_priority) && m.vector < 16) {
        signal_error(1u << 5);  // send illegal vector (SDM 11.5.3)
        return;
    }
    // Lowest priority to oneself is invalid (11.6.1 Table 11-3); deliver it as fixed.
    if (m.mode == DeliveryMode::lowest_priority && m.shorthand != Shorthand::none)
        m.mode = DeliveryMode::fixed;
    send(m);
}

void LocalApic::send(const Ipi& m) {
    if (fabric_) {
        fabric_->send(index_, m);
        return;
    }
    // Alone (unit tests): only the self destinations exist.
    const bool self = m.shorthand == Shorthand::self || m.shorthand == Shorthand::all_including_self ||
                      (m.shorthand == Shorthand::none && matches(m));
    if (self) receive(m);
}

}  // namespace cpu
