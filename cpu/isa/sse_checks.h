// Availability checks and vendor facts shared by the SSE, FXSAVE and x87-control families:
// which CR0/CR4 settings make these instructions fault, MXCSR's writable bits, and the x87
// status-word summary bits. Context: hot path (every SSE/x87 handler starts here), header-only.
#pragma once
#include "cpu/core.h"

namespace cpu {

namespace mxcsr_bit {
inline constexpr uint32_t mm = 1u << 17;  // AMD misaligned SSE mode (APM Vol. 1 "MXCSR Register")
}

// SSE/SSE2: #UD if CR0.EM=1 or CR4.OSFXSR=0, then #NM if CR0.TS=1 (SDM Vol. 3A 2.5 "Control
// Registers" and 13.2 "Emulation of SSE Extensions", Table 13-1; #UD takes priority over #NM).
inline bool sse_usable(Core& c) {
    const State& s = c.state();
    if ((s.cr0 & cr0::em) || !(s.cr4 & cr4::osfxsr)) return c.raise_ud(), false;
    if (s.cr0 & cr0::ts) return c.raise(sim::Vector::device_not_available), false;
    return true;
}

// x87 instructions other than WAIT: #NM if CR0.EM=1 or CR0.TS=1 (SDM Vol. 3A 2.5, Table 2-2
// "Action Taken By x87 FPU Instructions for Different Combinations of EM, MP, and TS").
inline bool x87_usable(Core& c) {
    if (c.state().cr0 & (cr0::em | cr0::ts)) return c.raise(sim::Vector::device_not_available), false;
    return true;
}

// WAIT/FWAIT: #NM only if CR0.MP=1 and CR0.TS=1, whatever EM (same table).
inline bool fwait_usable(Core& c) {
    const uint64_t mp_ts = cr0::mp | cr0::ts;
    if ((c.state().cr0 & mp_ts) == mp_ts) return c.raise(sim::Vector::device_not_available), false;
    return true;
}

// Waiting x87 instructions (WAIT, FLDCW ...) first deliver a pending unmasked x87 exception:
// #MF when CR0.NE=1 (SDM Vol. 1 8.7 "Handling x87 FPU Exceptions in Software"). With NE=0
// the PC-style FERR#/IGNNE# path is not modelled: the instruction proceeds as if IGNNE#.
inline bool x87_no_pending_exception(Core& c) {
    const State& s = c.state();
    if ((s.x87.fsw & 0x80) && (s.cr0 & cr0::ne)) return c.raise(sim::Vector::x87_fpu_error), false;
    return true;
}

// MXCSR bits software may set; also FXSAVE's MXCSR_MASK. DAZ is supported by both vendors;
// AMD adds MM (bit 17). Host-measured on Zen 4: 0x0002ffff; Intel: 0x0000ffff
// (SDM Vol. 1 11.6.6 "Guidelines for Writing to the MXCSR Register").
inline uint32_t mxcsr_mask(const Core& c) {
    return c.vendor() == Vendor::amd ? 0x2ffffu : 0xffffu;
}

// Alignment of a 16-byte memory operand of an ordinary SSE instruction: 16, or 1 in AMD's
// misaligned SSE mode (MXCSR.MM=1; APM Vol. 1 "Misaligned Exception Mask"). The explicitly aligned
// moves (MOVAPS/MOVAPD/MOVDQA/MOVNT*) and FXSAVE/FXRSTOR keep #GP (measured on Zen 4).
inline unsigned sse_alignment(const Core& c) { return (c.state().mxcsr & mxcsr_bit::mm) ? 1 : 16; }

// x87 control word as stored: bits 7 and 13-15 read 0, bit 6 reads 1 (measured on Zen 4:
// FLDCW 0xffff -> 0x1f7f, FLDCW 0 -> 0x0040).
inline uint16_t x87_control_word(uint16_t v) { return static_cast<uint16_t>((v & 0x1f3f) | 0x40); }

// x87 status word with ES (bit 7) and B (bit 15) recomputed from the exception flags the
// control word leaves unmasked (SDM Vol. 1 8.1.3.1; measured: FXRSTOR and FLDCW both do this).
inline uint16_t x87_status_word(uint16_t fsw, uint16_t fcw) {
    const bool pending = (fsw & ~fcw & 0x3f) != 0;
    return static_cast<uint16_t>((fsw & 0x7f7f) | (pending ? 0x8080 : 0));
}

}  // namespace cpu
