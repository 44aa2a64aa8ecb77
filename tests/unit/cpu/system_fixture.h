// A processor set up for system-instruction tests: a GDT with kernel and user segments, a
// TSS, room for gates; CPL 3 on request; exceptions trapped (the processor stops with the
// exception recorded). Programs are byte vectors or come from system_programs.S.
// Context: tests/unit/cpu/test_system*.cpp only.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "cpu/boot_state.h"
#include "cpu/descriptors.h"
#include "tests/support/core_fixture.h"

namespace systest {

using cpu::State;
using cpu::Vendor;

constexpr int kNone = -1, kDB = 1, kUD = 6, kTS = 10, kNP = 11, kSS = 12, kGP = 13, kPF = 14;
constexpr uint64_t kCode = 0x100000;        // where programs run (CoreFixture::long_mode)
constexpr uint64_t kGdt = 0x800;            // the test GDT (16 entries)
constexpr uint64_t kTss = 0x0;              // the TSS CoreFixture::long_mode's TR points at
constexpr uint64_t kKernelStack = 0x90000;  // RSP0 / ESP0
constexpr uint64_t kUserStack = 0x70000;
constexpr uint64_t kData = 0x200000;        // scratch memory for operands

// Selectors of the test GDT.
constexpr uint16_t kSelCode = 0x08, kSelData = 0x10, kSelUser32 = 0x18, kSelUserData = 0x20, kSelUser64 = 0x28,
                   kSelCode32 = 0x30, kSelTss = 0x38, kSelGate = 0x48, kSelSpare = 0x58;

// An 8-byte code/data/system descriptor (SDM Vol. 3A Figure 3-8): access = P|DPL|S|type,
// flags = G|D/B|L|AVL.
constexpr uint64_t descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
    return (limit & 0xffff) | (uint64_t{base & 0xffffff} << 16) | (uint64_t{access} << 40) |
           (uint64_t{(limit >> 16) & 0xf} << 48) | (uint64_t{flags & 0xfu} << 52) | (uint64_t{base >> 24} << 56);
}
constexpr uint64_t kCode64 = descriptor(0, 0xfffff, 0x9b, 0xa), kData32 = descriptor(0, 0xfffff, 0x93, 0xc),
                   kUserCode32 = descriptor(0, 0xfffff, 0xfb, 0xc), kUserData = descriptor(0, 0xfffff, 0xf3, 0xc),
                   kUserCode64 = descriptor(0, 0xfffff, 0xfb, 0xa), kCode32 = descriptor(0, 0xfffff, 0x9b, 0xc);

// A gate descriptor (SDM Vol. 3A Figure 5-8 / 5-9): 8 bytes, plus the upper 8 in IA-32e mode.
struct Gate16 {
    uint64_t low, high;
};
constexpr Gate16 gate(uint16_t selector, uint64_t offset, unsigned type, unsigned dpl, unsigned params = 0) {
    const uint64_t low = (offset & 0xffff) | (uint64_t{selector} << 16) | (uint64_t{params & 31} << 32) |
                         (uint64_t{type} << 40) | (uint64_t{dpl} << 45) | (1ull << 47) | (((offset >> 16) & 0xffff) << 48);
    return {low, offset >> 32};
}

inline std::vector<uint8_t> image(const uint8_t* begin, const uint8_t* end) { return {begin, end}; }
// Instruction bytes one after the other.
inline std::vector<uint8_t> operator+(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}
// The address of `label` in a program loaded at `load`.
inline uint64_t address(const uint8_t* program, const uint8_t* label, uint64_t load = kCode) {
    return load + static_cast<uint64_t>(label - program);
}

// Keeps every event it sees.
struct Recorder final : sim::EventObserver {
    std::vector<sim::Event> seen;
    void on_event(const sim::Event& e) override { seen.push_back(e); }
    unsigned count(sim::EventKind k) const {
        unsigned n = 0;
        for (const auto& e : seen) n += e.kind == k;
        return n;
    }
};

struct Sys : test::CoreFixture {
    explicit Sys(Vendor v = Vendor::intel) : CoreFixture(v) {}

    State& s() { return core.state(); }
    uint64_t peek64(uint64_t pa) {
        uint64_t v = 0;
        core.read_physical(pa, &v, 8);
        return v;
    }
    void poke64(uint64_t pa, uint64_t v) { core.write_physical(pa, &v, 8); }
    void poke(uint64_t pa, const std::vector<uint8_t>& bytes) { core.write_physical(pa, bytes.data(), bytes.size()); }

    // 64-bit mode at CPL 0 running `code` (then OUT to the exit port) with the test GDT.
    Sys& kernel(std::vector<uint8_t> code) {
        code.insert(code.end(), {0xe6, 0xf4});
        return kernel_image(code);
    }
    Sys& kernel_image(const std::vector<uint8_t>& code) {
        long_mode(code);
        install_gdt(true);
        core.set_trap_exceptions(true);
        return *this;
    }
    // 32-bit protected mode (paging off) at CPL 0: the multiboot entry state with the test GDT.
    Sys& protected32(std::vector<uint8_t> code, bool append_exit = true) {
        if (append_exit) code.insert(code.end(), {0xe6, 0xf4});
        bus.load(kCode, code);
        cpu::enter_multiboot(core, kCode, 0x9000, kGdt);
        install_gdt(false);
        core.set_trap_exceptions(true);
        return *this;
    }
    // Real mode at 0000:7C00.
    Sys& real(std::vector<uint8_t> code, bool append_exit = true) {
        if (append_exit) code.insert(code.end(), {0xe6, 0xf4});
        real_mode(code);
        core.set_trap_exceptions(true);
        return *this;
    }

    // The test GDT. IA-32e: a 64-bit TSS at 0x38 (16 bytes); legacy: kernel code 0x08 is 32-bit
    // and 0x38 is a 32-bit TSS. The TSS's RSP0/ESP0 is kKernelStack (SS0 = 0x10).
    void install_gdt(bool ia32e) {
        const uint64_t tss = descriptor(kTss, 0x67, 0x89, 0);
        const uint64_t entries[16] = {0, ia32e ? kCode64 : kCode32, kData32, kUserCode32, kUserData, kUserCode64,
                                      kCode32, tss, 0, 0, 0, 0, 0, 0, 0, 0};
        core.write_physical(kGdt, entries, sizeof entries);
        s().gdtr = {kGdt, sizeof entries - 1};
        poke64(kTss + 4, ia32e ? kKernelStack : (kKernelStack | (uint64_t{kSelData} << 32)));
        s().tr = cpu::Segment{0, kTss, 0x67, 0x8b};
    }
    void set_gdt(unsigned index, uint64_t d) { poke64(kGdt + 8 * index, d); }
    void set_gate(unsigned index, const Gate16& g) {
        set_gdt(index, g.low);
        set_gdt(index + 1, g.high);
    }

    // CPL 3 at `rip` with the flat user segments (64-bit or 32-bit code), IOPL 3 so the test
    // program may OUT to the exit port, user-accessible pages (the fixture's tables).
    void user(uint64_t rip, bool code64 = true) {
        allow_user_pages();
        s().seg[cpu::cs] = cpu::segment_from_descriptor(code64 ? kSelUser64 | 3 : kSelUser32 | 3, code64 ? kUserCode64 : kUserCode32);
        for (unsigned r : {cpu::ss, cpu::ds, cpu::es})
            s().seg[r] = cpu::segment_from_descriptor(kSelUserData | 3, kUserData);
        s().cpl = 3;
        s().rip() = rip;
        s().regs[cpu::rsp] = kUserStack;
        s().set_rflags(0x3002);
        core.flush_tlb();
        core.refresh_mode();
    }

    std::shared_ptr<Recorder> record_events() {
        auto r = std::make_shared<Recorder>();
        events.subscribe(r);
        return r;
    }

    // The identity map of CoreFixture::long_mode (PML4 0x1000, PDPT 0x2000, PD 0x3000) made
    // user-accessible (U/S = 1 at every level).
    void allow_user_pages() {
        if (!(s().cr0 & cpu::cr0::pg)) return;
        for (uint64_t pa : {0x1000ull, 0x2000ull}) poke64(pa, peek64(pa) | 4);
        for (unsigned e = 0; e < 512; ++e) poke64(0x3000 + 8 * e, peek64(0x3000 + 8 * e) | 4);
        core.flush_tlb();
    }

    Sys& set(unsigned r, uint64_t v) {
        s().regs[r] = v;
        return *this;
    }
    // Runs; the vector of a trapped exception, or kNone.
    int go(uint64_t max = 100000) {
        run(max);
        return core.trapped().valid ? core.trapped().vector : kNone;
    }
    uint32_t error() const { return core.trapped().error_code; }
    bool exited() const { return control.reason == sim::StopReason::exit; }
    uint64_t reg(unsigned r) const { return core.state().regs[r]; }
};

}  // namespace systest
