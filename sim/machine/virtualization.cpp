// Which hardware-virtualization extension a processor gets: Intel VMX (vmx/) on an Intel
// machine, AMD SVM (svm/) on an AMD one, each with a named feature preset. Context: machine
// construction.
#include <string>

#include "sim/machine/config.h"
#include "svm/svm.h"
#include "vmx/vmx.h"

namespace sim {

namespace {
// Intel: vmx::Vmx with the capability MSRs of a named preset (vmx/README.md).
std::unique_ptr<cpu::Virtualization> make_vmx(const std::string& preset) {
    if (auto caps = vmx::capability_preset(preset)) return std::make_unique<vmx::Vmx>(*caps, preset);
    std::string names = "none";
    for (const auto& n : vmx::capability_preset_names()) names += ", " + n;
    throw ConfigError("--virt " + preset + ": no such VMX preset (presets: " + names + ")");
}

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
    if (config.vendor == cpu::Vendor::intel) return make_vmx(config.virtualization);
    return make_svm(config.virtualization);
}

}  // namespace sim
