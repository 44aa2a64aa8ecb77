// The SVM feature presets (svm/README.md lists them). Context: machine construction.
#include "svm/presets.h"

namespace svm {

// CPUID 8000_000Ah:EDX bit numbers (AMD APM Vol. 3 Appendix E.4.9).
uint32_t Features::cpuid_edx() const {
    return (nested_paging ? 1u << 0 : 0) | (nrip_save ? 1u << 3 : 0) | (vmcb_clean ? 1u << 5 : 0) |
           (flush_by_asid ? 1u << 6 : 0) | (decode_assists ? 1u << 7 : 0) |
           (pause_filter ? 1u << 10 : 0) | (pause_filter_threshold ? 1u << 12 : 0);
}

std::optional<Features> preset(std::string_view name) {
    Features f;
    f.name = std::string(name);
    if (name == "basic") return f;
    if (name == "modern") {
        f.nested_paging = f.nrip_save = f.vmcb_clean = f.flush_by_asid = f.decode_assists = true;
        f.pause_filter = f.pause_filter_threshold = true;
        return f;
    }
    return std::nullopt;
}

std::vector<std::string> preset_names() { return {"modern", "basic"}; }

}  // namespace svm
