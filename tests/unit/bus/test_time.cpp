// Temporal decoupling: device time catches up with the processor's cycle at each device access
// and at advance_to, and SystemC processes run meanwhile. Context: tests/unit/bus.
#include <gtest/gtest.h>

#include <vector>

#include "pc_fixture.h"
#include "test_devices.h"

namespace {

using bus_test::Pc;
using bus_test::Ticker;
using bus_test::TimeProbe;

TEST(time, device_time_starts_at_zero) {
    Pc pc;
    EXPECT_EQ(pc.bus.device_time_ps(), 0u);
    EXPECT_EQ(pc.bus.device_cycle(), 0u);
}

TEST(time, a_port_access_first_brings_device_time_to_the_initiators_cycle) {
    Pc pc;
    pc.bus.port_read(0x80, 1, 1500);
    EXPECT_EQ(pc.bus.device_time_ps(), 1500u * 1000);
    EXPECT_EQ(pc.bus.device_cycle(), 1500u);
}

TEST(time, the_device_sees_the_access_at_the_initiators_cycle) {
    Pc pc;
    auto& probe = pc.bus.add<TimeProbe>("probe");
    pc.bus.map_mmio(0xfed00000, 0x1000, probe.socket, "probe");
    pc.bus.mmio_write(0xfed00000, 4, 0, 10);
    pc.bus.mmio_read(0xfed00000, 4, 250);
    EXPECT_EQ(probe.seen_ps, (std::vector<uint64_t>{10'000, 250'000}));
}

TEST(time, the_cycle_period_is_a_parameter) {
    bus::SystemBusConfig config = bus_test::small_config();
    config.cycle_period_ps = 250;  // 4 GHz
    Pc pc(config);
    pc.bus.advance_to(8);
    EXPECT_EQ(pc.bus.device_time_ps(), 2000u);
    EXPECT_EQ(pc.bus.device_cycle(), 8u);
}

TEST(time, device_time_never_goes_back) {
    Pc pc;
    pc.bus.advance_to(1000);
    pc.bus.port_read(0x80, 1, 10);
    EXPECT_EQ(pc.bus.device_cycle(), 1000u);
    EXPECT_EQ(pc.bus.counters().time_syncs, 1u);
}

TEST(time, advancing_runs_device_processes) {
    Pc pc;
    auto& ticker = pc.bus.add<Ticker>("ticker");
    pc.bus.map_mmio(0xfed00000, 8, ticker.socket, "ticker");
    pc.bus.advance_to(1050);  // 1.05 µs at 1 GHz
    EXPECT_EQ(ticker.ticks, 10u);
    EXPECT_EQ(pc.bus.mmio_read(0xfed00000, 4, 1550), 15u);
}

// SystemC's sc_start(d) triggers the events due at exactly now + d but runs their processes at
// the start of the next sc_start: an access at cycle C comes before device work due at C.
TEST(time, device_work_due_exactly_at_the_access_cycle_runs_after_the_access) {
    Pc pc;
    auto& ticker = pc.bus.add<Ticker>("ticker");
    pc.bus.map_mmio(0xfed00000, 8, ticker.socket, "ticker");
    EXPECT_EQ(pc.bus.mmio_read(0xfed00000, 4, 1000), 9u);
    EXPECT_EQ(pc.bus.mmio_read(0xfed00000, 4, 1001), 10u);
}

TEST(time, ram_pages_do_not_move_device_time) {
    Pc pc;
    pc.bus.ram_page(0x1000);
    EXPECT_EQ(pc.bus.device_time_ps(), 0u);
    EXPECT_EQ(pc.bus.counters().time_syncs, 0u);
}

}  // namespace
