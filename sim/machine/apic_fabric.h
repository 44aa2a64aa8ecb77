// The machine's interrupt fabric: IPIs between the processors' local APICs and the I/O APIC's
// messages to them (the system bus of SDM Vol. 3A 11.1 "Local and I/O APIC Overview").
// Context: machine composition; called from a core's APIC writes (ICR) and from device
// callbacks (I/O APIC), always on the machine's one thread.
#pragma once
#include <cstdint>
#include <vector>

#include "bus/apic_message.h"
#include "cpu/apic/local_apic.h"
#include "sim/kernel/stats.h"

namespace cpu {
class Core;
}

namespace sim {

class ApicFabric final : public cpu::InterruptFabric, public bus::ApicMessageSink {
public:
    explicit ApicFabric(std::vector<cpu::Core*> cores);

    // cpu::InterruptFabric: an IPI from processor `from`'s ICR (or SELF IPI register).
    void send(unsigned from, const cpu::Ipi& ipi) override;
    // bus::ApicMessageSink: a message from the I/O APIC (8-bit destinations, no shorthand).
    void deliver(const bus::ApicMessage& message) override;

    void report(StatsWriter& out) const;

private:
    // Hands `ipi` to the APICs it names; `from` is the sender's index, or -1 for a device.
    void route(int from, const cpu::Ipi& ipi);

    std::vector<cpu::Core*> cores_;
    uint64_t ipis_[8] = {};       // by delivery mode
    uint64_t io_messages_ = 0;
    uint64_t undelivered_ = 0;    // named no enabled APIC
};

}  // namespace sim
