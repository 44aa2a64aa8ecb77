// What passive protocol observers may read of a processor when an event arrives: its
// registers and the guest context it runs (cpu::Virtualization::guest_context). Observers
// read, never write. Context: called from EventObserver::on_event, synchronously.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>

#include "cpu/core.h"

namespace sim {

class ProcessorProbe {
public:
    virtual ~ProcessorProbe() = default;
    virtual cpu::Vendor vendor() const = 0;
    virtual uint64_t reg(unsigned vcpu, cpu::Reg r) const = 0;
    virtual uint64_t guest_context(unsigned vcpu) const = 0;
    // Physical memory as the processor sees it (false where nothing answers).
    virtual bool read_physical(unsigned vcpu, uint64_t address, void* out, size_t size) const = 0;
};

// The probe of a set of cores (a Machine's: `[&m](unsigned i) -> cpu::Core& { return m.cpu(i); }`).
class CoresProbe final : public ProcessorProbe {
public:
    using CoreAt = std::function<cpu::Core&(unsigned)>;
    CoresProbe(CoreAt core_at, cpu::Vendor vendor) : core_at_(std::move(core_at)), vendor_(vendor) {}
    cpu::Vendor vendor() const override { return vendor_; }
    uint64_t reg(unsigned vcpu, cpu::Reg r) const override { return core_at_(vcpu).state().regs[r]; }
    uint64_t guest_context(unsigned vcpu) const override {
        const auto* v = core_at_(vcpu).virtualization();
        return v ? v->guest_context() : 0;
    }
    bool read_physical(unsigned vcpu, uint64_t address, void* out, size_t size) const override {
        return core_at_(vcpu).read_physical(address, out, size);
    }

private:
    CoreAt core_at_;
    cpu::Vendor vendor_;
};

}  // namespace sim
