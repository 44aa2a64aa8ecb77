// What a machine is made of: vendor, memory, devices, run parameters. Shared by the CLI and the
// Python module so both expose the same knobs. Context: API edge.
#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "cpu/core.h"

namespace sim {

// A set-up error (bad flag, missing or malformed image): reported, never a crash.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct MachineConfig {
    cpu::Vendor vendor = cpu::Vendor::intel;
    uint64_t memory_bytes = 64ull << 20;
    unsigned cpus = 1;                 // processor 0 is the BSP; the others wait for SIPI
    std::string serial = "stdio";     // "stdio", "none", or a file path
    uint64_t quantum = 10000;          // instructions a processor runs before the next one runs
                                       // and devices catch up (round-robin, deterministic)
    uint32_t apic_bus_divisor = 1;     // core cycles per local APIC timer (bus clock) tick
    bool count_mnemonics = false;      // per-mnemonic retired counts ("every counter on")
    uint64_t cycle_period_ps = 1000;   // 1 GHz
    // Hardware virtualization: a feature preset of the vendor's extension (Intel VMX, AMD SVM;
    // sim/machine/virtualization.cpp lists them), or "none": CPUID reports neither.
    std::string virtualization = "none";
};

// "64M", "1G", "4096", "512K" -> bytes; throws ConfigError.
uint64_t parse_size(const std::string& text);
cpu::Vendor parse_vendor(const std::string& text);

// The extension processor `cpu` gets under config.virtualization (null for "none"); throws
// ConfigError naming the presets for an unknown one.
std::unique_ptr<cpu::Virtualization> make_virtualization(const MachineConfig& config, unsigned cpu);

}  // namespace sim
