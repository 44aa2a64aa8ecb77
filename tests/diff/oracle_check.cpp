// Known answers for the native runner: a handful of forms from hand-made states, checked
// against results worked out here. The native side is the oracle of every comparison, so a
// trampoline that silently skipped the instruction (both sides agreeing on nothing happening)
// must be caught before anything else. Context: host, harness only.
#include "oracle_check.h"

#include <cstring>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "native_runner.h"

namespace diff {

namespace {

const Form* find_form(std::string_view name) {
    for (const Form& f : all_forms()) {
        if (f.name == name) return &f;
    }
    return nullptr;
}

uint64_t load64(const DiffState& s, uint64_t addr) {
    uint64_t v;
    std::memcpy(&v, s.mem + (addr - kDataAddr), 8);
    return v;
}

void store64(DiffState& s, uint64_t addr, uint64_t v) { std::memcpy(s.mem + (addr - kDataAddr), &v, 8); }

struct Known {
    const char* form;
    std::function<void(DiffState&)> set;
    std::function<bool(const DiffState& in, const DiffState& out)> ok;
};

// Every check starts from the same plain state, then `set` adjusts it.
void plain_state(DiffState& s) {
    for (int i = 0; i < 16; ++i) s.gpr[i] = 0x1111111111111111ull * static_cast<uint64_t>(i);
    s.gpr[rsp] = kDefaultRsp;
    s.rip_offset = 0;
    s.rflags = rflags::base;
    for (int i = 0; i < 16; ++i) std::memset(s.xmm[i], 0x10 + i, 16);
    s.mxcsr = kMxcsrDefault | 0x603f;  // sticky flags and round-to-zero: must survive
    for (size_t i = 0; i < kDataSize; ++i) s.mem[i] = static_cast<uint8_t>(i * 7);
    s.fault_vector = vector::none;
}

bool same_except(const DiffState& in, const DiffState& out, std::initializer_list<int> changed) {
    for (int i = 0; i < 16; ++i) {
        bool skip = false;
        for (int c : changed) skip |= c == i;
        if (!skip && in.gpr[i] != out.gpr[i]) return false;
    }
    return std::memcmp(in.xmm, out.xmm, sizeof in.xmm) == 0 && in.mxcsr == out.mxcsr;
}

const Known kKnown[] = {
    {"add ebx, ecx",
     [](DiffState& s) { s.gpr[rbx] = 0xffffffff00000005; s.gpr[rcx] = 0x1234567800000003; },
     [](const DiffState& in, const DiffState& o) {
         return o.gpr[rbx] == 8 && o.rip_offset == 2 && !(o.rflags & rflags::cf) &&
                same_except(in, o, {rbx}) && std::memcmp(in.mem, o.mem, kDataSize) == 0;
     }},
    {"je .+0x40", [](DiffState& s) { s.rflags |= rflags::zf; },
     [](const DiffState&, const DiffState& o) { return o.rip_offset == 0x40; }},
    {"je .+0x40", [](DiffState&) {},
     [](const DiffState&, const DiffState& o) { return o.rip_offset == 2; }},
    {"jne .-0x400", [](DiffState&) {},
     [](const DiffState&, const DiffState& o) { return o.rip_offset == uint64_t(-0x400); }},
    {"div ecx (ecx=0)", [](DiffState& s) { s.gpr[rcx] = 0xabcd00000000; },
     [](const DiffState& in, const DiffState& o) {
         return o.fault_vector == vector::de && o.rip_offset == 0 && same_except(in, o, {});
     }},
    {"ud2", [](DiffState&) {},
     [](const DiffState&, const DiffState& o) { return o.fault_vector == vector::ud; }},
    {"movdqa xmm1, xmmword ptr [rbx] (unaligned)", [](DiffState& s) { s.gpr[rbx] = kDataAddr + 0x801; },
     [](const DiffState& in, const DiffState& o) {
         return o.fault_vector == vector::gp && o.rip_offset == 0 && same_except(in, o, {});
     }},
    {"rep movsb",
     [](DiffState& s) {
         s.gpr[rsi] = kDataAddr + 0x700;
         s.gpr[rdi] = kDataAddr + 0x780;
         s.gpr[rcx] = 5;
     },
     [](const DiffState& in, const DiffState& o) {
         return o.gpr[rcx] == 0 && o.gpr[rsi] == in.gpr[rsi] + 5 && o.gpr[rdi] == in.gpr[rdi] + 5 &&
                std::memcmp(o.mem + 0x780, in.mem + 0x700, 5) == 0 && o.mem[0x785] == in.mem[0x785];
     }},
    {"push r12", [](DiffState& s) { s.gpr[rsp] = kDataAddr + 0x800; },
     [](const DiffState& in, const DiffState& o) {
         return o.gpr[rsp] == kDataAddr + 0x7f8 && load64(o, kDataAddr + 0x7f8) == in.gpr[r12];
     }},
    {"call .+0x40", [](DiffState& s) { s.gpr[rsp] = kDataAddr + 0x800; },
     [](const DiffState&, const DiffState& o) {
         return o.rip_offset == 0x40 && load64(o, kDataAddr + 0x7f8) == kSnippetAddr + 5;
     }},
    {"popfq",
     [](DiffState& s) {
         s.gpr[rsp] = kDataAddr + 0x800;
         store64(s, kDataAddr + 0x800, rflags::fixed1 | rflags::arith);
     },
     [](const DiffState&, const DiffState& o) {
         return (o.rflags & rflags::random_mask) == rflags::arith && o.gpr[rsp] == kDataAddr + 0x808;
     }},
    {"lea rbx, qword ptr [rip+0x100]", [](DiffState&) {},
     [](const DiffState&, const DiffState& o) { return o.gpr[rbx] == kSnippetAddr + 7 + 0x100; }},
    {"pxor xmm3, xmm3", [](DiffState&) {},
     [](const DiffState& in, const DiffState& o) {
         static constexpr uint8_t zero[16] = {};
         return std::memcmp(o.xmm[3], zero, 16) == 0 && std::memcmp(o.xmm[2], in.xmm[2], 16) == 0;
     }},
    {"std", [](DiffState&) {},
     [](const DiffState&, const DiffState& o) { return (o.rflags & rflags::df) != 0; }},
};

}  // namespace

bool check_native_oracle(std::ostream& out) {
    auto states = std::make_unique<DiffState[]>(2);
    unsigned failed = 0;
    for (const Known& k : kKnown) {
        const Form* form = find_form(k.form);
        if (!form) {
            out << "native oracle: no form named \"" << k.form << "\"\n";
            ++failed;
            continue;
        }
        plain_state(states[0]);
        k.set(states[0]);
        NativeRunner::instance().run(*form, states[0], states[1]);
        if (!k.ok(states[0], states[1])) {
            out << "native oracle: wrong result for " << k.form << "\n";
            ++failed;
        }
    }
    out << "native oracle: " << std::size(kKnown) - failed << " of " << std::size(kKnown)
        << " known answers right\n";
    return failed == 0;
}

}  // namespace diff
