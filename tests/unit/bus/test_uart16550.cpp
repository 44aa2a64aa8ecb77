// The 16550A's registers as a guest driver sees them through port I/O at 0x3f8.
// Context: tests/unit/bus; the PC16550D data sheet is the reference for expected values.
#include <gtest/gtest.h>

#include <vector>

#include "pc_fixture.h"

namespace {

using bus::Uart16550;
using bus_test::Pc;

TEST(uart16550, bytes_written_to_thr_reach_the_output_sink_in_order) {
    Pc pc;
    for (char c : std::string("hi\n")) pc.com1(Uart16550::rbr_thr, static_cast<uint8_t>(c));
    EXPECT_EQ(pc.com1_output, "hi\n");
    EXPECT_EQ(pc.devices.com1.transmitted(), 3u);
}

TEST(uart16550, lsr_always_shows_the_transmitter_empty) {
    Pc pc;
    EXPECT_EQ(pc.com1(Uart16550::lsr), 0x60);
    pc.com1(Uart16550::rbr_thr, 'x');
    EXPECT_EQ(pc.com1(Uart16550::lsr) & 0x60, 0x60);
}

TEST(uart16550, lsr_data_ready_follows_the_input_queue) {
    Pc pc;
    pc.devices.com1.push_input("ab");
    EXPECT_EQ(pc.com1(Uart16550::lsr), 0x61);
    EXPECT_EQ(pc.com1(Uart16550::rbr_thr), 'a');
    EXPECT_EQ(pc.com1(Uart16550::lsr) & 1, 1);
    EXPECT_EQ(pc.com1(Uart16550::rbr_thr), 'b');
    EXPECT_EQ(pc.com1(Uart16550::lsr), 0x60);
}

TEST(uart16550, dlab_turns_offsets_0_and_1_into_the_divisor_latch) {
    Pc pc;
    pc.com1(Uart16550::ier, 0x05);
    pc.com1(Uart16550::lcr, 0x80 | 0x03);  // DLAB, 8 data bits
    pc.com1(Uart16550::rbr_thr, 0x01);     // DLL: 115200 baud
    pc.com1(Uart16550::ier, 0x00);         // DLM
    EXPECT_EQ(pc.com1(Uart16550::rbr_thr), 0x01);
    EXPECT_EQ(pc.com1(Uart16550::ier), 0x00);
    EXPECT_EQ(pc.devices.com1.divisor(), 1);
    EXPECT_EQ(pc.com1_output, "");  // the DLL write was not a character

    pc.com1(Uart16550::lcr, 0x03);
    EXPECT_EQ(pc.com1(Uart16550::lcr), 0x03);
    EXPECT_EQ(pc.com1(Uart16550::ier), 0x05);  // IER kept its value behind the latch
    pc.com1(Uart16550::rbr_thr, 'k');
    EXPECT_EQ(pc.com1_output, "k");
}

TEST(uart16550, ier_keeps_only_its_four_defined_bits) {
    Pc pc;
    pc.com1(Uart16550::ier, 0xff);
    EXPECT_EQ(pc.com1(Uart16550::ier), 0x0f);
}

TEST(uart16550, the_scratch_register_holds_what_was_written) {
    Pc pc;
    pc.com1(Uart16550::scr, 0xa5);
    EXPECT_EQ(pc.com1(Uart16550::scr), 0xa5);
}

TEST(uart16550, iir_shows_fifos_enabled_after_fcr_enables_them) {
    Pc pc;
    EXPECT_EQ(pc.com1(Uart16550::iir_fcr), 0x01);
    pc.com1(Uart16550::iir_fcr, 0xe7);  // what Linux writes to probe for a 16550A
    EXPECT_EQ(pc.com1(Uart16550::iir_fcr), 0xc1);
    pc.com1(Uart16550::iir_fcr, 0x00);
    EXPECT_EQ(pc.com1(Uart16550::iir_fcr), 0x01);
}

TEST(uart16550, fcr_can_clear_the_receive_fifo) {
    Pc pc;
    pc.devices.com1.push_input("xyz");
    pc.com1(Uart16550::iir_fcr, 0x01 | 0x02);
    EXPECT_EQ(pc.com1(Uart16550::lsr) & 1, 0);
}

TEST(uart16550, loopback_feeds_transmitted_bytes_back_and_mirrors_modem_lines) {
    Pc pc;
    pc.com1(Uart16550::mcr, 0x10 | 0x0a);  // LOOP | OUT2 | RTS: Linux's loopback probe
    EXPECT_EQ(pc.com1(Uart16550::msr) & 0xf0, 0x90);  // CTS | DCD
    pc.com1(Uart16550::rbr_thr, 'q');
    EXPECT_EQ(pc.com1_output, "");
    EXPECT_EQ(pc.com1(Uart16550::rbr_thr), 'q');
}

TEST(uart16550, msr_reports_a_ready_terminal_outside_loopback) {
    Pc pc;
    EXPECT_EQ(pc.com1(Uart16550::msr), 0xb0);
}

TEST(uart16550, msr_delta_bits_are_cleared_by_reading_msr) {
    Pc pc;
    pc.com1(Uart16550::mcr, 0x10);         // loopback, all outputs off: CTS, DSR, DCD drop
    EXPECT_EQ(pc.com1(Uart16550::msr), 0x0b);  // DCTS | DDSR | DDCD
    EXPECT_EQ(pc.com1(Uart16550::msr), 0x00);
}

TEST(uart16550, a_thr_empty_interrupt_is_raised_when_enabled_and_cleared_by_reading_iir) {
    Pc pc;
    std::vector<bool> levels;
    pc.devices.com1.connect_irq([&](bool level) { levels.push_back(level); });
    pc.com1(Uart16550::mcr, 0x08);  // OUT2 gates the interrupt onto the PC's IRQ line
    pc.com1(Uart16550::ier, 0x02);
    EXPECT_TRUE(pc.devices.com1.irq_level());
    EXPECT_EQ(pc.com1(Uart16550::iir_fcr), 0x02);
    EXPECT_FALSE(pc.devices.com1.irq_level());
    EXPECT_EQ(pc.com1(Uart16550::iir_fcr), 0x01);
    pc.com1(Uart16550::rbr_thr, 'z');  // transmitted at once: THR empty again
    EXPECT_TRUE(pc.devices.com1.irq_level());
    EXPECT_EQ(levels, (std::vector<bool>{false, true, false, true}));
}

TEST(uart16550, received_data_outranks_thr_empty_and_needs_out2_to_reach_the_line) {
    Pc pc;
    pc.com1(Uart16550::ier, 0x03);
    pc.devices.com1.push_input("r");
    EXPECT_EQ(pc.com1(Uart16550::iir_fcr), 0x04);
    EXPECT_FALSE(pc.devices.com1.irq_level());  // OUT2 is off
    pc.com1(Uart16550::mcr, 0x08);
    EXPECT_TRUE(pc.devices.com1.irq_level());
    EXPECT_EQ(pc.com1(Uart16550::rbr_thr), 'r');
    EXPECT_EQ(pc.com1(Uart16550::iir_fcr), 0x02);  // the THR-empty interrupt was waiting
}

TEST(uart16550, a_word_access_touches_two_consecutive_registers) {
    Pc pc;
    pc.bus.port_write(bus::kCom1Port + Uart16550::lcr, 2, 0x0b03, 0);  // LCR=0x03, MCR=0x0b
    EXPECT_EQ(pc.com1(Uart16550::lcr), 0x03);
    EXPECT_EQ(pc.com1(Uart16550::mcr), 0x0b);
    EXPECT_EQ(pc.bus.port_read(bus::kCom1Port + Uart16550::lcr, 2, 0), 0x0b03u);
}

}  // namespace
