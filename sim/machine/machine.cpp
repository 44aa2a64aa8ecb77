// Machine composition and the run loop (temporal decoupling: processors run a quantum ahead,
// one after the other, then the SystemC devices catch up; device accesses synchronise on their
// own). Interrupt wiring: 8259 INTR to the BSP's LINT0, I/O APIC and IPIs through ApicFabric.
#include "sim/machine/machine.h"

#include <cerrno>
#include <chrono>
#include <cstring>

#include "bus/pc_devices.h"
#include "bus/system_bus.h"
#include "sim/machine/apic_fabric.h"

namespace sim {

Machine::Machine(const MachineConfig& config) : config_(config) {
    if (config_.memory_bytes < (1ull << 20) || (config_.memory_bytes & 0xfff))
        throw ConfigError("memory size must be at least 1 MiB and a multiple of 4 KiB");
    if (config_.memory_bytes > (64ull << 30)) throw ConfigError("memory size above 64 GiB is not supported");
    // xAPIC physical destinations are 8 bits and 0xFF is the broadcast.
    if (config_.cpus < 1 || config_.cpus > 255)
        throw ConfigError("--cpus " + std::to_string(config_.cpus) + ": between 1 and 255 processors");
    if (config_.quantum == 0) throw ConfigError("quantum must be at least 1 instruction");

    bus::SystemBusConfig bc;
    bc.ram_size = config_.memory_bytes;
    bc.cycle_period_ps = config_.cycle_period_ps;
    bus_ = std::make_unique<bus::SystemBus>(bc);

    bus::CharSink sink;
    if (config_.serial == "stdio") {
        sink = bus::file_sink(stdout);
    } else if (config_.serial == "none") {
        sink = [](char) {};
    } else if (config_.serial == "capture") {
        sink = bus::string_sink(serial_capture_);
    } else {
        serial_file_ = std::fopen(config_.serial.c_str(), "w");
        if (!serial_file_) throw ConfigError(config_.serial + ": cannot open for serial output (" + std::strerror(errno) + ")");
        sink = bus::file_sink(serial_file_);
    }
    const bus::PcDevices devices = bus::attach_pc_devices(*bus_, control_, sink);
    bus_->elaborate();

    for (unsigned id = 0; id < config_.cpus; ++id) {
        cpu::CoreConfig cc{config_.vendor, id, config_.count_mnemonics};
        cc.cpus = config_.cpus;
        cc.apic_bus_divisor = config_.apic_bus_divisor;
        cc.is_bsp = id == 0;
        cores_.push_back(std::make_unique<cpu::Core>(cc, *bus_, events_, control_));
        if (auto v = make_virtualization(config_, id)) cores_.back()->attach_virtualization(std::move(v));
    }
    for (auto& core : cores_) {
        std::vector<cpu::Core*> peers;
        for (auto& other : cores_)
            if (other != core) peers.push_back(other.get());
        core->set_code_peers(std::move(peers));
    }
    wire_interrupts(devices);
    recent_ = std::make_shared<RecentEvents>(16);
    events_.subscribe(recent_, EventStream::all_kinds & ~EventStream::bit(EventKind::page_walk));
}

Machine::~Machine() {
    events_.flush();
    fabric_.reset();
    cores_.clear();
    bus_.reset();
    if (serial_file_) std::fclose(serial_file_);
}

LoadedImage Machine::load_kernel(const std::string& path, const std::string& cmdline) {
    return load_kernel_image(cpu(0), config_.memory_bytes, path, cmdline);
}

LoadedImage Machine::load_flat(const std::string& path, uint64_t address) {
    return sim::load_flat(cpu(0), config_.memory_bytes, path, address);
}

LoadedImage Machine::load_linux(const std::string& bzimage, const std::string& initrd, const std::string& cmdline) {
    return sim::load_linux(cpu(0), config_.memory_bytes, bzimage, initrd, cmdline);
}

RunResult Machine::run(uint64_t max_instructions) {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    RunResult r;
    // A run that stopped at its limit (or by the user) may continue; exit and shutdown are final.
    if (control_.reason == StopReason::instruction_limit || control_.reason == StopReason::user)
        control_.reason = StopReason::none;
    while (!control_.stop_requested()) {
        uint64_t slice = config_.quantum;
        if (max_instructions) {
            if (r.instructions >= max_instructions) {
                control_.request_stop(StopReason::instruction_limit);
                break;
            }
            slice = std::min(slice, max_instructions - r.instructions);
        }
        // Round-robin in processor order, each up to the same point of simulated time: a
        // halted processor's time passes too (its timers expire on time). Same image, same
        // configuration: same interleaving, same event stream.
        const uint64_t target = now_ + slice;
        bool all_halted = true;
        uint64_t latest = now_;
        for (auto& core : cores_) {
            if (!control_.stop_requested() && core->cycle() < target)
                r.instructions += core->run(target - core->cycle());
            if (!control_.stop_requested()) core->idle_until(target);
            all_halted = all_halted && core->halted();
            latest = std::max(latest, core->cycle());
        }
        now_ = latest;
        bus_->advance_to(latest);
        if (all_halted && !control_.stop_requested() && !skip_idle_time())
            control_.request_stop(StopReason::halted);
    }
    r.host_seconds = std::chrono::duration<double>(clock::now() - t0).count();
    r.reason = control_.reason;
    r.exit_status = control_.exit_status;
    const cpu::Core* c0 = cores_[0].get();
    for (const auto& core : cores_)
        if (!core->last_error().empty()) {
            c0 = core.get();  // the processor that stopped the run
            break;
        }
    switch (r.reason) {
        case StopReason::exit: r.message = "guest wrote 0x" + cpu::hex(control_.exit_value) + " to the debug-exit port"; break;
        case StopReason::instruction_limit: r.message = "instruction limit reached"; break;
        case StopReason::halted: r.message = "all processors halted (HLT) with nothing to wake them"; break;
        case StopReason::shutdown:
        case StopReason::host_error: r.message = c0->last_error(); break;
        default: break;
    }
    total_instructions_ += r.instructions;
    total_host_seconds_ += r.host_seconds;
    events_.flush();
    return r;
}

void Machine::report(StatsWriter& out) const {
    for (const auto& core : cores_) core->report(out, "cpu" + std::to_string(core->config().id) + ".");
    bus_->report(out);
    fabric_->report(out);
}

// Each processor's APIC sends IPIs through the fabric; the I/O APIC's messages go through it
// too, and level-triggered EOIs come back to the I/O APIC. The 8259's INTR is the BSP's LINT0
// (ExtINT: the processor's acknowledge is the 8259's INTA cycle).
void Machine::wire_interrupts(const bus::PcDevices& devices) {
    std::vector<cpu::Core*> cores;
    for (auto& c : cores_) cores.push_back(c.get());
    fabric_ = std::make_unique<ApicFabric>(cores);
    bus::SystemBus* bus = bus_.get();
    for (unsigned k = 0; k < cores_.size(); ++k) {
        cpu::LocalApic& apic = cores_[k]->apic();
        apic.set_fabric(fabric_.get(), k);
        if (bus::Ioapic* io = devices.ioapic)
            apic.set_eoi_broadcast([bus, io](uint8_t vector) {
                bus::ScContext::Scope in(bus->context());
                io->eoi(vector);
            });
    }
    if (devices.ioapic) devices.ioapic->connect(*fabric_);
    cpu::LocalApic& bsp = cores_[0]->apic();
    bus::Pic8259& pic = devices.pic;
    devices.pic.connect_intr([&bsp](bool level) { bsp.set_lint(0, level); });
    bsp.set_extint_acknowledge([bus, &pic]() {
        bus::ScContext::Scope in(bus->context());
        return static_cast<uint8_t>(pic.acknowledge());
    });
}

// Every processor waits. Something already pending (an IPI sent after its target's turn, a
// device interrupt at the end of the quantum) is taken in the next round; otherwise time jumps
// from wake-up source to wake-up source (an APIC timer, or a device event while some processor
// accepts interrupts) until one wakes a processor. None: the machine is halted for good (only
// NMI or INIT could end it, and nothing is going to send one).
bool Machine::skip_idle_time() {
    while (!control_.stop_requested()) {
        uint64_t wake = ~0ull;
        bool interruptible = false;
        for (const auto& core : cores_) {
            if (core->wake_pending()) return true;
            wake = std::min(wake, core->wake_cycle());
            interruptible = interruptible || core->interruptible_halt();
        }
        uint64_t device = 0;
        // A device event's process runs once SystemC has passed its instant: one cycle later.
        if (interruptible && bus_->next_event_cycle(device)) wake = std::min(wake, device + 1);
        if (wake == ~0ull) return false;
        if (wake <= now_) return true;
        for (auto& core : cores_) core->idle_until(wake);
        now_ = wake;
        bus_->advance_to(now_);
    }
    return true;
}

std::string Machine::stats_json(const RunResult& last) const {
    JsonStats j;
    j.scalar("instructions", static_cast<double>(total_instructions_), "count", "");
    j.scalar("host_seconds", total_host_seconds_, "s", "");
    j.scalar("mips", total_host_seconds_ > 0 ? total_instructions_ / total_host_seconds_ / 1e6 : 0, "", "");
    j.scalar("exit_status", last.exit_status, "", "");
    j.raw("stop_reason", json_escape(to_string(last.reason)));
    j.raw("message", json_escape(last.message));
    j.raw("vendor", json_escape(cpu::to_string(config_.vendor)));
    JsonStats counters;
    report(counters);
    j.raw("counters", counters.str());
    return j.str();
}

bool Machine::read_memory(uint64_t paddr, void* out, size_t size) { return cores_[0]->read_physical(paddr, out, size); }
bool Machine::write_memory(uint64_t paddr, const void* data, size_t size) {
    for (auto& c : cores_) c->flush_tlb();
    return cores_[0]->write_physical(paddr, data, size);
}

}  // namespace sim
