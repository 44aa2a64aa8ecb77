// A processor on a FlatBus with helpers to place code and run it in real or long mode.
// Context: tests only.
#pragma once
#include <memory>
#include <vector>

#include "cpu/boot_state.h"
#include "cpu/core.h"
#include "mmu/identity_map.h"
#include "tests/support/flat_bus.h"

namespace test {

struct CoreFixture {
    explicit CoreFixture(cpu::Vendor vendor = cpu::Vendor::intel)
        : bus(control), core(cpu::CoreConfig{vendor, 0, false}, bus, events, control) {}

    // Long mode, identity-mapped first 16 MiB (tables at 0x1000), code at `at`, stack 0x80000.
    void long_mode(const std::vector<uint8_t>& code, uint64_t at = 0x100000) {
        bus.load(at, code);
        const auto writer = [this](uint64_t pa, const void* d, size_t n) { return core.write_physical(pa, d, n); };
        const uint64_t cr3 = mmu::build_identity_map(writer, 0x1000, bus.ram.size());
        cpu::enter_long_mode(core, at, cr3, 0x80000, 0x500);
    }
    void real_mode(const std::vector<uint8_t>& code, uint16_t at = 0x7c00) {
        bus.load(at, code);
        cpu::enter_real_mode(core, 0, at);
    }
    uint64_t run(uint64_t max = 100000) { return core.run(max); }
    uint64_t reg(unsigned r) const { return core.state().regs[r]; }

    sim::RunControl control;
    sim::EventStream events;
    FlatBus bus;
    cpu::Core core;
};

}  // namespace test
