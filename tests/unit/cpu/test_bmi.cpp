// BMI1 and BMI2 (cpu/isa/bmi.cpp): the edges of BEXTR, BZHI, PDEP/PEXT and MULX, flags, count
// masking, the real-mode #UD and what CPUID advertises. Runs on a flat long-mode machine with
// exceptions trapped. Expected values marked "Zen 4" were measured on the host (the SDM leaves
// them undefined; tests/diff checks them at random).
#include <gtest/gtest.h>

#include <vector>

#include "tests/support/core_fixture.h"

using namespace cpu;

namespace {

constexpr int kNone = -1, kUD = 6, kGP = 13;
constexpr uint64_t CF = rf::cf, PF = rf::pf, AF = rf::af, ZF = rf::zf, SF = rf::sf, OF = rf::of;
constexpr uint64_t kData = 0x200000;

// Long mode; `code` is followed by OUT 0xf4 (the normal end); RSI points at zeroed data.
struct Bmi : test::CoreFixture {
    explicit Bmi(std::vector<uint8_t> code) {
        code.insert(code.end(), {0xe6, 0xf4});
        long_mode(code);
        core.set_trap_exceptions(true);
        core.state().regs[rsi] = kData;
    }
    Bmi& set(unsigned r, uint64_t v) {
        core.state().regs[r] = v;
        return *this;
    }
    Bmi& flags(uint64_t v) {
        core.state().flags.set(v);
        return *this;
    }
    Bmi& poke(uint64_t v) {
        core.write_physical(kData, &v, 8);
        return *this;
    }
    // Runs to the exit port; returns the vector of a trapped exception, or kNone.
    int go() {
        run();
        return core.trapped().valid ? core.trapped().vector : kNone;
    }
    uint64_t flags() const { return core.state().flags.get(); }
};

// Encodings (VEX.0F38 / 0F3A, ModRM.reg = rax, VEX.vvvv = rbx or rdx, ModRM.r/m = rcx).
const std::vector<uint8_t> kAndn32 = {0xc4, 0xe2, 0x60, 0xf2, 0xc1};    // andn eax, ebx, ecx
const std::vector<uint8_t> kBextr32 = {0xc4, 0xe2, 0x68, 0xf7, 0xc1};   // bextr eax, ecx, edx
const std::vector<uint8_t> kBextr64 = {0xc4, 0xe2, 0xe8, 0xf7, 0xc1};   // bextr rax, rcx, rdx
const std::vector<uint8_t> kBzhi32 = {0xc4, 0xe2, 0x68, 0xf5, 0xc1};    // bzhi eax, ecx, edx
const std::vector<uint8_t> kBzhi64 = {0xc4, 0xe2, 0xe8, 0xf5, 0xc1};    // bzhi rax, rcx, rdx
const std::vector<uint8_t> kPdep32 = {0xc4, 0xe2, 0x63, 0xf5, 0xc1};    // pdep eax, ebx, ecx
const std::vector<uint8_t> kPdep64 = {0xc4, 0xe2, 0xe3, 0xf5, 0xc1};    // pdep rax, rbx, rcx
const std::vector<uint8_t> kPext32 = {0xc4, 0xe2, 0x62, 0xf5, 0xc1};    // pext eax, ebx, ecx
const std::vector<uint8_t> kPext64 = {0xc4, 0xe2, 0xe2, 0xf5, 0xc1};    // pext rax, rbx, rcx
const std::vector<uint8_t> kMulx32 = {0xc4, 0xe2, 0x63, 0xf6, 0xc1};    // mulx eax, ebx, ecx
const std::vector<uint8_t> kMulx64 = {0xc4, 0xe2, 0xe3, 0xf6, 0xc1};    // mulx rax, rbx, rcx
const std::vector<uint8_t> kBlsi64 = {0xc4, 0xe2, 0xf8, 0xf3, 0xd9};    // blsi rax, rcx
const std::vector<uint8_t> kBlsmsk64 = {0xc4, 0xe2, 0xf8, 0xf3, 0xd1};  // blsmsk rax, rcx
const std::vector<uint8_t> kBlsr64 = {0xc4, 0xe2, 0xf8, 0xf3, 0xc9};    // blsr rax, rcx

uint64_t bextr(const std::vector<uint8_t>& code, uint64_t src, uint64_t control, uint64_t* flags = nullptr) {
    Bmi f(code);
    f.set(rax, 0x5555555555555555).set(rcx, src).set(rdx, control).flags(CF | OF | SF);
    EXPECT_EQ(f.go(), kNone);
    if (flags) *flags = f.flags();
    return f.reg(rax);
}

}  // namespace

// ---- BEXTR ----------------------------------------------------------------------------------

TEST(Bextr, ExtractsLengthBitsFromStartAndSetsAfLikeZen4) {
    uint64_t fl;
    EXPECT_EQ(bextr(kBextr32, 0xdeadbeef, 0x1008, &fl), 0xadbeu);  // start 8, length 16
    EXPECT_EQ(fl, AF | PF);  // CF and OF cleared; AF set, PF from the low byte (Zen 4)
    // Only control bits 15:0 count.
    EXPECT_EQ(bextr(kBextr64, 0x123456789abcdef0, 0xffffffffffff0804), 0xefu);
}

TEST(Bextr, ALengthBeyondTheWidthStopsAtTheTopBit) {
    EXPECT_EQ(bextr(kBextr32, 0xdeadbeef, 0xff10), 0xdeadu);
    EXPECT_EQ(bextr(kBextr32, 0xffffffff00000000 | 0xdeadbeef, 0x4000), 0xdeadbeefu);
    uint64_t fl;
    EXPECT_EQ(bextr(kBextr64, 0x8000000000000001, 0xff00, &fl), 0x8000000000000001u);
    EXPECT_EQ(fl, AF);  // SF stays clear with the top bit set (Zen 4)
    EXPECT_EQ(bextr(kBextr64, 0xf00000000000000f, 0x4000, &fl), 0xf00000000000000fu);
}

TEST(Bextr, AStartAtOrBeyondTheWidthGivesZero) {
    uint64_t fl;
    EXPECT_EQ(bextr(kBextr32, 0xffffffff, 0x1020, &fl), 0u);  // start 32 of a 32-bit source
    EXPECT_EQ(fl, ZF | AF | PF);
    EXPECT_EQ(bextr(kBextr32, 0xffffffffffffffff, 0x2010), 0xffffu);  // bits 32+ are not the source
    EXPECT_EQ(bextr(kBextr64, 0xffffffffffffffff, 0x4040), 0u);
    EXPECT_EQ(bextr(kBextr64, 0xffffffffffffffff, 0xffff), 0u);
    EXPECT_EQ(bextr(kBextr64, 0xffffffffffffffff, 0x083c), 0xfu);  // start 60, length 8
}

TEST(Bextr, ALengthOfZeroGivesZero) {
    uint64_t fl;
    EXPECT_EQ(bextr(kBextr64, 0xffffffffffffffff, 0x0000, &fl), 0u);
    EXPECT_EQ(fl, ZF | AF | PF);
}

// ---- BZHI -----------------------------------------------------------------------------------

TEST(Bzhi, ClearsTheBitsFromTheIndexUp) {
    Bmi f(kBzhi64);
    f.set(rcx, 0xffffffffffffffff).set(rdx, 63).flags(CF | OF);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rax), 0x7fffffffffffffffu);
    EXPECT_EQ(f.flags(), PF);  // CF and OF cleared, AF cleared (Zen 4)
}

TEST(Bzhi, AnIndexAtOrBeyondTheWidthKeepsTheSourceAndSetsCarry) {
    for (uint64_t index : {32u, 33u, 0xffu, 0xffffff20u}) {
        Bmi f(kBzhi32);
        f.set(rax, ~0ull).set(rcx, 0xffffffff80000001).set(rdx, index);
        EXPECT_EQ(f.go(), kNone);
        EXPECT_EQ(f.reg(rax), 0x80000001u) << index;  // zero-extended
        EXPECT_EQ(f.flags(), CF | SF) << index;
    }
    Bmi f(kBzhi64);
    f.set(rcx, 0x8000000000000000).set(rdx, 64);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rax), 0x8000000000000000u);
    EXPECT_EQ(f.flags(), CF | SF | PF);
}

TEST(Bzhi, OnlyTheLowByteIsTheIndex) {
    Bmi f(kBzhi64);
    f.set(rcx, 0xffff).set(rdx, 0x104);  // index 4, not 260
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rax), 0xfu);
    EXPECT_EQ(f.flags(), PF);
}

TEST(Bzhi, AnIndexOfZeroClearsEverything) {
    Bmi f(kBzhi64);
    f.set(rcx, ~0ull).set(rdx, 0);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rax), 0u);
    EXPECT_EQ(f.flags(), ZF | PF);
}

// ---- PDEP PEXT ------------------------------------------------------------------------------

TEST(PdepPext, AFullMaskCopiesTheSource) {
    for (const auto& code : {kPdep64, kPext64}) {
        Bmi f(code);
        f.set(rbx, 0x0123456789abcdef).set(rcx, ~0ull).flags(ZF | CF);
        EXPECT_EQ(f.go(), kNone);
        EXPECT_EQ(f.reg(rax), 0x0123456789abcdefu);
        EXPECT_EQ(f.flags(), ZF | CF);  // flags unaffected
    }
    for (const auto& code : {kPdep32, kPext32}) {
        Bmi f(code);
        f.set(rbx, 0xfedcba9876543210).set(rcx, 0xffffffff);
        EXPECT_EQ(f.go(), kNone);
        EXPECT_EQ(f.reg(rax), 0x76543210u);
    }
}

TEST(PdepPext, AnEmptyMaskGivesZero) {
    for (const auto& code : {kPdep64, kPext64}) {
        Bmi f(code);
        f.set(rax, 5).set(rbx, ~0ull).set(rcx, 0);
        EXPECT_EQ(f.go(), kNone);
        EXPECT_EQ(f.reg(rax), 0u);
    }
}

TEST(PdepPext, DepositAndExtractAreInverses) {
    Bmi dep(kPdep64);
    dep.set(rbx, 0b1011).set(rcx, 0x8000000000f0f000);  // mask bits 12..15, 20..23, 63
    EXPECT_EQ(dep.go(), kNone);
    EXPECT_EQ(dep.reg(rax), 0xb000u);
    Bmi dep9(kPdep64);
    dep9.set(rbx, 0x1ff).set(rcx, 0x8000000000f0f000);  // the ninth bit goes to bit 63
    EXPECT_EQ(dep9.go(), kNone);
    EXPECT_EQ(dep9.reg(rax), 0x8000000000f0f000u);
    Bmi ext(kPext64);
    ext.set(rbx, 0x80000000005fb000).set(rcx, 0x8000000000f0f000);
    EXPECT_EQ(ext.go(), kNone);
    EXPECT_EQ(ext.reg(rax), 0x15bu);  // 1 (bit 63), 0101 (bits 20..23), 1011 (bits 12..15)
}

TEST(PdepPext, TheMaskMayComeFromMemory) {
    Bmi f({0xc4, 0xe2, 0xe2, 0xf5, 0x06});  // pext rax, rbx, qword ptr [rsi]
    f.poke(0xff00).set(rbx, 0x1234);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rax), 0x12u);
}

// ---- MULX -----------------------------------------------------------------------------------

TEST(Mulx, WritesBothHalvesAndNoFlags) {
    for (uint64_t fl : {uint64_t{0}, CF | PF | AF | ZF | SF | OF}) {
        Bmi f(kMulx64);
        f.set(rdx, 0xffffffffffffffff).set(rcx, 0xffffffffffffffff).flags(fl);
        EXPECT_EQ(f.go(), kNone);
        EXPECT_EQ(f.reg(rax), 0xfffffffffffffffeu);  // high half
        EXPECT_EQ(f.reg(rbx), 1u);                   // low half
        EXPECT_EQ(f.reg(rdx), 0xffffffffffffffffu);
        EXPECT_EQ(f.flags(), fl);
    }
}

TEST(Mulx, ThirtyTwoBitFormUsesEdxAndZeroExtends) {
    Bmi f(kMulx32);
    f.set(rax, ~0ull).set(rbx, ~0ull).set(rdx, 0xaaaaaaaa80000000).set(rcx, 0x5555555500000006);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rax), 3u);  // 0x80000000 * 6 = 0x3_0000_0000
    EXPECT_EQ(f.reg(rbx), 0u);
}

TEST(Mulx, WithOneRegisterForBothHalvesTheHighHalfWins) {
    Bmi f({0xc4, 0xe2, 0xfb, 0xf6, 0xc1});  // mulx rax, rax, rcx
    f.set(rdx, 0x100000000).set(rcx, 0x300000005);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rax), 3u);
}

TEST(Mulx, AFaultingMemorySourceChangesNothing) {
    Bmi f({0xc4, 0xe2, 0xe3, 0xf6, 0x06});  // mulx rax, rbx, qword ptr [rsi]
    f.set(rsi, 0x8000000000000000).set(rax, 1).set(rbx, 2).set(rdx, 3);  // not canonical
    EXPECT_EQ(f.go(), kGP);
    EXPECT_EQ(f.reg(rax), 1u);
    EXPECT_EQ(f.reg(rbx), 2u);
}

// ---- ANDN BLSI BLSMSK BLSR --------------------------------------------------------------------

TEST(Andn, AndsTheInvertedFirstSourceAndClearsCarryOverflowAndAf) {
    Bmi f(kAndn32);
    f.set(rbx, 0xffffffff0000ffff).set(rcx, 0x00000000ffff0f00).flags(CF | OF | AF);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rax), 0xffff0000u);
    EXPECT_EQ(f.flags(), SF | PF);  // AF cleared, PF from the low byte (Zen 4)
}

TEST(Blsx, ZeroSourceFlags) {
    struct Case {
        const std::vector<uint8_t>& code;
        uint64_t result, flags;
    };
    for (const Case& c : {Case{kBlsi64, 0, ZF | PF}, Case{kBlsmsk64, ~0ull, CF | SF | PF},
                          Case{kBlsr64, 0, CF | ZF | PF}}) {
        Bmi f(c.code);
        f.set(rcx, 0).flags(OF | AF);
        EXPECT_EQ(f.go(), kNone);
        EXPECT_EQ(f.reg(rax), c.result);
        EXPECT_EQ(f.flags(), c.flags);
    }
}

TEST(Blsx, IsolateMaskAndResetTheLowestSetBit) {
    struct Case {
        const std::vector<uint8_t>& code;
        uint64_t result, flags;
    };
    for (const Case& c : {Case{kBlsi64, 0x8000000000000000, CF | SF | PF},
                          Case{kBlsmsk64, 0xffffffffffffffff, SF | PF},
                          Case{kBlsr64, 0, ZF | PF}}) {
        Bmi f(c.code);
        f.set(rcx, 0x8000000000000000);
        EXPECT_EQ(f.go(), kNone);
        EXPECT_EQ(f.reg(rax), c.result);
        EXPECT_EQ(f.flags(), c.flags);
    }
}

// ---- RORX SARX SHLX SHRX --------------------------------------------------------------------

TEST(ShiftX, CountsAreMaskedToTheWidthAndFlagsAreUnaffected) {
    Bmi shl({0xc4, 0xe2, 0x69, 0xf7, 0xc1});  // shlx eax, ecx, edx
    shl.set(rcx, 0x80000001).set(rdx, 33).flags(ZF);
    EXPECT_EQ(shl.go(), kNone);
    EXPECT_EQ(shl.reg(rax), 2u);
    EXPECT_EQ(shl.flags(), ZF);
    Bmi sar({0xc4, 0xe2, 0xea, 0xf7, 0xc1});  // sarx rax, rcx, rdx
    sar.set(rcx, 0x8000000000000000).set(rdx, 0x7f);
    EXPECT_EQ(sar.go(), kNone);
    EXPECT_EQ(sar.reg(rax), ~0ull);
    Bmi shr({0xc4, 0xe2, 0x6b, 0xf7, 0xc1});  // shrx eax, ecx, edx
    shr.set(rcx, 0xffffffff80000000).set(rdx, 0x3f);
    EXPECT_EQ(shr.go(), kNone);
    EXPECT_EQ(shr.reg(rax), 1u);
    Bmi ror({0xc4, 0xe3, 0xfb, 0xf0, 0xc1, 0x44});  // rorx rax, rcx, 0x44 (= 4)
    ror.set(rcx, 0x12).flags(CF | OF);
    EXPECT_EQ(ror.go(), kNone);
    EXPECT_EQ(ror.reg(rax), 0x2000000000000001u);
    EXPECT_EQ(ror.flags(), CF | OF);
}

// ---- modes and CPUID ------------------------------------------------------------------------

TEST(BmiMode, RealModeRaisesUd) {
    test::CoreFixture f;
    f.real_mode({0xc4, 0xe2, 0x60, 0xf2, 0xc1, 0xe6, 0xf4});  // andn eax, ebx, ecx
    f.core.set_trap_exceptions(true);
    f.core.state().regs[rax] = 7;
    f.run();
    ASSERT_TRUE(f.core.trapped().valid);
    EXPECT_EQ(f.core.trapped().vector, kUD);
    EXPECT_EQ(f.reg(rax), 7u);
}

TEST(BmiMode, ProtectedModeIgnoresVexW) {
    test::CoreFixture f;
    f.bus.load(0x100000, {0xc4, 0xe2, 0xe0, 0xf2, 0xc1, 0xe6, 0xf4});  // andn eax, ebx, ecx (W1)
    enter_multiboot(f.core, 0x100000, 0x9000, 0x8000);
    f.core.set_trap_exceptions(true);
    f.core.state().regs[rbx] = 0xf0f0f0f0;
    f.core.state().regs[rcx] = 0xffff0000;
    f.run();
    EXPECT_FALSE(f.core.trapped().valid);
    EXPECT_EQ(f.reg(rax), 0x0f0f0000u);
}

TEST(BmiMode, APrefixBeforeVexRaisesUd) {
    for (uint8_t prefix : {0xf0, 0x66, 0xf3, 0xf2, 0x48}) {
        Bmi f({prefix, 0xc4, 0xe2, 0x60, 0xf2, 0xc1});
        f.set(rax, 7);
        EXPECT_EQ(f.go(), kUD) << int{prefix};
        EXPECT_EQ(f.reg(rax), 7u);
    }
    Bmi l({0xc4, 0xe2, 0x64, 0xf2, 0xc1});  // VEX.L = 1
    EXPECT_EQ(l.go(), kUD);
}

TEST(BmiCpuid, BothVendorsAdvertiseBmi1AndBmi2InLeaf7) {
    for (Vendor v : {Vendor::intel, Vendor::amd}) {
        test::CoreFixture f(v);
        f.long_mode({0x0f, 0xa2, 0xe6, 0xf4});  // cpuid
        f.core.state().regs[rax] = 0;
        f.run();
        EXPECT_GE(static_cast<uint32_t>(f.reg(rax)), 7u);
        test::CoreFixture g(v);
        g.long_mode({0x0f, 0xa2, 0xe6, 0xf4});
        g.core.state().regs[rax] = 7;
        g.core.state().regs[rcx] = 0;
        g.run();
        EXPECT_EQ(g.reg(rbx) & (1u << 3 | 1u << 8), 1u << 3 | 1u << 8) << to_string(v);
    }
}
