// The 82093AA I/O APIC through its MMIO window: identification registers, redirection
// entries, edge and level inputs with remote IRR and EOI, masking and polarity, and the
// messages it sends. Context: tests/unit/bus; the 82093AA data sheet is the reference.
#include <gtest/gtest.h>

#include "interrupt_fixture.h"
#include "sim/kernel/stats.h"

namespace {

using bus::ApicDelivery;
using bus::Ioapic;
using bus_test::Pc;
using bus_test::RecordingApicSink;

uint32_t read_reg(Pc& pc, uint8_t index) {
    pc.bus.mmio_write(Ioapic::kBase + Ioapic::kIoRegSel, 4, index, 0);
    return static_cast<uint32_t>(pc.bus.mmio_read(Ioapic::kBase + Ioapic::kIoWin, 4, 0));
}

void write_reg(Pc& pc, uint8_t index, uint32_t value) {
    pc.bus.mmio_write(Ioapic::kBase + Ioapic::kIoRegSel, 4, index, 0);
    pc.bus.mmio_write(Ioapic::kBase + Ioapic::kIoWin, 4, value, 0);
}

void program_entry(Pc& pc, unsigned pin, uint64_t entry) {
    write_reg(pc, static_cast<uint8_t>(0x11 + 2 * pin), static_cast<uint32_t>(entry >> 32));
    write_reg(pc, static_cast<uint8_t>(0x10 + 2 * pin), static_cast<uint32_t>(entry));
}

struct IoapicPc {
    Pc pc;
    RecordingApicSink sink;
    Ioapic& ioapic;
    IoapicPc() : ioapic(*pc.devices.ioapic) { ioapic.connect(sink); }
};

TEST(ioapic, version_register_reads_0x11_with_24_entries) {
    Pc pc;
    EXPECT_EQ(read_reg(pc, 0x01), 0x00170011u);
}

TEST(ioapic, the_id_is_writable_in_bits_27_to_24_and_loads_the_arbitration_id) {
    Pc pc;
    EXPECT_EQ(read_reg(pc, 0x00), 0u);
    write_reg(pc, 0x00, 0xff00'0000u);
    EXPECT_EQ(read_reg(pc, 0x00), 0x0f00'0000u);
    EXPECT_EQ(read_reg(pc, 0x02), 0x0f00'0000u);
    write_reg(pc, 0x02, 0);  // read-only
    EXPECT_EQ(read_reg(pc, 0x02), 0x0f00'0000u);
    EXPECT_EQ(pc.devices.ioapic->id(), 0x0f);
}

TEST(ioapic, redirection_entries_reset_masked_and_keep_their_writable_bits) {
    Pc pc;
    for (uint8_t index = 0x10; index < 0x40; index += 2) EXPECT_EQ(read_reg(pc, index), 0x10000u);
    write_reg(pc, 0x10 + 2 * 5, 0xffff'ffffu);
    EXPECT_EQ(read_reg(pc, 0x10 + 2 * 5), 0x1afffu);  // no delivery status, no remote IRR
    write_reg(pc, 0x11 + 2 * 5, 0xffff'ffffu);
    EXPECT_EQ(read_reg(pc, 0x11 + 2 * 5), 0xff00'0000u);
    EXPECT_EQ(read_reg(pc, 0x40), 0u);  // beyond the table
}

TEST(ioapic, ioregsel_reads_back_and_a_byte_access_reaches_its_byte) {
    Pc pc;
    pc.bus.mmio_write(Ioapic::kBase, 1, 0x01, 0);
    EXPECT_EQ(pc.bus.mmio_read(Ioapic::kBase, 4, 0), 0x01u);
    EXPECT_EQ(pc.bus.mmio_read(Ioapic::kBase + 0x12, 1, 0), 0x17u);  // version, byte 2
}

TEST(ioapic, an_unmasked_edge_entry_sends_one_message_per_rising_edge) {
    IoapicPc t;
    program_entry(t.pc, 4, uint64_t{0x03} << 56 | 0x0841);  // vector 0x41, logical, to 3
    t.ioapic.set_irq(4, true);
    t.ioapic.set_irq(4, true);  // no change, no edge
    t.ioapic.set_irq(4, false);
    t.ioapic.set_irq(4, true);
    ASSERT_EQ(t.sink.messages.size(), 2u);
    const bus::ApicMessage& m = t.sink.messages[0];
    EXPECT_EQ(m.vector, 0x41);
    EXPECT_EQ(m.delivery_mode, ApicDelivery::fixed);
    EXPECT_TRUE(m.logical);
    EXPECT_EQ(m.destination, 3u);
    EXPECT_TRUE(m.level);
    EXPECT_FALSE(m.trigger_level);
    EXPECT_EQ(m.source, 4u);
}

TEST(ioapic, a_masked_entry_ignores_edges_even_after_unmasking) {
    IoapicPc t;
    program_entry(t.pc, 3, 0x10000 | 0x33);
    t.ioapic.set_irq(3, true);
    program_entry(t.pc, 3, 0x33);
    EXPECT_TRUE(t.sink.messages.empty());
    t.ioapic.set_irq(3, false);
    t.ioapic.set_irq(3, true);
    EXPECT_EQ(t.sink.messages.size(), 1u);
}

TEST(ioapic, a_level_entry_sets_remote_irr_and_waits_for_the_eoi) {
    IoapicPc t;
    program_entry(t.pc, 9, 0x8000 | 0x59);  // level, vector 0x59
    t.ioapic.set_irq(9, true);
    ASSERT_EQ(t.sink.messages.size(), 1u);
    EXPECT_TRUE(t.sink.messages[0].trigger_level);
    EXPECT_TRUE(t.ioapic.remote_irr(9));
    EXPECT_EQ(read_reg(t.pc, 0x10 + 2 * 9) & 0x4000, 0x4000u);
    t.ioapic.eoi(0x58);  // another vector: no effect
    EXPECT_TRUE(t.ioapic.remote_irr(9));
    t.ioapic.eoi(0x59);  // still asserted: sent again
    EXPECT_EQ(t.sink.messages.size(), 2u);
    EXPECT_TRUE(t.ioapic.remote_irr(9));
    t.ioapic.set_irq(9, false);
    t.ioapic.eoi(0x59);
    EXPECT_FALSE(t.ioapic.remote_irr(9));
    EXPECT_EQ(t.sink.messages.size(), 2u);
}

TEST(ioapic, unmasking_an_asserted_level_entry_sends_at_once) {
    IoapicPc t;
    program_entry(t.pc, 10, 0x10000 | 0x8000 | 0x5a);
    t.ioapic.set_irq(10, true);
    EXPECT_TRUE(t.sink.messages.empty());
    program_entry(t.pc, 10, 0x8000 | 0x5a);
    EXPECT_EQ(t.sink.messages.size(), 1u);
}

TEST(ioapic, a_low_active_entry_is_asserted_by_a_low_wire) {
    IoapicPc t;
    t.ioapic.set_irq(16, true);  // a PCI line, idle high
    program_entry(t.pc, 16, 0x2000 | 0x8000 | 0x60);
    EXPECT_FALSE(t.ioapic.asserted(16));
    EXPECT_TRUE(t.sink.messages.empty());
    t.ioapic.set_irq(16, false);
    EXPECT_TRUE(t.ioapic.asserted(16));
    EXPECT_EQ(t.sink.messages.size(), 1u);
}

TEST(ioapic, switching_an_entry_to_edge_clears_remote_irr) {
    IoapicPc t;
    program_entry(t.pc, 11, 0x8000 | 0x61);
    t.ioapic.set_irq(11, true);
    EXPECT_TRUE(t.ioapic.remote_irr(11));
    program_entry(t.pc, 11, 0x61);
    EXPECT_FALSE(t.ioapic.remote_irr(11));
}

TEST(ioapic, delivery_modes_and_physical_destinations_pass_into_the_message) {
    IoapicPc t;
    program_entry(t.pc, 1, uint64_t{0x07} << 56 | 0x0400);  // NMI, physical, APIC 7
    program_entry(t.pc, 0, 0x0700);                          // ExtINT
    t.ioapic.set_irq(1, true);
    t.ioapic.set_irq(0, true);
    ASSERT_EQ(t.sink.messages.size(), 2u);
    EXPECT_EQ(t.sink.messages[0].delivery_mode, ApicDelivery::nmi);
    EXPECT_FALSE(t.sink.messages[0].logical);
    EXPECT_EQ(t.sink.messages[0].destination, 7u);
    EXPECT_EQ(t.sink.messages[1].delivery_mode, ApicDelivery::extint);
}

TEST(ioapic, counts_messages_masked_assertions_and_eois) {
    IoapicPc t;
    program_entry(t.pc, 4, 0x41);
    t.ioapic.set_irq(4, true);
    t.ioapic.set_irq(5, true);  // masked
    t.ioapic.eoi(0x41);
    sim::FlatStats stats;
    t.pc.bus.report(stats);
    EXPECT_EQ(stats.values.at("ioapic.sent.4"), 1);
    EXPECT_EQ(stats.values.at("ioapic.masked"), 1);
    EXPECT_EQ(stats.values.at("ioapic.eois"), 1);
}

TEST(ioapic, is_left_out_when_ram_covers_its_window) {
    bus::SystemBusConfig config = bus_test::small_config();
    config.ram_size = uint64_t{4} << 30;
    Pc pc(config);
    EXPECT_EQ(pc.devices.ioapic, nullptr);
    pc.devices.irq.set_irq(4, true);  // still reaches the PIC
    EXPECT_EQ(pc.devices.pic.irr() & 0x10, 0x10);
}

}  // namespace
