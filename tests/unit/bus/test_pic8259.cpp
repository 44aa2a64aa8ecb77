// The 8259A pair as firmware and kernels program it: initialisation words, masks, priorities,
// EOIs, the cascade through master IR2, edge and level inputs, auto-EOI, poll, special mask
// and special fully nested modes, spurious IRQ7. Context: tests/unit/bus; the Intel 8259A
// data sheet is the reference for expected values.
#include <gtest/gtest.h>

#include <vector>

#include "interrupt_fixture.h"
#include "sim/kernel/stats.h"

namespace {

using bus_test::init_pics;
using bus_test::Pc;

// Pulses an edge-triggered line: the request stays latched while the line is high.
void raise(Pc& pc, unsigned irq) { pc.devices.pic.set_irq(irq, true); }
void lower(Pc& pc, unsigned irq) { pc.devices.pic.set_irq(irq, false); }
void eoi_master(Pc& pc) { pc.out(0x20, 0x20); }
void eoi_slave(Pc& pc) { pc.out(0xa0, 0x20); }

TEST(pic8259, an_initialised_pair_delivers_the_vector_of_a_raised_irq) {
    Pc pc;
    init_pics(pc);
    auto& pic = pc.devices.pic;
    EXPECT_FALSE(pic.intr());
    raise(pc, 1);
    EXPECT_TRUE(pic.intr());
    EXPECT_EQ(pic.acknowledge(), 0x21);
    EXPECT_FALSE(pic.intr());
    EXPECT_EQ(pic.isr(), 0x0002);
    EXPECT_EQ(pic.irr(), 0x0000);
}

TEST(pic8259, an_uninitialised_pair_masks_every_input) {
    Pc pc;
    EXPECT_EQ(pc.devices.pic.imr(), 0xffff);
    raise(pc, 1);
    EXPECT_FALSE(pc.devices.pic.intr());
    EXPECT_EQ(pc.devices.pic.irr(), 0x0002);
}

TEST(pic8259, intr_changes_reach_the_connected_line) {
    Pc pc;
    init_pics(pc);
    std::vector<bool> levels;
    pc.devices.pic.connect_intr([&levels](bool level) { levels.push_back(level); });
    raise(pc, 4);
    pc.devices.pic.acknowledge();
    EXPECT_EQ(levels, (std::vector<bool>{false, true, false}));
}

TEST(pic8259, icw1_clears_the_mask_and_the_init_words_set_the_vector_bases) {
    Pc pc;
    init_pics(pc, 0x08, 0x70);  // the BIOS layout
    pc.out(0x21, 0xff);
    EXPECT_EQ(pc.in(0x21), 0xff);
    raise(pc, 10);
    EXPECT_FALSE(pc.devices.pic.intr());  // master IR2 masked
    pc.out(0x20, 0x11);                   // ICW1 again
    EXPECT_EQ(pc.in(0x21), 0x00);
    pc.out(0x21, 0x50);
    pc.out(0x21, 0x04);
    pc.out(0x21, 0x01);
    // ICW1 reset the edge sense: the slave's INT, still high, must rise again.
    EXPECT_FALSE(pc.devices.pic.intr());
    lower(pc, 10);
    raise(pc, 10);
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x72);
}

TEST(pic8259, irq2_is_the_cascade_and_cannot_be_raised_from_outside) {
    Pc pc;
    init_pics(pc);
    raise(pc, 2);
    EXPECT_FALSE(pc.devices.pic.intr());
    EXPECT_EQ(pc.devices.pic.irr(), 0x0000);
}

TEST(pic8259, a_masked_request_waits_in_irr_until_unmasked) {
    Pc pc;
    init_pics(pc);
    pc.out(0x21, 0x08);
    raise(pc, 3);
    EXPECT_FALSE(pc.devices.pic.intr());
    pc.out(0x20, 0x0a);  // OCW3: read IRR
    EXPECT_EQ(pc.in(0x20), 0x08);
    pc.out(0x21, 0x00);
    EXPECT_TRUE(pc.devices.pic.intr());
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x23);
}

TEST(pic8259, lower_irqs_wait_for_the_eoi_of_a_higher_one_in_service) {
    Pc pc;
    init_pics(pc);
    raise(pc, 3);
    raise(pc, 1);
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x21);
    EXPECT_FALSE(pc.devices.pic.intr());
    eoi_master(pc);
    EXPECT_TRUE(pc.devices.pic.intr());
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x23);
}

TEST(pic8259, a_higher_irq_nests_inside_a_lower_one_and_eoi_clears_the_highest_first) {
    Pc pc;
    init_pics(pc);
    raise(pc, 3);
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x23);
    raise(pc, 1);
    EXPECT_TRUE(pc.devices.pic.intr());
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x21);
    EXPECT_EQ(pc.devices.pic.isr(), 0x000a);
    eoi_master(pc);  // non-specific
    EXPECT_EQ(pc.devices.pic.isr(), 0x0008);
    pc.out(0x20, 0x0b);  // OCW3: read ISR
    EXPECT_EQ(pc.in(0x20), 0x08);
}

TEST(pic8259, a_specific_eoi_clears_the_named_level) {
    Pc pc;
    init_pics(pc);
    raise(pc, 3);
    pc.devices.pic.acknowledge();
    raise(pc, 1);
    pc.devices.pic.acknowledge();
    pc.out(0x20, 0x63);  // specific EOI, level 3
    EXPECT_EQ(pc.devices.pic.isr(), 0x0002);
}

TEST(pic8259, rotate_on_eoi_makes_the_serviced_level_the_lowest) {
    Pc pc;
    init_pics(pc);
    raise(pc, 0);
    raise(pc, 5);
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x20);
    pc.out(0x20, 0xa0);  // rotate on non-specific EOI: IR0 now lowest
    EXPECT_EQ(pc.devices.pic.master().lowest_priority(), 0u);
    lower(pc, 0);
    raise(pc, 0);
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x25);
}

TEST(pic8259, set_priority_chooses_the_lowest_level) {
    Pc pc;
    init_pics(pc);
    pc.out(0x20, 0xc4);  // IR4 lowest: IR5 highest
    raise(pc, 3);
    raise(pc, 6);
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x26);
}

TEST(pic8259, a_slave_irq_cascades_through_master_ir2) {
    Pc pc;
    init_pics(pc);
    raise(pc, 9);
    EXPECT_TRUE(pc.devices.pic.intr());
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x29);
    EXPECT_EQ(pc.devices.pic.isr(), 0x0204);  // slave IR1 and master IR2 in service
    eoi_slave(pc);
    eoi_master(pc);
    EXPECT_EQ(pc.devices.pic.isr(), 0x0000);
}

TEST(pic8259, masking_master_ir2_masks_every_slave_irq) {
    Pc pc;
    init_pics(pc);
    pc.out(0x21, 0x04);
    raise(pc, 14);
    EXPECT_FALSE(pc.devices.pic.intr());
    pc.out(0x21, 0x00);
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x2e);
}

TEST(pic8259, a_slave_irq_outranks_master_irqs_below_ir2) {
    Pc pc;
    init_pics(pc);
    raise(pc, 5);
    raise(pc, 8);
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x28);
}

TEST(pic8259, a_level_triggered_irq_comes_back_after_eoi_while_the_line_is_high) {
    Pc pc;
    init_pics(pc);
    pc.out(0x4d0, 0x20);  // ELCR: IRQ5 level-triggered
    raise(pc, 5);
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x25);
    eoi_master(pc);
    EXPECT_TRUE(pc.devices.pic.intr());
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x25);
    lower(pc, 5);
    eoi_master(pc);
    EXPECT_FALSE(pc.devices.pic.intr());
}

TEST(pic8259, an_edge_triggered_irq_needs_a_new_rising_edge) {
    Pc pc;
    init_pics(pc);
    raise(pc, 6);
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x26);
    eoi_master(pc);
    EXPECT_FALSE(pc.devices.pic.intr());
    lower(pc, 6);
    raise(pc, 6);
    EXPECT_TRUE(pc.devices.pic.intr());
}

TEST(pic8259, icw1_ltim_makes_every_input_level_triggered) {
    Pc pc;
    init_pics(pc);
    pc.out(0x20, 0x19);  // ICW1 with LTIM
    pc.out(0x21, 0x20);
    pc.out(0x21, 0x04);
    pc.out(0x21, 0x01);
    raise(pc, 7);
    pc.devices.pic.acknowledge();
    eoi_master(pc);
    EXPECT_TRUE(pc.devices.pic.intr());
}

TEST(pic8259, elcr_keeps_irq_0_1_2_8_and_13_edge_triggered) {
    Pc pc;
    pc.out(0x4d0, 0xff);
    pc.out(0x4d1, 0xff);
    EXPECT_EQ(pc.in(0x4d0), 0xf8);
    EXPECT_EQ(pc.in(0x4d1), 0xde);
    EXPECT_EQ(pc.bus.port_read(0x4d0, 2, 0), 0xdef8u);
}

TEST(pic8259, auto_eoi_leaves_nothing_in_service) {
    Pc pc;
    init_pics(pc, 0x20, 0x28, 0x02);
    raise(pc, 3);
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x23);
    EXPECT_EQ(pc.devices.pic.isr(), 0x0000);
    raise(pc, 4);
    EXPECT_TRUE(pc.devices.pic.intr());
}

TEST(pic8259, a_request_gone_before_the_acknowledge_gives_a_spurious_irq7_not_in_service) {
    Pc pc;
    init_pics(pc);
    raise(pc, 5);
    EXPECT_TRUE(pc.devices.pic.intr());
    lower(pc, 5);  // too short: the edge request is lost
    EXPECT_FALSE(pc.devices.pic.intr());
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x27);
    EXPECT_EQ(pc.devices.pic.isr(), 0x0000);  // so the handler must not send an EOI
    sim::FlatStats stats;
    pc.bus.report(stats);
    EXPECT_EQ(stats.values.at("pic.spurious.7"), 1);
}

TEST(pic8259, the_poll_command_reads_and_acknowledges_the_highest_request) {
    Pc pc;
    init_pics(pc);
    raise(pc, 3);
    pc.out(0x20, 0x0c);  // OCW3: poll
    EXPECT_EQ(pc.in(0x20), 0x83);
    EXPECT_EQ(pc.devices.pic.isr(), 0x0008);
    pc.out(0x20, 0x0c);
    EXPECT_EQ(pc.in(0x20), 0x00);  // nothing requesting
}

TEST(pic8259, special_mask_mode_lets_lower_levels_in_while_the_current_one_is_masked) {
    Pc pc;
    init_pics(pc);
    raise(pc, 3);
    pc.devices.pic.acknowledge();
    raise(pc, 5);
    EXPECT_FALSE(pc.devices.pic.intr());
    pc.out(0x21, 0x08);  // the handler masks its own level ...
    pc.out(0x20, 0x68);  // ... and sets special mask mode
    EXPECT_TRUE(pc.devices.pic.master().special_mask());
    EXPECT_EQ(pc.devices.pic.acknowledge(), 0x25);
    eoi_master(pc);  // non-specific: clears IR5, not the masked IR3
    EXPECT_EQ(pc.devices.pic.isr(), 0x0008);
    pc.out(0x20, 0x48);  // reset special mask
    EXPECT_FALSE(pc.devices.pic.master().special_mask());
}

TEST(pic8259, special_fully_nested_mode_lets_a_higher_slave_irq_interrupt_a_lower_one) {
    for (const bool sfnm : {false, true}) {
        Pc pc;
        init_pics(pc, 0x20, 0x28, sfnm ? 0x10 : 0x00);
        raise(pc, 12);
        EXPECT_EQ(pc.devices.pic.acknowledge(), 0x2c);
        raise(pc, 9);
        EXPECT_EQ(pc.devices.pic.intr(), sfnm);
        if (sfnm) {
            EXPECT_EQ(pc.devices.pic.acknowledge(), 0x29);
        }
    }
}

TEST(pic8259, counts_raised_and_acknowledged_irqs_and_eois) {
    Pc pc;
    init_pics(pc);
    raise(pc, 1);
    pc.devices.pic.acknowledge();
    eoi_master(pc);
    raise(pc, 9);
    pc.devices.pic.acknowledge();
    sim::FlatStats stats;
    pc.bus.report(stats);
    EXPECT_EQ(stats.values.at("pic.raised.1"), 1);
    EXPECT_EQ(stats.values.at("pic.acknowledged.1"), 1);
    EXPECT_EQ(stats.values.at("pic.acknowledged.9"), 1);
    EXPECT_EQ(stats.values.at("pic.eois"), 1);
    EXPECT_EQ(stats.values.at("pic.initialisations"), 2);
}

}  // namespace
