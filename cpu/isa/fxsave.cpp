// FXSAVE/FXRSTOR (and the REX.W forms FXSAVE64/FXRSTOR64) with the 512-byte layout of SDM
// Vol. 2 FXSAVE (Tables 3-53, 3-56, 3-57), and LDMXCSR/STMXCSR. Where the manuals leave room
// the AMD behaviour is the one measured on Zen 4 (noted "measured"). FFXSR is not modelled.
#include "cpu/isa/operands.h"
#include "cpu/isa/sse_checks.h"

namespace cpu {
namespace {

// Byte offsets in the FXSAVE area.
constexpr unsigned kFcw = 0, kFsw = 2, kFtw = 4, kFop = 6, kFip = 8, kFcs = 12, kFdp = 16, kFds = 20,
                   kMxcsr = 24, kMxcsrMask = 28, kSt = 32, kXmm = 160, kArea = 512;

template <class T> T get(const uint8_t* a, unsigned at) {
    T v;
    std::memcpy(&v, a + at, sizeof v);
    return v;
}
template <class T> void put(uint8_t* a, unsigned at, T v) { std::memcpy(a + at, &v, sizeof v); }

// #NM for CR0.EM or CR0.TS on AMD (APM Vol. 4 FXSAVE/FXRSTOR "Exceptions"); Intel's pages list
// #UD for CR0.EM, then #NM for CR0.TS (SDM Vol. 2 FXSAVE "Protected Mode Exceptions").
bool fxsr_usable(Core& c) {
    const uint64_t cr0 = c.state().cr0;
    if ((cr0 & cr0::em) && c.vendor() == Vendor::intel) return c.raise_ud(), false;
    if (cr0 & (cr0::em | cr0::ts)) return c.raise(sim::Vector::device_not_available), false;
    return true;
}

// With CR4.OSFXSR=0 the XMM registers are neither saved nor restored; MXCSR still is on Intel
// but not on AMD (implementation dependent per SDM Vol. 2 FXSAVE; APM Vol. 4 FXSAVE).
bool with_xmm(const Core& c) { return c.state().cr4 & cr4::osfxsr; }
bool with_mxcsr(const Core& c) { return with_xmm(c) || c.vendor() == Vendor::intel; }
unsigned xmm_count(const Core& c) { return c.long64() ? 16 : 8; }

// Tag of a non-empty register from its contents (SDM Vol. 2 FXSAVE "Recreating FSAVE Format"):
// 0 valid, 1 zero, 2 special. Measured on Zen 4 for zeros, denormals, pseudo-denormals,
// unnormals, infinities and NaNs.
unsigned tag_from_contents(const uint8_t* r) {
    const uint64_t mantissa = get<uint64_t>(r, 0);
    const unsigned exponent = get<uint16_t>(r, 8) & 0x7fff;
    if (exponent == 0x7fff) return 2;
    if (exponent == 0) return mantissa == 0 ? 1 : 2;
    return (mantissa >> 63) ? 0 : 2;
}

// AMD keeps 57 bits of FIP/FDP, sign-extended (measured on Zen 4 with FXRSTOR64/FXSAVE64).
uint64_t pointer_bits(const Core& c, uint64_t v) {
    return c.vendor() == Vendor::amd ? static_cast<uint64_t>(static_cast<int64_t>(v << 7) >> 7) : v;
}

void save_x87(const Core& c, bool wide, uint8_t* a) {
    const X87State& x = c.state().x87;
    put<uint16_t>(a, kFcw, x.fcw);
    put<uint16_t>(a, kFsw, x.fsw);
    uint8_t abridged = 0;  // one bit per non-empty physical register
    for (unsigned p = 0; p < 8; ++p)
        if (((x.ftw >> (2 * p)) & 3) != 3) abridged |= static_cast<uint8_t>(1u << p);
    a[kFtw] = abridged;
    // AMD stores FOP/FIP/FDP only while FSW.ES=1, zeros otherwise (APM Vol. 4 FXSAVE; measured).
    // FCS/FDS: kept by AMD (measured); deprecated on Intel, saved as 0 (CPUID.07H:EBX[13]).
    if (c.vendor() == Vendor::amd && !(x.fsw & 0x80)) return;
    put<uint16_t>(a, kFop, x.fop);
    if (wide) {
        put<uint64_t>(a, kFip, x.fip);
        put<uint64_t>(a, kFdp, x.fdp);
    } else {
        const bool selectors = c.vendor() == Vendor::amd;
        put<uint32_t>(a, kFip, static_cast<uint32_t>(x.fip));
        put<uint16_t>(a, kFcs, selectors ? x.fcs : 0);
        put<uint32_t>(a, kFdp, static_cast<uint32_t>(x.fdp));
        put<uint16_t>(a, kFds, selectors ? x.fds : 0);
    }
}

void save_image(const Core& c, bool wide, uint8_t* a) {
    const State& s = c.state();
    std::memset(a, 0, kXmm);  // reserved bytes 5, 14-15, 22-23 and 10-15 of each ST slot: 0 (measured)
    save_x87(c, wide, a);
    put<uint32_t>(a, kMxcsr, s.mxcsr);
    put<uint32_t>(a, kMxcsrMask, mxcsr_mask(c));
    const unsigned top = (s.x87.fsw >> 11) & 7;
    for (unsigned i = 0; i < 8; ++i) std::memcpy(a + kSt + 16 * i, s.x87.st[(top + i) & 7], 10);
    std::memcpy(a + kXmm, s.xmm, 16 * xmm_count(c));
}

void restore_image(Core& c, bool wide, const uint8_t* a) {
    State& s = c.state();
    X87State& x = s.x87;
    x.fcw = x87_control_word(get<uint16_t>(a, kFcw));
    x.fsw = x87_status_word(get<uint16_t>(a, kFsw), x.fcw);
    x.fop = get<uint16_t>(a, kFop) & 0x7ff;
    if (wide) {
        x.fip = pointer_bits(c, get<uint64_t>(a, kFip));
        x.fdp = pointer_bits(c, get<uint64_t>(a, kFdp));
        x.fcs = x.fds = 0;
    } else {
        x.fip = get<uint32_t>(a, kFip);
        x.fcs = get<uint16_t>(a, kFcs);
        x.fdp = get<uint32_t>(a, kFdp);
        x.fds = get<uint16_t>(a, kFds);
    }
    const unsigned top = (x.fsw >> 11) & 7;
    for (unsigned i = 0; i < 8; ++i) std::memcpy(x.st[(top + i) & 7], a + kSt + 16 * i, 10);
    uint16_t ftw = 0;
    for (unsigned p = 0; p < 8; ++p)
        ftw |= static_cast<uint16_t>(((a[kFtw] >> p) & 1 ? tag_from_contents(x.st[p]) : 3u) << (2 * p));
    x.ftw = ftw;
    if (with_mxcsr(c)) s.mxcsr = get<uint32_t>(a, kMxcsr);
    if (with_xmm(c)) std::memcpy(s.xmm, a + kXmm, 16 * xmm_count(c));
}

// FXSAVE writes bytes 0..287 (non-64-bit modes) or 0..415 and leaves the rest alone, but the
// whole 512 bytes are checked: a fault on bytes 464..511 alone is raised (measured on Zen 4).
// Area within one page (64-bit mode): writing the written part checks that page. Otherwise
// the area is read and written back whole. Known deviations: a not-present page reached only
// through that read reports #PF with W=0; a segment limit ending inside the unwritten tail
// of a one-page area in 64-bit mode cannot happen (no limits there).
template <bool Wide> Outcome fxsave(Core& c, const Insn& i) {
    if (!fxsr_usable(c)) return Outcome::fault;
    const uint64_t ea = c.effective_address(i);
    alignas(16) uint8_t a[kArea];
    save_image(c, Wide, a);
    const unsigned written = kXmm + (with_xmm(c) ? 16 * xmm_count(c) : 0);
    const uint64_t base = c.long64() && i.seg < fs ? 0 : c.state().seg[i.seg].base;
    const bool one_page = ((base + ea) & 0xfff) + kArea <= 4096;
    if (c.long64() && one_page && with_mxcsr(c))
        return c.write_bytes(i.seg, ea, a, written, 16) ? Outcome::next : Outcome::fault;
    alignas(16) uint8_t old[kArea];
    if (!c.read_bytes(i.seg, ea, old, kArea, 16)) return Outcome::fault;
    if (!with_mxcsr(c)) std::memcpy(a + kMxcsr, old + kMxcsr, 8);
    std::memcpy(a + written, old + written, kArea - written);
    return c.write_bytes(i.seg, ea, a, kArea, 16) ? Outcome::next : Outcome::fault;
}

// FXRSTOR: #GP(0) for MXCSR bits outside MXCSR_MASK, after the memory checks (SDM Vol. 2
// FXRSTOR); the MXCSR_MASK field of the image is ignored (measured).
template <bool Wide> Outcome fxrstor(Core& c, const Insn& i) {
    if (!fxsr_usable(c)) return Outcome::fault;
    alignas(16) uint8_t a[kArea];
    if (!c.read_bytes(i.seg, c.effective_address(i), a, kArea, 16)) return Outcome::fault;
    if (with_mxcsr(c) && (get<uint32_t>(a, kMxcsr) & ~mxcsr_mask(c))) return c.raise_gp(0);
    restore_image(c, Wide, a);
    return Outcome::next;
}

// LDMXCSR m32: #GP(0) for reserved bits (SDM Vol. 2 LDMXCSR); STMXCSR m32.
Outcome ldmxcsr(Core& c, const Insn& i) {
    if (!sse_usable(c)) return Outcome::fault;
    uint64_t v;
    if (!c.read<4>(i.seg, c.effective_address(i), v)) return Outcome::fault;
    if (v & ~uint64_t{mxcsr_mask(c)}) return c.raise_gp(0);
    c.state().mxcsr = static_cast<uint32_t>(v);
    return Outcome::next;
}

Outcome stmxcsr(Core& c, const Insn& i) {
    if (!sse_usable(c)) return Outcome::fault;
    return c.write<4>(i.seg, c.effective_address(i), c.state().mxcsr) ? Outcome::next : Outcome::fault;
}

template <Handler H> bool build_memory(const DecodeContext& c, Insn& i) {
    if (!c.is_mem(0)) return false;
    i.fn = H;
    return true;
}

}  // namespace

void register_fxsave(Registry& r) {
    r.add(ZYDIS_MNEMONIC_FXSAVE, &build_memory<&fxsave<false>>);
    r.add(ZYDIS_MNEMONIC_FXSAVE64, &build_memory<&fxsave<true>>);
    r.add(ZYDIS_MNEMONIC_FXRSTOR, &build_memory<&fxrstor<false>>);
    r.add(ZYDIS_MNEMONIC_FXRSTOR64, &build_memory<&fxrstor<true>>);
    r.add(ZYDIS_MNEMONIC_LDMXCSR, &build_memory<&ldmxcsr>);
    r.add(ZYDIS_MNEMONIC_STMXCSR, &build_memory<&stmxcsr>);
}

}  // namespace cpu
