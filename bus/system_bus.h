// bus::SystemBus: a machine's physical bus as the processor sees it (sim::PhysicalBus), built
// from SystemC TLM-2.0 loosely-timed parts in a SystemC context of its own.
// Context: one per machine, owned by sim/machine; ram_page is the processor's RAM path, the
// other accesses are its device slow paths.
//
//   CoreInitiator ─memory─► Router "memory" ─► Ram, MMIO devices
//                 └─io────► Router "io" ─────► Uart16550 (0x3f8), DebugExit (0xf4), ...
//
// RAM is reached through a cached DMI pointer: no SystemC call on a hit. Devices are reached
// through b_transport. Temporal decoupling: the processor runs ahead of SystemC time and
// passes its cycle with each device access; the bus first runs SystemC up to that cycle
// (sc_start of the difference), then makes the access, so devices see accesses in time order.
// Device work due at exactly the access's time runs after the access: sc_start(d) triggers the
// events of its last instant but runs their processes only when SystemC is next started.
//
// Each SystemBus has a SystemC simulation context of its own (bus/sc_context.h), so machines
// can be built one after another, or live side by side, in one process. Device callbacks (sinks,
// IRQ lines) run with SystemC's process-wide lock held: they must not wait for another thread
// that may be entering a machine (e.g. by taking Python's GIL while another thread holds it).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bus/access_counters.h"
#include "bus/core_initiator.h"
#include "bus/ram.h"
#include "bus/router.h"
#include "bus/sc_context.h"
#include "bus/tlm_types.h"
#include "sim/kernel/bus.h"
#include "sim/kernel/stats.h"

namespace bus {

struct SystemBusConfig {
    uint64_t ram_size = uint64_t{64} << 20;  // bytes, whole 4 KiB pages
    uint64_t ram_base = 0;                   // guest-physical address of the first RAM byte
    uint64_t cycle_period_ps = 1000;         // one processor cycle in SystemC time: 1 GHz
};

class SystemBus final : public sim::PhysicalBus {
public:
    explicit SystemBus(const SystemBusConfig& config = {});
    ~SystemBus() override;
    SystemBus(const SystemBus&) = delete;
    SystemBus& operator=(const SystemBus&) = delete;

    // --- Composition: before the first access (SystemC binds all ports once, at elaboration).
    // Builds a device in this machine's context; the bus owns it. Device(sc_module_name, args...).
    template <class Device, class... Args>
    Device& add(const char* name, Args&&... args);
    // Every added device must be mapped (an unbound target socket fails elaboration).
    void map_ports(uint16_t first, uint32_t count, TargetSocket& device, std::string label);
    void map_mmio(uint64_t base, uint64_t size, TargetSocket& device, std::string label);
    // Binds and initialises the SystemC side; done by the first access if not called before.
    void elaborate();
    bool elaborated() const { return elaborated_; }

    // --- sim::PhysicalBus
    // Page pointers stay valid for the life of the bus: RAM never revokes its DMI grant.
    uint8_t* ram_page(uint64_t paddr) override;
    uint64_t mmio_read(uint64_t paddr, unsigned size, uint64_t cycle) override;
    void mmio_write(uint64_t paddr, unsigned size, uint64_t value, uint64_t cycle) override;
    uint64_t port_read(uint16_t port, unsigned size, uint64_t cycle) override;
    void port_write(uint16_t port, unsigned size, uint64_t value, uint64_t cycle) override;

    // --- Time
    // Brings device time up to `cycle` (end of a quantum, or before a device access). Never
    // goes back: an access stamped before device time happens at device time.
    void advance_to(uint64_t cycle);
    uint64_t device_time_ps() const;
    uint64_t device_cycle() const { return device_time_ps() / config_.cycle_period_ps; }
    // The cycle (rounded up) of the earliest pending device event; false when no device has
    // anything scheduled. For a machine whose processors all wait: time may jump there.
    bool next_event_cycle(uint64_t& cycle);

    // --- Parts and counters
    Ram& ram() { return *ram_; }
    const SystemBusConfig& config() const { return config_; }
    const AccessCounters& counters() const { return counters_; }
    const Router& memory_router() const { return *memory_router_; }
    const Router& io_router() const { return *io_router_; }
    // For code that needs this machine's SystemC (hold a ScContext::Scope while using it).
    const ScContext& context() const { return context_; }
    // The bus's counters, then those of every reporter added, in the order added.
    void report(sim::StatsWriter& out) const;
    // A device's counters join report(); the device must live as long as the bus (devices
    // made by add() do).
    void add_reporter(std::function<void(sim::StatsWriter&)> reporter);

private:
    template <class Module, class... Args>
    Module& make(const char* name, Args&&... args);
    void destroy_modules();
    void require_composing(const char* what) const;
    void elaborate_in_scope();
    void sync_in_scope(uint64_t cycle);
    uint64_t read(Space space, uint64_t address, unsigned size);
    void write(Space space, uint64_t address, unsigned size, uint64_t value);

    ScContext context_;  // first member: created before, destroyed after every module
    SystemBusConfig config_;
    std::vector<std::unique_ptr<sc_core::sc_module>> modules_;  // in creation order
    CoreInitiator* initiator_ = nullptr;
    Router* memory_router_ = nullptr;
    Router* io_router_ = nullptr;
    Ram* ram_ = nullptr;
    bool elaborated_ = false;
    AccessCounters counters_;
    std::vector<std::function<void(sim::StatsWriter&)>> reporters_;
};

template <class Module, class... Args>
Module& SystemBus::make(const char* name, Args&&... args) {
    auto module = std::make_unique<Module>(name, std::forward<Args>(args)...);
    Module& ref = *module;
    modules_.push_back(std::move(module));
    return ref;
}

template <class Device, class... Args>
Device& SystemBus::add(const char* name, Args&&... args) {
    ScContext::Scope in(context_);
    require_composing("add a device");
    return make<Device>(name, std::forward<Args>(args)...);
}

}  // namespace bus
