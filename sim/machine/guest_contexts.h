// Partitions told apart passively: each guest context (VMCS or VMCB address, see
// cpu::Virtualization::guest_context) gets a number in the order it is first entered. Our
// hypervisor (hv/) launches the root partition's VP first, so context 1 is the root and the
// following ones are child VPs (one VP per child partition in the demo).
// The context comes from cpu::Virtualization::guest_context() (vmx/: the current VMCS, svm/: the
// last VMRUN's VMCB). Context: observers, synchronously with the event stream.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/kernel/event.h"
#include "sim/machine/processor_probe.h"

namespace sim {

class GuestContexts {
public:
    // 0 is the hypervisor (root mode); a guest whose context the extension does not report
    // is kUnknownGuest.
    static constexpr unsigned kUnknownGuest = ~0u;
    unsigned number(uint64_t context) {
        if (context == 0) return kUnknownGuest;
        auto [it, inserted] = numbers_.try_emplace(context, static_cast<unsigned>(numbers_.size()) + 1);
        return it->second;
    }
    static std::string name(unsigned number) {
        if (number == 0) return "hypervisor";
        if (number == kUnknownGuest) return "guest";  // the extension does not say which
        if (number == 1) return "root";
        return "child" + std::to_string(number - 1);
    }
    unsigned count() const { return static_cast<unsigned>(numbers_.size()); }

    // The guest context of e's processor at a VM entry or exit event (see above).
    static uint64_t context(const ProcessorProbe& probe, const Event& e) { return probe.guest_context(e.vcpu); }
    // Its number (context() then number()).
    unsigned partition(const ProcessorProbe& probe, const Event& e) { return number(context(probe, e)); }

private:
    std::map<uint64_t, unsigned> numbers_;
};

}  // namespace sim
