// A passive hypercall decoder (../shared/DESIGN.md "Hypercalls and VMBus are observed, not
// announced"): at a VMCALL (VMX exit reason 18) or VMMCALL (SVM exit code 81h) VM exit it
// reads the TLFS register convention of the guest (RCX input value, RDX/R8 input and output
// GPAs or fast input: hv/abi/hypercall_input.h) and, at that VP's next VM entry, the result
// value in RAX (on AMD from the VMCB's RAX, which VMRUN loads). A rep call the hypervisor
// returns from early (TLFS "Rep Hypercall Restarting": RCX's rep start index advanced, the
// call re-executed) is counted with the pseudo status kRepContinued. Each invocation becomes a
// `hypercall` event (code, rep count, status) and a count per scenario, partition, code and
// status. The result is the one of the same guest context's next entry, so an extension that
// does not report its guest context (cpu::Virtualization::guest_context) gets wrong statuses
// for calls after which the hypervisor switches VPs. Context: an EventObserver, synchronous
// with the event stream.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/kernel/event.h"
#include "sim/kernel/stats.h"
#include "sim/machine/guest_contexts.h"
#include "sim/machine/processor_probe.h"

namespace sim {

class HypercallDecoder final : public EventObserver {
public:
    // `out` (may be null) receives the `hypercall` events; `contexts` numbers partitions;
    // `scenario` (may be null) is the demo scenario a call is counted in.
    HypercallDecoder(const ProcessorProbe& probe, GuestContexts& contexts, EventStream* out,
                     const unsigned* scenario = nullptr);
    void on_event(const Event& e) override;

    struct Key {
        unsigned scenario;
        unsigned partition;  // GuestContexts number
        uint16_t code;
        uint16_t status;
        auto operator<=>(const Key&) const = default;
    };
    const std::map<Key, uint64_t>& counts() const { return counts_; }
    uint64_t total() const;
    // Calls of one code (every partition and status).
    uint64_t count(uint16_t code) const;
    void clear() { counts_.clear(); }
    // "hypercalls.<partition>.<call name>[.<status name>]" histogram.
    void report(StatsWriter& out, const std::string& prefix) const;
    static std::string call_name(uint16_t code);
    static std::string status_name(uint16_t status);

    // Events that carry what the decoder needs (subscribe with this mask).
    static EventStream::Mask kinds();
    // Not an HV_STATUS: the invocation ended early and the caller re-executes it.
    static constexpr uint16_t kRepContinued = 0xffff;

private:
    struct Pending {
        bool active = false;
        Event exit{};
        uint64_t input = 0;
        unsigned partition = 0;
    };
    bool is_hypercall_exit(const Event& e) const;

    const ProcessorProbe& probe_;
    GuestContexts& contexts_;
    EventStream* out_;
    const unsigned* scenario_;
    // Calls waiting for their result, by guest context (a VP that yields in a hypercall is not
    // the next one entered on that processor); context 0 (not reported) falls back to the vCPU.
    std::map<std::pair<unsigned, uint64_t>, Pending> pending_;
    std::map<Key, uint64_t> counts_;
};

}  // namespace sim
