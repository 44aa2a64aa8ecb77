// Descriptor-table helpers shared by the system-instruction families (descriptor_tables.cpp,
// far.cpp): where a selector's descriptor lives, 16-byte system descriptors of IA-32e mode
// (SDM Vol. 3A 3.5 "System Descriptor Types", 7.2.3 "TSS Descriptor in 64-bit mode", 5.8.3.1
// "IA-32e Mode Call Gates"), and loading CS from a checked code descriptor.
// Context: instruction handlers (slow paths).
#pragma once
#include "cpu/core.h"
#include "cpu/descriptors.h"

namespace cpu {

// Descriptor type field values (SDM Vol. 3A Table 3-2, S = 0).
namespace sys {
inline constexpr unsigned tss16_available = 1, ldt = 2, tss16_busy = 3, call_gate16 = 4,
                          task_gate = 5, tss_available = 9, tss_busy = 0xb, call_gate = 0xc;
}

inline unsigned type_of(const Segment& s) { return s.attributes & 0xf; }
inline bool is_system(const Segment& s) { return !(s.attributes & 0x10); }
inline bool conforming_code(const Segment& s) { return s.code() && (s.attributes & 4); }

// The linear address of `selector`'s descriptor if `size` bytes of it lie within the GDT or
// LDT (a null or unusable LDT holds nothing); false otherwise. No fault.
inline bool descriptor_address(const State& s, uint16_t selector, unsigned size, uint64_t& linear) {
    const bool local = selector & 4;
    if (local && s.ldtr.unusable()) return false;
    const uint64_t base = local ? s.ldtr.base : s.gdtr.base;
    const uint64_t limit = local ? s.ldtr.limit : s.gdtr.limit;
    const uint64_t index = selector & ~7u;
    if (index + size - 1 > limit) return false;
    linear = base + index;
    return true;
}

// Reads the descriptor `selector` names: 8 bytes, or 16 for a system descriptor in IA-32e
// mode (the upper half then in `high`). #GP(selector) if it does not fit in its table.
inline bool read_descriptor_long(Core& c, uint16_t selector, uint64_t& low, uint64_t& high) {
    const uint32_t err = selector & ~3u;
    if (!c.read_descriptor(selector, low, err)) return false;
    high = 0;
    const bool system = !((low >> 44) & 1);
    if (!system || !(c.state().efer & efer::lma)) return true;
    uint64_t at;
    if (!descriptor_address(c.state(), selector, 16, at)) return c.raise_gp(err), false;
    return c.read_system(at + 8, &high, 8);
}

// The upper half of a 16-byte descriptor must have type 0 in bits 12:8 of its second dword
// (SDM Vol. 3A Figure 5-9, 7-4).
inline bool upper_type_clear(uint64_t high) { return ((high >> 40) & 0x1f) == 0; }

// Loads CS from a checked code-segment descriptor at privilege `cpl` (RPL := CPL), setting
// the descriptor's accessed bit in memory first (SDM Vol. 3A 3.4.5.1). False, with the fault
// pending and nothing changed, if that write faults.
inline bool load_code_segment(Core& c, uint16_t selector, uint64_t descriptor, unsigned cpl) {
    State& s = c.state();
    if (!(descriptor & (1ull << 40))) {
        descriptor |= 1ull << 40;
        uint64_t at = 0;
        descriptor_address(s, selector, 8, at);  // the caller read it: it fits
        if (!c.write_system(at, &descriptor, 8)) return false;
    }
    s.seg[cs] = segment_from_descriptor(static_cast<uint16_t>((selector & ~3u) | cpl), descriptor);
    s.cpl = static_cast<uint8_t>(cpl);
    c.refresh_mode();
    return true;
}

}  // namespace cpu
