// Segment descriptors (SDM Vol. 3A 3.4.5 "Segment Descriptors", 6.11/6.14.1 gate descriptors).
// Context: pure functions on descriptor bits.
#pragma once
#include <cstdint>

#include "cpu/state.h"

namespace cpu {

// The hidden-register form of an 8-byte code/data/system descriptor (`high` is the upper
// 8 bytes of a 16-byte system descriptor in long mode: base bits 63:32).
inline Segment segment_from_descriptor(uint16_t selector, uint64_t d, uint64_t high = 0) {
    Segment s;
    s.selector = selector;
    s.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24) | ((high & 0xffffffff) << 32);
    uint32_t limit = static_cast<uint32_t>((d & 0xffff) | (((d >> 48) & 0xf) << 16));
    const bool granular = (d >> 55) & 1;
    if (granular) limit = (limit << 12) | 0xfff;
    s.limit = limit;
    // Access-rights bits 40..47 and 52..55 of the descriptor, VMX layout.
    s.attributes = static_cast<uint32_t>(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 12));
    return s;
}

struct Gate {
    uint16_t selector;
    uint64_t offset;
    uint8_t type;  // 4 bits
    uint8_t dpl;
    bool present;
    uint8_t ist;   // long mode only
};

inline Gate gate_from_descriptor(uint64_t lo, uint64_t hi, bool long_mode) {
    Gate g;
    g.selector = static_cast<uint16_t>(lo >> 16);
    g.offset = (lo & 0xffff) | (((lo >> 48) & 0xffff) << 16);
    if (long_mode) g.offset |= (hi & 0xffffffff) << 32;
    g.type = static_cast<uint8_t>((lo >> 40) & 0xf);
    g.dpl = static_cast<uint8_t>((lo >> 45) & 3);
    g.present = (lo >> 47) & 1;
    g.ist = long_mode ? static_cast<uint8_t>((lo >> 32) & 7) : 0;
    return g;
}

}  // namespace cpu
