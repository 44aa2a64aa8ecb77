// Describing bus counters to a StatsWriter. Context: end of a run or on request; not hot.
#include "bus/access_counters.h"

#include <cstdio>
#include <map>
#include <string>

namespace bus {

namespace {

std::map<std::string, uint64_t> by_port(const std::unordered_map<uint16_t, uint64_t>& counts) {
    std::map<std::string, uint64_t> bins;
    for (const auto& [port, count] : counts) {
        char label[8];
        std::snprintf(label, sizeof label, "0x%x", static_cast<unsigned>(port));
        bins[label] = count;
    }
    return bins;
}

}  // namespace

void AccessCounters::report(sim::StatsWriter& out, const std::string& prefix) const {
    out.histogram(prefix + ".port_reads", by_port(port_reads), "accesses",
                  "IN instructions (and string INs, per element) by port");
    out.histogram(prefix + ".port_writes", by_port(port_writes), "accesses",
                  "OUT instructions (and string OUTs, per element) by port");
    out.scalar(prefix + ".mmio_reads", static_cast<double>(mmio_reads), "accesses",
               "physical-memory reads that went through b_transport (not DMI)");
    out.scalar(prefix + ".mmio_writes", static_cast<double>(mmio_writes), "accesses",
               "physical-memory writes that went through b_transport (not DMI)");
    out.scalar(prefix + ".unmapped_reads", static_cast<double>(unmapped_reads), "accesses",
               "reads no device claimed (answered with all ones)");
    out.scalar(prefix + ".unmapped_writes", static_cast<double>(unmapped_writes), "accesses",
               "writes no device claimed (dropped)");
    out.scalar(prefix + ".time_syncs", static_cast<double>(time_syncs), "calls",
               "times device time was advanced to the processor's (sc_start calls)");
}

}  // namespace bus
