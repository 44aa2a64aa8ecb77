// Which hardware-virtualization extension a processor gets: Intel VMX (vmx/) on an Intel
// machine, AMD SVM (svm/) on an AMD one, each with a named feature preset. Context: machine
// construction.
#include <string>

#include "sim/machine/config.h"
#include "svm/svm.h"
#include "vmx/vmx.h"

namespace sim {

namespace {
// AMD: svm::Svm with a named preset (svm/README.md).
std::unique_ptr<cpu::Virtualization> make_svm(const std::string& preset) {
    if (auto features = svm::preset(preset)) return std::make_unique<svm::Svm>(*features);
    std::string names = "none";
    for (const auto& n : svm::preset_names()) names += ", " + n;
    throw ConfigError("--virt " + preset + ": no such SVM preset (presets: " + names + ")");
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

}  // namespace

std::unique_ptr<cpu::Virtualization> make_virtualization(const MachineConfig& config, unsigned cpu) {
    (void)cpu;
    if (config.virtualization == "none") return nullptr;
    if (config.vendor == cpu::Vendor::intel) {
        const auto caps = vmx::capability_preset(config.virtualization);
        if (!caps)
            throw ConfigError("--virt " + config.virtualization + ": no such VMX preset (presets: none, " +
                              joined(vmx::capability_preset_names()) + ")");
        return std::make_unique<vmx::Vmx>(*caps, config.virtualization);
    }
    return make_svm(config.virtualization);
}

}  // namespace sim
