// bus::AccessCounters: what the bus counts about device traffic (port I/O by port, MMIO,
// unmapped accesses, time synchronisations), and their description for sim::StatsWriter.
// Context: bumped on every device access; RAM accesses through DMI are not seen by the bus.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "sim/kernel/stats.h"

namespace bus {

struct AccessCounters {
    std::unordered_map<uint16_t, uint64_t> port_reads;   // by port number
    std::unordered_map<uint16_t, uint64_t> port_writes;
    uint64_t mmio_reads = 0;
    uint64_t mmio_writes = 0;
    uint64_t unmapped_reads = 0;   // both spaces: answered with all ones
    uint64_t unmapped_writes = 0;  // both spaces: dropped
    uint64_t time_syncs = 0;       // sc_start calls that moved device time forward

    // Names are "<prefix>.port_reads" and so on; histograms are keyed by port in hex ("0x3f8").
    void report(sim::StatsWriter& out, const std::string& prefix) const;
};

}  // namespace bus
