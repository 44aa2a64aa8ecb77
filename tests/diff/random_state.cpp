// Seeded random start states shaped by a form's rules (see forms.def for the rule language).
// Context: host, harness only.
#include "random_state.h"

#include <cstring>

namespace diff {

namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15;

// The splitmix64 output function (Steele, Lea, Flood 2014).
uint64_t mix64(uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
    x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
    return x ^ (x >> 31);
}

uint64_t low_mask(unsigned bits) { return bits >= 64 ? ~0ull : (1ull << bits) - 1; }

// Bytes outside the data page are dropped: rules may reach past its edges.
void poke(DiffState& s, uint64_t addr, const void* src, size_t size) {
    const auto* bytes = static_cast<const uint8_t*>(src);
    for (size_t i = 0; i < size; ++i) {
        const uint64_t a = addr + i;
        if (a >= kDataAddr && a < kDataAddr + kDataSize) s.mem[a - kDataAddr] = bytes[i];
    }
}

void peek(const DiffState& s, uint64_t addr, void* dst, size_t size) {
    auto* bytes = static_cast<uint8_t*>(dst);
    for (size_t i = 0; i < size; ++i) {
        const uint64_t a = addr + i;
        bytes[i] = a >= kDataAddr && a < kDataAddr + kDataSize ? s.mem[a - kDataAddr] : 0;
    }
}

// Bytes of a rule's source: a GPR or (kXmmReg + i) xmm i.
const uint8_t* source_bytes(const DiffState& s, uint8_t src) {
    if (src >= kXmmReg) return s.xmm[src - kXmmReg];
    return reinterpret_cast<const uint8_t*>(&s.gpr[src]);
}

}  // namespace

uint64_t form_seed(uint64_t run_seed, std::string_view form_name) {
    uint64_t h = 0xcbf29ce484222325;  // FNV-1a
    for (char c : form_name) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3;
    return mix64(run_seed ^ h ^ kGolden);
}

// A boundary value of a random width, its upper bits zero, ones or random.
uint64_t StateGenerator::interesting() {
    static constexpr unsigned widths[] = {8, 16, 32, 64};
    const unsigned w = widths[below(4)];
    const uint64_t mask = low_mask(w);
    const uint64_t sign = 1ull << (w - 1);
    uint64_t v = 0;
    switch (below(11)) {
    case 0: v = 0; break;
    case 1: v = 1; break;
    case 2: v = mask; break;  // -1
    case 3: v = sign; break;  // most negative
    case 4: v = sign - 1; break;  // most positive
    case 5: v = sign + 1; break;
    case 6: v = mask - 1; break;
    case 7: v = below(72); break;  // small counts and indices
    case 8: v = 1ull << below(w); break;
    case 9: v = mask ^ (1ull << below(w)); break;
    default: v = bits() & mask; break;
    }
    switch (below(3)) {
    case 0: return v;                   // zero-extended
    case 1: return v | ~mask;           // ones above
    default: return v | (bits() & ~mask);
    }
}

uint64_t StateGenerator::bits() {
    stream_ += kGolden;
    return mix64(stream_);
}

uint64_t StateGenerator::gpr_value() { return chance(2) ? bits() : interesting(); }

void StateGenerator::fill_xmm(DiffState& s) {
    for (auto& x : s.xmm) {
        for (int i = 0; i < 16; i += 8) {
            const uint64_t v = bits();
            std::memcpy(x + i, &v, 8);
        }
    }
    for (int r = 0; r < 16; ++r) {
        uint8_t* x = s.xmm[r];
        switch (below(8)) {
        case 0:  // lanes equal to another register's, some changed (PCMPEQ, PXOR, ...)
            std::memcpy(x, s.xmm[below(16)], 16);
            for (int i = 0; i < 16; ++i)
                if (chance(4)) x[i] = static_cast<uint8_t>(bits());
            break;
        case 1: std::memset(x, 0, 16); break;
        case 2: std::memset(x, 0xff, 16); break;
        case 3: {  // boundary values in every lane of a random width
            const uint64_t v = interesting();
            const size_t lane = size_t{1} << below(4);
            for (size_t i = 0; i < 16; i += lane) std::memcpy(x + i, &v, lane);
            break;
        }
        default: break;  // random
        }
    }
}

void StateGenerator::apply_register_rule(const Rule& r, DiffState& s) {
    uint64_t v = 0;
    switch (r.kind) {
    case RuleKind::ptr: {
        const auto off = static_cast<uint64_t>(r.lo) + below(static_cast<uint64_t>(r.hi - r.lo));
        v = kDataAddr + (off & ~static_cast<uint64_t>(r.align - 1));
        break;
    }
    case RuleKind::range:
        v = static_cast<uint64_t>(r.lo) + below(static_cast<uint64_t>(r.hi - r.lo) + 1);
        break;
    case RuleKind::target: v = kSnippetAddr + static_cast<uint64_t>(r.lo); break;
    case RuleKind::eq: v = s.gpr[r.src]; break;
    case RuleKind::sext: v = (s.gpr[r.src] >> (r.elem - 1)) & 1 ? ~0ull : 0; break;
    default: return;
    }
    const uint64_t mask = low_mask(r.bits);
    s.gpr[r.reg] = (s.gpr[r.reg] & ~mask) | (v & mask);
}

void StateGenerator::apply_memory_rule(const Rule& r, DiffState& s) {
    const uint64_t at = s.gpr[r.reg] + static_cast<uint64_t>(static_cast<int64_t>(r.disp));
    switch (r.kind) {
    case RuleKind::mem_target: {
        const uint64_t v = kSnippetAddr + static_cast<uint64_t>(r.lo);
        poke(s, at, &v, 8);
        break;
    }
    case RuleKind::mem_flags: {  // what POPF at CPL 3 may meet, minus TF, NT, AC, ID, VM, RF
        constexpr uint64_t reserved = 1u << 3 | 1u << 5 | 1u << 15;
        constexpr uint64_t iopl = 3u << 12;
        const uint64_t v = (bits() & (rflags::random_mask | reserved | iopl | rflags::if_)) |
                           rflags::fixed1;
        poke(s, at, &v, 8);
        break;
    }
    case RuleKind::mem_eq: {
        poke(s, at, source_bytes(s, r.src), r.elem);
        if (r.src2 != kNoReg) poke(s, at + r.elem, source_bytes(s, r.src2), r.elem);
        if (chance(3)) {  // near misses
            const size_t n = r.src2 != kNoReg ? 2u * r.elem : r.elem;
            for (size_t i = 0; i < n; ++i) {
                const auto b = static_cast<uint8_t>(bits());
                if (chance(4)) poke(s, at + i, &b, 1);
            }
        }
        break;
    }
    case RuleKind::mem_copy:
    case RuleKind::mem_pattern: {
        // Elements run down when DF=1. Modes: none equal, all, all but one, only one.
        const int64_t step = s.rflags & rflags::df ? -r.elem : r.elem;
        const auto n = static_cast<uint64_t>(r.lo);
        const uint64_t mode = below(4), odd = below(n);
        for (uint64_t k = 0; k < n; ++k) {
            const bool equal = mode == 1 || (mode == 2 && k != odd) || (mode == 3 && k == odd);
            if (!equal) continue;
            uint8_t elem[8];
            if (r.kind == RuleKind::mem_copy)
                peek(s, s.gpr[r.src] + k * static_cast<uint64_t>(step), elem, r.elem);
            else
                std::memcpy(elem, source_bytes(s, r.src), r.elem);
            poke(s, at + k * static_cast<uint64_t>(step), elem, r.elem);
        }
        break;
    }
    default: break;
    }
}

// Interesting values around an address the instruction is likely to read.
void StateGenerator::sprinkle(uint64_t addr, DiffState& s) {
    for (int k = -2; k < 4; ++k) {
        if (!chance(4)) continue;
        const uint64_t v = interesting();
        poke(s, addr + static_cast<uint64_t>(8 * k), &v, 8);
    }
}

void StateGenerator::generate(const Form& form, DiffState& s) {
    stream_ = rng_();
    for (auto& g : s.gpr) g = gpr_value();
    for (int i = 0; i < 16; ++i) {
        if (i != rsp && chance(16)) s.gpr[i] = s.gpr[below(16)];  // equal operands
    }
    s.gpr[rsp] = kDefaultRsp;
    s.rip_offset = 0;
    s.rflags = rflags::base | (bits() & rflags::random_mask);
    fill_xmm(s);
    // Sticky exception flags, DAZ, rounding and FZ vary; the exception masks stay set.
    s.mxcsr = kMxcsrDefault | static_cast<uint32_t>(bits() & 0xe07f);
    for (size_t i = 0; i < kDataSize; i += 8) {
        const uint64_t v = bits();
        std::memcpy(s.mem + i, &v, 8);
    }
    s.fault_vector = vector::none;

    // Register rules first (sources of eq/sext after everything else), then memory.
    for (int pass = 0; pass < 2; ++pass) {
        for (const Rule& r : form.rules) {
            const bool late = r.kind == RuleKind::eq || r.kind == RuleKind::sext;
            if (late == (pass == 1) && (!r.half || chance(2))) apply_register_rule(r, s);
        }
    }
    for (const Rule& r : form.rules) {
        if (r.kind == RuleKind::ptr) sprinkle(s.gpr[r.reg], s);
    }
    for (const Rule& r : form.rules) {
        if (!r.half || chance(2)) apply_memory_rule(r, s);
    }
}

}  // namespace diff
