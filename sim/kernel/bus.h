// What a processor sees of the machine: physical memory (RAM by direct pointer, devices by
// access), the I/O-port space, and the run control devices may use to stop a run.
// Context: the core's slow paths (TLB misses, device accesses); implemented by bus/.
#pragma once
#include <cstdint>

namespace sim {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kPageMask = ~(kPageSize - 1);

class PhysicalBus {
public:
    virtual ~PhysicalBus() = default;
    // Host pointer to the start of the 4 KiB RAM page holding `paddr` (TLM-2.0 DMI), or nullptr
    // when the page is not RAM (a device, or nothing).
    virtual uint8_t* ram_page(uint64_t paddr) = 0;
    // Device accesses. `cycle` is the initiator's local time; the bus brings device time up to
    // it before the access (temporal decoupling synchronises on device access). Reads of
    // unmapped addresses return all ones; writes to them are dropped (as on a PC).
    virtual uint64_t mmio_read(uint64_t paddr, unsigned size, uint64_t cycle) = 0;
    virtual void mmio_write(uint64_t paddr, unsigned size, uint64_t value, uint64_t cycle) = 0;
    virtual uint64_t port_read(uint16_t port, unsigned size, uint64_t cycle) = 0;
    virtual void port_write(uint16_t port, unsigned size, uint64_t value, uint64_t cycle) = 0;
};

enum class StopReason : uint8_t {
    none,
    exit,             // the guest wrote the debug-exit port
    instruction_limit,
    shutdown,         // triple fault or shutdown state
    halted,           // every processor halted with nothing that can wake it
    host_error,       // the simulator could not go on (a diagnostic says why)
    user,             // stopped by the embedding program
};

const char* to_string(StopReason r);

// Set by devices (debug exit), by processors (shutdown) and by the embedder; read by the run loop.
struct RunControl {
    StopReason reason = StopReason::none;
    int exit_status = 0;      // debug-exit: (value << 1) | 1
    uint64_t exit_value = 0;  // what the guest wrote

    bool stop_requested() const { return reason != StopReason::none; }
    void request_stop(StopReason r) {
        if (reason == StopReason::none) reason = r;
    }
};

}  // namespace sim
