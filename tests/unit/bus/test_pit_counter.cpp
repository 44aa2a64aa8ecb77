// One 8254 counter on its own, pulse by pulse: the sequences of the data sheet's mode
// descriptions (Intel 8254, 231164). Context: tests/unit/bus; `now` is the pulse number.
#include <gtest/gtest.h>

#include <vector>

#include "bus/pit_counter.h"

namespace {

using bus::PitCounter;

// Control word for counter 0: LSB then MSB, `mode`, binary (or BCD).
uint8_t control(unsigned mode, bool bcd = false) {
    return static_cast<uint8_t>(0x30 | mode << 1 | (bcd ? 1 : 0));
}

void write_count(PitCounter& c, uint16_t count, uint64_t now) {
    c.write(static_cast<uint8_t>(count), now);
    c.write(static_cast<uint8_t>(count >> 8), now);
}

std::vector<uint32_t> ce_from(PitCounter& c, uint64_t first, uint64_t count) {
    std::vector<uint32_t> values;
    for (uint64_t t = first; t < first + count; ++t) values.push_back(c.counting_element(t));
    return values;
}

std::vector<bool> out_from(PitCounter& c, uint64_t first, uint64_t count) {
    std::vector<bool> levels;
    for (uint64_t t = first; t < first + count; ++t) levels.push_back(c.out(t));
    return levels;
}

TEST(pit_counter, mode_0_goes_high_n_plus_1_pulses_after_the_count_is_written_and_stays_high) {
    PitCounter c;
    c.write_control(control(0), 0);
    EXPECT_FALSE(c.out(0));
    write_count(c, 3, 0);
    EXPECT_EQ(out_from(c, 0, 7), (std::vector<bool>{false, false, false, false, true, true, true}));
    EXPECT_EQ(ce_from(c, 1, 5), (std::vector<uint32_t>{3, 2, 1, 0, 0xffff}));
}

TEST(pit_counter, mode_0_pauses_while_gate_is_low) {
    PitCounter c;
    c.write_control(control(0), 0);
    write_count(c, 4, 0);  // loaded at pulse 1
    c.set_gate(false, 2);   // counted one pulse: CE = 3
    EXPECT_EQ(c.counting_element(10), 3u);
    c.set_gate(true, 10);
    EXPECT_EQ(c.counting_element(11), 2u);
    EXPECT_FALSE(c.out(12));
    EXPECT_TRUE(c.out(13));
}

TEST(pit_counter, mode_0_stops_counting_when_the_first_byte_of_a_new_count_is_written) {
    PitCounter c;
    c.write_control(control(0), 0);
    write_count(c, 10, 0);
    c.write(5, 3);  // LSB of a new count at pulse 3 (CE was 8)
    EXPECT_EQ(c.counting_element(50), 8u);
    EXPECT_FALSE(c.out(50));
    c.write(0, 50);
    EXPECT_EQ(c.counting_element(51), 5u);
    EXPECT_TRUE(c.out(56));
}

TEST(pit_counter, mode_1_is_a_one_shot_triggered_by_a_rising_gate) {
    PitCounter c(false);
    c.write_control(control(1), 0);
    write_count(c, 3, 0);
    EXPECT_TRUE(c.out(5));  // armed, not triggered
    c.set_gate(true, 10);
    EXPECT_EQ(out_from(c, 10, 6), (std::vector<bool>{true, false, false, false, true, true}));
    c.set_gate(false, 20);
    c.set_gate(true, 21);  // retrigger
    EXPECT_FALSE(c.out(22));
    EXPECT_TRUE(c.out(25));
}

TEST(pit_counter, mode_2_is_low_for_one_pulse_every_n_pulses) {
    PitCounter c;
    c.write_control(control(2), 0);
    write_count(c, 3, 0);
    EXPECT_EQ(ce_from(c, 1, 6), (std::vector<uint32_t>{3, 2, 1, 3, 2, 1}));
    EXPECT_EQ(out_from(c, 0, 8),
              (std::vector<bool>{true, true, true, false, true, true, false, true}));
}

TEST(pit_counter, mode_2_takes_a_new_count_at_the_end_of_the_current_period) {
    PitCounter c;
    c.write_control(control(2), 0);
    write_count(c, 10, 0);   // periods start at pulses 1, 11, 21 ...
    write_count(c, 4, 5);    // mid-period
    EXPECT_EQ(c.counting_element(10), 1u);
    EXPECT_EQ(c.counting_element(11), 4u);
    EXPECT_FALSE(c.out(14));
    EXPECT_EQ(c.counting_element(15), 4u);
}

TEST(pit_counter, mode_2_with_gate_low_holds_out_high_and_a_rising_gate_reloads) {
    PitCounter c;
    c.write_control(control(2), 0);
    write_count(c, 5, 0);
    c.set_gate(false, 3);  // CE was 5, 4, 3 at pulses 1, 2, 3
    EXPECT_TRUE(c.out(4));
    EXPECT_EQ(c.counting_element(40), 3u);
    c.set_gate(true, 40);
    EXPECT_EQ(c.counting_element(41), 5u);
    EXPECT_FALSE(c.out(45));
}

TEST(pit_counter, mode_3_with_an_even_count_is_a_square_wave_counting_down_by_two) {
    PitCounter c;
    c.write_control(control(3), 0);
    write_count(c, 4, 0);
    EXPECT_EQ(ce_from(c, 1, 6), (std::vector<uint32_t>{4, 2, 4, 2, 4, 2}));
    EXPECT_EQ(out_from(c, 1, 8),
              (std::vector<bool>{true, true, false, false, true, true, false, false}));
}

// "OUT will be high for (N + 1)/2 counts and low for (N - 1)/2 counts"; the initial count
// minus one is loaded and decremented by two.
TEST(pit_counter, mode_3_with_an_odd_count_is_high_one_pulse_longer_than_low) {
    PitCounter c;
    c.write_control(control(3), 0);
    write_count(c, 5, 0);
    EXPECT_EQ(ce_from(c, 1, 10), (std::vector<uint32_t>{4, 2, 0, 4, 2, 4, 2, 0, 4, 2}));
    EXPECT_EQ(out_from(c, 1, 10), (std::vector<bool>{true, true, true, false, false, true, true,
                                                     true, false, false}));
}

TEST(pit_counter, mode_3_takes_a_new_count_at_the_end_of_the_half_cycle) {
    PitCounter c;
    c.write_control(control(3), 0);
    write_count(c, 10, 0);  // high for pulses 1-5, low from 6
    write_count(c, 4, 2);
    EXPECT_TRUE(c.out(5));
    EXPECT_FALSE(c.out(6));  // the new count starts with its low half: pulses 6, 7
    EXPECT_FALSE(c.out(7));
    EXPECT_TRUE(c.out(8));
    EXPECT_FALSE(c.out(10));
}

TEST(pit_counter, mode_4_strobes_low_once_n_plus_1_pulses_after_the_write) {
    PitCounter c;
    c.write_control(control(4), 0);
    write_count(c, 2, 0);
    EXPECT_EQ(out_from(c, 0, 6), (std::vector<bool>{true, true, true, false, true, true}));
    EXPECT_EQ(c.next_change(10), std::nullopt);
}

TEST(pit_counter, mode_5_strobes_after_a_gate_trigger) {
    PitCounter c(false);
    c.write_control(control(5), 0);
    write_count(c, 2, 0);
    EXPECT_EQ(c.next_change(5), std::nullopt);
    c.set_gate(true, 5);
    EXPECT_EQ(out_from(c, 5, 5), (std::vector<bool>{true, true, true, false, true}));
}

TEST(pit_counter, bcd_counters_count_in_decimal_and_read_back_in_bcd) {
    PitCounter c;
    c.write_control(control(0, true), 0);
    write_count(c, 0x0010, 0);
    EXPECT_EQ(c.counting_element(1), 10u);
    EXPECT_EQ(c.counting_element(2), 9u);
    c.latch_count(2);
    EXPECT_EQ(c.read(3), 0x09);
    EXPECT_EQ(c.read(3), 0x00);
    c.latch_count(12);  // wrapped from 0 to 9999
    EXPECT_EQ(c.read(12), 0x99);
    EXPECT_EQ(c.read(12), 0x99);
}

TEST(pit_counter, a_count_of_zero_is_the_largest_count) {
    PitCounter c;
    c.write_control(control(2), 0);
    write_count(c, 0, 0);
    EXPECT_EQ(c.initial_count(), 65536u);
    EXPECT_EQ(c.counting_element(1), 0u);
    EXPECT_EQ(c.counting_element(2), 0xffffu);
}

TEST(pit_counter, a_latched_count_holds_until_read_and_a_second_latch_is_ignored) {
    PitCounter c;
    c.write_control(control(2), 0);
    write_count(c, 1000, 0);
    c.latch_count(100);  // CE = 1000 - 99 = 901
    c.latch_count(200);
    EXPECT_EQ(c.read(300), 901 & 0xff);
    EXPECT_EQ(c.read(400), 901 >> 8);
    EXPECT_EQ(c.read(500), 501 & 0xff);  // live again: 1000 - 499
}

TEST(pit_counter, read_back_status_shows_out_null_count_and_the_control_word) {
    PitCounter c;
    c.write_control(control(2), 0);
    c.latch_status(0);
    EXPECT_EQ(c.read(0), 0x80 | 0x40 | 0x34);  // OUT high, no count loaded yet
    write_count(c, 100, 5);
    c.latch_status(5);  // count written, not yet in CE
    c.latch_count(5);
    EXPECT_EQ(c.read(5), 0x80 | 0x40 | 0x34);
    c.latch_status(6);                  // the count latched at pulse 5 is still unread
    EXPECT_EQ(c.read(6), 0x80 | 0x34);  // a latched status comes first; CE is loaded now
    EXPECT_EQ(c.read(6), 0);            // then the count latched at pulse 5 (CE not loaded)
    EXPECT_EQ(c.read(6), 0);
}

TEST(pit_counter, unlatched_reads_follow_the_counter_between_bytes) {
    PitCounter c;
    c.write_control(control(0), 0);
    write_count(c, 0x0102, 0);   // CE = 0x0102 at pulse 1, 0x0101 at pulse 2 ...
    EXPECT_EQ(c.read(1), 0x02);  // LSB at pulse 1
    EXPECT_EQ(c.read(4), 0x00);  // MSB at pulse 4: CE = 0x00ff
}

TEST(pit_counter, next_change_names_the_pulses_where_out_moves) {
    PitCounter c;
    c.write_control(control(2), 0);
    write_count(c, 10, 0);
    EXPECT_EQ(c.next_change(0), 1u);   // the load
    EXPECT_EQ(c.next_change(1), 10u);  // OUT low at count 1
    EXPECT_EQ(c.next_change(10), 11u);
    EXPECT_EQ(c.next_change(11), 20u);
}

}  // namespace
