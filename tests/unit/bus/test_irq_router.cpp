// The PC's interrupt wiring from devices to both controllers: ISA IRQ n to 8259A input n and
// I/O APIC pin n, IRQ0 to pin 2, PCI lines to the I/O APIC only; and a timer interrupt loop as
// a processor would run it. Context: tests/unit/bus, with the devices of attach_pc_devices.
#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "interrupt_fixture.h"
#include "sim/kernel/stats.h"

namespace {

using bus::Uart16550;
using bus_test::init_pics;
using bus_test::kCyclesPerMs;
using bus_test::Pc;
using bus_test::RecordingApicSink;

void unmask_pin(Pc& pc, unsigned pin, uint8_t vector) {
    pc.bus.mmio_write(bus::Ioapic::kBase, 4, 0x10 + 2 * pin, 0);
    pc.bus.mmio_write(bus::Ioapic::kBase + bus::Ioapic::kIoWin, 4, vector, 0);
}

TEST(irq_router, the_uarts_irq4_reaches_pic_input_4_and_ioapic_pin_4) {
    Pc pc;
    init_pics(pc);
    pc.com1(Uart16550::mcr, 0x08);
    pc.com1(Uart16550::ier, 0x02);  // THR empty: the UART asserts its interrupt
    EXPECT_TRUE(pc.devices.irq.level(4));
    EXPECT_TRUE(pc.devices.ioapic->asserted(4));
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x24);
}

TEST(irq_router, the_pits_irq0_reaches_pic_input_0_and_ioapic_pin_2) {
    Pc pc;
    init_pics(pc);
    RecordingApicSink sink;
    pc.devices.ioapic->connect(sink);
    unmask_pin(pc, 2, 0x30);
    unmask_pin(pc, 0, 0x31);
    pc.out(0x43, 0x34);  // counter 0, mode 2: OUT0 rises at once
    pc.out(0x40, 1193 & 0xff);
    pc.out(0x40, 1193 >> 8);
    pc.bus.advance_to(3 * kCyclesPerMs + 500'000);
    ASSERT_EQ(sink.messages.size(), 4u);
    for (const auto& m : sink.messages) {
        EXPECT_EQ(m.source, 2u);
        EXPECT_EQ(m.vector, 0x30);
    }
    EXPECT_FALSE(pc.devices.ioapic->asserted(0));
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x20);
}

TEST(irq_router, the_rtcs_irq8_reaches_the_slave_pic_and_ioapic_pin_8) {
    Pc pc;
    init_pics(pc);
    bus_test::cmos_write(pc, bus::RtcCmos::reg_b, 0x42);  // periodic interrupt, 1024 Hz
    pc.bus.advance_to(kCyclesPerMs);
    EXPECT_TRUE(pc.devices.ioapic->asserted(8));
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x28);
    bus_test::cmos_read(pc, bus::RtcCmos::reg_c, kCyclesPerMs);
    EXPECT_FALSE(pc.devices.ioapic->asserted(8));
}

TEST(irq_router, lines_16_to_23_reach_only_the_ioapic) {
    Pc pc;
    init_pics(pc);
    pc.devices.irq.set_irq(17, true);
    EXPECT_TRUE(pc.devices.ioapic->asserted(17));
    EXPECT_EQ(pc.devices.pic.irr(), 0u);
    EXPECT_FALSE(pc.devices.pic.intr());
}

TEST(irq_router, irq2_and_lines_beyond_23_are_dropped) {
    Pc pc;
    init_pics(pc);
    pc.devices.irq.set_irq(2, true);
    pc.devices.irq.set_irq(24, true);
    EXPECT_FALSE(pc.devices.ioapic->asserted(2));
    EXPECT_EQ(pc.devices.pic.irr(), 0u);
    sim::FlatStats stats;
    pc.bus.report(stats);
    EXPECT_EQ(stats.values.at("irq.dropped"), 2);
}

TEST(irq_router, ioapic_pins_of_isa_irqs_follow_the_pc_source_override) {
    EXPECT_EQ(bus::IrqRouter::ioapic_pin(0), 2u);
    EXPECT_EQ(bus::IrqRouter::ioapic_pin(1), 1u);
    EXPECT_EQ(bus::IrqRouter::ioapic_pin(8), 8u);
    EXPECT_EQ(bus::IrqRouter::ioapic_pin(15), 15u);
}

// A processor's view: check INTR every 10 us, acknowledge, send EOI.
TEST(irq_router, a_timer_interrupt_loop_gets_vector_0x20_once_per_pit_period) {
    Pc pc;
    init_pics(pc);
    pc.out(0x43, 0x34);
    pc.out(0x40, 1193 & 0xff);
    pc.out(0x40, 1193 >> 8);
    std::vector<uint64_t> taken;
    constexpr uint64_t kStep = 10'000;
    for (uint64_t cycle = kStep; cycle <= 10 * kCyclesPerMs; cycle += kStep) {
        pc.bus.advance_to(cycle);
        if (!pc.devices.pic.intr()) continue;
        EXPECT_EQ(pc.devices.pic.acknowledge(), 0x20);
        taken.push_back(cycle);
        pc.bus.port_write(0x20, 1, 0x20, cycle);
    }
    ASSERT_EQ(taken.size(), 11u);  // the control word's edge, then ten periods
    for (size_t i = 2; i < taken.size(); ++i) {
        EXPECT_LE(std::llabs(static_cast<long long>(taken[i] - taken[i - 1]) - 999'847), 10'000);
    }
}

TEST(irq_router, device_counters_join_the_bus_report) {
    Pc pc;
    sim::FlatStats stats;
    pc.bus.report(stats);
    for (const char* name : {"pic.eois", "pit.irq0_edges", "rtc.irqs", "ioapic.eois",
                             "irq.dropped", "bus.mmio_reads"}) {
        EXPECT_TRUE(stats.values.count(name)) << name;
    }
}

}  // namespace
