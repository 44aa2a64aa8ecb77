// The MC146818A RTC and CMOS through ports 0x70/0x71: a clock that is the start time plus
// simulated time, BCD/binary and 12/24-hour formats, SET, UIP, the periodic, alarm and
// update-ended interrupts on IRQ8, the NMI bit, and the BIOS memory-size bytes.
// Context: tests/unit/bus; the MC146818A data sheet is the reference.
#include <gtest/gtest.h>

#include <array>

#include "interrupt_fixture.h"

namespace {

using bus::RtcCmos;
using bus_test::cmos_read;
using bus_test::cmos_write;
using bus_test::kCyclesPerMs;
using bus_test::LineRecorder;
using bus_test::Pc;

constexpr uint64_t kCyclesPerSecond = 1000 * kCyclesPerMs;
constexpr auto kClock = RtcCmos::kClock;

Pc pc_starting_at(const bus::RtcDateTime& start) {
    bus::PcDeviceConfig config;
    config.rtc_start = start;
    return Pc(bus_test::small_config(), config);
}

TEST(rtc_cmos, powers_on_at_the_configured_start_in_24_hour_bcd) {
    Pc pc;  // default start: Monday 2024-01-01 00:00:00
    EXPECT_EQ(cmos_read(pc, RtcCmos::reg_a), 0x26);
    EXPECT_EQ(cmos_read(pc, RtcCmos::reg_b), 0x02);
    EXPECT_EQ(cmos_read(pc, RtcCmos::reg_c), 0x00);
    EXPECT_EQ(cmos_read(pc, RtcCmos::reg_d), 0x80);
    const std::array<uint8_t, 10> expected{0x00, 0, 0x00, 0, 0x00, 0, 0x02, 0x01, 0x01, 0x24};
    for (uint8_t index : {0, 2, 4, 6, 7, 8, 9}) {
        EXPECT_EQ(cmos_read(pc, index), expected[index]) << "register " << int{index};
    }
    EXPECT_EQ(cmos_read(pc, RtcCmos::century), 0x20);
}

TEST(rtc_cmos, the_time_advances_with_simulated_time) {
    Pc pc;
    EXPECT_EQ(cmos_read(pc, RtcCmos::seconds, kCyclesPerSecond - 1), 0x00);
    EXPECT_EQ(cmos_read(pc, RtcCmos::seconds, kCyclesPerSecond), 0x01);
    EXPECT_EQ(cmos_read(pc, RtcCmos::seconds, 61 * kCyclesPerSecond + 5), 0x01);
    EXPECT_EQ(cmos_read(pc, RtcCmos::minutes, 61 * kCyclesPerSecond + 5), 0x01);
    const uint64_t next_day = (24 + 1) * 3600 * kCyclesPerSecond;
    EXPECT_EQ(cmos_read(pc, RtcCmos::hours, next_day), 0x01);
    EXPECT_EQ(cmos_read(pc, RtcCmos::day_of_month, next_day), 0x02);
    EXPECT_EQ(cmos_read(pc, RtcCmos::day_of_week, next_day), 0x03);  // Tuesday
}

TEST(rtc_cmos, register_b_selects_binary_and_12_hour_formats) {
    Pc pc = pc_starting_at({2024, 7, 4, 13, 5, 9});
    EXPECT_EQ(cmos_read(pc, RtcCmos::hours), 0x13);
    EXPECT_EQ(cmos_read(pc, RtcCmos::day_of_week), 0x05);  // Thursday
    cmos_write(pc, RtcCmos::reg_b, 0x00);  // 12-hour BCD
    EXPECT_EQ(cmos_read(pc, RtcCmos::hours), 0x81);  // 1 PM
    cmos_write(pc, RtcCmos::reg_b, 0x04);  // 12-hour binary
    EXPECT_EQ(cmos_read(pc, RtcCmos::hours), 0x81);
    EXPECT_EQ(cmos_read(pc, RtcCmos::seconds), 9);
    cmos_write(pc, RtcCmos::reg_b, 0x06);  // 24-hour binary
    EXPECT_EQ(cmos_read(pc, RtcCmos::hours), 13);
    EXPECT_EQ(cmos_read(pc, RtcCmos::year), 24);
}

TEST(rtc_cmos, twelve_oclock_is_12_am_at_midnight_and_12_pm_at_noon) {
    Pc midnight = pc_starting_at({2024, 1, 1, 0, 0, 0});
    cmos_write(midnight, RtcCmos::reg_b, 0x00);
    EXPECT_EQ(cmos_read(midnight, RtcCmos::hours), 0x12);
    Pc noon = pc_starting_at({2024, 1, 1, 12, 0, 0});
    cmos_write(noon, RtcCmos::reg_b, 0x00);
    EXPECT_EQ(cmos_read(noon, RtcCmos::hours), 0x92);
    cmos_write(noon, RtcCmos::hours, 0x83);  // 3 PM written in 12-hour mode
    EXPECT_EQ(noon.devices.rtc.now().hour, 15u);
}

TEST(rtc_cmos, time_set_under_the_set_bit_runs_from_when_set_is_cleared) {
    Pc pc;
    const uint64_t t0 = 900 * kCyclesPerMs;
    cmos_write(pc, RtcCmos::reg_b, 0x82, t0);  // SET
    cmos_write(pc, RtcCmos::seconds, 0x56, t0);
    cmos_write(pc, RtcCmos::minutes, 0x34, t0);
    cmos_write(pc, RtcCmos::hours, 0x12, t0);
    cmos_write(pc, RtcCmos::day_of_month, 0x15, t0);
    cmos_write(pc, RtcCmos::month, 0x06, t0);
    cmos_write(pc, RtcCmos::year, 0x23, t0);
    EXPECT_EQ(cmos_read(pc, RtcCmos::seconds, 1200 * kCyclesPerMs), 0x56);  // held under SET
    cmos_write(pc, RtcCmos::reg_b, 0x02, 1500 * kCyclesPerMs);
    EXPECT_EQ(cmos_read(pc, RtcCmos::seconds, 1999 * kCyclesPerMs), 0x56);
    EXPECT_EQ(cmos_read(pc, RtcCmos::seconds, 2000 * kCyclesPerMs), 0x57);  // divider's phase
    const bus::RtcDateTime now = pc.devices.rtc.now();
    EXPECT_EQ(now.year, 2023);
    EXPECT_EQ(now.month, 6u);
    EXPECT_EQ(now.day, 15u);
    EXPECT_EQ(now.hour, 12u);
    EXPECT_EQ(now.minute, 34u);
}

TEST(rtc_cmos, setting_the_set_bit_clears_uie) {
    Pc pc;
    cmos_write(pc, RtcCmos::reg_b, 0x12);
    cmos_write(pc, RtcCmos::reg_b, 0x92);
    EXPECT_EQ(cmos_read(pc, RtcCmos::reg_b), 0x82);
}

// UIP is 1 from 244 us before the update cycle to its end, 1984 us later (32.768 kHz).
TEST(rtc_cmos, uip_is_set_for_2228_us_before_each_update) {
    Pc pc;
    EXPECT_EQ(cmos_read(pc, RtcCmos::reg_a, kCyclesPerSecond - 2'240'000), 0x26);
    EXPECT_EQ(cmos_read(pc, RtcCmos::reg_a, kCyclesPerSecond - 2'000'000), 0xa6);
    EXPECT_EQ(cmos_read(pc, RtcCmos::seconds, kCyclesPerSecond - 1000), 0x00);
    EXPECT_EQ(cmos_read(pc, RtcCmos::reg_a, kCyclesPerSecond), 0x26);
    EXPECT_EQ(cmos_read(pc, RtcCmos::seconds, kCyclesPerSecond), 0x01);
}

// Runs the PC for `cycles`, reading register C (as an interrupt handler does) whenever IRQ8
// is up; `step` must be shorter than the interrupt period.
void serve_irq8(Pc& pc, uint64_t cycles, uint64_t step) {
    for (uint64_t cycle = step; cycle <= cycles; cycle += step) {
        pc.bus.advance_to(cycle);
        if (pc.devices.rtc.irq_level()) cmos_read(pc, RtcCmos::reg_c, cycle);
    }
    pc.bus.advance_to(cycles);  // edges due exactly at the last step run now
}

TEST(rtc_cmos, the_periodic_interrupt_comes_at_the_rate_of_register_a) {
    Pc pc;
    LineRecorder irq8;
    pc.devices.rtc.connect_irq(irq8.line(pc.bus));
    cmos_write(pc, RtcCmos::reg_b, 0x42);  // PIE; A = 0x26: 1024 Hz
    serve_irq8(pc, 50 * kCyclesPerMs, 100'000);
    const auto edges = irq8.rising_edges();
    ASSERT_EQ(edges.size(), 51u);  // 50 ms / 976.5625 us
    for (uint64_t m = 1; m <= edges.size(); ++m) {
        EXPECT_EQ(edges[m - 1], kClock.time_of(32 * m)) << "interrupt " << m;
    }
}

TEST(rtc_cmos, rate_select_follows_table_5_of_the_data_sheet) {
    struct Case {
        uint8_t rs;
        uint64_t period_ticks;  // of 32.768 kHz
    };
    for (const Case c : {Case{3, 4}, Case{1, 128}, Case{15, 16384}}) {
        Pc pc;
        LineRecorder irq8;
        pc.devices.rtc.connect_irq(irq8.line(pc.bus));
        cmos_write(pc, RtcCmos::reg_a, static_cast<uint8_t>(0x20 | c.rs));
        cmos_write(pc, RtcCmos::reg_b, 0x42);
        const uint64_t period_cycles = kClock.time_of(c.period_ticks) / 1000;
        serve_irq8(pc, 4 * period_cycles + 10, period_cycles / 3);
        const auto edges = irq8.rising_edges();
        ASSERT_EQ(edges.size(), 4u) << "RS " << int{c.rs};
        EXPECT_EQ(edges[3], kClock.time_of(4 * c.period_ticks));
    }
}

TEST(rtc_cmos, reading_register_c_clears_the_flags_and_lowers_irq8) {
    Pc pc;
    cmos_write(pc, RtcCmos::reg_b, 0x42);
    pc.bus.advance_to(kCyclesPerMs);
    EXPECT_TRUE(pc.devices.rtc.irq_level());
    EXPECT_EQ(cmos_read(pc, RtcCmos::reg_c, kCyclesPerMs), 0xc0);  // IRQF | PF
    EXPECT_FALSE(pc.devices.rtc.irq_level());
    EXPECT_EQ(cmos_read(pc, RtcCmos::reg_c, kCyclesPerMs), 0x00);
}

TEST(rtc_cmos, flags_are_set_without_their_enables_but_raise_nothing) {
    Pc pc;
    LineRecorder irq8;
    pc.devices.rtc.connect_irq(irq8.line(pc.bus));
    pc.bus.advance_to(1100 * kCyclesPerMs);
    EXPECT_EQ(cmos_read(pc, RtcCmos::reg_c, 1100 * kCyclesPerMs), 0x50);  // PF | UF
    EXPECT_TRUE(irq8.rising_edges().empty());
}

TEST(rtc_cmos, the_update_ended_interrupt_comes_once_a_second) {
    Pc pc;
    LineRecorder irq8;
    pc.devices.rtc.connect_irq(irq8.line(pc.bus));
    cmos_write(pc, RtcCmos::reg_b, 0x12);  // UIE
    serve_irq8(pc, 3 * kCyclesPerSecond + 10, 100 * kCyclesPerMs);
    EXPECT_EQ(irq8.rising_edges(),
              (std::vector<uint64_t>{1'000'000'000'000, 2'000'000'000'000, 3'000'000'000'000}));
}

TEST(rtc_cmos, the_alarm_interrupt_comes_when_the_time_matches) {
    Pc pc;
    LineRecorder irq8;
    pc.devices.rtc.connect_irq(irq8.line(pc.bus));
    cmos_write(pc, RtcCmos::seconds_alarm, 0x05);
    cmos_write(pc, RtcCmos::minutes_alarm, 0x00);
    cmos_write(pc, RtcCmos::hours_alarm, 0x00);
    cmos_write(pc, RtcCmos::reg_b, 0x22);  // AIE
    pc.bus.advance_to(5500 * kCyclesPerMs);
    EXPECT_EQ(irq8.rising_edges(), (std::vector<uint64_t>{5'000'000'000'000}));
    EXPECT_EQ(cmos_read(pc, RtcCmos::reg_c, 5500 * kCyclesPerMs) & 0xb0, 0xb0);  // IRQF|AF|UF
}

TEST(rtc_cmos, dont_care_alarm_bytes_match_every_second) {
    Pc pc;
    LineRecorder irq8;
    pc.devices.rtc.connect_irq(irq8.line(pc.bus));
    for (uint8_t index : {RtcCmos::seconds_alarm, RtcCmos::minutes_alarm, RtcCmos::hours_alarm}) {
        cmos_write(pc, index, 0xc0);
    }
    cmos_write(pc, RtcCmos::reg_b, 0x22);
    serve_irq8(pc, 3 * kCyclesPerSecond + 10, 100 * kCyclesPerMs);
    EXPECT_EQ(irq8.rising_edges().size(), 3u);
}

TEST(rtc_cmos, leaving_divider_reset_puts_the_first_update_500_ms_later) {
    Pc pc;
    cmos_write(pc, RtcCmos::reg_a, 0x76, 300 * kCyclesPerMs);  // DV = 111: divider reset
    EXPECT_EQ(cmos_read(pc, RtcCmos::seconds, 1900 * kCyclesPerMs), 0x00);
    cmos_write(pc, RtcCmos::reg_a, 0x26, 2000 * kCyclesPerMs);
    EXPECT_EQ(cmos_read(pc, RtcCmos::seconds, 2499 * kCyclesPerMs), 0x00);
    EXPECT_EQ(cmos_read(pc, RtcCmos::seconds, 2500 * kCyclesPerMs), 0x01);
    EXPECT_EQ(cmos_read(pc, RtcCmos::seconds, 3500 * kCyclesPerMs), 0x02);
}

TEST(rtc_cmos, port_0x70_bit_7_is_the_nmi_mask_and_the_rest_the_index) {
    Pc pc;
    pc.out(0x70, 0x8d);
    EXPECT_TRUE(pc.devices.rtc.nmi_disabled());
    EXPECT_EQ(pc.devices.rtc.index(), 0x0d);
    EXPECT_EQ(pc.in(0x71), 0x80);  // register D: valid RAM and time
    pc.out(0x70, 0x0d);
    EXPECT_FALSE(pc.devices.rtc.nmi_disabled());
}

TEST(rtc_cmos, cmos_ram_keeps_bytes_and_registers_c_and_d_ignore_writes) {
    Pc pc;
    cmos_write(pc, 0x40, 0x5a);
    cmos_write(pc, 0x7f, 0xa5);
    cmos_write(pc, RtcCmos::reg_d, 0x00);
    EXPECT_EQ(cmos_read(pc, 0x40), 0x5a);
    EXPECT_EQ(cmos_read(pc, 0x7f), 0xa5);
    EXPECT_EQ(cmos_read(pc, RtcCmos::reg_d), 0x80);
    EXPECT_EQ(pc.bus.port_read(0x70, 2, 0) >> 8, 0x80u);  // a word IN reads index, then data
}

TEST(rtc_cmos, memory_size_bytes_describe_the_machines_ram_as_bioses_do) {
    bus::SystemBusConfig config = bus_test::small_config();
    config.ram_size = uint64_t{64} << 20;
    Pc pc(config);
    EXPECT_EQ(cmos_read(pc, 0x15), 0x80);  // 640 KiB base memory
    EXPECT_EQ(cmos_read(pc, 0x16), 0x02);
    EXPECT_EQ(cmos_read(pc, 0x17), 0x00);  // 63 MiB above 1 MiB: 64512 KiB
    EXPECT_EQ(cmos_read(pc, 0x18), 0xfc);
    EXPECT_EQ(cmos_read(pc, 0x30), 0x00);
    EXPECT_EQ(cmos_read(pc, 0x31), 0xfc);
    EXPECT_EQ(cmos_read(pc, 0x34), 0x00);  // 48 MiB above 16 MiB: 768 x 64 KiB
    EXPECT_EQ(cmos_read(pc, 0x35), 0x03);
    EXPECT_EQ(cmos_read(pc, 0x2e), 0x01);  // checksum of 0x10-0x2d: 0x80+0x02+0xfc
    EXPECT_EQ(cmos_read(pc, 0x2f), 0x7e);
}

TEST(rtc_cmos, memory_size_fields_saturate_for_large_memories) {
    std::array<uint8_t, RtcCmos::kBytes> cmos{};
    RtcCmos::fill_memory_size(cmos, uint64_t{8} << 30);
    EXPECT_EQ(cmos[0x17] | cmos[0x18] << 8, 0xffff);
    EXPECT_EQ(cmos[0x34] | cmos[0x35] << 8, 0xff00);  // 4 GiB - 16 MiB in 64 KiB units
}

}  // namespace
