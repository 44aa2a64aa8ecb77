// Devices that exist only to observe the bus from the target side: one records the SystemC
// time of each access, one has a SystemC thread of its own. Context: tests/unit/bus only.
#pragma once

#include <cstdint>
#include <vector>

#include "bus/payload.h"
#include "bus/tlm_types.h"

namespace bus_test {

// Records the SystemC time of every access it receives.
struct TimeProbe final : sc_core::sc_module {
    bus::SimpleTargetSocket<TimeProbe> socket;
    std::vector<uint64_t> seen_ps;

    explicit TimeProbe(sc_core::sc_module_name name) : sc_core::sc_module(name), socket("socket") {
        socket.register_b_transport(this, &TimeProbe::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time&) {
        seen_ps.push_back(sc_core::sc_time_stamp().value());
        if (gp.is_read()) bus::set_payload_value(gp, 0);
        gp.set_response_status(tlm::TLM_OK_RESPONSE);
    }
};

// A device with a process of its own: ticks every 100 ns of SystemC time.
struct Ticker final : sc_core::sc_module {
    bus::SimpleTargetSocket<Ticker> socket;
    unsigned ticks = 0;

    SC_HAS_PROCESS(Ticker);
    explicit Ticker(sc_core::sc_module_name name) : sc_core::sc_module(name), socket("socket") {
        socket.register_b_transport(this, &Ticker::b_transport);
        SC_THREAD(run);
    }
    void run() {
        for (;;) {
            sc_core::wait(100, sc_core::SC_NS);
            ++ticks;
        }
    }
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time&) {
        if (gp.is_read()) bus::set_payload_value(gp, ticks);
        gp.set_response_status(tlm::TLM_OK_RESPONSE);
    }
};

}  // namespace bus_test
