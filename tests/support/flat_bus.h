// A flat-memory bus for unit tests: RAM in a vector, port writes recorded, the debug-exit port
// at 0xf4 stopping the run like bus::DebugExit. Context: tests only.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "sim/kernel/bus.h"

namespace test {

class FlatBus final : public sim::PhysicalBus {
public:
    explicit FlatBus(sim::RunControl& control, size_t bytes = 16 << 20) : ram(bytes, 0), control_(control) {}

    uint8_t* ram_page(uint64_t paddr) override {
        return paddr < ram.size() ? ram.data() + (paddr & sim::kPageMask) : nullptr;
    }
    uint64_t mmio_read(uint64_t paddr, unsigned size, uint64_t) override {
        mmio_reads.push_back(paddr);
        return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
    }
    void mmio_write(uint64_t paddr, unsigned, uint64_t value, uint64_t) override {
        mmio_writes.push_back({paddr, value});
    }
    uint64_t port_read(uint16_t port, unsigned, uint64_t) override {
        port_reads.push_back(port);
        return port_value;
    }
    void port_write(uint16_t port, unsigned, uint64_t value, uint64_t) override {
        port_writes.push_back({port, value});
        if (port == 0xf4) {
            control_.exit_value = value;
            control_.exit_status = static_cast<int>((value << 1) | 1);
            control_.request_stop(sim::StopReason::exit);
        }
    }
    void load(uint64_t addr, const std::vector<uint8_t>& bytes) {
        std::memcpy(ram.data() + addr, bytes.data(), bytes.size());
    }

    struct Write {
        uint64_t where, value;
    };
    std::vector<uint8_t> ram;
    std::vector<uint64_t> port_reads, mmio_reads;
    std::vector<Write> port_writes, mmio_writes;
    uint64_t port_value = 0;

private:
    sim::RunControl& control_;
};

}  // namespace test
