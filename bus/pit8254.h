// bus::Pit8254: the PC's Intel 8254 programmable interval timer (ports 0x40-0x43) and the
// timer bits of system control port B (0x61), as TLM-2.0 targets. Context: I/O-port device;
// counter 0's OUT is IRQ0, counter 2 drives the speaker and is gated from port 0x61.
//
// The input clock is 1.193182 MHz. Each counter is a PitCounter (bus/pit_counter.h) read at the
// pulse number of the current SystemC time, so a counter read returns the value for the
// simulated instant of the access. Counter 0's OUT edges are SystemC events at the exact pulse
// time: an SC_METHOD wakes at each edge, drives IRQ0 and schedules the next, so a periodic
// timer costs two events per period and nothing between.
//
// PC wiring: GATE0 and GATE1 are tied high; GATE2 is port 0x61 bit 0; OUT2 reads back as port
// 0x61 bit 5 (and with bit 1 feeds the speaker, which is stored, not sounded); OUT1 (DRAM
// refresh on old PCs) is not connected.
#pragma once

#include <array>
#include <cstdint>

#include "bus/device_clock.h"
#include "bus/irq.h"
#include "bus/pit_counter.h"
#include "bus/tlm_types.h"
#include "sim/kernel/stats.h"

namespace bus {

class Pit8254 final : public sc_core::sc_module {
public:
    static constexpr DeviceClock kClock{1'193'182};
    // Port 0x61 bits (IBM PC/AT "system control port B"; Intel PIIX "NMI status and control").
    static constexpr uint8_t kGate2 = 0x01, kSpeakerData = 0x02, kRefreshToggle = 0x10,
                             kOut2 = 0x20;
    // The refresh-request bit toggles every 15.085 us (one DRAM refresh period on PC/AT
    // boards); firmware delay loops count its toggles.
    static constexpr uint64_t kRefreshPeriodPs = 15'085'000;

    SimpleTargetSocket<Pit8254> socket;  // 0x40-0x43: counters 0-2, control word
    SimpleTargetSocket<Pit8254> port_b;  // 0x61

    explicit Pit8254(sc_core::sc_module_name name);

    // Counter 0's OUT (IRQ0); called with the current level at once.
    void connect_irq(IrqLine line);

    // State at the current SystemC time of this machine (hold its context: bus/sc_context.h).
    bool out(unsigned counter);
    uint32_t counting_element(unsigned counter);
    PitCounter& counter(unsigned index) { return counters_.at(index); }
    uint8_t port_b_value();
    bool speaker_enabled() const { return (port_b_ & (kGate2 | kSpeakerData)) == 3; }
    uint64_t pulses() const;  // input clock pulses since time zero

    void report(sim::StatsWriter& out) const;

private:
    SC_HAS_PROCESS(Pit8254);
    void counters_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    void port_b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    uint8_t read(unsigned offset);
    void write(unsigned offset, uint8_t value);
    void write_control(uint8_t value);
    uint64_t now_ps() const;
    void on_out0_event();  // SC_METHOD
    void update_out0();    // after every change to counter 0, and at its OUT edges

    std::array<PitCounter, 3> counters_{PitCounter(true), PitCounter(true), PitCounter(false)};
    uint8_t port_b_ = 0;  // bits 3:0 as written
    IrqLine irq_;
    bool out0_ = false;
    sc_core::sc_event out0_event_;

    struct Counts {
        uint64_t irq0_edges = 0;  // rising edges of OUT0
        std::array<uint64_t, 3> counts_written{};
        uint64_t control_words = 0;
        uint64_t latches = 0;     // counter latch commands and read-back count latches
        uint64_t read_backs = 0;
        uint64_t wakeups = 0;     // SystemC process activations
    } counts_;
};

}  // namespace bus
