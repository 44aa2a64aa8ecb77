// What an SVM processor advertises (CPUID 8000_000Ah, AMD APM Vol. 3 Appendix E.4.9) and the
// named presets of `--virt PRESET`. Context: machine construction; plain data.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace svm {

struct Features {
    std::string name;
    uint32_t revision = 1;        // 8000_000Ah:EAX[7:0] SvmRev
    uint32_t asids = 64;          // 8000_000Ah:EBX NASID
    bool nested_paging = false;   // EDX[0] NP (15.25)
    bool nrip_save = false;       // EDX[3] NRIPS (15.7.1)
    bool vmcb_clean = false;      // EDX[5] VmcbClean (15.15): hvsim reloads every field anyway
    bool flush_by_asid = false;   // EDX[6] FlushByAsid: TLB_CONTROL 3 and 7 (15.16.1)
    bool decode_assists = false;  // EDX[7] DecodeAssists (15.33)
    bool pause_filter = false;    // EDX[10] PauseFilter (15.14.4)
    bool pause_filter_threshold = false;  // EDX[12] PauseFilterThreshold

    uint32_t cpuid_edx() const;
};

// "modern" (NP, NRIP save, clean bits, flush by ASID, decode assists, pause filter with
// threshold) and "basic" (the first SVM parts: none of them).
std::optional<Features> preset(std::string_view name);
std::vector<std::string> preset_names();

}  // namespace svm
