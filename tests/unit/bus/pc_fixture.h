// A small PC for bus tests: a SystemBus with the PC devices (bus/pc_devices.h), COM1's output
// kept in a string. Context: tests/unit/bus only.
#pragma once

#include <cstdint>
#include <string>

#include "bus/pc_devices.h"
#include "bus/system_bus.h"
#include "sim/kernel/bus.h"

namespace bus_test {

inline bus::SystemBusConfig small_config() {
    bus::SystemBusConfig config;
    config.ram_size = uint64_t{1} << 20;
    return config;
}

struct Pc {
    sim::RunControl run;
    std::string com1_output;  // before `bus`: the sink refers to it
    bus::SystemBus bus;
    bus::PcDevices devices;

    explicit Pc(const bus::SystemBusConfig& config = small_config(),
                const bus::PcDeviceConfig& devices_config = {})
        : bus(config),
          devices(bus::attach_pc_devices(bus, run, bus::string_sink(com1_output), devices_config)) {}

    uint8_t in(uint16_t port) { return static_cast<uint8_t>(bus.port_read(port, 1, 0)); }
    void out(uint16_t port, uint8_t value) { bus.port_write(port, 1, value, 0); }
    uint8_t com1(bus::Uart16550::Reg reg) { return in(bus::kCom1Port + reg); }
    void com1(bus::Uart16550::Reg reg, uint8_t value) { out(bus::kCom1Port + reg, value); }
};

}  // namespace bus_test
