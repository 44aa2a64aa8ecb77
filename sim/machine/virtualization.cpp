// Which hardware-virtualization extension a processor gets: Intel VMX (vmx/) on an Intel
// machine, AMD SVM (svm/) on an AMD one, each with a named feature preset. Context: machine
// construction.
#include <string>

#include "sim/machine/config.h"
#include "svm/svm.h"

namespace sim {

namespace {
// AMD: svm::Svm with a named preset (svm/README.md).
std::unique_ptr<cpu::Virtualization> make_svm(const std::string& preset) {
    if (auto features = svm::preset(preset)) return std::make_unique<svm::Svm>(*features);
    std::string names = "none";
    for (const auto& n : svm::preset_names()) names += ", " + n;
    throw ConfigError("--virt " + preset + ": no such SVM preset (presets: " + names + ")");
}
}  // namespace

std::unique_ptr<cpu::Virtualization> make_virtualization(const MachineConfig& config, unsigned cpu) {
    (void)cpu;
    if (config.virtualization == "none") return nullptr;
    if (config.vendor == cpu::Vendor::intel)
        throw ConfigError("--virt " + config.virtualization + ": VMX is not in this build yet (presets: none)");
    return make_svm(config.virtualization);
}

}  // namespace sim
