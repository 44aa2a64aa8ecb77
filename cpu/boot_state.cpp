// Entry states for loaders and tests (see boot_state.h for the specification of each).
#include "cpu/boot_state.h"

#include <algorithm>

#include "cpu/descriptors.h"

namespace cpu {
namespace {
constexpr uint64_t kFlatCode32 = 0x00cf9b000000ffffull;  // base 0, limit 4G, exec/read, D=1
constexpr uint64_t kFlatCode64 = 0x00af9b000000ffffull;  // L=1
constexpr uint64_t kFlatData = 0x00cf93000000ffffull;    // base 0, limit 4G, read/write, B=1
}  // namespace

void enter_real_mode(Core& core, uint16_t cs_sel, uint16_t ip) {
    core.reset();
    State& s = core.state();
    s.seg[cs] = Segment{cs_sel, static_cast<uint64_t>(cs_sel) << 4, 0xffff, 0x9b};
    s.rip() = ip;
    s.regs[rsp] = 0x7c00;
    core.refresh_mode();
}

uint16_t write_flat_gdt(Core& core, uint64_t gdt_base, bool long_mode, FlatSelectors sel) {
    uint64_t gdt[8] = {};
    const unsigned code = sel.code >> 3, data = sel.data >> 3;
    if (code == 0 || data == 0 || code >= 8 || data >= 8 || code == data) return 0;
    gdt[code] = long_mode ? kFlatCode64 : kFlatCode32;
    gdt[data] = kFlatData;
    const unsigned entries = std::max(code, data) + 1;
    if (!core.write_physical(gdt_base, gdt, entries * 8)) return 0;
    return static_cast<uint16_t>(entries * 8 - 1);
}

static void load_flat_segments(State& s, uint64_t code_descriptor, FlatSelectors sel) {
    s.seg[cs] = segment_from_descriptor(sel.code, code_descriptor);
    for (unsigned r : {es, ss, ds, fs, gs}) s.seg[r] = segment_from_descriptor(sel.data, kFlatData);
    s.cpl = 0;
}

void enter_multiboot(Core& core, uint32_t entry, uint32_t info_address, uint64_t gdt_base) {
    core.reset();
    State& s = core.state();
    s.gdtr = {gdt_base, write_flat_gdt(core, gdt_base, false)};
    s.idtr = {0, 0};
    s.cr0 = cr0::pe | cr0::et;
    load_flat_segments(s, kFlatCode32, FlatSelectors{});
    s.regs[rax] = 0x2badb002;
    s.regs[rbx] = info_address;
    s.set_rflags(rf::fixed1);
    s.rip() = entry;
    core.refresh_mode();
    core.flush_tlb();
}

void enter_long_mode(Core& core, uint64_t entry, uint64_t cr3, uint64_t stack, uint64_t gdt_base,
                     FlatSelectors selectors) {
    core.reset();
    State& s = core.state();
    s.gdtr = {gdt_base, write_flat_gdt(core, gdt_base, true, selectors)};
    s.idtr = {0, 0};
    s.cr3 = cr3;
    s.cr4 = cr4::pae | cr4::osfxsr | cr4::osxmmexcpt;
    s.efer = efer::lme | efer::lma | efer::nxe | efer::sce;
    s.cr0 = cr0::pe | cr0::mp | cr0::et | cr0::ne | cr0::wp | cr0::pg;
    load_flat_segments(s, kFlatCode64, selectors);
    s.tr = Segment{0, 0, 0x67, 0x8b};
    s.regs[rsp] = stack;
    s.set_rflags(rf::fixed1);
    s.rip() = entry;
    core.refresh_mode();
    core.flush_tlb();
}

}  // namespace cpu
