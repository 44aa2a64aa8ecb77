// Building the standard PC devices. Context: machine composition, once per machine.
#include "bus/pc_devices.h"

#include <utility>

namespace bus {

PcDevices attach_pc_devices(SystemBus& bus, sim::RunControl& run_control, CharSink com1_output) {
    auto& com1 = bus.add<Uart16550>("com1", std::move(com1_output));
    bus.map_ports(kCom1Port, 8, com1.socket, "com1");
    auto& debug_exit = bus.add<DebugExit>("debug_exit", run_control);
    bus.map_ports(kDebugExitPort, 4, debug_exit.socket, "debug_exit");
    return {com1, debug_exit};
}

}  // namespace bus
