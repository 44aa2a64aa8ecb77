// Composition, time synchronisation and the device access paths of a machine's bus.
// Context: construction per machine; ram_page misses and device accesses from the processor.
#include "bus/system_bus.h"

#include <cassert>
#include <stdexcept>

#include "bus/payload.h"

namespace bus {

SystemBus::SystemBus(const SystemBusConfig& config) : config_(config) {
    if (config.cycle_period_ps == 0) throw std::invalid_argument("cycle period must be > 0 ps");
    const bool wraps = config.ram_base + config.ram_size < config.ram_base;
    if (config.ram_base % sim::kPageSize != 0 || config.ram_size == 0 ||
        config.ram_size % sim::kPageSize != 0 || wraps) {
        throw std::invalid_argument("RAM base and size must be whole 4 KiB pages");
    }
    ScContext::Scope in(context_);
    try {
        // Picoseconds make any realistic clock an integer period; set before any non-zero time
        // exists in this context (SystemC fixes the resolution at the first one).
        sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
        initiator_ = &make<CoreInitiator>("core");
        memory_router_ = &make<Router>("memory");
        io_router_ = &make<Router>("io");
        ram_ = &make<Ram>("ram", config.ram_size);
        initiator_->memory.bind(memory_router_->from_initiator);
        initiator_->io.bind(io_router_->from_initiator);
        memory_router_->map(config.ram_base, config.ram_size, ram_->socket, "ram");
    } catch (...) {
        destroy_modules();
        throw;
    }
}

SystemBus::~SystemBus() {
    ScContext::Scope in(context_);
    destroy_modules();
}

// SystemC objects must die while their context is current and still exists: devices last
// built first, then the context (its own member destructor runs after ours).
void SystemBus::destroy_modules() {
    while (!modules_.empty()) modules_.pop_back();
}

void SystemBus::require_composing(const char* what) const {
    if (elaborated_) {
        throw std::logic_error(std::string("cannot ") + what +
                               ": the bus is elaborated (its first access has happened)");
    }
}

void SystemBus::map_ports(uint16_t first, uint32_t count, TargetSocket& device,
                          std::string label) {
    ScContext::Scope in(context_);
    require_composing("map ports");
    if (count == 0 || first + count > 0x10000) {
        throw std::invalid_argument(label + ": port range beyond 0xffff");
    }
    io_router_->map(first, count, device, std::move(label));
}

void SystemBus::map_mmio(uint64_t base, uint64_t size, TargetSocket& device, std::string label) {
    ScContext::Scope in(context_);
    require_composing("map MMIO");
    memory_router_->map(base, size, device, std::move(label));
}

void SystemBus::elaborate() {
    ScContext::Scope in(context_);
    elaborate_in_scope();
}

// What sc_start(SC_ZERO_TIME) would do, without it: sc_start keeps a process-wide "first call"
// flag, so in a second machine a zero-time start would print a "no activity" warning.
// Composition closes even if elaboration fails (an unbound socket throws an sc_report): such a
// bus stays unusable, its later accesses throw too.
void SystemBus::elaborate_in_scope() {
    if (elaborated_) return;
    elaborated_ = true;
    sc_core::sc_get_curr_simcontext()->initialize(false);
    initiator_->request_ram_page(config_.ram_base);  // the one DMI grant RAM needs
}

void SystemBus::sync_in_scope(uint64_t cycle) {
    elaborate_in_scope();
    uint64_t target = 0;
    const bool overflow = __builtin_mul_overflow(cycle, config_.cycle_period_ps, &target);
    assert(!overflow && "cycle count beyond SystemC's 64-bit picosecond clock");
    (void)overflow;
    const uint64_t now = sc_core::sc_time_stamp().value();
    if (target <= now) return;
    sc_core::sc_start(sc_core::sc_time::from_value(target - now));
    ++counters_.time_syncs;
}

bool SystemBus::next_event_cycle(uint64_t& cycle) {
    ScContext::Scope in(context_);
    elaborate_in_scope();
    if (!sc_core::sc_pending_activity()) return false;
    const uint64_t at = sc_core::sc_time_stamp().value() + sc_core::sc_time_to_pending_activity().value();
    cycle = (at + config_.cycle_period_ps - 1) / config_.cycle_period_ps;
    return true;
}

void SystemBus::advance_to(uint64_t cycle) {
    ScContext::Scope in(context_);
    sync_in_scope(cycle);
}

uint64_t SystemBus::device_time_ps() const {
    ScContext::Scope in(context_);
    return sc_core::sc_time_stamp().value();
}

uint8_t* SystemBus::ram_page(uint64_t paddr) {
    if (uint8_t* page = initiator_->cached_ram_page(paddr)) return page;
    ScContext::Scope in(context_);
    elaborate_in_scope();
    return initiator_->request_ram_page(paddr);
}

// Anything but TLM_OK_RESPONSE (nothing mapped, or a device refusing the access) is the PC's
// open bus: reads float high, writes vanish.
uint64_t SystemBus::read(Space space, uint64_t address, unsigned size) {
    assert(size >= 1 && size <= 8);
    uint64_t value = 0;
    if (initiator_->access(space, tlm::TLM_READ_COMMAND, address, size, value) !=
        tlm::TLM_OK_RESPONSE) {
        ++counters_.unmapped_reads;
        return all_ones(size);
    }
    return value;
}

void SystemBus::write(Space space, uint64_t address, unsigned size, uint64_t value) {
    assert(size >= 1 && size <= 8);
    if (initiator_->access(space, tlm::TLM_WRITE_COMMAND, address, size, value) !=
        tlm::TLM_OK_RESPONSE) {
        ++counters_.unmapped_writes;
    }
}

uint64_t SystemBus::mmio_read(uint64_t paddr, unsigned size, uint64_t cycle) {
    ScContext::Scope in(context_);
    sync_in_scope(cycle);
    ++counters_.mmio_reads;
    return read(Space::memory, paddr, size);
}

void SystemBus::mmio_write(uint64_t paddr, unsigned size, uint64_t value, uint64_t cycle) {
    ScContext::Scope in(context_);
    sync_in_scope(cycle);
    ++counters_.mmio_writes;
    write(Space::memory, paddr, size, value);
}

uint64_t SystemBus::port_read(uint16_t port, unsigned size, uint64_t cycle) {
    ScContext::Scope in(context_);
    sync_in_scope(cycle);
    ++counters_.port_reads[port];
    return read(Space::io, port, size);
}

void SystemBus::port_write(uint16_t port, unsigned size, uint64_t value, uint64_t cycle) {
    ScContext::Scope in(context_);
    sync_in_scope(cycle);
    ++counters_.port_writes[port];
    write(Space::io, port, size, value);
}

void SystemBus::report(sim::StatsWriter& out) const {
    counters_.report(out, "bus");
    for (const auto& reporter : reporters_) reporter(out);
}

void SystemBus::add_reporter(std::function<void(sim::StatsWriter&)> reporter) {
    reporters_.push_back(std::move(reporter));
}

}  // namespace bus
