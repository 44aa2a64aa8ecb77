// Which hardware-virtualization extension a processor gets: Intel VMX (vmx/) on an Intel
// machine, AMD SVM (svm/) on an AMD one, each with a named feature preset. Context: machine
// construction.
#include <string>

#include "sim/machine/config.h"

namespace sim {

std::unique_ptr<cpu::Virtualization> make_virtualization(const MachineConfig& config, unsigned cpu) {
    (void)cpu;
    if (config.virtualization == "none") return nullptr;
    if (config.vendor == cpu::Vendor::intel)
        throw ConfigError("--virt " + config.virtualization + ": VMX is not in this build yet (presets: none)");
    throw ConfigError("--virt " + config.virtualization + ": SVM is not in this build yet (presets: none)");
}

}  // namespace sim
