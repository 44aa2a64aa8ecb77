// Routing interrupt messages to local APICs: destination shorthands, physical and logical
// destinations (the APICs decide with LocalApic::matches), lowest priority.
#include "sim/machine/apic_fabric.h"

#include <string>

#include "cpu/core.h"

namespace sim {

ApicFabric::ApicFabric(std::vector<cpu::Core*> cores) : cores_(std::move(cores)) {}

void ApicFabric::send(unsigned from, const cpu::Ipi& ipi) {
    ++ipis_[static_cast<unsigned>(ipi.mode) & 7];
    route(static_cast<int>(from), ipi);
}

void ApicFabric::deliver(const bus::ApicMessage& m) {
    ++io_messages_;
    cpu::Ipi ipi;
    ipi.vector = m.vector;
    ipi.mode = static_cast<cpu::DeliveryMode>(static_cast<uint8_t>(m.delivery_mode) & 7);
    ipi.logical = m.logical;
    ipi.level = m.trigger_level;
    ipi.assert_level = m.level;
    ipi.destination = m.destination & 0xff;
    route(-1, ipi);
}

// SDM 11.6.1 "Interrupt Command Register (ICR)", destination shorthand; 11.6.2 "Determining
// IPI Destination". Lowest-priority delivery is simplified (11.6.2.4 lets the chipset arbitrate
// on the processors' priorities): the lowest-numbered processor among those named takes it.
void ApicFabric::route(int from, const cpu::Ipi& ipi) {
    bool delivered = false;
    for (size_t k = 0; k < cores_.size(); ++k) {
        cpu::LocalApic& apic = cores_[k]->apic();
        if (!apic.hardware_enabled()) continue;
        const bool self = static_cast<int>(k) == from;
        bool named = false;
        switch (ipi.shorthand) {
            case cpu::Shorthand::none: named = apic.matches(ipi); break;
            case cpu::Shorthand::self: named = self; break;
            case cpu::Shorthand::all_including_self: named = true; break;
            case cpu::Shorthand::all_excluding_self: named = !self; break;
        }
        if (!named) continue;
        apic.receive(ipi);
        delivered = true;
        if (ipi.mode == cpu::DeliveryMode::lowest_priority) break;
    }
    if (!delivered) ++undelivered_;
}

void ApicFabric::report(StatsWriter& out) const {
    static const char* const kModes[8] = {"fixed", "lowest_priority", "smi", "reserved3",
                                          "nmi", "init", "startup", "extint"};
    std::map<std::string, uint64_t> bins;
    for (unsigned m = 0; m < 8; ++m)
        if (ipis_[m]) bins[kModes[m]] = ipis_[m];
    out.histogram("apic.ipis", bins, "count", "IPIs sent, by delivery mode");
    out.scalar("apic.io_messages", static_cast<double>(io_messages_), "count", "I/O APIC messages routed");
    out.scalar("apic.undelivered", static_cast<double>(undelivered_), "count", "messages no enabled APIC accepted");
}

}  // namespace sim
