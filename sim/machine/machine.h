// A whole simulated PC: processors, the SystemC bus with its devices, run control, the event
// stream and the loaders, built from a MachineConfig. The CLI and the Python module are thin
// layers over this class. Context: API edge (set-up errors are ConfigError exceptions).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "cpu/core.h"
#include "sim/kernel/bus.h"
#include "sim/kernel/event.h"
#include "sim/kernel/stats.h"
#include "sim/machine/config.h"
#include "sim/machine/loaders.h"
#include "sim/machine/trace_writers.h"

namespace bus {
class SystemBus;
struct PcDevices;
}

namespace sim {

class ApicFabric;

struct RunResult {
    uint64_t instructions = 0;  // retired during this run() call, all processors
    double host_seconds = 0;
    StopReason reason = StopReason::none;
    int exit_status = 0;        // debug-exit status ((value << 1) | 1) when reason == exit
    std::string message;        // why it stopped, one line (shutdown cause, unimplemented ...)
    double mips() const { return host_seconds > 0 ? instructions / host_seconds / 1e6 : 0; }
};

class Machine {
public:
    explicit Machine(const MachineConfig& config);
    ~Machine();
    Machine(const Machine&) = delete;
    Machine& operator=(const Machine&) = delete;

    LoadedImage load_kernel(const std::string& path, const std::string& cmdline = "");
    LoadedImage load_flat(const std::string& path, uint64_t address);
    LoadedImage load_linux(const std::string& bzimage, const std::string& initrd = "",
                           const std::string& cmdline = "");

    // Runs until the guest exits, shuts down, halts for good, or `max_instructions` retire
    // (0 = no limit). Can be called again to continue.
    RunResult run(uint64_t max_instructions = 0);

    cpu::Core& cpu(unsigned index = 0) { return *cores_.at(index); }
    unsigned cpu_count() const { return static_cast<unsigned>(cores_.size()); }
    EventStream& events() { return events_; }
    RunControl& control() { return control_; }
    const MachineConfig& config() const { return config_; }
    const std::string& serial_output() const { return serial_capture_; }  // when serial == "capture"

    void report(StatsWriter& out) const;  // every counter of every component
    std::string stats_json(const RunResult& last) const;  // the CLI's --stats object
    const RecentEvents& recent_events() const { return *recent_; }

    bool read_memory(uint64_t paddr, void* out, size_t size);
    bool write_memory(uint64_t paddr, const void* data, size_t size);

private:
    void wire_interrupts(const bus::PcDevices& devices);
    bool skip_idle_time();

    MachineConfig config_;
    RunControl control_;
    EventStream events_;
    std::unique_ptr<bus::SystemBus> bus_;
    std::vector<std::unique_ptr<cpu::Core>> cores_;
    std::unique_ptr<ApicFabric> fabric_;
    uint64_t now_ = 0;  // simulated time every processor has reached (the round-robin's clock)
    std::shared_ptr<RecentEvents> recent_;
    std::FILE* serial_file_ = nullptr;
    std::string serial_capture_;
    uint64_t total_instructions_ = 0;
    double total_host_seconds_ = 0;
};

}  // namespace sim
