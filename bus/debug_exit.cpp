// Ending a run from the guest. Context: OUT to the debug-exit port, once per run.
#include "bus/debug_exit.h"

#include "bus/payload.h"

namespace bus {

DebugExit::DebugExit(sc_core::sc_module_name name, sim::RunControl& run_control)
    : sc_core::sc_module(name), socket("socket"), run_control_(run_control) {
    socket.register_b_transport(this, &DebugExit::b_transport);
}

// The written value is the whole access (OUT of a byte, word or dword). Reads return zero: the
// port holds no state worth reading.
void DebugExit::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time&) {
    if (!is_register_access(gp)) return;
    if (gp.is_read()) {
        set_payload_value(gp, 0);
    } else if (gp.is_write()) {
        // The first stop wins (RunControl::request_stop); its status must stay with it.
        if (!run_control_.stop_requested()) {
            const uint64_t value = payload_value(gp);
            run_control_.exit_value = value;
            run_control_.exit_status = exit_status(value);
        }
        run_control_.request_stop(sim::StopReason::exit);
    }
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace bus
