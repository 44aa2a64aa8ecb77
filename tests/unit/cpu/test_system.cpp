// System instructions on registers: MOV CR/DR and their reserved-bit checks, CLTS LMSW SMSW,
// RDMSR/WRMSR and EFER, and the cache/TLB/XCR0 instructions (SDM Vol. 2 and Vol. 3A; AMD APM
// Vol. 2/3). Descriptor tables and segment registers: test_system_descriptors.cpp; mode
// switches and privilege transfers: test_system_transfers.cpp.
#include <array>
#include <string>

#include "cpu/msr.h"
#include "msrs_table.h"
#include "tests/unit/cpu/system_fixture.h"

using namespace cpu;
using namespace systest;

namespace {

// Encodings used below (64-bit mode unless noted).
const std::vector<uint8_t> kMovCr0Rax = {0x0f, 0x22, 0xc0}, kMovCr3Rax = {0x0f, 0x22, 0xd8},
                           kMovCr4Rax = {0x0f, 0x22, 0xe0}, kMovCr8Rax = {0x44, 0x0f, 0x22, 0xc0},
                           kMovRaxCr0 = {0x0f, 0x20, 0xc0}, kMovRaxCr8 = {0x44, 0x0f, 0x20, 0xc0},
                           kMovRaxCr3 = {0x0f, 0x20, 0xd8}, kWrmsr = {0x0f, 0x30}, kRdmsr = {0x0f, 0x32};
std::vector<uint8_t> mov_dr_rax(unsigned n) { return {0x0f, 0x23, static_cast<uint8_t>(0xc0 | n << 3)}; }
std::vector<uint8_t> mov_rax_dr(unsigned n) { return {0x0f, 0x21, static_cast<uint8_t>(0xc0 | n << 3)}; }

// The state CoreFixture::long_mode starts programs in (CR0, CR3, CR4, EFER ...).
const State& entry() {
    static const State s = [] {
        Sys f;
        f.kernel({});
        return f.s();
    }();
    return s;
}

// Runs one 64-bit CPL-0 instruction with RAX = `value`: the trapped vector or kNone.
int kernel_with_rax(Sys& f, const std::vector<uint8_t>& insn, uint64_t value) {
    f.kernel(insn).set(rax, value);
    return f.go();
}

}  // namespace

// ---- MOV to CR0 ----

TEST(Cr0, WritingBitsAbove31RaisesGp) {
    Sys f;
    EXPECT_EQ(kernel_with_rax(f, kMovCr0Rax, entry().cr0 | (1ull << 32)), kGP);
    EXPECT_EQ(f.error(), 0u);
}

TEST(Cr0, ClearingPagingIn64BitModeRaisesGp) {
    Sys f;
    EXPECT_EQ(kernel_with_rax(f, kMovCr0Rax, entry().cr0 & ~cr0::pg), kGP);
    EXPECT_TRUE(f.s().cr0 & cr0::pg);
    EXPECT_TRUE(f.s().efer & efer::lma);
}

TEST(Cr0, NotWriteThroughWithoutCacheDisableRaisesGp) {
    Sys f;
    EXPECT_EQ(kernel_with_rax(f, kMovCr0Rax, (entry().cr0 | cr0::nw) & ~cr0::cd), kGP);
    Sys g;
    EXPECT_EQ(kernel_with_rax(g, kMovCr0Rax, entry().cr0 | cr0::nw | cr0::cd), kNone);
    EXPECT_EQ(g.s().cr0 & (cr0::nw | cr0::cd), cr0::nw | cr0::cd);
}

TEST(Cr0, PagingWithoutProtectionRaisesGpEvenInRealMode) {
    Sys f;
    f.real({0x66, 0x0f, 0x22, 0xc0});  // mov cr0, eax
    f.set(rax, cr0::pg | cr0::et);
    EXPECT_EQ(f.go(), kGP);
    EXPECT_EQ(f.s().mode, Mode::real);
}

TEST(Cr0, ReservedLowBitsAreIgnoredAndEtStaysSet) {
    Sys f;
    f.real({0x66, 0x0f, 0x22, 0xc0, 0x66, 0x0f, 0x20, 0xc3});  // mov cr0, eax; mov ebx, cr0
    f.set(rax, 0x0000ffc0);  // reserved bits 15:6, ET clear
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rbx), cr0::et);
}

TEST(Cr0, SettingPeEntersProtectedModeAndClearingItLeaves) {
    Sys f;
    f.real({0x66, 0x0f, 0x22, 0xc0});  // mov cr0, eax
    f.set(rax, cr0::pe | cr0::et);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().mode, Mode::protected16);
    EXPECT_EQ(f.s().cpl, 0);
}

TEST(Cr0, PagingWithLongModeEnabledAndPaeClearRaisesGp) {
    Sys f;
    f.protected32({0x0f, 0x22, 0xc0});  // mov cr0, eax
    f.s().efer = efer::lme;
    f.s().cr3 = 0x1000;
    f.set(rax, f.s().cr0 | cr0::pg);
    EXPECT_EQ(f.go(), kGP);
    EXPECT_FALSE(f.s().efer & efer::lma);
}

TEST(Cr0, ActivatingLongModeWithCsLSetRaisesGp) {
    Sys f;
    f.protected32({0x0f, 0x22, 0xc0});
    f.s().efer = efer::lme;
    f.s().cr4 = cr4::pae;
    f.s().seg[cs].attributes |= 0x2000;  // L in the CS cache (SDM Vol. 3A 10.8.5)
    f.set(rax, f.s().cr0 | cr0::pg);
    EXPECT_EQ(f.go(), kGP);
}

TEST(Cr0, ActivatingLongModeWithA16BitTssRaisesGp) {
    Sys f;
    f.protected32({0x0f, 0x22, 0xc0});
    f.s().efer = efer::lme;
    f.s().cr4 = cr4::pae;
    f.s().tr.attributes = 0x83;  // busy 16-bit TSS
    f.set(rax, f.s().cr0 | cr0::pg);
    EXPECT_EQ(f.go(), kGP);
}

TEST(Cr0, WriteProtectChangeTakesEffectAtOnce) {
    // Clear WP, write a read-only page from CPL 0 (allowed), set WP, write again (#PF).
    Sys f;
    f.kernel({0x0f, 0x22, 0xc0, 0x89, 0x0b, 0x0f, 0x22, 0xc2, 0x89, 0x0b});  // mov cr0,rax; mov [rbx],ecx; mov cr0,rdx; mov [rbx],ecx
    // Make the 2 MiB page at kData read-only.
    f.poke64(0x3000 + 8 * (kData >> 21), f.peek64(0x3000 + 8 * (kData >> 21)) & ~2ull);
    f.core.flush_tlb();
    f.set(rax, f.s().cr0 & ~cr0::wp).set(rdx, f.s().cr0).set(rbx, kData).set(rcx, 0x1234);
    EXPECT_EQ(f.go(), kPF);
    EXPECT_EQ(f.peek64(kData) & 0xffff, 0x1234u);
    EXPECT_EQ(f.error(), 3u);  // present, write
}

// ---- MOV to CR3 ----

TEST(Cr3, WritingCr3FlushesTranslations) {
    Sys f;
    // mov eax, [rbx]; mov [rsi], rdx (remap the 2 MiB page); mov cr3, rdi; mov ecx, [rbx]
    f.kernel({0x8b, 0x03, 0x48, 0x89, 0x16, 0x0f, 0x22, 0xdf, 0x8b, 0x0b});
    const uint64_t pde = 0x3000 + 8 * (kData >> 21);
    f.poke64(kData, 1);
    f.poke64(kData + 0x200000, 2);
    f.set(rbx, kData).set(rsi, pde).set(rdx, f.peek64(pde) + 0x200000).set(rdi, f.s().cr3);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rax), 1u);
    EXPECT_EQ(f.reg(rcx), 2u);
}

TEST(Cr3, BitsAboveMaxPhysAddrRaiseGpInLongMode) {
    Sys f;
    EXPECT_EQ(kernel_with_rax(f, kMovCr3Rax, entry().cr3 | (1ull << kMaxPhysAddrBits)), kGP);
    Sys g;
    EXPECT_EQ(kernel_with_rax(g, kMovCr3Rax, entry().cr3 | (1ull << 63)), kGP);  // no PCIDE: reserved
}

TEST(Cr3, NoFlushBitWithPcideIsNotStored) {
    Sys f;
    EXPECT_EQ(kernel_with_rax(f, kMovCr4Rax, entry().cr4 | cr4::pcide), kNone);
    EXPECT_TRUE(f.s().cr4 & cr4::pcide);
    Sys g;
    g.kernel(kMovCr3Rax + kMovRaxCr3);
    g.s().cr4 |= cr4::pcide;
    const uint64_t cr3 = g.s().cr3 | 5;  // PCID 5
    g.set(rax, cr3 | (1ull << 63));
    EXPECT_EQ(g.go(), kNone);
    EXPECT_EQ(g.s().cr3, cr3);
    EXPECT_EQ(g.reg(rax), cr3);
}

TEST(Cr3, PaeLoadChecksPdpteReservedBitsOnIntel) {
    // PAE paging in 32-bit protected mode; the PDPT at 0x5000 has a present entry with a
    // reserved bit (bit 5): #GP(0) at MOV CR3 on Intel (SDM 4.4.1); on AMD the MOV completes
    // and the next fetch's walk meets the bad PDPTE: #PF with RSVD.
    for (Vendor v : {Vendor::intel, Vendor::amd}) {
        Sys f(v);
        f.protected32({0x0f, 0x22, 0xd8});  // mov cr3, eax
        f.poke64(0x5000, 0x6000 | 1 | (1 << 5));
        f.s().cr4 = cr4::pae;
        f.s().cr0 |= cr0::pg;
        f.s().cr3 = 0x7000;  // a valid (all not-present) PDPT
        f.core.refresh_mode();
        f.set(rax, 0x5000);
        // Code at kCode is fetched through PAE paging: map it with a present PDPTE at 0x7000.
        f.poke64(0x7000, 0x8000 | 1);
        f.poke64(0x8000, 0x83);                    // PDE 0: 2 MiB page at 0 (covers the tables)
        f.poke64(0x8000 + 8 * (kCode >> 21), (kCode & ~0x1fffffull) | 0x83);
        f.core.flush_tlb();
        EXPECT_EQ(f.go(), v == Vendor::intel ? kGP : kPF) << to_string(v);
        EXPECT_EQ(f.s().cr3, v == Vendor::intel ? 0x7000u : 0x5000u);
        if (v == Vendor::amd) {
            EXPECT_EQ(f.error() & 8, 8u);  // RSVD
        }
    }
}

TEST(Cr3, PaeWalkUsesThePdpteRegistersUntilCr3IsReloaded) {
    // Intel holds the PDPTEs loaded by MOV CR3: changing the PDPT in memory does not change
    // the translation until CR3 is written again.
    Sys f;
    // mov cr3, eax; mov [esi], edx (PDPTE 0 := not present); mov ecx, [edi]; out
    f.protected32({0x0f, 0x22, 0xd8, 0x89, 0x16, 0x8b, 0x0f});
    f.poke64(0x7000, 0x8000 | 1);
    f.poke64(0x8000, 0x83);
    f.poke64(0x8000 + 8 * (kCode >> 21), (kCode & ~0x1fffffull) | 0x83);
    f.poke64(0x8000 + 8 * (kData >> 21), (kData & ~0x1fffffull) | 0x83);
    f.poke64(kData, 0xabcd);
    f.s().cr4 = cr4::pae;
    f.s().cr0 |= cr0::pg;
    f.s().cr3 = 0x7000;
    f.core.refresh_mode();
    f.set(rax, 0x7000).set(rsi, 0x7000).set(rdx, 0).set(rdi, kData);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rcx), 0xabcdu);
}

// ---- MOV to CR4 ----

TEST(Cr4, BitsOfUnreportedFeaturesAreReserved) {
    for (uint64_t bit : {cr4::vmxe, cr4::smxe, cr4::osxsave, cr4::pke, cr4::la57, cr4::vme, uint64_t{1} << 32}) {
        Sys f;
        EXPECT_EQ(kernel_with_rax(f, kMovCr4Rax, entry().cr4 | bit), kGP) << std::hex << bit;
    }
}

TEST(Cr4, PcidIsAnIntelFeatureHere) {
    Sys amd(Vendor::amd);
    EXPECT_EQ(kernel_with_rax(amd, kMovCr4Rax, entry().cr4 | cr4::pcide), kGP);
}

TEST(Cr4, ReportedFeaturesCanBeSet) {
    Sys f;
    const uint64_t want = entry().cr4 | cr4::umip | cr4::fsgsbase | cr4::smep | cr4::smap | cr4::pge | cr4::de |
                          cr4::tsd | cr4::pce;
    EXPECT_EQ(kernel_with_rax(f, kMovCr4Rax, want), kNone);
    EXPECT_EQ(f.s().cr4, want);
}

TEST(Cr4, SettingSmepStopsTheNextFetchFromAUserPage) {
    // The code runs at CPL 0 from a user-accessible page: once MOV CR4 sets SMEP, the next
    // instruction fetch is a #PF (SDM Vol. 3A 4.6.1), so the write flushed what was cached.
    Sys f;
    f.kernel(kMovCr4Rax + std::vector<uint8_t>{0x90});
    f.allow_user_pages();
    f.set(rax, entry().cr4 | cr4::smep);
    EXPECT_EQ(f.go(), kPF);
    EXPECT_EQ(f.s().rip(), kCode + 3);
    EXPECT_EQ(f.error(), 0x11u);  // present, instruction fetch
}

TEST(Cr4, ClearingPaeInLongModeRaisesGp) {
    Sys f;
    EXPECT_EQ(kernel_with_rax(f, kMovCr4Rax, entry().cr4 & ~cr4::pae), kGP);
}

TEST(Cr4, PcideNeedsCr3LowBitsClear) {
    Sys f;
    f.kernel(kMovCr4Rax);
    f.s().cr3 |= 1;
    f.set(rax, f.s().cr4 | cr4::pcide);
    EXPECT_EQ(f.go(), kGP);
}

TEST(Cr4, PcideNeedsIa32eMode) {
    Sys f;
    f.protected32({0x0f, 0x22, 0xe0});  // mov cr4, eax
    f.set(rax, cr4::pcide);
    EXPECT_EQ(f.go(), kGP);
}

TEST(Cr4, ClearingPagingWithPcideInCompatibilityModeRaisesGp) {
    Sys f;
    f.kernel({});
    // Compatibility mode: CS = 32-bit code; then mov cr0, eax.
    f.poke(kCode + 0x100, {0x0f, 0x22, 0xc0, 0xe6, 0xf4});
    f.s().cr4 |= cr4::pcide;
    f.s().seg[cs] = segment_from_descriptor(kSelCode32, kCode32);
    f.s().rip() = kCode + 0x100;
    f.core.refresh_mode();
    ASSERT_EQ(f.s().mode, Mode::compat32);
    f.set(rax, f.s().cr0 & ~cr0::pg);
    EXPECT_EQ(f.go(), kGP);
}

// ---- CR8, CR2 ----

TEST(Cr8, UpperBitsRaiseGpAndTheLowFourRoundTrip) {
    Sys f;
    EXPECT_EQ(kernel_with_rax(f, kMovCr8Rax, 0x10), kGP);
    Sys g;
    g.kernel(kMovCr8Rax + std::vector<uint8_t>{0x31, 0xc0} + kMovRaxCr8);  // mov cr8,rax; xor eax,eax; mov rax,cr8
    g.set(rax, 0xa);
    EXPECT_EQ(g.go(), kNone);
    EXPECT_EQ(g.reg(rax), 0xau);
}

TEST(Cr2, HoldsAnyValue) {
    Sys f;
    f.kernel({0x0f, 0x22, 0xd0, 0x0f, 0x20, 0xd3});  // mov cr2, rax; mov rbx, cr2
    f.set(rax, 0xfedcba9876543210);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rbx), 0xfedcba9876543210u);
}

// ---- privilege ----

TEST(ControlRegisters, CplAboveZeroRaisesGpForEveryAccess) {
    for (const auto& insn : {kMovCr0Rax, kMovRaxCr0, kMovCr3Rax, kMovRaxCr3, kMovCr8Rax, mov_dr_rax(7), mov_rax_dr(6),
                             std::vector<uint8_t>{0x0f, 0x06},          // clts
                             std::vector<uint8_t>{0x0f, 0x01, 0xf0},    // lmsw ax
                             kWrmsr, kRdmsr,
                             std::vector<uint8_t>{0x0f, 0x01, 0x13},    // lgdt [rbx]
                             std::vector<uint8_t>{0x0f, 0x01, 0x1b},    // lidt [rbx]
                             std::vector<uint8_t>{0x0f, 0x00, 0xd0},    // lldt ax
                             std::vector<uint8_t>{0x0f, 0x00, 0xd8},    // ltr ax
                             std::vector<uint8_t>{0x0f, 0x08},          // invd
                             std::vector<uint8_t>{0x0f, 0x09},          // wbinvd
                             std::vector<uint8_t>{0x0f, 0x01, 0x3b},    // invlpg [rbx]
                             std::vector<uint8_t>{0x0f, 0x01, 0xf8}}) { // swapgs
        Sys f;
        f.kernel({});
        f.poke(kCode + 0x1000, insn);
        f.user(kCode + 0x1000);
        f.set(rbx, kData).set(rcx, 0x10);
        EXPECT_EQ(f.go(), kGP) << std::hex << int(insn[1]) << " " << int(insn.size() > 2 ? insn[2] : 0);
        EXPECT_EQ(f.error(), 0u);
    }
}

// ---- debug registers ----

TEST(DebugRegisters, Dr4AndDr5AliasDr6AndDr7WithoutDebugExtensions) {
    Sys f;
    f.kernel(mov_dr_rax(5) + mov_rax_dr(7) + std::vector<uint8_t>{0x48, 0x89, 0xc3} + mov_rax_dr(4));
    f.set(rax, 0x3);  // L0, G0
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rbx), 0x403u);        // DR7 with bit 10 fixed to 1
    EXPECT_EQ(f.reg(rax), 0xffff0ff0u);   // DR6's reset value through DR4
}

TEST(DebugRegisters, Dr4RaisesUdWithDebugExtensions) {
    Sys f;
    f.kernel(mov_rax_dr(4));
    f.s().cr4 |= cr4::de;
    EXPECT_EQ(f.go(), kUD);
}

TEST(DebugRegisters, GeneralDetectRaisesDbAndClearsGd) {
    Sys f;
    f.kernel(mov_rax_dr(0));
    f.s().dr[7] |= 1u << 13;
    EXPECT_EQ(f.go(), kDB);
    EXPECT_EQ(f.s().rip(), kCode);        // a fault: RIP at the MOV
    EXPECT_TRUE(f.s().dr[6] & (1u << 13));  // BD
    EXPECT_FALSE(f.s().dr[7] & (1u << 13));
}

TEST(DebugRegisters, UpperHalfOfDr6AndDr7IsReserved) {
    Sys f;
    EXPECT_EQ(kernel_with_rax(f, mov_dr_rax(7), 1ull << 32), kGP);
    Sys g;
    EXPECT_EQ(kernel_with_rax(g, mov_dr_rax(6), 1ull << 40), kGP);
}

TEST(DebugRegisters, Dr6KeepsItsFixedBitsAndAddressRegistersHold64Bits) {
    Sys f;
    f.kernel(mov_dr_rax(6) + mov_dr_rax(3) + mov_rax_dr(6) + std::vector<uint8_t>{0x0f, 0x21, 0xdb});  // ... mov rbx, dr3
    f.set(rax, 0);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().dr[6], 0xffff0ff0u);
    EXPECT_EQ(f.reg(rbx), 0u);
    Sys g;
    EXPECT_EQ(kernel_with_rax(g, mov_dr_rax(3), 0xffff800012345678), kNone);
    EXPECT_EQ(g.s().dr[3], 0xffff800012345678u);
}

// ---- CLTS, LMSW, SMSW ----

TEST(MachineStatusWord, CltsClearsTs) {
    Sys f;
    f.kernel({0x0f, 0x06});
    f.s().cr0 |= cr0::ts;
    EXPECT_EQ(f.go(), kNone);
    EXPECT_FALSE(f.s().cr0 & cr0::ts);
}

TEST(MachineStatusWord, LmswSetsPeButCannotClearIt) {
    Sys f;
    f.real({0x0f, 0x01, 0xf0});  // lmsw ax
    f.set(rax, 0xb);            // PE, MP, TS
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().cr0 & 0xf, 0xbu);
    EXPECT_EQ(f.s().mode, Mode::protected16);
    Sys g;
    g.kernel({0x0f, 0x01, 0xf0});
    g.set(rax, 0);
    EXPECT_EQ(g.go(), kNone);
    EXPECT_TRUE(g.s().cr0 & cr0::pe);
}

TEST(MachineStatusWord, SmswStoresCr0ByOperandSize) {
    Sys f;
    // smsw eax; smsw [rbx] (16 bits); smsw cx (66)
    f.kernel({0x0f, 0x01, 0xe0, 0x0f, 0x01, 0x23, 0x66, 0x0f, 0x01, 0xe1});
    f.poke64(kData, ~0ull);
    f.set(rbx, kData).set(rcx, 0xffffffffffff0000);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rax), f.s().cr0 & 0xffffffff);
    EXPECT_EQ(f.peek64(kData), 0xffffffffffff0000 | (f.s().cr0 & 0xffff));
    EXPECT_EQ(f.reg(rcx), 0xffffffffffff0000 | (f.s().cr0 & 0xffff));
}

TEST(Umip, StoreInstructionsRaiseGpAtCpl3OnlyWithUmip) {
    const std::vector<std::vector<uint8_t>> stores = {
        {0x0f, 0x01, 0x03}, {0x0f, 0x01, 0x0b}, {0x0f, 0x00, 0xc0}, {0x0f, 0x01, 0xe0}, {0x0f, 0x00, 0xc8}};
    for (bool umip : {false, true})
        for (const auto& insn : stores) {  // sgdt, sidt, sldt, smsw, str
            Sys f;
            f.kernel({});
            f.poke(kCode + 0x1000, insn + std::vector<uint8_t>{0xe6, 0xf4});
            if (umip) f.s().cr4 |= cr4::umip;
            f.user(kCode + 0x1000);
            f.set(rbx, kData);
            EXPECT_EQ(f.go(), umip ? kGP : kNone) << umip << " " << int(insn[2]);
        }
}

// ---- RDMSR / WRMSR ----

namespace {

// wrmsr; rdmsr with ECX = msr: EDX:EAX written, then read back into EDX:EAX.
int msr_round_trip(Sys& f, uint32_t msr, uint64_t value) {
    f.kernel(kWrmsr + std::vector<uint8_t>{0x31, 0xc0, 0x31, 0xd2} + kRdmsr);  // wrmsr; xor eax,eax; xor edx,edx; rdmsr
    f.set(rcx, msr).set(rax, value & 0xffffffff).set(rdx, value >> 32);
    return f.go();
}
uint64_t edx_eax(const Sys& f) { return (f.reg(rdx) << 32) | (f.reg(rax) & 0xffffffff); }

}  // namespace

TEST(Msr, SyscallMsrsRoundTrip) {
    for (auto [msr, value] : {std::pair<uint32_t, uint64_t>{0xc0000081, 0x0023001000000000},
                              {0xc0000082, 0xffffffff81000000}, {0xc0000083, 0x12345678},
                              {0xc0000084, 0x47700}, {0xc0000102, 0xffff888000000000},
                              {0x174, 0x10}, {0x175, 0xffff800000001000}, {0x176, 0x401000}, {0xc0000103, 7}}) {
        Sys f;
        EXPECT_EQ(msr_round_trip(f, msr, value), kNone) << std::hex << msr;
        EXPECT_EQ(edx_eax(f), value) << std::hex << msr;
    }
}

TEST(Msr, CanonicalChecksOnAddressMsrs) {
    for (uint32_t msr : {0xc0000082u, 0xc0000083u, 0xc0000100u, 0xc0000101u, 0xc0000102u, 0x175u, 0x176u}) {
        Sys f;
        EXPECT_EQ(msr_round_trip(f, msr, 0x0000800000000000), kGP) << std::hex << msr;
    }
}

TEST(Msr, ReservedBitsRaiseGp) {
    for (auto [msr, value] : {std::pair<uint32_t, uint64_t>{0xc0000084, 1ull << 32}, {0xc0000103, 1ull << 32},
                              {0x2ff, 1ull << 12}, {0x201, 0x400}}) {
        Sys f;
        EXPECT_EQ(msr_round_trip(f, msr, value), kGP) << std::hex << msr;
    }
}

TEST(Msr, FsAndGsBaseAreTheSegmentBases) {
    Sys f;
    // wrmsr (FS base); mov rax, fs:[0]
    f.kernel(kWrmsr + std::vector<uint8_t>{0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0});
    f.poke64(kData + 8, 0x5566778899aabbcc);
    f.set(rcx, 0xc0000100).set(rax, kData + 8).set(rdx, 0);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().seg[fs].base, kData + 8);
    EXPECT_EQ(f.reg(rax), 0x5566778899aabbccu);
}

TEST(Msr, PatRejectsReservedMemoryTypes) {
    Sys f;
    EXPECT_EQ(msr_round_trip(f, 0x277, 0x0007010600070406), kNone);
    EXPECT_EQ(edx_eax(f), 0x0007010600070406u);
    for (uint64_t bad : {0x0007040600070402ull, 0x0007040600070403ull, 0x0007040600070416ull}) {
        Sys g;
        EXPECT_EQ(msr_round_trip(g, 0x277, bad), kGP) << std::hex << bad;
    }
}

TEST(Msr, MtrrsAreStoredWithTypeChecks) {
    Sys f;
    EXPECT_EQ(msr_round_trip(f, 0x200, 0x80000006), kNone);  // PHYSBASE0: WB at 2 GiB
    EXPECT_EQ(edx_eax(f), 0x80000006u);
    Sys g;
    EXPECT_EQ(msr_round_trip(g, 0x200, 0x80000002), kGP);  // type 2 is reserved
    Sys h;
    EXPECT_EQ(msr_round_trip(h, 0x250, 0x0606060606060606), kNone);
    Sys k;
    EXPECT_EQ(msr_round_trip(k, 0x268, 0x0606060606060706), kGP);  // 7 (UC-) is PAT-only
}

TEST(Msr, ReadOnlyMsrsReadTheirValueAndRefuseWrites) {
    Sys f;
    f.kernel(kRdmsr);
    f.set(rcx, 0xfe);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(edx_eax(f), 0x508u);  // MTRRcap: 8 variable ranges, fixed, WC
    Sys g;
    EXPECT_EQ(msr_round_trip(g, 0xfe, 0x508), kGP);
}

TEST(Msr, UnknownMsrRaisesGpAndIsReported) {
    Sys f;
    const auto rec = f.record_events();
    f.kernel(kRdmsr);
    f.set(rcx, 0x12345678);
    EXPECT_EQ(f.go(), kGP);
    EXPECT_EQ(f.error(), 0u);
    bool reported = false;
    for (const auto& e : rec->seen) reported |= e.kind == sim::EventKind::msr_read && e.a == 0x12345678 && e.c == 1;
    EXPECT_TRUE(reported);
}

TEST(Msr, VendorSpecificMsrsExistOnlyOnTheirVendor) {
    Sys intel;
    intel.kernel(kRdmsr).set(rcx, 0xc0010015);  // AMD HWCR
    EXPECT_EQ(intel.go(), kGP);
    Sys amd(Vendor::amd);
    amd.kernel(kRdmsr).set(rcx, 0x1a0);  // Intel MISC_ENABLE
    EXPECT_EQ(amd.go(), kGP);
}

TEST(Msr, EveryTableRowReadsItsResetValue) {
    for (Vendor v : {Vendor::intel, Vendor::amd}) {
        Sys f(v);
        f.kernel({});
        for (const MsrInfo& row : kMsrTable) {
            if (std::string(row.vendor) != "both" && std::string(row.vendor) != to_string(v)) continue;
            const auto index = static_cast<uint32_t>(row.value);
            if (index == 0x10 || index == 0xc0000080 || index == 0xc0000100 || index == 0xc0000101) continue;
            f.core.reset();
            uint64_t value = ~0ull;
            EXPECT_TRUE(msr_read(f.core, index, value)) << row.name;
            EXPECT_EQ(value, row.reset) << row.name << " " << to_string(v);
        }
    }
}

TEST(Msr, TscWriteSetsTheCounterRdtscContinuesFromIt) {
    Sys f;
    f.kernel(kWrmsr + std::vector<uint8_t>{0x0f, 0x31});  // wrmsr; rdtsc
    f.set(rcx, 0x10).set(rax, 0).set(rdx, 0x1000);
    EXPECT_EQ(f.go(), kNone);
    const uint64_t tsc = edx_eax(f);
    EXPECT_GE(tsc, 0x100000000000u);
    EXPECT_LT(tsc, 0x100000000010u);
}

TEST(Msr, CplAboveZeroRaisesGpBeforeTheIndexIsLookedAt) {
    Sys f;
    f.kernel({});
    f.poke(kCode + 0x1000, kRdmsr);
    f.user(kCode + 0x1000);
    f.set(rcx, 0xc0000080);
    EXPECT_EQ(f.go(), kGP);
}

// ---- EFER ----

TEST(Efer, UnsupportedBitsAreReserved) {
    for (Vendor v : {Vendor::intel, Vendor::amd})
        for (uint64_t bit : {efer::svme, efer::lmsle, efer::ffxsr, efer::tce, uint64_t{1} << 1}) {
            Sys f(v);
            EXPECT_EQ(msr_round_trip(f, 0xc0000080, entry().efer | bit), kGP) << std::hex << bit;
        }
}

TEST(Efer, LongModeEnableCannotChangeWhilePagingIsOn) {
    Sys f;
    EXPECT_EQ(msr_round_trip(f, 0xc0000080, entry().efer & ~efer::lme), kGP);
}

TEST(Efer, LmaIsReadOnly) {
    Sys f;
    EXPECT_EQ(msr_round_trip(f, 0xc0000080, entry().efer & ~efer::lma), kNone);
    EXPECT_TRUE(edx_eax(f) & efer::lma);
}

TEST(Efer, NxeTakesEffectOnTheNextAccess) {
    // With NXE clear, XD (bit 63) in a PDE is reserved: a data read through it is #PF with RSVD.
    Sys f;
    f.kernel(kWrmsr + std::vector<uint8_t>{0x8b, 0x03});  // wrmsr; mov eax, [rbx]
    const uint64_t pde = 0x3000 + 8 * (kData >> 21);
    f.poke64(pde, f.peek64(pde) | (1ull << 63));
    f.core.flush_tlb();
    f.set(rcx, 0xc0000080).set(rax, f.s().efer & ~efer::nxe).set(rdx, 0).set(rbx, kData);
    EXPECT_EQ(f.go(), kPF);
    EXPECT_EQ(f.error() & 8, 8u);
}

// ---- cache and TLB ----

TEST(CacheControl, InvdWbinvdAndClflushReportEvents) {
    Sys f;
    const auto rec = f.record_events();
    f.kernel({0x0f, 0x08, 0x0f, 0x09, 0x0f, 0xae, 0x3b, 0x66, 0x0f, 0xae, 0x3b});  // invd; wbinvd; clflush [rbx]; clflushopt [rbx]
    f.set(rbx, kData + 0x40);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(rec->count(sim::EventKind::cache_control), 4u);
}

TEST(CacheControl, ClflushFaultsLikeAByteLoad) {
    Sys f;
    f.kernel({0x0f, 0xae, 0x3b});
    f.set(rbx, 0x0000800000000000);
    EXPECT_EQ(f.go(), kGP);
    Sys g;
    g.kernel({0x0f, 0xae, 0x3b});
    g.set(rbx, 0x1000000000);  // beyond the identity map: not present
    EXPECT_EQ(g.go(), kPF);
}

TEST(CacheControl, InvlpgMakesAChangedMappingVisible) {
    Sys f;
    // mov eax, [rbx]; mov [rsi], rdx (remap the 2 MiB page); invlpg [rbx]; mov ecx, [rbx]
    f.kernel({0x8b, 0x03, 0x48, 0x89, 0x16, 0x0f, 0x01, 0x3b, 0x8b, 0x0b});
    const uint64_t pde = 0x3000 + 8 * (kData >> 21);
    f.poke64(kData, 1);
    f.poke64(kData + 0x200000, 2);
    f.set(rbx, kData).set(rsi, pde).set(rdx, f.peek64(pde) + 0x200000);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rax), 1u);
    EXPECT_EQ(f.reg(rcx), 2u);
}

TEST(CacheControl, InvpcidChecksTypeAndDescriptor) {
    struct Case {
        uint64_t type, pcid, address;
        bool pcide;
        int vector;
    };
    for (const Case& c : {Case{0, 0, 0x1000, false, kNone}, Case{3, 0, 0, false, kNone}, Case{4, 0, 0, false, kGP},
                          Case{1, 5, 0, false, kGP}, Case{1, 5, 0, true, kNone}, Case{0, 0, 0x0000800000000000, false, kGP},
                          Case{2, 1ull << 12, 0, false, kGP}}) {
        Sys f;
        f.kernel({0x66, 0x0f, 0x38, 0x82, 0x03});  // invpcid rax, [rbx]
        f.poke64(kData, c.pcid);
        f.poke64(kData + 8, c.address);
        if (c.pcide) f.s().cr4 |= cr4::pcide;
        f.set(rax, c.type).set(rbx, kData);
        EXPECT_EQ(f.go(), c.vector) << c.type << " " << c.pcid;
    }
    Sys amd(Vendor::amd);  // Zen 2 has no INVPCID
    amd.kernel({0x66, 0x0f, 0x38, 0x82, 0x03}).set(rbx, kData);
    EXPECT_EQ(amd.go(), kUD);
}

TEST(Xcr0, XsetbvNeedsOsxsave) {
    Sys f;
    f.kernel({0x0f, 0x01, 0xd1});
    f.set(rax, 3).set(rcx, 0).set(rdx, 0);
    EXPECT_EQ(f.go(), kUD);
    Sys g;
    g.kernel({0x0f, 0x01, 0xd0});  // xgetbv
    EXPECT_EQ(g.go(), kUD);
}

TEST(Xcr0, XsetbvAcceptsOnlyX87AndSse) {
    // CR4.OSXSAVE is set directly: CPUID does not report XSAVE (XSAVE/XRSTOR are not
    // implemented), so MOV to CR4 would refuse it.
    struct Case {
        uint64_t value, ecx;
        int vector;
    };
    for (const Case& c : {Case{3, 0, kNone}, Case{1, 0, kNone}, Case{2, 0, kGP}, Case{7, 0, kGP}, Case{5, 0, kGP},
                          Case{3, 1, kGP}, Case{1ull << 32 | 1, 0, kGP}}) {
        Sys f;
        f.kernel({0x0f, 0x01, 0xd1, 0x31, 0xc0, 0x0f, 0x01, 0xd0});  // xsetbv; xor eax,eax; xgetbv
        f.s().cr4 |= cr4::osxsave;
        f.set(rax, c.value & 0xffffffff).set(rdx, c.value >> 32).set(rcx, c.ecx);
        EXPECT_EQ(f.go(), c.vector) << c.value;
        if (c.vector == kNone) {
            EXPECT_EQ(f.reg(rax), c.value);
        }
    }
}

TEST(Smap, StacAndClacToggleAcAtCpl0AndAreUdAtCpl3) {
    Sys f;
    f.kernel({0x0f, 0x01, 0xcb});  // stac
    EXPECT_EQ(f.go(), kNone);
    EXPECT_TRUE(f.s().rflags() & rf::ac);
    Sys g;
    g.kernel({});
    g.poke(kCode + 0x1000, {0x0f, 0x01, 0xca});  // clac
    g.user(kCode + 0x1000);
    EXPECT_EQ(g.go(), kUD);
}
