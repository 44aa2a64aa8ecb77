// SystemBus as the processor sees it: open-bus values, routing errors, counters and stats.
// Context: tests/unit/bus.
#include <gtest/gtest.h>

#include <stdexcept>

#include "pc_fixture.h"
#include "sim/kernel/stats.h"

namespace {

using bus_test::Pc;

TEST(system_bus, unmapped_port_reads_return_all_ones_of_the_access_size) {
    Pc pc;
    EXPECT_EQ(pc.bus.port_read(0x80, 1, 0), 0xffu);
    EXPECT_EQ(pc.bus.port_read(0x80, 2, 0), 0xffffu);
    EXPECT_EQ(pc.bus.port_read(0x80, 4, 0), 0xffffffffu);
    EXPECT_EQ(pc.bus.counters().unmapped_reads, 3u);
}

TEST(system_bus, unmapped_mmio_reads_return_all_ones_and_writes_are_dropped) {
    Pc pc;
    EXPECT_EQ(pc.bus.mmio_read(0xfee00000, 4, 0), 0xffffffffu);
    EXPECT_EQ(pc.bus.mmio_read(0xfee00000, 8, 0), ~uint64_t{0});
    pc.bus.mmio_write(0xfee00000, 4, 0, 0);
    EXPECT_EQ(pc.bus.mmio_read(0xfee00000, 4, 0), 0xffffffffu);
    EXPECT_EQ(pc.bus.counters().unmapped_writes, 1u);
}

TEST(system_bus, an_access_straddling_the_end_of_a_device_is_unmapped) {
    Pc pc;
    EXPECT_EQ(pc.bus.port_read(bus::kCom1Port + 7, 2, 0), 0xffffu);
}

TEST(system_bus, port_writes_to_nothing_do_not_disturb_devices) {
    Pc pc;
    pc.out(0x2f8, 'x');  // COM2 is not fitted
    EXPECT_EQ(pc.com1_output, "");
    EXPECT_FALSE(pc.run.stop_requested());
}

TEST(system_bus, counts_port_io_by_port_and_mmio_in_total) {
    Pc pc;
    pc.out(bus::kCom1Port, 'a');
    pc.out(bus::kCom1Port, 'b');
    pc.in(bus::kCom1Port + 5);
    pc.bus.mmio_read(0x1000, 4, 0);
    pc.bus.mmio_write(0x1000, 4, 1, 0);
    pc.bus.mmio_write(0x1000, 4, 2, 0);

    sim::FlatStats stats;
    pc.bus.report(stats);
    EXPECT_EQ(stats.values.at("bus.port_writes.0x3f8"), 2);
    EXPECT_EQ(stats.values.at("bus.port_reads.0x3fd"), 1);
    EXPECT_EQ(stats.values.at("bus.mmio_reads"), 1);
    EXPECT_EQ(stats.values.at("bus.mmio_writes"), 2);
    EXPECT_EQ(stats.values.at("bus.unmapped_reads"), 0);
}

TEST(system_bus, stats_render_as_json) {
    Pc pc;
    pc.out(bus::kDebugExitPort, 1);
    sim::JsonStats json;
    pc.bus.report(json);
    EXPECT_NE(json.str().find("\"bus.port_writes\": {\"0xf4\": 1}"), std::string::npos)
        << json.str();
}

TEST(system_bus, refuses_overlapping_mappings) {
    Pc pc;
    auto& second = pc.bus.add<bus::Uart16550>("com1_again", bus::CharSink{});
    EXPECT_THROW(pc.bus.map_ports(bus::kCom1Port + 4, 8, second.socket, "overlap"),
                 std::invalid_argument);
    pc.bus.map_ports(0x2f8, 8, second.socket, "com2");  // every device must end up bound
    pc.out(0x2f8, 'x');
}

TEST(system_bus, refuses_new_devices_once_elaborated) {
    Pc pc;
    pc.in(bus::kCom1Port + 5);
    EXPECT_TRUE(pc.bus.elaborated());
    EXPECT_THROW(pc.bus.add<bus::Uart16550>("late", bus::CharSink{}), std::logic_error);
}

TEST(system_bus, a_device_left_unmapped_fails_elaboration_with_a_systemc_report) {
    Pc pc;
    pc.bus.add<bus::Uart16550>("unbound", bus::CharSink{});
    EXPECT_THROW(pc.bus.elaborate(), sc_core::sc_report);
}

TEST(system_bus, routes_mmio_devices_with_offsets_relative_to_their_base) {
    Pc pc;
    std::string out;
    auto& uart = pc.bus.add<bus::Uart16550>("mmio_uart", bus::string_sink(out));
    pc.bus.map_mmio(0xfe000000, 8, uart.socket, "mmio_uart");
    pc.bus.mmio_write(0xfe000007, 1, 0x42, 0);
    EXPECT_EQ(pc.bus.mmio_read(0xfe000007, 1, 0), 0x42u);
    pc.bus.mmio_write(0xfe000000, 1, 'm', 0);
    EXPECT_EQ(out, "m");
}

}  // namespace
