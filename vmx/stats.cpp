// VMX statistics: VM entries, exits per basic exit reason, entry failures, VMfail by error
// number, cycles spent in the guest. Context: report time.
#include <map>

#include "vmx/vmx.h"

namespace vmx {

void Vmx::report(sim::StatsWriter& out, const std::string& p) const {
    out.scalar(p + "vmx.vm_entries", static_cast<double>(entries_), "count", "successful VMLAUNCH/VMRESUME");
    out.scalar(p + "vmx.entry_failures", static_cast<double>(entry_failures_), "count",
               "VM-entry failures after the checks (exit reason bit 31, SDM 27.8)");
    out.scalar(p + "vmx.vmfail", static_cast<double>(vmfails_), "count", "VMfailInvalid and VMfailValid outcomes");
    out.scalar(p + "vmx.guest_cycles", static_cast<double>(guest_cycles_), "cycle", "cycles from VM entry to VM exit");
    std::map<std::string, uint64_t> bins;
    for (unsigned r = 0; r < exits_.size(); ++r)
        if (exits_[r]) bins[std::string(name(static_cast<ExitReason>(r)))] = exits_[r];
    out.histogram(p + "vmx.exits", bins, "count", "VM exits by basic exit reason (SDM Appendix C)");
    bins.clear();
    for (unsigned e = 0; e < vmfail_errors_.size(); ++e)
        if (vmfail_errors_[e]) bins[std::to_string(e)] = vmfail_errors_[e];
    out.histogram(p + "vmx.vmfail_valid", bins, "count", "VMfailValid by VM-instruction error number (SDM 31.4)");
}

}  // namespace vmx
