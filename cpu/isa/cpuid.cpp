// CPUID from the per-vendor table sim/tables/cpuid.toml (generated into cpuid_table.h), with
// each vendor's rule for leaves the table does not list. Context: instruction handler.
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

Outcome cpuid(Core& c, const Insn&) {
    const uint32_t leaf = static_cast<uint32_t>(c.reg<4>(rax));
    const uint32_t subleaf = static_cast<uint32_t>(c.reg<4>(rcx));
    const Leaf r = lookup(c.vendor(), c.config().id, leaf, subleaf);
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
