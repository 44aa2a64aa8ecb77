// The features this processor reports through CPUID (sim/tables/cpuid.toml), as flags the
// system instructions test: a CR4 or EFER bit is reserved, and an instruction #UD, exactly when
// CPUID does not report its feature (SDM Vol. 3A 2.5 "Control Registers", 2.2.1 "Extended
// Feature Enable Register"). Context: instruction handlers; computed once per vendor.
#pragma once
#include <cstring>
#include <utility>

#include "cpu/core.h"
#include "cpuid_table.h"

namespace cpu {

struct Features {
    bool vme, de, pse, tsc, mce, pae, pge, sep, fxsr, sse, clfsh;  // CPUID.01H:EDX
    bool vmx, smx, pcid, xsave;                                      // CPUID.01H:ECX
    bool fsgsbase, smep, invpcid, smap, clflushopt;                  // CPUID.(07H,0):EBX
    bool umip, pku, la57;                                            // CPUID.(07H,0):ECX
    bool syscall, nx, lm;                                            // CPUID.80000001H:EDX
    bool svm;                                                        // CPUID.80000001H:ECX
    uint64_t cr4_allowed;   // CR4 bits that may be 1 (the others are reserved: #GP on MOV)
    uint64_t efer_allowed;  // EFER bits WRMSR may set (LMA excluded: read-only)
};

namespace detail {

inline uint32_t cpuid_register(const char* vendor, uint32_t leaf, unsigned reg) {
    for (const CpuidLeaf& row : kCpuidLeafTable)
        if (row.leaf == leaf && (row.subleaf < 0 || row.subleaf == 0) && std::strcmp(row.vendor, vendor) == 0)
            return reg == 0 ? row.eax : reg == 1 ? row.ebx : reg == 2 ? row.ecx : row.edx;
    return 0;
}

inline Features compute_features(Vendor v) {
    const char* n = to_string(v);
    const auto bit = [n](uint32_t leaf, unsigned reg, unsigned b) { return ((cpuid_register(n, leaf, reg) >> b) & 1) != 0; };
    constexpr unsigned ebx = 1, ecx = 2, edx = 3;
    Features f{};
    f.vme = bit(1, edx, 1), f.de = bit(1, edx, 2), f.pse = bit(1, edx, 3), f.tsc = bit(1, edx, 4);
    f.mce = bit(1, edx, 7), f.pae = bit(1, edx, 6), f.pge = bit(1, edx, 13), f.sep = bit(1, edx, 11);
    f.fxsr = bit(1, edx, 24), f.sse = bit(1, edx, 25), f.clfsh = bit(1, edx, 19);
    f.vmx = bit(1, ecx, 5), f.smx = bit(1, ecx, 6), f.pcid = bit(1, ecx, 17), f.xsave = bit(1, ecx, 26);
    f.fsgsbase = bit(7, ebx, 0), f.smep = bit(7, ebx, 7), f.invpcid = bit(7, ebx, 10);
    f.smap = bit(7, ebx, 20), f.clflushopt = bit(7, ebx, 23);
    f.umip = bit(7, ecx, 2), f.pku = bit(7, ecx, 3), f.la57 = bit(7, ecx, 16);
    f.syscall = bit(0x80000001u, edx, 11), f.nx = bit(0x80000001u, edx, 20), f.lm = bit(0x80000001u, edx, 29);
    f.svm = bit(0x80000001u, ecx, 2);
    // CR4 (SDM Vol. 3A 2.5, Figure 2-7): each bit exists with its CPUID feature; PCE has none.
    const std::pair<bool, uint64_t> cr4_bits[] = {
        {f.vme, cr4::vme | cr4::pvi}, {f.tsc, cr4::tsd}, {f.de, cr4::de}, {f.pse, cr4::pse},
        {f.pae, cr4::pae}, {f.mce, cr4::mce}, {f.pge, cr4::pge}, {true, cr4::pce},
        {f.fxsr, cr4::osfxsr}, {f.sse, cr4::osxmmexcpt}, {f.umip, cr4::umip}, {f.la57, cr4::la57},
        {f.vmx, cr4::vmxe}, {f.smx, cr4::smxe}, {f.fsgsbase, cr4::fsgsbase}, {f.pcid, cr4::pcide},
        {f.xsave, cr4::osxsave}, {f.smep, cr4::smep}, {f.smap, cr4::smap}, {f.pku, cr4::pke}};
    for (const auto& [on, mask] : cr4_bits)
        if (on) f.cr4_allowed |= mask;
    // EFER (SDM Vol. 3A 2.2.1, Table 2-1; APM Vol. 2 3.1.7): SCE, LME, NXE, and SVME on AMD.
    if (f.syscall) f.efer_allowed |= efer::sce;
    if (f.lm) f.efer_allowed |= efer::lme;
    if (f.nx) f.efer_allowed |= efer::nxe;
    if (f.svm) f.efer_allowed |= efer::svme;
    return f;
}

}  // namespace detail

inline const Features& features(Vendor v) {
    static const Features intel = detail::compute_features(Vendor::intel);
    static const Features amd = detail::compute_features(Vendor::amd);
    return v == Vendor::intel ? intel : amd;
}

}  // namespace cpu
