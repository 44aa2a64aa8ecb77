// Integer instruction families: INC/DEC/NEG/NOT, shifts and rotates, MUL/IMUL/DIV/IDIV, bit
// tests and scans, widening moves, CMOVcc/SETcc, LAHF/SAHF, XCHG/CMPXCHG/XADD. Each test runs
// a few instructions on a flat bus and checks registers, flags and memory. Flags the SDM leaves
// undefined are expected as AMD Zen 4 produces them (the project's rule; tests/diff checks them
// against the host at random).
#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

#include "tests/support/core_fixture.h"

using namespace cpu;
using test::CoreFixture;

namespace {

constexpr uint64_t kData = 0x300000;  // scratch memory the programs address through RBX
constexpr uint64_t kIdt = 0x200000, kStubs = 0x201000;
constexpr uint64_t CF = rf::cf, PF = rf::pf, AF = rf::af, ZF = rf::zf, SF = rf::sf, OF = rf::of;

// One long-mode program: `code` followed by `out 0xf4, al`. Every exception vector goes to a
// stub that leaves 0x100 + vector in R15 and stops the same way, so a faulting instruction's
// effects (none) can be checked afterwards.
class Program {
public:
    explicit Program(std::vector<uint8_t> code) {
        code.insert(code.end(), {0xe6, 0xf4});
        f_.long_mode(code);
        for (unsigned v = 0; v < 32; ++v) {
            const uint64_t stub = kStubs + 16 * v;
            const uint64_t gate = (stub & 0xffff) | (0x08ull << 16) | (0x8eull << 40) | (((stub >> 16) & 0xffff) << 48);
            const uint64_t high = stub >> 32;
            f_.core.write_physical(kIdt + 16 * v, &gate, 8);
            f_.core.write_physical(kIdt + 16 * v + 8, &high, 8);
            const uint8_t body[] = {0x41, 0xbf, static_cast<uint8_t>(0x100 + v), 0x01, 0, 0,  // mov r15d, 0x100+v
                                    0xe6, 0xf4};                                             // out 0xf4, al
            f_.core.write_physical(stub, body, sizeof body);
        }
        f_.core.state().idtr = {kIdt, 32 * 16 - 1};
        f_.core.state().regs[rbx] = kData;
    }
    Program& set(unsigned r, uint64_t v) {
        f_.core.state().regs[r] = v;
        return *this;
    }
    Program& flags(uint64_t v) {
        f_.core.state().flags.set(v);
        return *this;
    }
    Program& poke(uint64_t offset, uint64_t v) {
        f_.core.write_physical(kData + offset, &v, 8);
        return *this;
    }
    Program& run() {
        f_.run(100);
        EXPECT_EQ(f_.control.reason, sim::StopReason::exit) << f_.core.last_error();
        return *this;
    }
    uint64_t operator[](unsigned r) const { return f_.reg(r); }
    uint64_t flags() const { return f_.core.state().flags.get(); }
    uint64_t peek(uint64_t offset) {
        uint64_t v = 0;
        f_.core.read_physical(kData + offset, &v, 8);
        return v;
    }
    // The vector the program faulted with, or -1.
    int fault() const { return f_.reg(r15) >= 0x100 ? static_cast<int>(f_.reg(r15) - 0x100) : -1; }
    // The RIP the exception frame saved (the faulting instruction for a fault).
    uint64_t fault_rip() {
        uint64_t v = 0;
        f_.core.read_physical(f_.reg(rsp), &v, 8);
        return v;
    }

private:
    CoreFixture f_;
};

constexpr uint64_t kCode = 0x100000;  // where CoreFixture::long_mode puts the program

}  // namespace

// ---- INC DEC NEG NOT ------------------------------------------------------------------------

TEST(IncDec, IncKeepsCarryAndOverflowsAtTheSignedMaximum) {
    Program p({0xff, 0xc0});  // inc eax
    p.set(rax, 0x7fffffff).flags(CF).run();
    EXPECT_EQ(p[rax], 0x80000000u);
    EXPECT_EQ(p.flags(), CF | OF | SF | AF | PF);
}

TEST(IncDec, DecOfZeroWrapsAndLeavesCarryClear) {
    Program p({0xff, 0xc8});  // dec eax
    p.set(rax, 0xffffffff00000000).run();
    EXPECT_EQ(p[rax], 0xffffffffu);  // a 32-bit result zero-extends
    EXPECT_EQ(p.flags(), SF | AF | PF);
}

TEST(IncDec, NegSetsCarryForNonZeroAndOverflowForTheMostNegativeValue) {
    Program zero({0xf7, 0xd8});  // neg eax
    zero.set(rax, 0).flags(CF).run();
    EXPECT_EQ(zero.flags(), ZF | PF);
    Program minimum({0xf6, 0xd8});  // neg al
    minimum.set(rax, 0x1280).run();
    EXPECT_EQ(minimum[rax], 0x1280u);
    EXPECT_EQ(minimum.flags(), CF | OF | SF);
}

TEST(IncDec, NotChangesNoFlags) {
    Program p({0x48, 0xf7, 0xd0});  // not rax
    p.set(rax, 0x00ff00ff00ff00ff).flags(CF | ZF | OF).run();
    EXPECT_EQ(p[rax], 0xff00ff00ff00ff00u);
    EXPECT_EQ(p.flags(), CF | ZF | OF);
}

TEST(IncDec, IncOfAhTouchesOnlyAh) {
    Program p({0xfe, 0xc4});  // inc ah
    p.set(rax, 0x1234ff77).run();
    EXPECT_EQ(p[rax], 0x12340077u);
    EXPECT_EQ(p.flags() & (ZF | CF | AF), ZF | AF);
}

TEST(IncDec, LockedIncOfMemoryUpdatesMemory) {
    Program p({0xf0, 0xff, 0x03});  // lock inc dword ptr [rbx]
    p.poke(0, 0xaaaaaaaa0000ffff).run();
    EXPECT_EQ(p.peek(0), 0xaaaaaaaa00010000u);
}

TEST(IncDec, LockOnARegisterFormRaisesUd) {
    Program p({0xf0, 0xff, 0xc0});  // lock inc eax
    p.set(rax, 5).run();
    EXPECT_EQ(p.fault(), 6);
    EXPECT_EQ(p[rax], 5u);
}

// ---- shifts and rotates ---------------------------------------------------------------------

TEST(Shift, CountZeroChangesNoFlagsButStillZeroExtendsA32BitRegister) {
    Program p({0xd3, 0xe0});  // shl eax, cl
    p.set(rax, 0xffffffff80000001).set(rcx, 0x20).flags(CF | OF | ZF | AF).run();  // 32 & 31 = 0
    EXPECT_EQ(p[rax], 0x80000001u);
    EXPECT_EQ(p.flags(), CF | OF | ZF | AF);
}

TEST(Shift, CountIsMaskedToFiveBitsOr6For64BitOperands) {
    Program p32({0xc1, 0xe0, 0x21});  // shl eax, 33
    p32.set(rax, 0xc0000001).run();
    EXPECT_EQ(p32[rax], 0x80000002u);
    EXPECT_EQ(p32.flags() & (CF | OF), CF);  // CF = old bit 31, OF = MSB(r) ^ CF
    Program p64({0x48, 0xc1, 0xe0, 0x21});  // shl rax, 33
    p64.set(rax, 0x1c0000001).run();
    EXPECT_EQ(p64[rax], 0x8000000200000000u);
    EXPECT_EQ(p64.flags() & (CF | OF), CF);
}

TEST(Shift, ShlSetsZeroSignParityFromTheResultAndAfLikeZen4) {
    Program p({0xd1, 0xe0});  // shl eax, 1
    p.set(rax, 0x80000000).run();
    EXPECT_EQ(p[rax], 0u);
    EXPECT_EQ(p.flags(), CF | OF | ZF | PF | AF);  // AF undefined: Zen 4 sets it
}

TEST(Shift, ShrOverflowIsTheOriginalMsbForOneAndClearForLargerCounts) {
    Program one({0xd1, 0xe8});  // shr eax, 1
    one.set(rax, 0x80000003).run();
    EXPECT_EQ(one[rax], 0x40000001u);
    EXPECT_EQ(one.flags() & (CF | OF), CF | OF);
    Program two({0xc1, 0xe8, 0x02});  // shr eax, 2
    two.set(rax, 0x80000002).flags(OF).run();
    EXPECT_EQ(two[rax], 0x20000000u);
    EXPECT_EQ(two.flags() & (CF | OF), CF);
}

TEST(Shift, SarBeyondTheByteWidthFillsWithTheSignAndCarriesTheSign) {
    Program p({0xd2, 0xfb});  // sar bl, cl
    p.set(rbx, 0x1280).set(rcx, 20).run();
    EXPECT_EQ(p[rbx], 0x12ffu);
    EXPECT_EQ(p.flags(), CF | SF | PF | AF);
}

TEST(Shift, ShlOfMemoryByClWritesTheResult) {
    Program p({0xd3, 0x23});  // shl dword ptr [rbx], cl
    p.poke(0, 0x5555555500000003).set(rcx, 4).run();
    EXPECT_EQ(p.peek(0), 0x5555555500000030u);
}

TEST(Shift, RclOfAByteRotatesThroughCarryModuloNine) {
    Program p({0xd2, 0xd0});  // rcl al, cl
    p.set(rax, 0x81).set(rcx, 1).flags(0).run();
    EXPECT_EQ(p[rax], 0x02u);
    EXPECT_EQ(p.flags() & (CF | OF), CF | OF);
    Program nine({0xd2, 0xd0});  // rcl al, 9: the value and CF come back; OF = MSB ^ CF
    nine.set(rax, 0x81).set(rcx, 9).flags(CF | ZF).run();
    EXPECT_EQ(nine[rax], 0x81u);
    EXPECT_EQ(nine.flags(), CF | ZF);
}

TEST(Shift, RcrOfAWordUsesCountModuloSeventeen) {
    Program p({0x66, 0xd3, 0xd8});  // rcr ax, cl
    p.set(rax, 0x0001).set(rcx, 18).flags(0).run();  // 18 mod 17 = 1
    EXPECT_EQ(p[rax], 0u);
    EXPECT_EQ(p.flags() & (CF | OF), CF);
}

TEST(Shift, RolByAMultipleOfTheWidthKeepsTheValueButUpdatesCarryAndOverflow) {
    Program p({0xc0, 0xc0, 0x08});  // rol al, 8
    p.set(rax, 0x81).flags(ZF).run();
    EXPECT_EQ(p[rax], 0x81u);
    EXPECT_EQ(p.flags(), CF | ZF);  // CF = LSB, OF = MSB ^ CF = 0; ZF untouched
}

TEST(Shift, ShldAndShrdShiftInBitsOfTheSource) {
    Program l({0x0f, 0xa4, 0xd0, 0x08});  // shld eax, edx, 8
    l.set(rax, 0x12345678).set(rdx, 0xabcdef99).run();
    EXPECT_EQ(l[rax], 0x345678abu);
    Program r({0x0f, 0xac, 0xd0, 0x08});  // shrd eax, edx, 8
    r.set(rax, 0x12345678).set(rdx, 0xabcdef99).run();
    EXPECT_EQ(r[rax], 0x99123456u);
    EXPECT_EQ(r.flags() & (CF | SF), SF);
}

TEST(Shift, Shld16BeyondSixteenRotatesTheSourceLikeZen4) {
    Program sixteen({0x66, 0x0f, 0xa5, 0xd0});  // shld ax, dx, cl
    sixteen.set(rax, 0x1235).set(rdx, 0xabcd).set(rcx, 16).run();
    EXPECT_EQ(sixteen[rax], 0xabcdu);
    EXPECT_EQ(sixteen.flags() & (CF | OF), CF | OF);  // CF = bit 0 of AX, OF = CF
    Program more({0x66, 0x0f, 0xa5, 0xd0});
    more.set(rax, 0x1234).set(rdx, 0xabcd).set(rcx, 24).flags(CF | OF).run();
    EXPECT_EQ(more[rax], 0xcdabu);
    EXPECT_EQ(more.flags() & (CF | OF), 0u);
    Program right({0x66, 0x0f, 0xad, 0xd0});  // shrd ax, dx, cl
    right.set(rax, 0x1234).set(rdx, 0xabcd).set(rcx, 17).run();
    EXPECT_EQ(right[rax], 0xd5e6u);
}

// ---- MUL IMUL DIV IDIV ----------------------------------------------------------------------

TEST(MulDiv, MulOfBytesWritesAxAndFlagsASignificantHighHalf) {
    Program p({0xf6, 0xe3});  // mul bl
    p.set(rax, 0xffff0010).set(rbx, 0x20).run();
    EXPECT_EQ(p[rax], 0xffff0200u);
    EXPECT_EQ(p.flags() & (CF | OF), CF | OF);
}

TEST(MulDiv, MulLeavesSignZeroAuxAndParityUnchangedLikeZen4) {
    Program p({0xf7, 0xe1});  // mul ecx
    p.set(rax, 0xffffffff00000003).set(rcx, 5).set(rdx, ~0ull).flags(ZF | SF | AF | PF | CF).run();
    EXPECT_EQ(p[rax], 15u);
    EXPECT_EQ(p[rdx], 0u);  // EDX written, upper half cleared
    EXPECT_EQ(p.flags(), ZF | SF | AF | PF);
}

TEST(MulDiv, Mul64ProducesA128BitProductInRdxRax) {
    Program p({0x48, 0xf7, 0xe3});  // mul rbx
    p.set(rax, 0xffffffffffffffff).set(rbx, 0xffffffffffffffff).run();
    EXPECT_EQ(p[rax], 1u);
    EXPECT_EQ(p[rdx], 0xfffffffffffffffeu);
    EXPECT_EQ(p.flags() & (CF | OF), CF | OF);
}

TEST(MulDiv, SignedOneOperandMultiplyFlagsOnlyWhenTheHighHalfIsNotASignExtension) {
    Program p({0x48, 0xf7, 0xeb});  // imul rbx
    p.set(rax, static_cast<uint64_t>(-3)).set(rbx, 5).run();
    EXPECT_EQ(p[rax], static_cast<uint64_t>(-15));
    EXPECT_EQ(p[rdx], ~0ull);
    EXPECT_EQ(p.flags() & (CF | OF), 0u);
}

TEST(MulDiv, TwoAndThreeOperandImulTruncateAndFlagOverflow) {
    Program two({0x0f, 0xaf, 0xd9});  // imul ebx, ecx
    two.set(rbx, 0x10000).set(rcx, 0x10000).run();
    EXPECT_EQ(two[rbx], 0u);
    EXPECT_EQ(two.flags() & (CF | OF), CF | OF);
    Program three({0x48, 0x6b, 0xd9, 0x80});  // imul rbx, rcx, -0x80
    three.set(rcx, 3).run();
    EXPECT_EQ(three[rbx], static_cast<uint64_t>(-384));
    EXPECT_EQ(three.flags() & (CF | OF), 0u);
    Program memory({0x66, 0x69, 0x03, 0x34, 0x12});  // imul ax, word ptr [rbx], 0x1234
    memory.poke(0, 2).set(rax, 0xffff0000).run();
    EXPECT_EQ(memory[rax], 0xffff2468u);
}

TEST(MulDiv, DivideByZeroRaisesDeAndChangesNothing) {
    Program p({0xf7, 0xf1});  // div ecx
    p.set(rax, 0x1111111122222222).set(rdx, 0x3333333344444444).set(rcx, 0).flags(CF | ZF).run();
    EXPECT_EQ(p.fault(), 0);
    EXPECT_EQ(p.fault_rip(), kCode);
    EXPECT_EQ(p[rax], 0x1111111122222222u);
    EXPECT_EQ(p[rdx], 0x3333333344444444u);
    EXPECT_EQ(p.flags(), CF | ZF);
}

TEST(MulDiv, AQuotientTooLargeForTheOperandRaisesDe) {
    Program p({0xf7, 0xf1});  // div ecx: EDX:EAX = 0x2_00000000 / 2 = 0x1_00000000
    p.set(rax, 0).set(rdx, 2).set(rcx, 2).run();
    EXPECT_EQ(p.fault(), 0);
    EXPECT_EQ(p[rdx], 2u);
}

TEST(MulDiv, IdivOfTheMostNegativeValueByMinusOneRaisesDe) {
    Program p({0x48, 0xf7, 0xf9});  // idiv rcx
    p.set(rax, 0x8000000000000000).set(rdx, ~0ull).set(rcx, ~0ull).run();
    EXPECT_EQ(p.fault(), 0);
    EXPECT_EQ(p[rax], 0x8000000000000000u);
}

TEST(MulDiv, IdivTruncatesAndTheRemainderTakesTheDividendsSign) {
    Program p({0xf6, 0xfb});  // idiv bl: AX = -7 / 2
    p.set(rax, 0xfff9).set(rbx, 2).run();
    EXPECT_EQ(p.fault(), -1);
    EXPECT_EQ(p[rax] & 0xffff, 0xfffdu);  // AL = -3, AH = -1
}

TEST(MulDiv, DivSetsAuxClearsSignZeroParityAndKeepsCarryAndOverflowLikeZen4) {
    Program p({0x48, 0xf7, 0xf1});  // div rcx
    p.set(rax, 100).set(rdx, 0).set(rcx, 7).flags(CF | OF | ZF | SF | PF).run();
    EXPECT_EQ(p[rax], 14u);
    EXPECT_EQ(p[rdx], 2u);
    EXPECT_EQ(p.flags(), CF | OF | AF);
}

TEST(MulDiv, RealModeDivideErrorGoesThroughTheIvtWithNothingChanged) {
    CoreFixture f;
    // IVT[0] = 0000:0x7d00; handler: mov bl, 0xde; out 0xf4, al. At 0x7c00: div cl.
    f.bus.load(0, {0x00, 0x7d, 0x00, 0x00});
    f.bus.load(0x7d00, {0xb3, 0xde, 0xe6, 0xf4});
    f.real_mode({0xf6, 0xf1, 0xe6, 0xf4});
    f.core.state().regs[rax] = 0x0400;  // 0x400 / 2 = 0x200: does not fit AL
    f.core.state().regs[rcx] = 2;
    f.run();
    EXPECT_EQ(f.reg(rbx) & 0xff, 0xdeu);
    EXPECT_EQ(f.reg(rax), 0x0400u);
}

TEST(MulDiv, RealModeMulUsesSixteenBitOperandsByDefault) {
    CoreFixture f;
    f.real_mode({0xf7, 0xe3, 0xe6, 0xf4});  // mul bx; out 0xf4, al
    f.core.state().regs[rax] = 0x1234;
    f.core.state().regs[rbx] = 0x100;
    f.run();
    EXPECT_EQ(f.reg(rax), 0x3400u);
    EXPECT_EQ(f.reg(rdx), 0x12u);
}

// ---- bit tests, scans, BSWAP ----------------------------------------------------------------

TEST(BitOps, BtCopiesTheBitToCarryAndLeavesTheOtherFlags) {
    Program p({0x0f, 0xa3, 0xc8});  // bt eax, ecx
    p.set(rax, 0x10).set(rcx, 0x24).flags(ZF | OF | SF | AF | PF).run();  // 36 & 31 = 4
    EXPECT_EQ(p.flags(), CF | ZF | OF | SF | AF | PF);
}

TEST(BitOps, BtsBtrBtcSetResetAndComplementTheBit) {
    Program s({0x0f, 0xab, 0xc8});  // bts eax, ecx
    s.set(rax, 0xffffffff00000000).set(rcx, 3).run();
    EXPECT_EQ(s[rax], 8u);
    EXPECT_FALSE(s.flags() & CF);
    Program r({0x48, 0x0f, 0xb3, 0xc8});  // btr rax, rcx
    r.set(rax, ~0ull).set(rcx, 63).run();
    EXPECT_EQ(r[rax], 0x7fffffffffffffffu);
    EXPECT_TRUE(r.flags() & CF);
    Program c({0x66, 0x0f, 0xbb, 0xc8});  // btc ax, cx
    c.set(rax, 0x12340000).set(rcx, 0x1f).run();  // 31 & 15 = 15
    EXPECT_EQ(c[rax], 0x12348000u);
}

TEST(BitOps, AnImmediateOffsetIsMaskedToTheOperandSize) {
    Program p({0x0f, 0xba, 0xe0, 0x21});  // bt eax, 33
    p.set(rax, 2).run();
    EXPECT_TRUE(p.flags() & CF);
    Program m({0x66, 0x0f, 0xba, 0x33, 0x11});  // btr word ptr [rbx], 17 -> bit 1 of [rbx]
    m.poke(0, 0xffff).run();
    EXPECT_EQ(m.peek(0), 0xfffdu);
}

TEST(BitOps, ANegativeRegisterOffsetAddressesAnEarlierMemoryWord) {
    Program p({0x0f, 0xa3, 0x0b});  // bt dword ptr [rbx], ecx
    p.set(rbx, kData + 0x100).set(rcx, static_cast<uint32_t>(-31)).poke(0xfc, 2).run();
    EXPECT_TRUE(p.flags() & CF);  // -31 = dword -1, bit 1
}

TEST(BitOps, ALargeRegisterOffsetWritesAFarMemoryWord) {
    Program p({0x48, 0x0f, 0xab, 0x0b});  // bts qword ptr [rbx], rcx
    p.set(rcx, 64 * 5 + 7).run();
    EXPECT_EQ(p.peek(40), 0x80u);
    EXPECT_EQ(p.peek(0), 0u);
}

TEST(BitOps, BsfOfZeroKeepsTheWholeDestinationAndSetsZf) {
    Program p({0x0f, 0xbc, 0xc1});  // bsf eax, ecx
    p.set(rax, 0x1234567890abcdef).set(rcx, 0).flags(CF | OF | SF).run();
    EXPECT_EQ(p[rax], 0x1234567890abcdefu);  // even the upper half (Zen 4)
    EXPECT_EQ(p.flags(), ZF | PF);
}

TEST(BitOps, BsfAndBsrFindTheLowestAndHighestSetBits) {
    Program f({0x0f, 0xbc, 0xc1});  // bsf eax, ecx
    f.set(rcx, 0x80000100).flags(ZF | CF).run();
    EXPECT_EQ(f[rax], 8u);
    EXPECT_EQ(f.flags(), 0u);  // parity of 8 is odd; ZF cleared; CF cleared (Zen 4)
    Program r({0x48, 0x0f, 0xbd, 0xc1});  // bsr rax, rcx
    r.set(rcx, 0x0000800000000001).run();
    EXPECT_EQ(r[rax], 47u);
}

TEST(BitOps, LzcntAndTzcntOfZeroReturnTheWidthAndSetCarry) {
    Program l({0x66, 0xf3, 0x0f, 0xbd, 0xc1});  // lzcnt ax, cx
    l.set(rax, 0xffffffff).set(rcx, 0).flags(OF | SF | PF).run();
    EXPECT_EQ(l[rax], 0xffff0010u);
    EXPECT_EQ(l.flags(), CF | OF);  // OF kept, SF PF AF cleared (Zen 4)
    Program t({0xf3, 0x48, 0x0f, 0xbc, 0xc1});  // tzcnt rax, rcx
    t.set(rcx, 1).run();
    EXPECT_EQ(t[rax], 0u);
    EXPECT_EQ(t.flags(), ZF);
}

TEST(BitOps, PopcntCountsBitsAndClearsAllFlagsButZf) {
    Program p({0xf3, 0x0f, 0xb8, 0xc1});  // popcnt eax, ecx
    p.set(rcx, 0xffff000f00000007).flags(CF | OF | SF | AF | PF).run();
    EXPECT_EQ(p[rax], 3u);
    EXPECT_EQ(p.flags(), 0u);
    Program z({0xf3, 0x0f, 0xb8, 0xc1});
    z.set(rcx, 0).run();
    EXPECT_EQ(z.flags(), ZF);
}

TEST(BitOps, BswapReversesBytesAndClearsASixteenBitRegisterLikeZen4) {
    Program d({0x0f, 0xc8});  // bswap eax
    d.set(rax, 0xffffffff11223344).run();
    EXPECT_EQ(d[rax], 0x44332211u);
    Program q({0x48, 0x0f, 0xc8});  // bswap rax
    q.set(rax, 0x0102030405060708).run();
    EXPECT_EQ(q[rax], 0x0807060504030201u);
    Program w({0x66, 0x0f, 0xc8});  // bswap ax
    w.set(rax, 0x11223344).run();
    EXPECT_EQ(w[rax], 0x11220000u);
}

// ---- MOVZX MOVSX MOVSXD, conversions ----------------------------------------------------------

TEST(Movx, ZeroAndSignExtensionFromBytesWordsAndDwords) {
    Program z({0x0f, 0xb6, 0xc3});  // movzx eax, bl
    z.set(rax, ~0ull).set(rbx, 0x1f0).run();
    EXPECT_EQ(z[rax], 0xf0u);
    Program s({0x48, 0x0f, 0xbf, 0xc3});  // movsx rax, bx
    s.set(rbx, 0x8001).run();
    EXPECT_EQ(s[rax], 0xffffffffffff8001u);
    Program d({0x48, 0x63, 0xc1});  // movsxd rax, ecx
    d.set(rcx, 0x80000000).run();
    EXPECT_EQ(d[rax], 0xffffffff80000000u);
    Program m({0x66, 0x0f, 0xbe, 0x03});  // movsx ax, byte ptr [rbx]
    m.poke(0, 0x80).set(rax, 0x12345678).run();
    EXPECT_EQ(m[rax], 0x1234ff80u);
}

TEST(Movx, MovzxReadsAHighByteRegister) {
    Program p({0x0f, 0xb6, 0xcc});  // movzx ecx, ah
    p.set(rax, 0xabcd).set(rcx, ~0ull).run();
    EXPECT_EQ(p[rcx], 0xabu);
}

TEST(Movx, AccumulatorConversionsSignExtend) {
    struct Case {
        std::vector<uint8_t> code;
        uint64_t rax_in, rax_out, rdx_out;
    };
    const Case cases[] = {
        {{0x66, 0x98}, 0xffffffff12345680, 0xffffffff1234ff80, 7},  // cbw
        {{0x98}, 0xffffffff12348000, 0xffff8000, 7},                  // cwde
        {{0x48, 0x98}, 0x1234567880000000, 0xffffffff80000000, 7},    // cdqe
        {{0x66, 0x99}, 0x8000, 0x8000, 0xffff},                       // cwd (DX only)
        {{0x99}, 0x80000000, 0x80000000, 0xffffffff},                 // cdq
        {{0x48, 0x99}, 0x7fffffffffffffff, 0x7fffffffffffffff, 0},    // cqo
    };
    for (const Case& c : cases) {
        Program p(c.code);
        p.set(rax, c.rax_in).set(rdx, 7).run();
        EXPECT_EQ(p[rax], c.rax_out);
        EXPECT_EQ(p[rdx], c.rdx_out);
    }
}

// ---- CMOVcc SETcc LAHF SAHF -------------------------------------------------------------------

TEST(Cmov, AFalseConditionStillZeroExtendsA32BitDestination) {
    Program p({0x0f, 0x44, 0xc1});  // cmove eax, ecx
    p.set(rax, 0xffffffff00000005).set(rcx, 9).flags(0).run();
    EXPECT_EQ(p[rax], 5u);
    Program t({0x0f, 0x44, 0xc1});
    t.set(rax, 0xffffffff00000005).set(rcx, 9).flags(ZF).run();
    EXPECT_EQ(t[rax], 9u);
}

TEST(Cmov, AMemorySourceIsReadEvenWhenTheConditionIsFalse) {
    Program p({0x48, 0x0f, 0x45, 0x03});  // cmovne rax, qword ptr [rbx]
    p.set(rbx, 0x8000000000000000).set(rax, 1).flags(ZF).run();  // non-canonical: #GP
    EXPECT_EQ(p.fault(), 13);
    EXPECT_EQ(p[rax], 1u);
}

TEST(Setcc, EveryConditionCodeReadsTheFlags) {
    // setcc al for cc = 0..15 (0F 90+cc C0), each under flags that make it true and false.
    const uint64_t when_true[16] = {OF, 0, CF, 0, ZF, 0, ZF, 0, SF, 0, PF, 0, SF, 0, ZF, 0};
    const uint64_t when_false[16] = {0, OF, 0, CF, 0, ZF, 0, CF, 0, SF, 0, PF, SF | OF, SF, 0, ZF};
    for (unsigned cc = 0; cc < 16; ++cc) {
        for (bool expected : {true, false}) {
            Program p({0x0f, static_cast<uint8_t>(0x90 + cc), 0xc0});
            p.set(rax, 0x1234).flags(expected ? when_true[cc] : when_false[cc]).run();
            EXPECT_EQ(p[rax], 0x1200u | expected) << "cc " << cc;
        }
    }
}

TEST(Setcc, WritesAByteToMemoryOrAh) {
    Program m({0x0f, 0x9c, 0x03});  // setl byte ptr [rbx]
    m.poke(0, ~0ull).flags(OF).run();
    EXPECT_EQ(m.peek(0), 0xffffffffffffff01u);
    Program h({0x0f, 0x9f, 0xc4});  // setg ah
    h.set(rax, 0xffff).flags(0).run();
    EXPECT_EQ(h[rax], 0x01ffu);
}

TEST(LahfSahf, LahfCopiesTheLowFlagsWithBitOneSet) {
    Program p({0x9f});  // lahf
    p.set(rax, 0xffff).flags(SF | ZF | AF | PF | CF | OF).run();
    EXPECT_EQ(p[rax], 0xd7ffu);
}

TEST(LahfSahf, SahfLoadsFiveFlagsAndKeepsOverflow) {
    Program p({0x9e});  // sahf
    p.set(rax, 0xd500).flags(OF).run();
    EXPECT_EQ(p.flags(), SF | ZF | AF | PF | CF | OF);
    Program clear({0x9e});
    clear.set(rax, 0x0000).flags(SF | ZF | CF).run();
    EXPECT_EQ(clear.flags(), 0u);
}

// ---- XCHG CMPXCHG CMPXCHG8B CMPXCHG16B XADD ---------------------------------------------------

TEST(Xchg, ExchangesRegistersZeroExtendingBoth) {
    Program p({0x91});  // xchg ecx, eax
    p.set(rax, 0xaaaaaaaa00000001).set(rcx, 0xbbbbbbbb00000002).run();
    EXPECT_EQ(p[rax], 2u);
    EXPECT_EQ(p[rcx], 1u);
}

TEST(Xchg, ExchangesARegisterWithMemory) {
    Program p({0x48, 0x87, 0x0b});  // xchg qword ptr [rbx], rcx
    p.poke(0, 0x1111).set(rcx, 0x2222).run();
    EXPECT_EQ(p.peek(0), 0x2222u);
    EXPECT_EQ(p[rcx], 0x1111u);
}

TEST(Cmpxchg, AMatchStoresTheSourceSetsZfAndLeavesTheAccumulator) {
    Program p({0x0f, 0xb1, 0xcb});  // cmpxchg ebx, ecx
    p.set(rax, 0xaaaaaaaa00000005).set(rbx, 0xbbbbbbbb00000005).set(rcx, 7).run();
    EXPECT_EQ(p[rbx], 7u);
    EXPECT_EQ(p[rax], 0xaaaaaaaa00000005u);
    EXPECT_EQ(p.flags(), ZF | PF);
}

TEST(Cmpxchg, AMismatchLoadsTheAccumulatorAndLeavesARegisterDestination) {
    Program p({0x0f, 0xb1, 0xcb});  // cmpxchg ebx, ecx
    p.set(rax, 0xaaaaaaaa00000005).set(rbx, 0xbbbbbbbb00000006).set(rcx, 7).run();
    EXPECT_EQ(p[rax], 6u);
    EXPECT_EQ(p[rbx], 0xbbbbbbbb00000006u);  // Zen 4: not zero-extended
    EXPECT_EQ(p.flags(), CF | AF | SF | PF);  // as CMP 5, 6
}

TEST(Cmpxchg, LockedMemoryFormSwapsOnAMatch) {
    Program p({0xf0, 0x48, 0x0f, 0xb1, 0x0b});  // lock cmpxchg qword ptr [rbx], rcx
    p.poke(0, 42).set(rax, 42).set(rcx, 99).run();
    EXPECT_EQ(p.peek(0), 99u);
    EXPECT_TRUE(p.flags() & ZF);
}

TEST(Cmpxchg, Cmpxchg8bComparesEdxEaxWithMemory) {
    Program hit({0x0f, 0xc7, 0x0b});  // cmpxchg8b qword ptr [rbx]
    hit.poke(0, 0x1111111122222222).set(rax, 0x22222222).set(rdx, 0x11111111);
    hit.set(rcx, 0x33333333).set(rbx, kData).flags(CF).run();
    EXPECT_EQ(hit.peek(0), (0x33333333ull << 32) | kData);  // ECX:EBX
    EXPECT_EQ(hit.flags(), CF | ZF);
    Program miss({0x0f, 0xc7, 0x0b});
    miss.poke(0, 0x1111111122222222).set(rax, 0xffffffff00000000).set(rdx, 0).flags(ZF | CF).run();
    EXPECT_EQ(miss[rax], 0x22222222u);
    EXPECT_EQ(miss[rdx], 0x11111111u);
    EXPECT_EQ(miss.flags(), CF);
}

TEST(Cmpxchg, Cmpxchg16bSwapsSixteenAlignedBytes) {
    Program p({0xf0, 0x48, 0x0f, 0xc7, 0x0b});  // lock cmpxchg16b xmmword ptr [rbx]
    p.poke(0, 1).poke(8, 2).set(rax, 1).set(rdx, 2).set(rcx, 4).run();
    EXPECT_EQ(p.peek(0), kData);  // RBX
    EXPECT_EQ(p.peek(8), 4u);
    EXPECT_TRUE(p.flags() & ZF);
}

TEST(Cmpxchg, Cmpxchg16bOfAnUnalignedOperandRaisesGp) {
    Program p({0xf0, 0x48, 0x0f, 0xc7, 0x0b});
    p.set(rbx, kData + 8).poke(8, 1).poke(16, 2).set(rax, 1).set(rdx, 2).set(rcx, 4).run();
    EXPECT_EQ(p.fault(), 13);
    EXPECT_EQ(p.peek(8), 1u);
}

TEST(Xadd, ExchangesAndAddsWithAddFlags) {
    Program p({0x0f, 0xc1, 0xc8});  // xadd eax, ecx
    p.set(rax, 0xffffffff).set(rcx, 1).run();
    EXPECT_EQ(p[rax], 0u);
    EXPECT_EQ(p[rcx], 0xffffffffu);
    EXPECT_EQ(p.flags(), CF | ZF | AF | PF);
    Program same({0x0f, 0xc1, 0xc0});  // xadd eax, eax: the sum wins
    same.set(rax, 5).run();
    EXPECT_EQ(same[rax], 10u);
}

TEST(Xadd, LockedMemoryFormReturnsTheOldValue) {
    Program p({0xf0, 0x0f, 0xc1, 0x0b});  // lock xadd dword ptr [rbx], ecx
    p.poke(0, 0x100).set(rcx, 0x23).run();
    EXPECT_EQ(p.peek(0), 0x123u);
    EXPECT_EQ(p[rcx], 0x100u);
}
