// SSE/SSE2 moves and integer operations, FXSAVE/FXRSTOR, MXCSR and x87 control instructions
// on a flat long-mode machine with exceptions trapped (the faulting instruction is reported,
// not delivered). Expected values marked "Zen 4" were measured on the host.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <initializer_list>
#include <tuple>
#include <utility>

#include "tests/support/core_fixture.h"

using namespace cpu;

namespace {

constexpr uint64_t kData = 0x200000;
constexpr int kNone = -1, kUD = 6, kNM = 7, kGP = 13, kPF = 14, kMF = 16;
using V = std::array<uint8_t, 16>;

template <class T> V pack_lanes(std::initializer_list<T> xs) {
    V v{};
    unsigned k = 0;
    for (T x : xs) std::memcpy(v.data() + sizeof(T) * k++, &x, sizeof(T));
    return v;
}
V bytes(std::initializer_list<uint8_t> xs) { return pack_lanes<uint8_t>(xs); }
V words(std::initializer_list<uint16_t> xs) { return pack_lanes<uint16_t>(xs); }
V dwords(std::initializer_list<uint32_t> xs) { return pack_lanes<uint32_t>(xs); }
V qwords(uint64_t lo, uint64_t hi) { return pack_lanes<uint64_t>({lo, hi}); }

// Long mode; `code` is followed by OUT 0xf4 (the normal end); RBX points at zeroed data.
struct Sse : test::CoreFixture {
    explicit Sse(std::vector<uint8_t> code, Vendor v = Vendor::intel) : CoreFixture(v) {
        code.insert(code.end(), {0xe6, 0xf4});
        long_mode(code);
        core.set_trap_exceptions(true);
        s().regs[rbx] = kData;
    }
    State& s() { return core.state(); }
    V xmm(unsigned r) {
        V v;
        std::memcpy(v.data(), s().xmm[r], 16);
        return v;
    }
    void set_xmm(unsigned r, const V& v) { std::memcpy(s().xmm[r], v.data(), 16); }
    uint8_t* mem(uint64_t a = kData) { return bus.ram.data() + a; }
    template <class T> T at(uint64_t offset) {
        T v;
        std::memcpy(&v, mem(kData + offset), sizeof v);
        return v;
    }
    // Runs to the exit port; returns the vector of a trapped exception, or kNone.
    int go() {
        run();
        return core.trapped().valid ? core.trapped().vector : kNone;
    }
};

// xmm0 = a, xmm1 = b, runs `code`, returns xmm0.
V op(std::vector<uint8_t> code, const V& a, const V& b) {
    Sse f(std::move(code));
    f.set_xmm(0, a);
    f.set_xmm(1, b);
    EXPECT_EQ(f.go(), kNone);
    return f.xmm(0);
}

V counting() {
    V v;
    for (unsigned k = 0; k < 16; ++k) v[k] = static_cast<uint8_t>(k + 1);
    return v;
}

const std::vector<uint8_t> kPxor = {0x66, 0x0f, 0xef, 0xc0};             // pxor xmm0, xmm0
const std::vector<uint8_t> kFxsave64 = {0x48, 0x0f, 0xae, 0x03};         // fxsave64 [rbx]
const std::vector<uint8_t> kFxrstor64 = {0x48, 0x0f, 0xae, 0x0b};        // fxrstor64 [rbx]

}  // namespace

// ---- moves and alignment ------------------------------------------------------------------

TEST(SseMove, AlignedMovdqaLoadsAndStoresSixteenBytes) {
    Sse f({0x66, 0x0f, 0x6f, 0x03, 0x66, 0x0f, 0x7f, 0x43, 0x10});  // movdqa xmm0,[rbx]; movdqa [rbx+16],xmm0
    std::memcpy(f.mem(), counting().data(), 16);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.xmm(0), counting());
    EXPECT_EQ(0, std::memcmp(f.mem(kData + 16), counting().data(), 16));
}

TEST(SseMove, MovdqaFromAMisalignedAddressRaisesGpAndChangesNothing) {
    Sse f({0x66, 0x0f, 0x6f, 0x4b, 0x08});  // movdqa xmm1, [rbx+8]
    f.set_xmm(1, counting());
    EXPECT_EQ(f.go(), kGP);
    EXPECT_EQ(f.core.trapped().error_code, 0u);
    EXPECT_EQ(f.xmm(1), counting());
    EXPECT_EQ(f.s().rip(), 0x100000u);
}

TEST(SseMove, MovdquAcceptsAMisalignedAddress) {
    Sse f({0xf3, 0x0f, 0x6f, 0x4b, 0x08});  // movdqu xmm1, [rbx+8]
    std::memcpy(f.mem(kData + 8), counting().data(), 16);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.xmm(1), counting());
}

TEST(SseMove, AMisalignedMovapsStoreWritesNoMemory) {
    Sse f({0x0f, 0x29, 0x53, 0x04});  // movaps [rbx+4], xmm2
    f.set_xmm(2, counting());
    EXPECT_EQ(f.go(), kGP);
    for (unsigned k = 0; k < 32; ++k) EXPECT_EQ(f.mem()[k], 0);
}

TEST(SseMove, AmdMisalignedModeRelaxesArithmeticOperandsButNotAlignedMoves) {
    const std::vector<uint8_t> paddb = {0x66, 0x0f, 0xfc, 0x4b, 0x08};  // paddb xmm1, [rbx+8]
    EXPECT_EQ(Sse(paddb, Vendor::amd).go(), kGP);
    Sse relaxed(paddb, Vendor::amd);
    relaxed.s().mxcsr |= 1u << 17;
    std::memcpy(relaxed.mem(kData + 8), counting().data(), 16);
    EXPECT_EQ(relaxed.go(), kNone);
    EXPECT_EQ(relaxed.xmm(1), counting());
    Sse strict({0x66, 0x0f, 0x6f, 0x4b, 0x08}, Vendor::amd);  // movdqa xmm1, [rbx+8]
    strict.s().mxcsr |= 1u << 17;
    EXPECT_EQ(strict.go(), kGP);
}

TEST(SseMove, MovqMovesBetweenXmmAndSixtyFourBitRegisters) {
    Sse f({0x66, 0x48, 0x0f, 0x6e, 0xd8, 0x66, 0x48, 0x0f, 0x7e, 0xd9});  // movq xmm3,rax; movq rcx,xmm3
    f.s().regs[rax] = 0x1122334455667788;
    f.set_xmm(3, qwords(~0ull, ~0ull));
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.xmm(3), qwords(0x1122334455667788, 0));
    EXPECT_EQ(f.reg(rcx), 0x1122334455667788u);
}

TEST(SseMove, MovdZeroExtendsInBothDirections) {
    Sse f({0x66, 0x0f, 0x6e, 0xd1, 0x66, 0x0f, 0x7e, 0xd2});  // movd xmm2,ecx; movd edx,xmm2
    f.s().regs[rcx] = 0xffffffff87654321;
    f.s().regs[rdx] = ~0ull;
    f.set_xmm(2, qwords(~0ull, ~0ull));
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.xmm(2), qwords(0x87654321, 0));
    EXPECT_EQ(f.reg(rdx), 0x87654321u);
}

TEST(SseMove, MovssFromMemoryClearsTheRestButBetweenRegistersMerges) {
    Sse load({0xf3, 0x0f, 0x10, 0x23});  // movss xmm4, [rbx]
    load.set_xmm(4, qwords(~0ull, ~0ull));
    std::memcpy(load.mem(), counting().data(), 16);
    EXPECT_EQ(load.go(), kNone);
    EXPECT_EQ(load.xmm(4), dwords({0x04030201, 0, 0, 0}));
    Sse merge({0xf2, 0x0f, 0x10, 0xe5});  // movsd xmm4, xmm5
    merge.set_xmm(4, qwords(1, 2));
    merge.set_xmm(5, qwords(3, 4));
    EXPECT_EQ(merge.go(), kNone);
    EXPECT_EQ(merge.xmm(4), qwords(3, 2));
}

TEST(SseMove, TheStringFormOfMovsdStillCopiesMemory) {
    Sse f({0xa5});  // movsd (string)
    f.s().regs[rsi] = kData;
    f.s().regs[rdi] = kData + 0x100;
    std::memcpy(f.mem(), counting().data(), 4);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.at<uint32_t>(0x100), 0x04030201u);
    EXPECT_EQ(f.reg(rsi), kData + 4);
}

TEST(SseMove, MovhlpsAndMovlhpsMoveQuadwordsBetweenHalves) {
    Sse f({0x0f, 0x12, 0xf7});  // movhlps xmm6, xmm7
    f.set_xmm(6, qwords(0xa, 0xb));
    f.set_xmm(7, qwords(0xc, 0xd));
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.xmm(6), qwords(0xd, 0xb));
    Sse g({0x0f, 0x16, 0xf7});  // movlhps xmm6, xmm7
    g.set_xmm(6, qwords(0xa, 0xb));
    g.set_xmm(7, qwords(0xc, 0xd));
    EXPECT_EQ(g.go(), kNone);
    EXPECT_EQ(g.xmm(6), qwords(0xa, 0xc));
}

TEST(SseMove, PshufdSelectsDoublewordsByTheImmediate) {
    EXPECT_EQ(op({0x66, 0x0f, 0x70, 0xc1, 0x1b}, V{}, dwords({10, 11, 12, 13})), dwords({13, 12, 11, 10}));
}

TEST(SseMove, MovntiIsAGeneralRegisterStoreThatIgnoresCr0TsAndOsfxsr) {
    Sse f({0x0f, 0xc3, 0x03});  // movnti [rbx], eax
    f.s().cr0 |= cr0::ts;
    f.s().cr4 &= ~cr4::osfxsr;
    f.s().regs[rax] = 0x12345678;
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.at<uint32_t>(0), 0x12345678u);
}

// ---- mode checks --------------------------------------------------------------------------

TEST(SseMode, WithoutCr4OsfxsrSseRaisesUd) {
    Sse f(kPxor);
    f.s().cr4 &= ~cr4::osfxsr;
    EXPECT_EQ(f.go(), kUD);
}

TEST(SseMode, WithCr0EmSseRaisesUdEvenWhenTsIsAlsoSet) {
    Sse f(kPxor);
    f.s().cr0 |= cr0::em | cr0::ts;
    EXPECT_EQ(f.go(), kUD);
}

TEST(SseMode, WithCr0TsSseRaisesNm) {
    Sse f(kPxor);
    f.s().cr0 |= cr0::ts;
    f.set_xmm(0, counting());
    EXPECT_EQ(f.go(), kNM);
    EXPECT_EQ(f.xmm(0), counting());
}

TEST(SseMode, RealModeLeavesOsfxsrClearSoSseRaisesUd) {
    test::CoreFixture f;
    f.real_mode({0x66, 0x0f, 0xef, 0xc0, 0xe6, 0xf4});
    f.core.set_trap_exceptions(true);
    f.run();
    ASSERT_TRUE(f.core.trapped().valid);
    EXPECT_EQ(f.core.trapped().vector, kUD);
}

TEST(SseMode, MmxFormsAreNotImplementedAndRaiseUdByName) {
    Sse f({0x0f, 0xfc, 0xc1});  // paddb mm0, mm1
    EXPECT_EQ(f.go(), kUD);
    EXPECT_EQ(f.core.last_unimplemented(), "paddb");
}

// ---- integer arithmetic -------------------------------------------------------------------

TEST(SseInt, SignedSaturatingAddClampsAtBothEnds) {
    EXPECT_EQ(op({0x66, 0x0f, 0xec, 0xc1}, bytes({0x7f, 0x80, 0x10, 0xff}), bytes({0x01, 0xff, 0x10, 0x01})),
              bytes({0x7f, 0x80, 0x20, 0x00}));
}

TEST(SseInt, UnsignedSaturatingArithmeticClampsAtZeroAndMaximum) {
    EXPECT_EQ(op({0x66, 0x0f, 0xdc, 0xc1}, bytes({0xff, 0xf0, 1}), bytes({0x01, 0x20, 1})),  // paddusb
              bytes({0xff, 0xff, 2}));
    EXPECT_EQ(op({0x66, 0x0f, 0xd9, 0xc1}, words({5, 0x8000}), words({6, 0x7fff})), words({0, 1}));
    EXPECT_EQ(op({0x66, 0x0f, 0xe9, 0xc1}, words({0x8000, 0x7fff}), words({1, 0xffff})),  // psubsw
              words({0x8000, 0x7fff}));
}

TEST(SseInt, PacksSaturateEachSource) {
    const auto neg = [](uint32_t v) { return static_cast<uint32_t>(-static_cast<int64_t>(v)); };
    EXPECT_EQ(op({0x66, 0x0f, 0x6b, 0xc1}, dwords({70000, neg(70000), 5, neg(5)}),  // packssdw
                 dwords({32767, neg(32768), 32768, neg(32769)})),
              words({0x7fff, 0x8000, 5, 0xfffb, 0x7fff, 0x8000, 0x7fff, 0x8000}));
    EXPECT_EQ(op({0x66, 0x0f, 0x67, 0xc1}, words({0xffff, 256, 255, 1}), words({0x7fff, 0x8000})),
              bytes({0, 255, 255, 1, 0, 0, 0, 0, 255, 0}));
}

TEST(SseInt, ShiftsByMoreThanTheElementWidthClearOrFillWithTheSign) {
    EXPECT_EQ(op({0x66, 0x0f, 0x71, 0xf0, 0x10}, words({0xffff, 1}), V{}), V{});  // psllw xmm0, 16
    Sse sra({0x66, 0x0f, 0x71, 0xe1, 0xc8});                                       // psraw xmm1, 200
    sra.set_xmm(1, words({0x8000, 0x7fff, 0xffff, 1}));
    EXPECT_EQ(sra.go(), kNone);
    EXPECT_EQ(sra.xmm(1), words({0xffff, 0, 0xffff, 0}));
    // psrlq xmm2, xmm3: the count is the whole low quadword of xmm3.
    using Case = std::pair<uint64_t, uint64_t>;
    for (const auto& [count, expected] : {Case{4, 0x0fffffffffffffff}, Case{64, 0}, Case{0x100000001, 0}}) {
        Sse f({0x66, 0x0f, 0xd3, 0xd3});
        f.set_xmm(2, qwords(~0ull, ~0ull));
        f.set_xmm(3, qwords(count, 0));
        EXPECT_EQ(f.go(), kNone);
        EXPECT_EQ(f.xmm(2), qwords(expected, expected)) << count;
    }
    Sse sra32({0x66, 0x0f, 0xe2, 0xe3});  // psrad xmm4, xmm3 with count 2^64-1
    sra32.set_xmm(4, dwords({0x80000000, 0x7fffffff}));
    sra32.set_xmm(3, qwords(~0ull, 0));
    EXPECT_EQ(sra32.go(), kNone);
    EXPECT_EQ(sra32.xmm(4), dwords({0xffffffff, 0}));
}

TEST(SseInt, ByteShiftsMoveWholeBytesAndClearBeyondFifteen) {
    EXPECT_EQ(op({0x66, 0x0f, 0x73, 0xf8, 0x03}, counting(), V{}),  // pslldq xmm0, 3
              bytes({0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}));
    Sse f({0x66, 0x0f, 0x73, 0xd9, 0x11});  // psrldq xmm1, 17
    f.set_xmm(1, counting());
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.xmm(1), V{});
}

TEST(SseInt, PmovmskbGathersByteSignsZeroExtended) {
    using Code = std::vector<uint8_t>;
    for (const Code& code : {Code{0x66, 0x0f, 0xd7, 0xc0}, Code{0x66, 0x48, 0x0f, 0xd7, 0xc0}}) {  // eax; rax
        Sse f(code);
        f.s().regs[rax] = ~0ull;
        f.set_xmm(0, bytes({0x80, 0x7f, 0, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x81}));
        EXPECT_EQ(f.go(), kNone);
        EXPECT_EQ(f.reg(rax), 0x8081u);
    }
}

TEST(SseInt, PmaddwdWrapsTheOneOverflowingSum) {
    EXPECT_EQ(op({0x66, 0x0f, 0xf5, 0xc1}, words({0x8000, 0x8000, 1, 2}), words({0x8000, 0x8000, 3, 4})),
              dwords({0x80000000, 11, 0, 0}));
}

TEST(SseInt, PsadbwSumsAbsoluteDifferencesPerQuadword) {
    V b;
    for (unsigned k = 0; k < 16; ++k) b[k] = static_cast<uint8_t>(15 - k);
    V a;
    for (unsigned k = 0; k < 16; ++k) a[k] = static_cast<uint8_t>(k);
    EXPECT_EQ(op({0x66, 0x0f, 0xf6, 0xc1}, a, b), qwords(64, 64));
}

TEST(SseInt, PcmpgtbComparesSignedBytes) {
    EXPECT_EQ(op({0x66, 0x0f, 0x64, 0xc1}, bytes({0x80, 0x01, 5}), bytes({0x7f, 0xff, 5})),
              bytes({0, 0xff, 0}));
}

// ---- FXSAVE / FXRSTOR ---------------------------------------------------------------------

namespace {
// A state with every FXSAVE field distinct: TOP = 5, physical registers 0 and 1 in use.
void fill_state(State& s) {
    s.x87.fcw = 0x027f;
    s.x87.fsw = 5 << 11;
    s.x87.ftw = 0xfff0;
    s.x87.fop = 0x123;
    s.x87.fip = 0x1122334455667788;
    s.x87.fdp = 0x0000123456789abc;
    for (unsigned p = 0; p < 8; ++p)
        for (unsigned b = 0; b < 10; ++b) s.x87.st[p][b] = static_cast<uint8_t>(0x10 * p + b);
    for (unsigned r = 0; r < 16; ++r) std::memset(s.xmm[r], 0x40 + r, 16);
    s.mxcsr = 0x1fc0;
}
}  // namespace

TEST(Fxsave, Fxsave64WritesTheSdmLayoutAndLeavesTheLast96BytesAlone) {
    Sse f(kFxsave64);
    fill_state(f.s());
    std::memset(f.mem(), 0xcc, 512);
    ASSERT_EQ(f.go(), kNone);
    EXPECT_EQ(f.at<uint16_t>(0), 0x027f);
    EXPECT_EQ(f.at<uint16_t>(2), 5 << 11);
    EXPECT_EQ(f.mem()[4], 0x03);  // abridged tags: physical registers 0 and 1
    EXPECT_EQ(f.mem()[5], 0);
    EXPECT_EQ(f.at<uint16_t>(6), 0x123);
    EXPECT_EQ(f.at<uint64_t>(8), 0x1122334455667788u);
    EXPECT_EQ(f.at<uint64_t>(16), 0x0000123456789abcu);
    EXPECT_EQ(f.at<uint32_t>(24), 0x1fc0u);
    EXPECT_EQ(f.at<uint32_t>(28), 0xffffu);  // Intel MXCSR_MASK
    EXPECT_EQ(0, std::memcmp(f.mem(kData + 32), f.s().x87.st[5], 10));  // ST0 = physical TOP
    EXPECT_EQ(0, std::memcmp(f.mem(kData + 32 + 16 * 3), f.s().x87.st[0], 10));
    for (unsigned b = 42; b < 48; ++b) EXPECT_EQ(f.mem()[b], 0) << b;
    EXPECT_EQ(0, std::memcmp(f.mem(kData + 160 + 16 * 15), f.s().xmm[15], 16));
    for (unsigned b = 416; b < 512; ++b) EXPECT_EQ(f.mem()[b], 0xcc) << b;
}

TEST(Fxsave, OnAmdTheX87PointersAreSavedOnlyWhileAnExceptionIsPending) {
    Sse quiet(kFxsave64, Vendor::amd);
    fill_state(quiet.s());
    ASSERT_EQ(quiet.go(), kNone);
    EXPECT_EQ(quiet.at<uint32_t>(28), 0x2ffffu);  // Zen 4 MXCSR_MASK (with MM)
    for (unsigned b = 6; b < 24; ++b) EXPECT_EQ(quiet.mem()[b], 0) << b;
    Sse pending(kFxsave64, Vendor::amd);
    fill_state(pending.s());
    pending.s().x87.fcw = 0x037e;
    pending.s().x87.fsw = 0x0081;  // IE unmasked: ES
    ASSERT_EQ(pending.go(), kNone);
    EXPECT_EQ(pending.at<uint16_t>(6), 0x123);
    EXPECT_EQ(pending.at<uint64_t>(8), 0x1122334455667788u);
}

TEST(Fxsave, FxrstorThenFxsaveReproducesACanonicalImage) {
    // fxrstor64 [rbx]; fxsave64 [rbx+0x200]
    Sse f({0x48, 0x0f, 0xae, 0x0b, 0x48, 0x0f, 0xae, 0x83, 0x00, 0x02, 0x00, 0x00}, Vendor::amd);
    uint8_t* img = f.mem();
    for (unsigned b = 0; b < 416; ++b) img[b] = static_cast<uint8_t>(b * 7 + 3);
    const uint16_t fcw = 0x037f, fsw = 0x3800;
    const uint32_t mxcsr = 0x21f80, mask = 0x2ffff;
    std::memcpy(img, &fcw, 2);
    std::memcpy(img + 2, &fsw, 2);
    img[4] = 0xa5;
    std::memset(img + 5, 0, 19);  // ES=0: FOP/FIP/FDP read back as zeros
    std::memcpy(img + 24, &mxcsr, 4);
    std::memcpy(img + 28, &mask, 4);
    for (unsigned i = 0; i < 8; ++i) std::memset(img + 42 + 16 * i, 0, 6);
    ASSERT_EQ(f.go(), kNone);
    EXPECT_EQ(0, std::memcmp(f.mem(kData + 0x200), img, 416));
    EXPECT_EQ(f.s().mxcsr, mxcsr);
}

TEST(Fxsave, FxrstorRebuildsTheFullTagWordFromRegisterContents) {
    Sse f(kFxrstor64);
    uint8_t* img = f.mem();
    const uint16_t fcw = 0x037f, fsw = 3 << 11;
    std::memcpy(img, &fcw, 2);
    std::memcpy(img + 2, &fsw, 2);
    img[4] = 0xff;
    const uint32_t mxcsr = 0x1f80;
    std::memcpy(img + 24, &mxcsr, 4);
    // ST0..ST7: zero, 1.0, infinity, denormal, unnormal, NaN, pseudo-denormal, 2.0
    const uint64_t one = 1ull << 63;
    const std::pair<uint64_t, uint16_t> regs[8] = {{0, 0},      {one, 0x3fff},         {one, 0x7fff}, {1, 0},
                                                  {1, 0x3fff}, {3ull << 62, 0x7fff}, {one, 0},      {one, 0x4000}};
    for (unsigned i = 0; i < 8; ++i) {
        std::memcpy(img + 32 + 16 * i, &regs[i].first, 8);
        std::memcpy(img + 40 + 16 * i, &regs[i].second, 2);
    }
    ASSERT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().x87.ftw, 0xa84a);  // Zen 4 (FNSTENV after the same FXRSTOR)
}

TEST(Fxsave, FxrstorNormalisesTheControlAndStatusWordsAndPointers) {
    Sse f(kFxrstor64, Vendor::amd);
    uint8_t* img = f.mem();
    const uint16_t fcw = 0xffff, fsw = 0x8080, fop = 0xffff;
    const uint64_t fip = 0x1122334455667788;
    std::memcpy(img, &fcw, 2);
    std::memcpy(img + 2, &fsw, 2);
    std::memcpy(img + 6, &fop, 2);
    std::memcpy(img + 8, &fip, 8);
    ASSERT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().x87.fcw, 0x1f7f);              // Zen 4
    EXPECT_EQ(f.s().x87.fsw, 0x0000);              // ES and B recomputed: nothing unmasked pending
    EXPECT_EQ(f.s().x87.fop, 0x7ff);
    EXPECT_EQ(f.s().x87.fip, 0xff22334455667788);  // Zen 4 keeps 57 bits, sign-extended
}

TEST(Fxsave, FxrstorWithReservedMxcsrBitsRaisesGpAndChangesNothing) {
    for (const auto& [vendor, mxcsr, expected] : {std::tuple{Vendor::intel, 0x21f80u, kGP},
                                                  std::tuple{Vendor::amd, 0x21f80u, kNone},
                                                  std::tuple{Vendor::amd, 0x41f80u, kGP}}) {
        Sse f(kFxrstor64, vendor);
        std::memcpy(f.mem(kData + 24), &mxcsr, 4);
        f.set_xmm(0, counting());
        EXPECT_EQ(f.go(), expected) << std::hex << mxcsr;
        if (expected == kGP) {
            EXPECT_EQ(f.s().mxcsr, 0x1f80u);
            EXPECT_EQ(f.xmm(0), counting());
        }
    }
}

TEST(Fxsave, AMisalignedAreaRaisesGp) {
    Sse f({0x48, 0x0f, 0xae, 0x43, 0x08});  // fxsave64 [rbx+8]
    EXPECT_EQ(f.go(), kGP);
}

TEST(Fxsave, TsRaisesNmAndEmRaisesNmOnAmdButUdOnIntel) {
    Sse ts(kFxsave64);
    ts.s().cr0 |= cr0::ts;
    EXPECT_EQ(ts.go(), kNM);
    Sse em_amd(kFxrstor64, Vendor::amd);
    em_amd.s().cr0 |= cr0::em;
    EXPECT_EQ(em_amd.go(), kNM);
    Sse em_intel(kFxsave64);
    em_intel.s().cr0 |= cr0::em;
    EXPECT_EQ(em_intel.go(), kUD);
}

TEST(Fxsave, APageFaultOnTheUnwrittenTailFaultsAndWritesNothing) {
    Sse f(kFxsave64);
    uint64_t none = 0;
    f.core.write_physical(0x3000 + 2 * 8, &none, 8);  // 2 MiB page at 0x400000 not present
    f.core.flush_tlb();
    f.s().regs[rbx] = 0x400000 - 416;  // bytes 416..511 of the area on that page
    std::memset(f.mem(0x400000 - 416), 0xcc, 416);
    EXPECT_EQ(f.go(), kPF);
    EXPECT_EQ(f.core.trapped().address, 0x400000u);
    for (unsigned b = 0; b < 416; ++b) ASSERT_EQ(f.mem(0x400000 - 416)[b], 0xcc) << b;
}

TEST(Fxsave, OutsideSixtyFourBitModeOnlyXmm0To7AreSaved) {
    test::CoreFixture f;
    f.bus.load(0x100000, {0x0f, 0xae, 0x03, 0xe6, 0xf4});  // fxsave [ebx]; out 0xf4, al
    enter_multiboot(f.core, 0x100000, 0, 0x500);
    f.core.set_trap_exceptions(true);
    State& s = f.core.state();
    s.cr4 |= cr4::osfxsr;
    s.regs[rbx] = kData;
    fill_state(s);
    std::memset(f.bus.ram.data() + kData, 0xcc, 512);
    f.run();
    ASSERT_FALSE(f.core.trapped().valid);
    const uint8_t* a = f.bus.ram.data() + kData;
    EXPECT_EQ(0, std::memcmp(a + 160 + 16 * 7, s.xmm[7], 16));
    for (unsigned b = 288; b < 512; ++b) EXPECT_EQ(a[b], 0xcc) << b;
    uint32_t fip;
    std::memcpy(&fip, a + 8, 4);
    EXPECT_EQ(fip, 0x55667788u);  // 32-bit format: FIP[31:0], then FCS
}

TEST(Fxsave, WithoutOsfxsrAmdSavesNeitherMxcsrNorXmm) {
    Sse f(kFxsave64, Vendor::amd);
    f.s().cr4 &= ~cr4::osfxsr;
    std::memset(f.mem(), 0xcc, 512);
    ASSERT_EQ(f.go(), kNone);
    EXPECT_EQ(f.at<uint16_t>(0), 0x037f);
    for (unsigned b = 24; b < 32; ++b) EXPECT_EQ(f.mem()[b], 0xcc) << b;
    for (unsigned b = 160; b < 512; ++b) EXPECT_EQ(f.mem()[b], 0xcc) << b;
}

// ---- MXCSR --------------------------------------------------------------------------------

TEST(Mxcsr, LdmxcsrLoadsAndStmxcsrStores) {
    Sse f({0x0f, 0xae, 0x13, 0x0f, 0xae, 0x5b, 0x04});  // ldmxcsr [rbx]; stmxcsr [rbx+4]
    const uint32_t v = 0x9fc0;
    std::memcpy(f.mem(), &v, 4);
    ASSERT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().mxcsr, v);
    EXPECT_EQ(f.at<uint32_t>(4), v);
}

TEST(Mxcsr, LdmxcsrRaisesGpForBitsOutsideTheVendorsMask) {
    for (const auto& [vendor, v, expected] : {std::tuple{Vendor::intel, 0x21f80u, kGP},
                                              std::tuple{Vendor::amd, 0x21f80u, kNone},
                                              std::tuple{Vendor::amd, 0x80001f80u, kGP}}) {
        Sse f({0x0f, 0xae, 0x13}, vendor);
        std::memcpy(f.mem(), &v, 4);
        EXPECT_EQ(f.go(), expected) << std::hex << v;
        EXPECT_EQ(f.s().mxcsr, expected == kGP ? 0x1f80u : v);
    }
}

// ---- x87 control --------------------------------------------------------------------------

TEST(X87Control, FninitResetsTheEnvironment) {
    Sse f({0xdb, 0xe3});
    fill_state(f.s());
    f.s().x87.fsw = 0xffff;
    ASSERT_EQ(f.go(), kNone);
    const X87State& x = f.s().x87;
    EXPECT_EQ(x.fcw, 0x037f);
    EXPECT_EQ(x.fsw, 0);
    EXPECT_EQ(x.ftw, 0xffff);
    EXPECT_EQ(x.fop, 0);
    EXPECT_EQ(x.fip, 0u);
    EXPECT_EQ(x.fdp, 0u);
}

TEST(X87Control, FnclexClearsTheExceptionFlagsSummaryAndBusy) {
    Sse f({0xdb, 0xe2});
    f.s().x87.fsw = 0xffff;
    ASSERT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().x87.fsw, 0x7f00);
}

TEST(X87Control, FldcwKeepsOnlyTheDefinedControlBits) {
    for (const auto& [in, out] : {std::pair<uint16_t, uint16_t>{0xffff, 0x1f7f}, {0x0000, 0x0040}}) {
        Sse f({0xd9, 0x2b});  // fldcw [rbx]
        std::memcpy(f.mem(), &in, 2);
        ASSERT_EQ(f.go(), kNone);
        EXPECT_EQ(f.s().x87.fcw, out);  // Zen 4
    }
}

TEST(X87Control, UnmaskingAPendingFlagSetsTheSummaryAndTheNextFwaitRaisesMf) {
    Sse f({0xd9, 0x2b, 0x9b});  // fldcw [rbx]; fwait
    f.s().x87.fsw = 0x0001;
    const uint16_t cw = 0x037e;
    std::memcpy(f.mem(), &cw, 2);
    EXPECT_EQ(f.go(), kMF);
    EXPECT_EQ(f.s().x87.fsw, 0x8081);
    EXPECT_EQ(f.s().rip(), 0x100002u);
}

TEST(X87Control, FldcwWithAnUnmaskedExceptionPendingRaisesMfFirst) {
    Sse f({0xd9, 0x2b});
    f.s().x87.fcw = 0x037e;
    f.s().x87.fsw = 0x8081;
    EXPECT_EQ(f.go(), kMF);
    EXPECT_EQ(f.s().x87.fcw, 0x037e);
}

TEST(X87Control, WithCr0NeClearAPendingExceptionIsNotReportedAsMf) {
    Sse f({0x9b});
    f.s().cr0 &= ~cr0::ne;
    f.s().x87.fcw = 0x037e;
    f.s().x87.fsw = 0x8081;
    EXPECT_EQ(f.go(), kNone);
}

TEST(X87Control, FwaitRaisesNmOnlyWhenMpAndTsAreBothSet) {
    using Case = std::pair<uint64_t, int>;
    for (const auto& [flags, expected] :
         {Case{cr0::mp | cr0::ts, kNM}, Case{cr0::ts, kNone}, Case{cr0::em | cr0::ts, kNone}}) {
        Sse f({0x9b});
        f.s().cr0 = (f.s().cr0 & ~(cr0::mp | cr0::em | cr0::ts)) | flags;
        EXPECT_EQ(f.go(), expected) << std::hex << flags;
    }
}

TEST(X87Control, FnstswAndFnstcwStoreTheWords) {
    Sse f({0xdf, 0xe0, 0xdd, 0x7b, 0x04, 0xd9, 0x7b, 0x02});  // fnstsw ax; fnstsw [rbx+4]; fnstcw [rbx+2]
    f.s().regs[rax] = ~0ull;
    f.s().x87.fsw = 0x4123;
    ASSERT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rax), 0xffffffffffff4123u);
    EXPECT_EQ(f.at<uint16_t>(4), 0x4123);
    EXPECT_EQ(f.at<uint16_t>(2), 0x037f);
}

TEST(X87Control, ControlInstructionsRaiseNmWhenCr0EmOrTsIsSet) {
    for (uint64_t flag : {cr0::em, cr0::ts}) {
        Sse f({0xdb, 0xe3});
        f.s().cr0 |= flag;
        f.s().x87.fsw = 0x1234;
        EXPECT_EQ(f.go(), kNM);
        EXPECT_EQ(f.s().x87.fsw, 0x1234);
    }
}

TEST(X87Control, OtherX87InstructionsRemainUnimplementedAndNamed) {
    Sse f({0xd9, 0xe8});  // fld1
    EXPECT_EQ(f.go(), kUD);
    EXPECT_EQ(f.core.last_unimplemented(), "fld1");
}
