// The devices every hvsim PC has: COM1 and the debug-exit port, built and mapped in one call.
// Context: machine composition (sim/machine), before the bus is elaborated.
#pragma once

#include <cstdint>

#include "bus/char_sink.h"
#include "bus/debug_exit.h"
#include "bus/system_bus.h"
#include "bus/uart16550.h"
#include "sim/kernel/bus.h"

namespace bus {

inline constexpr uint16_t kCom1Port = 0x3f8;     // 8 registers
inline constexpr uint16_t kDebugExitPort = 0xf4;  // 4 ports, so OUT of a dword lands too

struct PcDevices {
    Uart16550& com1;
    DebugExit& debug_exit;
};

PcDevices attach_pc_devices(SystemBus& bus, sim::RunControl& run_control, CharSink com1_output);

}  // namespace bus
