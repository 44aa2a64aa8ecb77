// bus::DebugExit: the test-exit port of QEMU's isa-debug-exit device, so guest test programs
// end a run with a status. Context: an I/O-port device (0xf4 on hvsim's PC); any write ends
// the run; the processor's run loop sees the request in sim::RunControl.
#pragma once

#include <cstdint>

#include "bus/tlm_types.h"
#include "sim/kernel/bus.h"

namespace bus {

class DebugExit final : public sc_core::sc_module {
public:
    SimpleTargetSocket<DebugExit> socket;

    DebugExit(sc_core::sc_module_name name, sim::RunControl& run_control);

    // The status a write of `value` ends the run with, as QEMU defines it: (value << 1) | 1,
    // never 0, so a test cannot be mistaken for a clean exit of the simulator itself.
    static int exit_status(uint64_t value) { return static_cast<int>((value << 1) | 1); }

private:
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);

    sim::RunControl& run_control_;
};

}  // namespace bus
