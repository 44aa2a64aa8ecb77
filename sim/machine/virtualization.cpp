// Which hardware-virtualization extension a processor gets: Intel VMX (vmx/) on an Intel
// machine, AMD SVM (svm/) on an AMD one, each with a named feature preset. Context: machine
// construction.
#include <string>
#include <vector>

#include "sim/machine/config.h"
#include "svm/svm.h"
#include "vmx/vmx.h"

namespace sim {

namespace {

[[noreturn]] void unknown_preset(const char* extension, const std::string& preset,
                                 const std::vector<std::string>& names) {
    std::string list = "none";
    for (const auto& n : names) list += ", " + n;
    throw ConfigError("--virt " + preset + ": no such " + extension + " preset (presets: " + list + ")");
}

// Intel: vmx::Vmx with the capability MSRs of a named preset (vmx/README.md).
std::unique_ptr<cpu::Virtualization> make_vmx(const std::string& preset) {
    if (auto caps = vmx::capability_preset(preset)) return std::make_unique<vmx::Vmx>(*caps, preset);
    unknown_preset("VMX", preset, vmx::capability_preset_names());
}

// AMD: svm::Svm with a named preset (svm/README.md).
std::unique_ptr<cpu::Virtualization> make_svm(const std::string& preset) {
    if (auto features = svm::preset(preset)) return std::make_unique<svm::Svm>(*features);
    unknown_preset("SVM", preset, svm::preset_names());
}

}  // namespace

std::unique_ptr<cpu::Virtualization> make_virtualization(const MachineConfig& config, unsigned cpu) {
    (void)cpu;
    if (config.virtualization == "none") return nullptr;
    if (config.vendor == cpu::Vendor::intel) return make_vmx(config.virtualization);
    return make_svm(config.virtualization);
}

}  // namespace sim
