// A device's input clock against SystemC time: which pulse has happened at a picosecond, and
// when a pulse happens. Context: timers (PIT, RTC) that count their own clock and schedule
// SystemC events at its edges.
//
// Pulses are counted from time zero and placed on whole picoseconds without accumulating
// error: pulse n happens at ceil(n * 1e12 / hz) ps, so ticks_at(time_of(n)) == n for any
// clock slower than 1 THz, and the same accesses at the same times always see the same pulses.
#pragma once

#include <cstdint>

namespace bus {

struct DeviceClock {
    static constexpr uint64_t kPsPerSecond = 1'000'000'000'000;
    uint64_t hz;

    // The number of the last pulse at or before `ps` (pulse 0 is at time zero).
    constexpr uint64_t ticks_at(uint64_t ps) const {
        return static_cast<uint64_t>(static_cast<unsigned __int128>(ps) * hz / kPsPerSecond);
    }
    // The first picosecond at which pulse `tick` has happened.
    constexpr uint64_t time_of(uint64_t tick) const {
        return static_cast<uint64_t>(
            (static_cast<unsigned __int128>(tick) * kPsPerSecond + hz - 1) / hz);
    }
};

}  // namespace bus
