// Checks shared by the near and interrupt control transfers (CALL, RET, LOOP, IRET).
// Context: hot path, header-only.
#pragma once
#include "cpu/core.h"

namespace cpu {

// Canonical in the current paging mode: 57 bits with CR4.LA57, else 48 (SDM Vol. 1 3.3.7.1).
inline bool canonical(const State& s, uint64_t a) {
    const unsigned shift = (s.cr4 & cr4::la57) ? 7 : 16;
    return static_cast<uint64_t>(static_cast<int64_t>(a << shift) >> shift) == a;
}

// A new RIP must be canonical in 64-bit mode and within the CS limit elsewhere; otherwise the
// transfer raises #GP(0) before changing anything (SDM Vol. 2 "CALL", "RET", "LOOP", "IRET").
inline bool near_target_ok(const State& s, uint64_t target) {
    if (s.mode == Mode::long64) return canonical(s, target);
    return target <= s.seg[cs].limit;
}

}  // namespace cpu
