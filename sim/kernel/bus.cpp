// Names of stop reasons, as they appear in stats and the CLI.
#include "bus.h"

namespace sim {

const char* to_string(StopReason r) {
    switch (r) {
        case StopReason::none: return "none";
        case StopReason::exit: return "exit";
        case StopReason::instruction_limit: return "instruction_limit";
        case StopReason::shutdown: return "shutdown";
        case StopReason::halted: return "halted";
        case StopReason::host_error: return "host_error";
        case StopReason::user: return "user";
    }
    return "unknown";
}

}  // namespace sim
