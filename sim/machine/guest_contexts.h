// Partitions told apart passively: each guest context (VMCS or VMCB address, see
// cpu::Virtualization::guest_context) gets a number in the order it is first entered. Our
// hypervisor (hv/) launches the root partition's VP first, so context 1 is the root and the
// following ones are child VPs (one VP per child partition in the demo).
// Context: observers, synchronously with the event stream.
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace sim {

class GuestContexts {
public:
    // 0 for "no guest context" (no extension, or nothing entered yet).
    unsigned number(uint64_t context) {
        if (context == 0) return 0;
        auto [it, inserted] = numbers_.try_emplace(context, static_cast<unsigned>(numbers_.size()) + 1);
        return it->second;
    }
    static std::string name(unsigned number) {
        if (number == 0) return "hypervisor";
        if (number == 1) return "root";
        return "child" + std::to_string(number - 1);
    }
    unsigned count() const { return static_cast<unsigned>(numbers_.size()); }

private:
    std::map<uint64_t, unsigned> numbers_;
};

}  // namespace sim
