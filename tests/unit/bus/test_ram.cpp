// RAM through the bus: DMI pages, b_transport, and where RAM is not.
// Context: tests/unit/bus; SystemBus with 1 MiB of RAM.
#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>

#include "pc_fixture.h"

namespace {

using bus_test::small_config;

TEST(ram, starts_as_zeroes) {
    bus::SystemBus bus(small_config());
    const uint8_t* page = bus.ram_page(0x5000);
    ASSERT_NE(page, nullptr);
    for (unsigned i = 0; i < sim::kPageSize; ++i) ASSERT_EQ(page[i], 0) << i;
}

TEST(ram, page_pointers_come_from_one_dmi_region_over_the_whole_ram) {
    bus::SystemBus bus(small_config());
    uint8_t* base = bus.ram().data();
    EXPECT_EQ(bus.ram_page(0), base);
    EXPECT_EQ(bus.ram_page(0x1234), base + 0x1000);
    EXPECT_EQ(bus.ram_page(0xfffff), base + 0xff000);
}

TEST(ram, pages_outside_ram_have_no_pointer) {
    bus::SystemBus bus(small_config());
    EXPECT_EQ(bus.ram_page(0x100000), nullptr);
    EXPECT_EQ(bus.ram_page(0xfee00000), nullptr);
}

TEST(ram, writes_through_the_page_pointer_are_read_back_by_b_transport) {
    bus::SystemBus bus(small_config());
    const uint64_t value = 0x1122334455667788;
    std::memcpy(bus.ram_page(0x2000) + 0x10, &value, sizeof value);
    EXPECT_EQ(bus.mmio_read(0x2010, 8, 0), value);
    EXPECT_EQ(bus.mmio_read(0x2010, 1, 0), 0x88u);
    EXPECT_EQ(bus.mmio_read(0x2012, 2, 0), 0x5566u);
}

TEST(ram, writes_through_b_transport_are_seen_through_the_page_pointer) {
    bus::SystemBus bus(small_config());
    bus.mmio_write(0x3ffc, 4, 0xdeadbeef, 0);
    uint32_t seen = 0;
    std::memcpy(&seen, bus.ram_page(0x3000) + 0xffc, sizeof seen);
    EXPECT_EQ(seen, 0xdeadbeefu);
}

TEST(ram, can_start_above_address_zero) {
    bus::SystemBusConfig config = small_config();
    config.ram_base = 0x100000;
    bus::SystemBus bus(config);
    EXPECT_EQ(bus.ram_page(0x0), nullptr);
    EXPECT_EQ(bus.ram_page(0x100000), bus.ram().data());
    EXPECT_EQ(bus.ram_page(0x1ff000), bus.ram().data() + 0xff000);
    EXPECT_EQ(bus.ram_page(0x200000), nullptr);
    bus.mmio_write(0x100008, 1, 0x5a, 0);
    EXPECT_EQ(bus.ram().data()[8], 0x5a);
}

TEST(ram, an_access_running_off_the_end_of_ram_is_unmapped) {
    bus::SystemBus bus(small_config());
    EXPECT_EQ(bus.mmio_read(0xffffc, 8, 0), ~uint64_t{0});
    EXPECT_EQ(bus.counters().unmapped_reads, 1u);
}

TEST(ram, sizes_that_are_not_whole_pages_are_refused) {
    bus::SystemBusConfig config = small_config();
    config.ram_size = 1000;
    EXPECT_THROW(bus::SystemBus{config}, std::invalid_argument);
    config.ram_size = 0;
    EXPECT_THROW(bus::SystemBus{config}, std::invalid_argument);
}

}  // namespace
