// Several machines in one process, as Python users make them: each SystemBus lives in its own
// SystemC simulation context. Context: tests/unit/bus.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "pc_fixture.h"
#include "test_devices.h"

namespace {

using bus_test::Pc;

// What a short guest program does: print, let time pass, exit through the debug port.
void run_guest(Pc& pc, const std::string& text, uint64_t exit_value) {
    uint64_t cycle = 0;
    for (char c : text) {
        cycle += 100;
        while ((pc.bus.port_read(bus::kCom1Port + 5, 1, cycle) & 0x20) == 0) {
        }
        pc.bus.port_write(bus::kCom1Port, 1, static_cast<uint8_t>(c), cycle);
    }
    pc.bus.advance_to(cycle + 1000);
    pc.bus.port_write(bus::kDebugExitPort, 1, exit_value, cycle + 1000);
}

TEST(contexts, a_second_machine_can_be_built_and_run_after_the_first_is_destroyed) {
    {
        Pc first;
        run_guest(first, "one\n", 1);
        EXPECT_EQ(first.com1_output, "one\n");
        EXPECT_EQ(first.run.exit_status, 3);
        EXPECT_EQ(first.bus.device_cycle(), 1400u);
    }
    Pc second;
    EXPECT_EQ(second.bus.device_time_ps(), 0u);  // a fresh clock, not the first machine's
    run_guest(second, "two!\n", 2);
    EXPECT_EQ(second.com1_output, "two!\n");
    EXPECT_EQ(second.run.exit_status, 5);
    EXPECT_EQ(second.bus.device_cycle(), 1500u);
}

TEST(contexts, many_machines_in_sequence_each_start_from_a_clean_simulation) {
    for (int i = 0; i < 20; ++i) {
        Pc pc;
        run_guest(pc, std::to_string(i), static_cast<uint64_t>(i));
        ASSERT_EQ(pc.com1_output, std::to_string(i));
        ASSERT_EQ(pc.run.exit_value, static_cast<uint64_t>(i));
    }
}

TEST(contexts, two_live_machines_keep_separate_time_and_devices) {
    Pc a;
    Pc b;
    a.bus.advance_to(5000);
    b.out(bus::kCom1Port, 'b');
    a.out(bus::kCom1Port, 'a');
    b.bus.advance_to(7);
    EXPECT_EQ(a.bus.device_cycle(), 5000u);
    EXPECT_EQ(b.bus.device_cycle(), 7u);
    EXPECT_EQ(a.com1_output, "a");
    EXPECT_EQ(b.com1_output, "b");
}

TEST(contexts, a_machine_can_outlive_one_built_after_it) {
    auto a = std::make_unique<Pc>();
    a->bus.advance_to(10);
    {
        Pc b;
        b.bus.advance_to(20);
    }
    a->out(bus::kCom1Port, 'x');
    a->bus.advance_to(30);
    EXPECT_EQ(a->com1_output, "x");
    EXPECT_EQ(a->bus.device_cycle(), 30u);
}

// SystemC threads run on coroutines of their context's package; two packages alive at once
// must each resume their own threads.
TEST(contexts, device_threads_of_two_live_machines_run_on_their_own_clocks) {
    Pc a;
    Pc b;
    auto& ticker_a = a.bus.add<bus_test::Ticker>("ticker");
    a.bus.map_mmio(0xfed00000, 8, ticker_a.socket, "ticker");
    auto& ticker_b = b.bus.add<bus_test::Ticker>("ticker");  // same name: separate hierarchies
    b.bus.map_mmio(0xfed00000, 8, ticker_b.socket, "ticker");
    for (uint64_t step = 1; step <= 5; ++step) {
        a.bus.advance_to(step * 1000 + 50);
        b.bus.advance_to(step * 300 + 50);
    }
    EXPECT_EQ(ticker_a.ticks, 50u);
    EXPECT_EQ(ticker_b.ticks, 15u);
    EXPECT_EQ(b.bus.mmio_read(0xfed00000, 4, 1750), 17u);
}

// sc_start(SC_ZERO_TIME) in a second context warns "no activity" (SystemC's first-call flag is
// per process); SystemBus elaborates without it, and SystemC's banner is switched off.
TEST(contexts, machines_after_the_first_print_nothing) {
    { Pc first; first.bus.elaborate(); }
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    {
        Pc second;
        second.bus.elaborate();
        second.bus.advance_to(10);
    }
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

// Python's run() releases the GIL, so two machines may run on two threads; their SystemC work
// takes turns (ScContext::Scope holds a process-wide lock).
TEST(contexts, machines_on_two_threads_do_not_disturb_each_other) {
    auto run_machine = [](char letter, unsigned* ticks, std::string* output) {
        Pc pc;
        auto& ticker = pc.bus.add<bus_test::Ticker>("ticker");
        pc.bus.map_mmio(0xfed00000, 8, ticker.socket, "ticker");
        for (uint64_t cycle = 1; cycle <= 2000; ++cycle) {
            pc.bus.port_write(bus::kCom1Port, 1, static_cast<uint8_t>(letter), cycle * 100);
        }
        pc.bus.advance_to(200'050);
        *ticks = ticker.ticks;
        *output = pc.com1_output;
    };
    unsigned ticks_a = 0, ticks_b = 0;
    std::string out_a, out_b;
    std::thread a(run_machine, 'a', &ticks_a, &out_a);
    std::thread b(run_machine, 'b', &ticks_b, &out_b);
    a.join();
    b.join();
    EXPECT_EQ(ticks_a, 2000u);
    EXPECT_EQ(ticks_b, 2000u);
    EXPECT_EQ(out_a, std::string(2000, 'a'));
    EXPECT_EQ(out_b, std::string(2000, 'b'));
}

TEST(contexts, the_global_systemc_context_is_left_as_it_was) {
    sc_core::sc_simcontext* before = sc_core::sc_curr_simcontext;
    {
        Pc pc;
        pc.out(bus::kCom1Port, 'x');
        EXPECT_EQ(sc_core::sc_curr_simcontext, before);
    }
    EXPECT_EQ(sc_core::sc_curr_simcontext, before);
}

}  // namespace
