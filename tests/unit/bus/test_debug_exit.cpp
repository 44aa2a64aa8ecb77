// The debug-exit port ends a run with QEMU's isa-debug-exit status.
// Context: tests/unit/bus; the run control is read as the processor's run loop would.
#include <gtest/gtest.h>

#include "pc_fixture.h"

namespace {

using bus_test::Pc;

TEST(debug_exit, a_byte_write_requests_an_exit_with_status_value_times_two_plus_one) {
    Pc pc;
    EXPECT_FALSE(pc.run.stop_requested());
    pc.out(bus::kDebugExitPort, 0x2a);
    EXPECT_EQ(pc.run.reason, sim::StopReason::exit);
    EXPECT_EQ(pc.run.exit_value, 0x2au);
    EXPECT_EQ(pc.run.exit_status, 0x55);
}

TEST(debug_exit, zero_gives_status_one) {
    Pc pc;
    pc.out(bus::kDebugExitPort, 0);
    EXPECT_EQ(pc.run.exit_status, 1);
}

TEST(debug_exit, a_dword_write_carries_the_whole_value) {
    Pc pc;
    pc.bus.port_write(bus::kDebugExitPort, 4, 0x10, 0);
    EXPECT_EQ(pc.run.exit_value, 0x10u);
    EXPECT_EQ(pc.run.exit_status, 0x21);
}

TEST(debug_exit, the_first_stop_keeps_its_reason_and_status) {
    Pc pc;
    pc.out(bus::kDebugExitPort, 3);
    pc.out(bus::kDebugExitPort, 9);
    EXPECT_EQ(pc.run.exit_status, 7);

    Pc other;
    other.run.request_stop(sim::StopReason::instruction_limit);
    other.out(bus::kDebugExitPort, 9);
    EXPECT_EQ(other.run.reason, sim::StopReason::instruction_limit);
    EXPECT_EQ(other.run.exit_status, 0);
}

TEST(debug_exit, reading_the_port_returns_zero_and_stops_nothing) {
    Pc pc;
    EXPECT_EQ(pc.in(bus::kDebugExitPort), 0);
    EXPECT_FALSE(pc.run.stop_requested());
}

}  // namespace
