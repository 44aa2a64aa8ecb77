// Passive accounting of a hypervisor run by partition: instructions retired in the
// hypervisor (VMX root / SVM host), the root partition and each child, and VM exits
// (intercepts) by partition and reason, split into the demo's scenarios. It reads only VM
// entry/exit events and the probe (guest context, registers): the hypervisor is not
// instrumented. Instruction attribution: an exit's instruction index ends the guest interval
// its entry began; the instructions between an exit and the next entry (the VM-entry
// instruction included) are the hypervisor's. A scenario begins at the I/O exit of a child's
// OUT to HV_DEMO_SCENARIO_PORT (hv/abi/demo.h), with the scenario number in RAX.
// Context: an EventObserver, synchronous with the event stream.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/kernel/event.h"
#include "sim/machine/guest_contexts.h"
#include "sim/machine/processor_probe.h"

namespace sim {

class PartitionAccounting final : public EventObserver {
public:
    PartitionAccounting(const ProcessorProbe& probe, GuestContexts& contexts);
    void on_event(const Event& e) override;
    static EventStream::Mask kinds();

    struct Tally {
        std::map<unsigned, uint64_t> instructions;  // by GuestContexts number (0: hypervisor)
        std::map<std::pair<unsigned, std::string>, uint64_t> exits;  // (partition, reason name)
    };
    // Tally of each scenario (0: before the first marker).
    const std::map<unsigned, Tally>& scenarios() const { return scenarios_; }
    // The scenario running now (0 before the first marker).
    const unsigned& scenario() const { return scenario_; }
    // Close the open interval at the end of a run: `retired` is the vCPU's retired count.
    void finish(unsigned vcpu, uint64_t retired);
    // The exit reason's name for this vendor.
    std::string reason_name(uint64_t reason) const;

private:
    struct Vp {
        bool in_guest = false;
        uint64_t since = 0;  // instruction index where the current interval began
        unsigned partition = 0;
    };
    void charge(unsigned partition, uint64_t from, uint64_t to);
    bool is_scenario_marker(const Event& e) const;

    const ProcessorProbe& probe_;
    GuestContexts& contexts_;
    std::vector<Vp> vps_;
    unsigned scenario_ = 0;
    std::map<unsigned, Tally> scenarios_;
};

}  // namespace sim
