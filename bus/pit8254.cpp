// The 8254's ports and its IRQ0 events. Context: port I/O from the guest (b_transport) and the
// SystemC process that follows counter 0's OUT.
#include "bus/pit8254.h"

#include "bus/payload.h"

namespace bus {

Pit8254::Pit8254(sc_core::sc_module_name name)
    : sc_core::sc_module(name), socket("socket"), port_b("port_b") {
    socket.register_b_transport(this, &Pit8254::counters_transport);
    port_b.register_b_transport(this, &Pit8254::port_b_transport);
    SC_METHOD(on_out0_event);
    sensitive << out0_event_;
    dont_initialize();
}

void Pit8254::connect_irq(IrqLine line) {
    irq_ = std::move(line);
    if (irq_) irq_(out0_);
}

// This machine's time even when another context is current (inspection from tests or tools).
uint64_t Pit8254::now_ps() const { return simcontext()->time_stamp().value(); }
uint64_t Pit8254::pulses() const { return kClock.ticks_at(now_ps()); }

bool Pit8254::out(unsigned counter) { return counters_.at(counter).out(pulses()); }

uint32_t Pit8254::counting_element(unsigned counter) {
    return counters_.at(counter).counting_element(pulses());
}

uint8_t Pit8254::port_b_value() {
    const bool refresh = (now_ps() / kRefreshPeriodPs) & 1;
    return static_cast<uint8_t>((port_b_ & 0x0f) | (refresh ? kRefreshToggle : 0) |
                                (counters_[2].out(pulses()) ? kOut2 : 0));
}

// A wider access touches consecutive ports, as an 8-bit ISA device sees a 16-bit IN/OUT.
void Pit8254::counters_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time&) {
    byte_register_transport(
        gp, [this](unsigned o) { return read(o); }, [this](unsigned o, uint8_t v) { write(o, v); });
}

// Bits 3:0 are read/write (GATE2, speaker data, and the parity/channel-check enables, which
// have nothing to report here); bits 7:4 are status.
void Pit8254::port_b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time&) {
    if (!is_register_access(gp)) return;
    if (gp.is_read()) {
        set_payload_value(gp, port_b_value());
    } else if (gp.is_write()) {
        port_b_ = static_cast<uint8_t>(payload_value(gp) & 0x0f);
        counters_[2].set_gate((port_b_ & kGate2) != 0, pulses());
    }
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

// The control word register cannot be read: the data bus floats.
uint8_t Pit8254::read(unsigned offset) {
    if (offset >= 3) return 0xff;
    return counters_[offset].read(pulses());
}

void Pit8254::write(unsigned offset, uint8_t value) {
    if (offset == 3) {
        write_control(value);
    } else {
        counters_[offset].write(value, pulses());
        ++counts_.counts_written[offset];
    }
    if (offset == 0 || offset == 3) update_out0();
}

// Control word: SC (7:6) selects a counter or the read-back command, RW (5:4) = 0 latches.
// Read-back: bit 5 clear latches the counts, bit 4 clear the status, bits 3:1 select counters.
void Pit8254::write_control(uint8_t value) {
    const unsigned select = value >> 6;
    const uint64_t now = pulses();
    if (select == 3) {
        ++counts_.read_backs;
        for (unsigned i = 0; i < 3; ++i) {
            if (!(value & (2u << i))) continue;
            if (!(value & 0x20)) counters_[i].latch_count(now);
            if (!(value & 0x10)) counters_[i].latch_status(now);
        }
        return;
    }
    if ((value & 0x30) == 0) {
        ++counts_.latches;
        counters_[select].latch_count(now);
        return;
    }
    ++counts_.control_words;
    counters_[select].write_control(value, now);
}

void Pit8254::on_out0_event() {
    ++counts_.wakeups;
    update_out0();
}

// Drives IRQ0 from OUT0 and sleeps until OUT0 next changes. May run when nothing changed (a
// wake-up made obsolete by a later write); it then only reschedules.
void Pit8254::update_out0() {
    const uint64_t ps = now_ps();
    const uint64_t now = kClock.ticks_at(ps);
    const bool level = counters_[0].out(now);
    if (level != out0_) {
        out0_ = level;
        if (level) ++counts_.irq0_edges;
        if (irq_) irq_(level);
    }
    out0_event_.cancel();
    if (const auto next = counters_[0].next_change(now)) {
        out0_event_.notify(sc_core::sc_time::from_value(kClock.time_of(*next) - ps));
    }
}

void Pit8254::report(sim::StatsWriter& out) const {
    const std::string prefix = name();
    out.scalar(prefix + ".irq0_edges", static_cast<double>(counts_.irq0_edges), "edges",
               "rising edges of counter 0's OUT (IRQ0)");
    out.histogram(prefix + ".counts_written",
                  {{"0", counts_.counts_written[0]}, {"1", counts_.counts_written[1]},
                   {"2", counts_.counts_written[2]}},
                  "bytes", "count bytes written, by counter");
    out.scalar(prefix + ".control_words", static_cast<double>(counts_.control_words), "writes",
               "mode-setting control words");
    out.scalar(prefix + ".latches", static_cast<double>(counts_.latches), "commands",
               "counter latch commands");
    out.scalar(prefix + ".read_backs", static_cast<double>(counts_.read_backs), "commands",
               "read-back commands");
    out.scalar(prefix + ".wakeups", static_cast<double>(counts_.wakeups), "activations",
               "SystemC process activations following OUT0");
}

}  // namespace bus
