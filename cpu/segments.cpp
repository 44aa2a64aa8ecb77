// Segment-register loads: real mode, and protected/long mode with the checks of
// SDM Vol. 2 "MOV—Move" / "POP—Pop" (segment register forms) and Vol. 3A 5.5-5.6.
// Context: instruction handlers and exception delivery; faults become pending exceptions.
#include "cpu/core.h"
#include "cpu/descriptors.h"

namespace cpu {

bool Core::read_descriptor(uint16_t selector, uint64_t& descriptor, uint32_t error_code) {
    const bool local = selector & 4;
    const TableRegister table = local ? TableRegister{s_.ldtr.base, s_.ldtr.limit} : s_.gdtr;
    const uint32_t index = selector & ~7u;
    if ((local && s_.ldtr.unusable()) || index + 7 > table.limit) {
        raise_gp(error_code);
        return false;
    }
    return read_system(table.base + index, &descriptor, 8);
}

bool Core::load_segment(unsigned seg, uint16_t selector) {
    Segment& sg = s_.seg[seg];
    if (s_.mode == Mode::real || s_.mode == Mode::v8086) {
        sg.selector = selector;
        sg.base = static_cast<uint64_t>(selector) << 4;
        if (s_.mode == Mode::v8086) sg.attributes = 0xf3 | (seg == cs ? 0x8 : 0), sg.limit = 0xffff;
        refresh_mode();
        return true;
    }
    const unsigned rpl = selector & 3;
    const unsigned cpl = s_.cpl;
    if ((selector & ~3u) == 0) {
        // Null selector: allowed for DS/ES/FS/GS; for SS only in 64-bit mode below CPL 3.
        if (seg == ss && !(s_.mode == Mode::long64 && cpl < 3 && rpl == cpl)) return raise_gp(0), false;
        if (seg == cs) return raise_gp(0), false;
        sg = Segment{selector, 0, 0, 0x10000};
        refresh_mode();
        return true;
    }
    uint64_t d;
    if (!read_descriptor(selector, d, selector & ~3u)) return false;
    Segment n = segment_from_descriptor(selector, d);
    const uint32_t err = selector & ~3u;
    const bool system = !(n.attributes & 0x10);
    const bool code = n.code();
    const bool readable = !code || (n.attributes & 2);
    const bool writable = !code && (n.attributes & 2);
    if (seg == ss) {
        if (rpl != cpl || system || !writable || n.dpl() != cpl) return raise_gp(err), false;
        if (!n.present()) return raise(sim::Vector::stack_fault, err), false;
    } else if (seg == cs) {
        // Far transfers load CS through their own paths; this is the plain data-segment rule
        // used by loaders and far jumps to same-privilege code.
        if (system || !code) return raise_gp(err), false;
        if (!n.present()) return raise(sim::Vector::segment_not_present, err), false;
    } else {
        if (system || !readable) return raise_gp(err), false;
        const bool conforming = code && (n.attributes & 4);
        if (!conforming && (rpl > n.dpl() || cpl > n.dpl())) return raise_gp(err), false;
        if (!n.present()) return raise(sim::Vector::segment_not_present, err), false;
    }
    // Set the accessed bit in memory (SDM 3.4.5.1) if it is clear.
    if (!(d & (1ull << 40))) {
        d |= 1ull << 40;
        const TableRegister table = (selector & 4) ? TableRegister{s_.ldtr.base, s_.ldtr.limit} : s_.gdtr;
        if (!write_system(table.base + (selector & ~7u), &d, 8)) return false;
        n.attributes |= 1;
    }
    sg = n;
    if (seg == cs) s_.cpl = static_cast<uint8_t>(n.code() && (n.attributes & 4) ? cpl : rpl);
    refresh_mode();
    return true;
}

}  // namespace cpu
