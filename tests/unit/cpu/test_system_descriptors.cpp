// The descriptor-table instructions (LGDT SGDT LIDT SIDT LLDT SLDT LTR STR), LAR LSL VERR VERW,
// MOV to and from segment registers and LxS (SDM Vol. 2 pages of each; Vol. 3A 3.4-3.5, 7.2.3).
#include "tests/unit/cpu/system_fixture.h"

using namespace cpu;
using namespace systest;

// ---- LGDT SGDT LIDT SIDT ----

TEST(DescriptorTables, LgdtAndSgdtRoundTripTenBytesIn64BitMode) {
    Sys f;
    f.kernel({0x0f, 0x01, 0x13, 0x0f, 0x01, 0x03, 0x0f, 0x01, 0x1b, 0x0f, 0x01, 0x0b});  // lgdt [rbx]; sgdt [rbx]; lidt [rbx]; sidt [rbx]
    f.poke64(kData, 0x9abcdef012340fffull);  // limit 0x0fff, base bytes 2..9
    f.poke64(kData + 8, 0x5678);
    f.set(rbx, kData);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().gdtr.base, 0x56789abcdef01234u);
    EXPECT_EQ(f.s().gdtr.limit, 0x0fffu);
    EXPECT_EQ(f.s().idtr.base, 0x56789abcdef01234u);
    EXPECT_EQ(f.peek64(kData), 0x9abcdef012340fffull);
}

TEST(DescriptorTables, SixteenBitLgdtLoads24BaseBitsSgdtStores32) {
    Sys f;
    // o16 lgdt [ebx]; sgdt [ebx+8] in 32-bit protected mode
    f.protected32({0x66, 0x0f, 0x01, 0x13, 0x66, 0x0f, 0x01, 0x43, 0x08});
    f.poke64(kData, 0x0000aabbccdd0017ull);
    f.set(rbx, kData);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().gdtr.base, 0xbbccddu);
    EXPECT_EQ(f.peek64(kData + 8) & 0xffffffffffff, 0x0000bbccdd0017ull);
}

// ---- LLDT SLDT LTR STR ----

TEST(DescriptorTables, LldtLoadsA16ByteLdtDescriptorInLongMode) {
    Sys f;
    f.kernel({0x0f, 0x00, 0xd0, 0x0f, 0x00, 0xc3});  // lldt ax; sldt ebx
    f.set_gdt(11, descriptor(0x12345000, 0xfff, 0x82, 0));
    f.set_gdt(12, 0xffff8000);  // base 63:32
    f.set(rax, kSelSpare);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().ldtr.base, 0xffff800012345000u);
    EXPECT_EQ(f.s().ldtr.limit, 0xfffu);
    EXPECT_EQ(f.reg(rbx), kSelSpare);
}

TEST(DescriptorTables, LldtChecksInTheManualsOrder) {
    struct Case {
        uint64_t low, high;
        uint16_t selector;
        int vector;
        uint32_t error;
    };
    const uint64_t ldt = descriptor(0x5000, 0xfff, 0x82, 0);
    for (const Case& c : {Case{ldt, 0, kSelSpare | 4, kGP, kSelSpare | 4},          // TI = 1
                          Case{ldt, 0, 0x400, kGP, 0x400},                         // beyond the GDT
                          Case{descriptor(0x5000, 0xfff, 0x89, 0), 0, kSelSpare, kGP, kSelSpare},  // a TSS
                          Case{ldt, 1ull << 40, kSelSpare, kGP, kSelSpare},        // upper type not 0
                          Case{ldt, 0x00008000, kSelSpare, kGP, kSelSpare},        // non-canonical base
                          Case{ldt & ~(1ull << 47), 0, kSelSpare, kNP, kSelSpare}}) {  // not present
        Sys f;
        f.kernel({0x0f, 0x00, 0xd0});
        f.set_gdt(11, c.low);
        f.set_gdt(12, c.high);
        f.set(rax, c.selector);
        EXPECT_EQ(f.go(), c.vector) << std::hex << c.low;
        EXPECT_EQ(f.error(), c.error);
    }
}

TEST(DescriptorTables, SegmentLoadsUseTheLdtLldtLoaded) {
    // An LDT at kData with a data segment (base 0x1000) in entry 1; selector 0x0c (TI = 1).
    Sys f;
    f.kernel({0x0f, 0x00, 0xd0, 0x8e, 0xe3});  // lldt ax; mov fs, ebx
    f.set_gdt(11, descriptor(kData, 0xf, 0x82, 0));
    f.poke64(kData + 8, descriptor(0x1000, 0xfffff, 0x93, 0xc));
    f.set(rax, kSelSpare).set(rbx, 0x0c);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().seg[fs].base, 0x1000u);
    EXPECT_EQ(f.peek64(kData + 8) >> 40 & 1, 1u);  // accessed
}

TEST(DescriptorTables, NullLldtMakesTheLdtUnusable) {
    Sys f;
    f.kernel({0x0f, 0x00, 0xd0});  // lldt ax
    f.set(rax, 3);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_TRUE(f.s().ldtr.unusable());
}

TEST(DescriptorTables, LtrMarksTheTssBusyAndStrReadsIt) {
    Sys f;
    f.kernel({0x0f, 0x00, 0xd8, 0x0f, 0x00, 0xcb});  // ltr ax; str ebx
    f.set(rax, kSelTss);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().tr.selector, kSelTss);
    EXPECT_EQ(f.s().tr.attributes & 0xf, 0xbu);
    EXPECT_EQ((f.peek64(kGdt + kSelTss) >> 40) & 0xf, 0xbu);
    EXPECT_EQ(f.reg(rbx), kSelTss);
    // A busy TSS cannot be loaded again.
    Sys g;
    g.kernel({0x0f, 0x00, 0xd8, 0x0f, 0x00, 0xd8});
    g.set(rax, kSelTss);
    EXPECT_EQ(g.go(), kGP);
    EXPECT_EQ(g.error(), kSelTss);
    Sys h;
    h.kernel({0x0f, 0x00, 0xd8});
    h.set(rax, 0);
    EXPECT_EQ(h.go(), kGP);
    EXPECT_EQ(h.error(), 0u);
}

TEST(DescriptorTables, Legacy32BitTssIsLoadable) {
    Sys f;
    f.protected32({0x0f, 0x00, 0xd8});  // ltr ax
    f.set(rax, kSelTss);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().tr.attributes & 0xf, 0xbu);
}

TEST(DescriptorTables, SystemTableInstructionsAreUdInRealMode) {
    for (const auto& insn : {std::vector<uint8_t>{0x0f, 0x00, 0xd0}, std::vector<uint8_t>{0x0f, 0x00, 0xc0},
                             std::vector<uint8_t>{0x0f, 0x02, 0xc1}, std::vector<uint8_t>{0x0f, 0x00, 0xe1}}) {
        Sys f;
        f.real(insn);  // lldt ax; sldt ax; lar ax, cx; verr cx
        EXPECT_EQ(f.go(), kUD) << int(insn[2]);
    }
}

// ---- LAR LSL VERR VERW ----

namespace {

struct Probe {
    bool zf;
    uint64_t value;
};

// lar/lsl rax, cx (REX.W) or verr/verw cx with RAX preset, GDT entry 11 (selector 0x58) =
// `spare` if given: ZF and RAX afterwards.
Probe probe(Sys& f, const std::vector<uint8_t>& insn, uint16_t selector, uint64_t spare = 0) {
    f.kernel(insn);
    if (spare) f.set_gdt(11, spare);
    f.set(rcx, selector).set(rax, 0x5555);
    f.s().flags.set(f.s().rflags() ^ (f.s().flags.zf() ? rf::zf : 0));
    EXPECT_EQ(f.go(), kNone);
    return {f.s().flags.zf(), f.reg(rax)};
}

const std::vector<uint8_t> kLar = {0x48, 0x0f, 0x02, 0xc1}, kLsl = {0x48, 0x0f, 0x03, 0xc1}, kLar16 = {0x66, 0x0f, 0x02, 0xc1},
                           kVerr = {0x0f, 0x00, 0xe1}, kVerw = {0x0f, 0x00, 0xe9};

}  // namespace

TEST(Lar, ReturnsTheAccessRightsOfACodeSegment) {
    Sys f;
    const Probe p = probe(f, kLar, kSelCode);
    EXPECT_TRUE(p.zf);
    EXPECT_EQ(p.value, (kCode64 >> 32) & 0x00ffff00);
    Sys g;
    EXPECT_EQ(probe(g, kLar16, kSelCode).value, (kCode64 >> 32) & 0xff00);
}

TEST(Lar, NullSelectorsAndSelectorsBeyondTheTableClearZf) {
    for (uint16_t sel : {uint16_t{0}, uint16_t{3}, uint16_t{0x800}, uint16_t{kSelCode | 4}}) {
        Sys f;
        const Probe p = probe(f, kLar, sel);
        EXPECT_FALSE(p.zf) << sel;
        EXPECT_EQ(p.value, 0x5555u);
    }
}

TEST(Lar, PrivilegeAppliesExceptToConformingCode) {
    Sys f;
    f.kernel({});
    f.set_gdt(11, kUserData & ~(3ull << 45));                         // DPL 0 data
    f.set_gdt(12, descriptor(0, 0xfffff, 0x9f, 0xa));                  // DPL 0 conforming code
    f.poke(kCode + 0x1000, kLar + std::vector<uint8_t>{0x9c, 0x5a, 0x48, 0x89, 0xc3} + std::vector<uint8_t>{0x66, 0xb9, 0x60, 0x00} + kLar + std::vector<uint8_t>{0xe6, 0xf4});
    // lar rax, cx (0x58: DPL 0 data → ZF 0); pushf; pop rdx; mov rbx, rax; mov cx, 0x60; lar rax, cx; out
    f.user(kCode + 0x1000);
    f.set(rcx, kSelSpare).set(rax, 0x5555);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_FALSE(f.reg(rdx) & rf::zf);
    EXPECT_EQ(f.reg(rbx), 0x5555u);
    EXPECT_TRUE(f.s().flags.zf());
}

TEST(Lar, SystemTypesFollowTheIa32eTable) {
    struct Case {
        uint8_t access;
        bool lar, lsl;
    };
    // In IA-32e mode: LDT valid for LSL only, TSS for both, call gate for LAR, interrupt gate
    // for neither, type 0 (the upper half of a 16-byte descriptor) for neither (SDM Vol. 2
    // "LAR" and "LSL" type tables; APM Vol. 3 "LSL").
    for (const Case& c : {Case{0x82, false, true}, Case{0x89, true, true}, Case{0x8b, true, true},
                          Case{0x8c, true, false}, Case{0x8e, false, false}, Case{0x81, false, false},
                          Case{0x80, false, false}}) {
        for (bool lsl : {false, true}) {
            Sys f;
            const Probe p = probe(f, lsl ? kLsl : kLar, kSelSpare, descriptor(0x1000, 0x2fff, c.access, 0));
            EXPECT_EQ(p.zf, lsl ? c.lsl : c.lar) << std::hex << int(c.access) << " lsl " << lsl;
        }
    }
}

TEST(Lar, LegacyModeAcceptsTaskGatesAnd16BitTypes) {
    for (uint8_t access : {0x81, 0x82, 0x83, 0x84, 0x85, 0x89, 0x8b, 0x8c}) {
        Sys f;
        f.protected32({0x0f, 0x02, 0xc1});  // lar eax, ecx
        f.set_gdt(11, descriptor(0x1000, 0x2fff, access, 0));
        f.set(rcx, kSelSpare).set(rax, 0);
        EXPECT_EQ(f.go(), kNone);
        EXPECT_TRUE(f.s().flags.zf()) << std::hex << int(access);
    }
}

TEST(Lsl, ReturnsTheByteGranularLimit) {
    Sys f;
    EXPECT_EQ(probe(f, kLsl, kSelData).value, 0xffffffffu);  // G = 1: limit 0xfffff pages
    Sys g;
    const Probe p = probe(g, kLsl, kSelSpare, descriptor(0, 0x1234, 0x93, 0));
    EXPECT_TRUE(p.zf);
    EXPECT_EQ(p.value, 0x1234u);
}

TEST(Verify, ReadabilityAndWritabilityBySegmentType) {
    struct Case {
        uint8_t access;
        bool readable, writable;
    };
    for (const Case& c : {Case{0x93, true, true}, Case{0x91, true, false}, Case{0x9b, true, false},
                          Case{0x99, false, false}, Case{0x89, false, false}}) {
        for (bool write : {false, true}) {
            Sys f;
            EXPECT_EQ(probe(f, write ? kVerw : kVerr, kSelSpare, descriptor(0, 0xfffff, c.access, 0xc)).zf,
                      write ? c.writable : c.readable)
                << std::hex << int(c.access) << " " << write;
        }
    }
}

// ---- MOV Sreg, LxS ----

TEST(SegmentRegisters, MovFromSegmentZeroExtendsToRegistersAndStores16Bits) {
    Sys f;
    f.kernel({0x8c, 0xd8, 0x8c, 0x1b, 0x48, 0x8c, 0xd9});  // mov eax, ds; mov [rbx], ds; mov rcx, ds
    f.poke64(kData, ~0ull);
    f.set(rax, ~0ull).set(rbx, kData).set(rcx, ~0ull);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rax), kSelData);
    EXPECT_EQ(f.reg(rcx), kSelData);
    EXPECT_EQ(f.peek64(kData), 0xffffffffffff0000 | kSelData);
}

TEST(SegmentRegisters, MovToDataSegmentChecksTypePrivilegeAndPresence) {
    struct Case {
        uint64_t descriptor;
        uint16_t selector;
        int vector;
    };
    for (const Case& c : {Case{descriptor(0, 0xfffff, 0x99, 0xc), kSelSpare, kGP},      // execute-only code
                          Case{descriptor(0, 0xfffff, 0x13, 0xc), kSelSpare, kNP},      // not present
                          Case{descriptor(0, 0xfffff, 0x93, 0xc), kSelSpare | 3, kGP},  // RPL 3 > DPL 0
                          Case{descriptor(0, 0xfffff, 0x89, 0x0), kSelSpare, kGP},      // a TSS
                          Case{descriptor(0, 0xfffff, 0x9f, 0xc), kSelSpare | 3, kNone}}) {  // conforming code
        Sys f;
        f.protected32({0x8e, 0xd8});  // mov ds, eax
        f.set_gdt(11, c.descriptor);
        f.set(rax, c.selector);
        EXPECT_EQ(f.go(), c.vector) << std::hex << c.descriptor;
        if (c.vector != kNone) {
            EXPECT_EQ(f.error(), kSelSpare);
        }
    }
}

TEST(SegmentRegisters, MovToCsIsUndefinedAndNullSsIsGp) {
    Sys f;
    f.protected32({0x8e, 0xc8});  // mov cs, eax (not decodable: #UD)
    EXPECT_EQ(f.go(), kUD);
    Sys g;
    g.protected32({0x8e, 0xd0});  // mov ss, eax
    g.set(rax, 0);
    EXPECT_EQ(g.go(), kGP);
    Sys h;
    h.kernel({0x8e, 0xd0});  // 64-bit mode at CPL 0: a null SS is allowed
    h.set(rax, 0);
    EXPECT_EQ(h.go(), kNone);
    EXPECT_TRUE(h.s().seg[ss].unusable());
}

TEST(SegmentRegisters, RealModeMovSetsTheBase) {
    Sys f;
    f.real({0x8e, 0xc0});  // mov es, ax
    f.set(rax, 0x1234);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().seg[es].base, 0x12340u);
    EXPECT_EQ(f.s().seg[es].selector, 0x1234u);
}

TEST(SegmentRegisters, LfsLoadsSelectorAndOffsetAndLssWith64BitOffset) {
    Sys f;
    f.kernel({0x0f, 0xb4, 0x03, 0x48, 0x0f, 0xb2, 0x4b, 0x08});  // lfs eax, [rbx]; lss rcx, [rbx+8]
    f.poke64(kData, 0x0010'89abcdefull);          // offset 0x89abcdef, selector 0x10
    f.poke64(kData + 8, 0x1122334455667788ull);   // 64-bit offset
    f.poke64(kData + 16, kSelData);
    f.set(rbx, kData);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rax), 0x89abcdefu);
    EXPECT_EQ(f.s().seg[fs].selector, kSelData);
    EXPECT_EQ(f.reg(rcx), 0x1122334455667788u);
    EXPECT_EQ(f.s().seg[ss].selector, kSelData);
}

TEST(SegmentRegisters, AFailedLfsChangesNothing) {
    Sys f;
    f.kernel({0x0f, 0xb4, 0x03});  // lfs eax, [rbx]
    f.poke64(kData, 0x0400'00001234ull);  // selector beyond the GDT
    f.set(rbx, kData).set(rax, 7);
    EXPECT_EQ(f.go(), kGP);
    EXPECT_EQ(f.error(), 0x400u);
    EXPECT_EQ(f.reg(rax), 7u);
}
