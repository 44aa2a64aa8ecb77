// CPUID from the per-vendor table sim/tables/cpuid.toml (generated into cpuid_table.h), with
// each vendor's rule for leaves the table does not list. Context: instruction handler.
#include <algorithm>
#include <cstring>

#include "cpuid_table.h"
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

struct Leaf {
    uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

const CpuidLeaf* find(const char* vendor, uint32_t leaf, uint32_t subleaf) {
    for (const CpuidLeaf& row : kCpuidLeafTable)
        if (row.leaf == leaf && (row.subleaf < 0 || row.subleaf == subleaf) &&
            std::strcmp(row.vendor, vendor) == 0)
            return &row;
    return nullptr;
}

uint32_t max_leaf(const char* vendor, uint32_t range) {
    const CpuidLeaf* row = find(vendor, range, 0);
    return row ? row->eax : range;
}

Leaf lookup(Vendor v, unsigned apic_id, uint32_t leaf, uint32_t subleaf) {
    const char* vendor = to_string(v);
    const uint32_t max_basic = max_leaf(vendor, 0);
    const uint32_t max_extended = max_leaf(vendor, 0x80000000u);
    const bool basic = leaf <= max_basic;
    const bool extended = leaf >= 0x80000000u && leaf <= max_extended;
    if (!basic && !extended) {
        // Intel SDM Vol. 2A "CPUID": above the maximum basic or extended leaf, the data of the
        // highest basic leaf is returned. AMD APM Vol. 3 "CPUID": undefined leaves return 0.
        if (v == Vendor::amd) return {};
        leaf = max_basic;
    }
    const CpuidLeaf* row = find(vendor, leaf, subleaf);
    if (!row) return {};  // a leaf within range that reports nothing (reserved / no subleaf)
    Leaf r{row->eax, row->ebx, row->ecx, row->edx};
    // Leaf 1 EBX[31:24]: the initial APIC id of this logical processor (both vendors).
    if (leaf == 1) r.ebx = (r.ebx & 0x00ffffffu) | ((apic_id & 0xffu) << 24);
    return r;
}

// What depends on the machine and the processor's state rather than the part: the processor
// count (leaf 1 EBX[23:16] with EDX.HTT, SDM "CPUID" Table 3-8), EDX.APIC, which follows
// IA32_APIC_BASE.EN (SDM 11.4.3), and the x2APIC topology of leaf 0Bh ("CPUID" leaf 0BH: one
// thread per core, every processor a core of one package).
void apply_machine(const Core& c, uint32_t leaf, uint32_t subleaf, Leaf& r) {
    const unsigned cpus = c.config().cpus;
    if (leaf == 1) {
        if (cpus > 1) {
            r.ebx = (r.ebx & 0xff00ffffu) | ((std::min(cpus, 255u) & 0xff) << 16);
            r.edx |= 1u << 28;
        }
        if (!c.apic().hardware_enabled()) r.edx &= ~(1u << 9);
    } else if (leaf == 0xb) {
        unsigned shift = 0;
        while ((1u << shift) < cpus) ++shift;
        if (subleaf == 1) r.eax = shift, r.ebx = cpus;
        else if (subleaf > 1) r = Leaf{0, 0, subleaf & 0xff, 0};
        r.edx = c.apic().initial_id();
    }
}

Outcome cpuid(Core& c, const Insn& i) {
    const uint32_t leaf = static_cast<uint32_t>(c.reg<4>(rax));
    const uint32_t subleaf = static_cast<uint32_t>(c.reg<4>(rcx));
    InterceptInfo x{Intercept::cpuid, leaf};
    if (c.intercepted(i, x)) return Outcome::exit;
    Leaf r = lookup(c.vendor(), c.config().id, leaf, subleaf);
    if (leaf == 1 || leaf == 0xb) apply_machine(c, leaf, subleaf, r);
    if (const Virtualization* v = c.virtualization()) {  // VMX / SVM feature leaves
        uint32_t regs[4] = {r.eax, r.ebx, r.ecx, r.edx};
        v->adjust_cpuid(leaf, subleaf, regs);
        r = Leaf{regs[0], regs[1], regs[2], regs[3]};
    }
    c.set_reg<4>(rax, r.eax);
    c.set_reg<4>(rbx, r.ebx);
    c.set_reg<4>(rcx, r.ecx);
    c.set_reg<4>(rdx, r.edx);
    c.emit(sim::EventKind::cpuid, leaf, subleaf);
    return Outcome::next;
}

bool build(const DecodeContext&, Insn& i) {
    i.fn = &cpuid;
    return true;
}

}  // namespace

void register_cpuid(Registry& r) { r.add(ZYDIS_MNEMONIC_CPUID, &build); }

}  // namespace cpu
