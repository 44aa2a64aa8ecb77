// SVM statistics: VMRUNs, #VMEXITs per EXITCODE (by the names of svm_exit_codes.toml), event
// injections, virtual interrupts, nested page faults. Context: end-of-run reporting.
#include <map>

#include "sim/kernel/stats.h"
#include "svm/svm.h"

namespace svm {

void Svm::report(sim::StatsWriter& out, const std::string& prefix) const {
    out.scalar(prefix + "svm.vmruns", static_cast<double>(vmruns_), "count", "VMRUN instructions executed");
    out.scalar(prefix + "svm.vmruns_invalid", static_cast<double>(invalid_vmruns_), "count",
               "VMRUNs that failed the consistency checks (VMEXIT_INVALID)");
    out.scalar(prefix + "svm.events_injected", static_cast<double>(injected_), "count", "EVENTINJ deliveries");
    out.scalar(prefix + "svm.virtual_interrupts", static_cast<double>(virtual_interrupts_), "count",
               "V_IRQ interrupts delivered to the guest");
    out.scalar(prefix + "svm.nested_page_faults", static_cast<double>(npfs_), "count", "#VMEXIT(NPF)");
    std::map<std::string, uint64_t> bins;
    for (const auto& [code, count] : exits_) bins[std::string(name(static_cast<ExitCode>(code)))] += count;
    out.histogram(prefix + "svm.exits", bins, "count", "#VMEXITs per EXITCODE");
    out.histogram(prefix + "svm.invalid_vmrun_checks", invalid_reasons_, "count",
                  "VMRUNs that failed, per consistency check (APM 15.5.1)");
}

}  // namespace svm
