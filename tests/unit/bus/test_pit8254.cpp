// The 8254 PIT as the guest and the interrupt controllers see it: ports 0x40-0x43 and 0x61,
// IRQ0 edges placed at the exact simulated time of the input clock pulse. Context:
// tests/unit/bus; time moves only through the bus (accesses at a cycle, advance_to).
#include <gtest/gtest.h>

#include <cstdlib>

#include "interrupt_fixture.h"
#include "sim/kernel/stats.h"

namespace {

using bus::Pit8254;
using bus_test::kCyclesPerMs;
using bus_test::kPsPerCycle;
using bus_test::LineRecorder;
using bus_test::Pc;

constexpr auto kClock = Pit8254::kClock;

void program(Pc& pc, unsigned counter, unsigned mode, uint16_t count, uint64_t cycle = 0) {
    pc.bus.port_write(0x43, 1, counter << 6 | 0x30 | mode << 1, cycle);
    pc.bus.port_write(static_cast<uint16_t>(0x40 + counter), 1, count & 0xff, cycle);
    pc.bus.port_write(static_cast<uint16_t>(0x40 + counter), 1, count >> 8, cycle);
}

uint64_t pulse_at_cycle(uint64_t cycle) { return kClock.ticks_at(cycle * kPsPerCycle); }

TEST(pit8254, mode_2_raises_irq0_once_per_period_at_the_exact_pulse_times) {
    Pc pc;
    LineRecorder irq0;
    pc.devices.pit.connect_irq(irq0.line(pc.bus));
    program(pc, 0, 2, 1193);  // about 1 kHz, written at pulse 0, loaded at pulse 1
    pc.bus.advance_to(10 * kCyclesPerMs);
    const auto edges = irq0.rising_edges(0);
    ASSERT_EQ(edges.size(), 10u);
    for (uint64_t j = 0; j < edges.size(); ++j) {
        EXPECT_EQ(edges[j], kClock.time_of(1 + 1193 * (j + 1))) << "edge " << j;
    }
    // 1193 pulses of 838.095 ns: 999.847 us, to the picosecond.
    const double period_ps = 1193 * 1e12 / 1'193'182;
    for (size_t j = 1; j < edges.size(); ++j) {
        EXPECT_LE(std::abs(static_cast<double>(edges[j] - edges[j - 1]) - period_ps), 1.0);
    }
}

TEST(pit8254, mode_3_is_a_square_wave_high_and_low_for_half_the_count_each) {
    Pc pc;
    LineRecorder irq0;
    pc.devices.pit.connect_irq(irq0.line(pc.bus));
    program(pc, 0, 3, 100, 500);
    pc.bus.advance_to(1 * kCyclesPerMs);
    const uint64_t load = pulse_at_cycle(500) + 1;
    ASSERT_GE(irq0.changes.size(), 10u);
    // changes[0] is the connection (low), [1] the control word (high); then every 50 pulses.
    for (size_t i = 2; i < 10; ++i) {
        EXPECT_EQ(irq0.changes[i].first, kClock.time_of(load + 50 * (i - 1)));
        EXPECT_EQ(irq0.changes[i].second, i % 2 == 1);
    }
}

TEST(pit8254, mode_0_raises_irq0_once_after_the_count_and_then_stays_high) {
    Pc pc;
    LineRecorder irq0;
    pc.devices.pit.connect_irq(irq0.line(pc.bus));
    program(pc, 0, 0, 1000, 5000);  // written at pulse 5
    pc.bus.advance_to(100 * kCyclesPerMs);
    EXPECT_EQ(irq0.rising_edges(), (std::vector<uint64_t>{kClock.time_of(5 + 1 + 1000)}));
    EXPECT_TRUE(pc.devices.pit.out(0));
}

TEST(pit8254, a_count_read_returns_the_value_at_the_simulated_time_of_the_access) {
    Pc pc;
    program(pc, 0, 2, 10000);
    pc.bus.port_write(0x43, 1, 0x00, kCyclesPerMs);  // latch counter 0 at 1 ms
    const uint64_t pulse = pulse_at_cycle(kCyclesPerMs);
    const uint64_t expected = 10000 - (pulse - 1);
    EXPECT_EQ(pc.bus.port_read(0x40, 1, 3 * kCyclesPerMs), expected & 0xff);
    EXPECT_EQ(pc.bus.port_read(0x40, 1, 3 * kCyclesPerMs), expected >> 8);
    const uint64_t later = pulse_at_cycle(5 * kCyclesPerMs);
    pc.bus.port_write(0x43, 1, 0x00, 5 * kCyclesPerMs);
    const uint64_t low = pc.bus.port_read(0x40, 1, 5 * kCyclesPerMs);
    const uint64_t high = pc.bus.port_read(0x40, 1, 5 * kCyclesPerMs);
    EXPECT_EQ(low | high << 8, 10000 - (later - 1) % 10000);
}

TEST(pit8254, the_read_back_command_latches_status_then_count) {
    Pc pc;
    program(pc, 0, 2, 5000);
    pc.bus.port_write(0x43, 1, 0xc2, 2000);  // read-back: count and status of counter 0
    const uint64_t expected = 5000 - (pulse_at_cycle(2000) - 1);
    EXPECT_EQ(pc.bus.port_read(0x40, 1, 9000), 0x80 | 0x34);  // OUT high, mode 2, LSB/MSB
    EXPECT_EQ(pc.bus.port_read(0x40, 1, 9000), expected & 0xff);
    EXPECT_EQ(pc.bus.port_read(0x40, 1, 9000), expected >> 8);
}

TEST(pit8254, the_control_port_reads_as_open_bus) {
    Pc pc;
    EXPECT_EQ(pc.in(0x43), 0xff);
}

// Linux's PIT calibration: GATE2 on, speaker off, counter 2 in mode 0, poll port 0x61 bit 5.
TEST(pit8254, counter_2_is_gated_and_read_back_through_port_0x61) {
    Pc pc;
    pc.bus.port_write(0x61, 1, 0x01, 0);
    program(pc, 2, 0, 100);
    const uint64_t high_ps = kClock.time_of(1 + 100);
    EXPECT_EQ(pc.bus.port_read(0x61, 1, high_ps / kPsPerCycle - 1) & 0x21, 0x01);
    EXPECT_EQ(pc.bus.port_read(0x61, 1, high_ps / kPsPerCycle + 1) & 0x21, 0x21);
}

TEST(pit8254, gate_2_low_stops_counter_2) {
    Pc pc;
    program(pc, 2, 0, 100);  // GATE2 is low after reset
    EXPECT_EQ(pc.bus.port_read(0x61, 1, 10 * kCyclesPerMs) & 0x20, 0);
    pc.bus.port_write(0x61, 1, 0x01, 10 * kCyclesPerMs);
    const uint64_t gate_pulse = pulse_at_cycle(10 * kCyclesPerMs);
    const uint64_t high_cycle = kClock.time_of(gate_pulse + 100) / kPsPerCycle + 1;
    EXPECT_EQ(pc.bus.port_read(0x61, 1, high_cycle - 2) & 0x20, 0);
    EXPECT_EQ(pc.bus.port_read(0x61, 1, high_cycle) & 0x20, 0x20);
}

TEST(pit8254, port_0x61_keeps_the_speaker_bits_and_toggles_the_refresh_bit) {
    Pc pc;
    pc.bus.port_write(0x61, 1, 0xf3, 0);
    EXPECT_TRUE(pc.devices.pit.speaker_enabled());
    EXPECT_EQ(pc.bus.port_read(0x61, 1, 0) & 0x1f, 0x03);
    EXPECT_EQ(pc.bus.port_read(0x61, 1, 15'086) & 0x10, 0x10);  // one 15.085 us period later
    EXPECT_EQ(pc.bus.port_read(0x61, 1, 30'171) & 0x10, 0x00);
}

TEST(pit8254, a_new_mode_2_count_changes_the_rate_from_the_next_period) {
    Pc pc;
    LineRecorder irq0;
    pc.devices.pit.connect_irq(irq0.line(pc.bus));
    program(pc, 0, 2, 1000);
    pc.bus.port_write(0x40, 1, 500 & 0xff, 1500 * 1000);  // 1.5 ms: in the second period
    pc.bus.port_write(0x40, 1, 500 >> 8, 1500 * 1000);
    pc.bus.advance_to(3 * kCyclesPerMs);
    const auto edges = irq0.rising_edges(0);
    ASSERT_GE(edges.size(), 4u);
    EXPECT_EQ(edges[0], kClock.time_of(1 + 1000));
    EXPECT_EQ(edges[1], kClock.time_of(1 + 2000));
    EXPECT_EQ(edges[2], kClock.time_of(1 + 2000 + 500));
    EXPECT_EQ(edges[3], kClock.time_of(1 + 2000 + 1000));
}

// Same accesses at the same cycles: the same IRQ0 edges, bit for bit.
TEST(pit8254, the_same_accesses_at_the_same_cycles_give_the_same_interrupt_times) {
    auto run = [] {
        Pc pc;
        LineRecorder irq0;
        pc.devices.pit.connect_irq(irq0.line(pc.bus));
        program(pc, 0, 3, 4321, 1234);
        pc.bus.port_read(0x40, 1, 777'777);
        program(pc, 0, 2, 999, 3'300'000);
        pc.bus.advance_to(20 * kCyclesPerMs);
        return irq0.changes;
    };
    const auto first = run();
    EXPECT_GT(first.size(), 30u);
    EXPECT_EQ(first, run());
}

TEST(pit8254, counts_irq0_edges_and_programming_in_its_stats) {
    Pc pc;
    program(pc, 0, 2, 1193);
    pc.bus.advance_to(5 * kCyclesPerMs + 100'000);
    sim::FlatStats stats;
    pc.bus.report(stats);
    EXPECT_EQ(stats.values.at("pit.irq0_edges"), 6);  // the control word's, then 5 periods
    EXPECT_EQ(stats.values.at("pit.counts_written.0"), 2);
    EXPECT_EQ(stats.values.at("pit.control_words"), 1);
}

}  // namespace
