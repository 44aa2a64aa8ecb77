// Machine composition and the run loop (temporal decoupling: processors run a quantum ahead,
// then the SystemC devices catch up; device accesses synchronise on their own).
#include "sim/machine/machine.h"

#include <cerrno>
#include <chrono>
#include <cstring>

#include "bus/pc_devices.h"
#include "bus/system_bus.h"

namespace sim {

Machine::Machine(const MachineConfig& config) : config_(config) {
    if (config_.memory_bytes < (1ull << 20) || (config_.memory_bytes & 0xfff))
        throw ConfigError("memory size must be at least 1 MiB and a multiple of 4 KiB");
    if (config_.memory_bytes > (64ull << 30)) throw ConfigError("memory size above 64 GiB is not supported");
    if (config_.cpus != 1)
        throw ConfigError("--cpus " + std::to_string(config_.cpus) + ": this build runs one processor (SMP arrives with the system-architecture work)");
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
    bus::attach_pc_devices(*bus_, control_, sink);
    bus_->elaborate();

    for (unsigned id = 0; id < config_.cpus; ++id)
        cores_.push_back(std::make_unique<cpu::Core>(cpu::CoreConfig{config_.vendor, id, config_.count_mnemonics},
                                                     *bus_, events_, control_));
    recent_ = std::make_shared<RecentEvents>(16);
    events_.subscribe(recent_, EventStream::all_kinds & ~EventStream::bit(EventKind::page_walk));
}

Machine::~Machine() {
    events_.flush();
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
        uint64_t budget = config_.quantum;
        if (max_instructions) {
            if (r.instructions >= max_instructions) {
                control_.request_stop(StopReason::instruction_limit);
                break;
            }
            budget = std::min(budget, max_instructions - r.instructions);
        }
        bool all_halted = true;
        uint64_t latest = 0;
        for (auto& core : cores_) {
            r.instructions += core->run(budget);
            all_halted = all_halted && core->halted();
            latest = std::max(latest, core->cycle());
        }
        bus_->advance_to(latest);
        // Nothing can wake a halted processor yet (no interrupt controllers in this build).
        if (all_halted && !control_.stop_requested()) control_.request_stop(StopReason::halted);
    }
    r.host_seconds = std::chrono::duration<double>(clock::now() - t0).count();
    r.reason = control_.reason;
    r.exit_status = control_.exit_status;
    const cpu::Core& c0 = *cores_[0];
    switch (r.reason) {
        case StopReason::exit: r.message = "guest wrote 0x" + cpu::hex(control_.exit_value) + " to the debug-exit port"; break;
        case StopReason::instruction_limit: r.message = "instruction limit reached"; break;
        case StopReason::halted: r.message = "all processors halted (HLT) with nothing to wake them"; break;
        case StopReason::shutdown:
        case StopReason::host_error: r.message = c0.last_error(); break;
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
