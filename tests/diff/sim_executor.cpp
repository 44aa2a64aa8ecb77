// hvsim's side of the differential test: one processor on a flat bus, in 64-bit mode at CPL 3
// with exactly the case's regions mapped, running one instruction per case.
#include <cstring>

#include "cpu/boot_state.h"
#include "cpu/core.h"
#include "executor.h"
#include "tests/support/flat_bus.h"

namespace diff {
namespace {

constexpr uint64_t kTables = 0x10000;  // paging structures: outside every mapped region
constexpr uint64_t kPresentWriteUser = 0x7;

class SimExecutor final : public Executor {
public:
    SimExecutor() : bus_(control_, 4 << 20), core_(cpu::CoreConfig{cpu::Vendor::amd, 0, false}, bus_, events_, control_) {
        build_page_tables();
        core_.set_trap_exceptions(true);
    }

    DiffState run(const Form& form, const DiffState& in) override {
        std::array<uint8_t, kCodeSize> code;
        build_code_region(form, code);
        core_.write_physical(kCodeBase, code.data(), code.size());
        core_.write_physical(kDataAddr, in.mem, kDataSize);
        enter_user_mode(in);
        control_ = sim::RunControl{};
        core_.clear_trapped();
        core_.run(1);
        return capture(in);
    }

private:
    // 4-level paging mapping the code region, the data page and the stack pages 1:1, user
    // read/write, nothing else (SDM Vol. 3A 4.5).
    void build_page_tables() {
        const uint64_t pml4 = kTables, pdpt = kTables + 0x1000, pd = kTables + 0x2000;
        const uint64_t pt_low = kTables + 0x3000, pt_high = kTables + 0x4000;  // 0-2M, 2-4M
        put(pml4, pdpt | kPresentWriteUser);
        put(pdpt, pd | kPresentWriteUser);
        put(pd, pt_low | kPresentWriteUser);
        put(pd + 8, pt_high | kPresentWriteUser);
        const auto map = [&](uint64_t addr) {
            const uint64_t pt = addr < 0x200000 ? pt_low : pt_high;
            put(pt + ((addr >> 12) & 511) * 8, addr | kPresentWriteUser);
        };
        for (uint64_t a = kCodeBase; a < kCodeBase + kCodeSize; a += 0x1000) map(a);
        map(kDataAddr);
        for (uint64_t a = kStackBase; a < kStackBase + kStackSize; a += 0x1000) map(a);
        cr3_ = pml4;
    }
    void put(uint64_t paddr, uint64_t value) { core_.write_physical(paddr, &value, 8); }

    void enter_user_mode(const DiffState& in) {
        cpu::enter_long_mode(core_, kSnippetAddr, cr3_, in.gpr[rsp], 0x500);
        cpu::State& s = core_.state();
        // Flat ring-3 segments: 64-bit code (selector 0x33) and data (0x2b), as an OS gives a
        // user process.
        s.seg[cpu::cs] = cpu::Segment{0x33, 0, 0xffffffff, 0xa0fb};
        for (unsigned r : {cpu::es, cpu::ss, cpu::ds, cpu::fs, cpu::gs}) s.seg[r] = cpu::Segment{0x2b, 0, 0xffffffff, 0xc0f3};
        s.cpl = 3;
        std::memcpy(s.regs, in.gpr, sizeof in.gpr);
        s.set_rflags(in.rflags);
        std::memcpy(s.xmm, in.xmm, sizeof in.xmm);
        s.mxcsr = in.mxcsr;
        core_.refresh_mode();
        core_.flush_tlb();
    }

    DiffState capture(const DiffState& in) {
        DiffState out = in;
        const cpu::State& s = core_.state();
        std::memcpy(out.gpr, s.regs, sizeof out.gpr);
        out.rflags = s.rflags();
        std::memcpy(out.xmm, s.xmm, sizeof out.xmm);
        out.mxcsr = s.mxcsr;
        out.rip_offset = s.rip() - kSnippetAddr;
        core_.read_physical(kDataAddr, out.mem, kDataSize);
        out.fault_vector = core_.trapped().valid ? core_.trapped().vector : vector::none;
        return out;
    }

    sim::RunControl control_;
    sim::EventStream events_;
    test::FlatBus bus_;
    cpu::Core core_;
    uint64_t cr3_ = 0;
};

}  // namespace

std::unique_ptr<Executor> make_sim_executor() { return std::make_unique<SimExecutor>(); }

}  // namespace diff
