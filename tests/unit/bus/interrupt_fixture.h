// Helpers for the interrupt and timer device tests: programming the 8259A pair as firmware
// does, recording interrupt lines with the SystemC time of each change, capturing I/O APIC
// messages. Context: tests/unit/bus only.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "bus/apic_message.h"
#include "bus/irq.h"
#include "pc_fixture.h"

namespace bus_test {

// ICW1 (edge, cascade, ICW4 needed), ICW2 (vector base), ICW3 (master: slave on IR2; slave:
// ID 2), ICW4 (8086 mode, plus `icw4_extra`), then every input unmasked.
inline void init_pics(Pc& pc, uint8_t master_base = 0x20, uint8_t slave_base = 0x28,
                      uint8_t icw4_extra = 0) {
    pc.out(0x20, 0x11);
    pc.out(0x21, master_base);
    pc.out(0x21, 0x04);
    pc.out(0x21, static_cast<uint8_t>(0x01 | icw4_extra));
    pc.out(0xa0, 0x11);
    pc.out(0xa1, slave_base);
    pc.out(0xa1, 0x02);
    pc.out(0xa1, static_cast<uint8_t>(0x01 | icw4_extra));
    pc.out(0x21, 0x00);
    pc.out(0xa1, 0x00);
}

// Every change of a line, with the device time (ps) it happened at.
struct LineRecorder {
    std::vector<std::pair<uint64_t, bool>> changes;

    bus::IrqLine line(bus::SystemBus& bus) {
        return [this, &bus](bool level) { changes.emplace_back(bus.device_time_ps(), level); };
    }
    std::vector<uint64_t> rising_edges(uint64_t after_ps = 0) const {
        std::vector<uint64_t> times;
        for (const auto& [ps, level] : changes) {
            if (level && ps > after_ps) times.push_back(ps);
        }
        return times;
    }
};

struct RecordingApicSink final : bus::ApicMessageSink {
    std::vector<bus::ApicMessage> messages;
    void deliver(const bus::ApicMessage& message) override { messages.push_back(message); }
};

// The RTC's registers through the index and data ports.
inline uint8_t cmos_read(Pc& pc, uint8_t index, uint64_t cycle = 0) {
    pc.bus.port_write(0x70, 1, index, cycle);
    return static_cast<uint8_t>(pc.bus.port_read(0x71, 1, cycle));
}
inline void cmos_write(Pc& pc, uint8_t index, uint8_t value, uint64_t cycle = 0) {
    pc.bus.port_write(0x70, 1, index, cycle);
    pc.bus.port_write(0x71, 1, value, cycle);
}

// One 1 GHz cycle is 1000 ps (the default SystemBusConfig).
inline constexpr uint64_t kPsPerCycle = 1000;
inline constexpr uint64_t kCyclesPerMs = 1'000'000;

}  // namespace bus_test
