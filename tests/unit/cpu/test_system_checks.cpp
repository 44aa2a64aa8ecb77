// Checks found missing by tests/diff_system: alignment checking at CPL 3 (#AC), RDPMC and its
// CR4.PCE gate, and RF lasting one instruction after the IRET that set it.
#include "tests/unit/cpu/system_fixture.h"

using namespace cpu;
using namespace systest;

namespace {

constexpr int kAC = 17;
const std::vector<uint8_t> kMovEaxFromRbxPlus1 = {0x8b, 0x43, 0x01};  // mov eax, [rbx+1]
const std::vector<uint8_t> kRdpmc = {0x0f, 0x33};

// CPL 3 running `insn` (then the exit OUT), with CR0.AM and RFLAGS.AC as given.
Sys& user_program(Sys& f, const std::vector<uint8_t>& insn, bool am, bool ac) {
    f.kernel({});
    f.poke(kCode + 0x1000, insn + std::vector<uint8_t>{0xe6, 0xf4});
    f.user(kCode + 0x1000);
    if (am) f.s().cr0 |= cr0::am;
    f.s().set_rflags(f.s().rflags() | (ac ? rf::ac : 0));
    f.core.refresh_mode();
    f.set(rbx, kData);
    return f;
}

}  // namespace

// SDM Vol. 3A 6.15 "Interrupt 17": CR0.AM = 1, RFLAGS.AC = 1, CPL 3 and a misaligned operand.
TEST(AlignmentCheck, MisalignedDoublewordAtCpl3WithAmAndAcRaisesAc) {
    Sys f;
    user_program(f, kMovEaxFromRbxPlus1, true, true);
    EXPECT_EQ(f.go(), kAC);
    EXPECT_EQ(f.error(), 0u);
}

TEST(AlignmentCheck, NeedsBothCr0AmAndRflagsAc) {
    for (const bool am : {false, true}) {
        Sys f;
        user_program(f, kMovEaxFromRbxPlus1, am, !am);
        EXPECT_EQ(f.go(), kNone) << "am " << am;
        EXPECT_TRUE(f.exited());
    }
}

TEST(AlignmentCheck, AlignedAccessesPass) {
    Sys f;
    user_program(f, {0x8b, 0x43, 0x04}, true, true);  // mov eax, [rbx+4]
    EXPECT_EQ(f.go(), kNone);
    EXPECT_TRUE(f.exited());
}

// SDM Vol. 2 "RDPMC": #GP(0) at CPL 3 unless CR4.PCE; an unimplemented counter is #GP(0).
TEST(Rdpmc, AtCpl3WithoutPceRaisesGp) {
    Sys f;
    user_program(f, kRdpmc, false, false);
    f.set(rcx, 0);
    EXPECT_EQ(f.go(), kGP);
    EXPECT_EQ(f.error(), 0u);
}

TEST(Rdpmc, WithPceReadsCounterZeroAndRefusesCounterFour) {
    Sys f;
    user_program(f, kRdpmc, false, false);
    f.s().cr4 |= cr4::pce;
    f.set(rcx, 0).set(rax, ~0ull).set(rdx, ~0ull);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rax), 0u);
    EXPECT_EQ(f.reg(rdx), 0u);
    Sys g;
    user_program(g, kRdpmc, false, false);
    g.s().cr4 |= cr4::pce;
    g.set(rcx, 4);
    EXPECT_EQ(g.go(), kGP);
}

// SDM Vol. 3B 17.3.1.1: RF set by IRET is cleared when the next instruction completes.
TEST(ResumeFlag, IretSetsRfForOneInstructionOnly) {
    Sys f;
    // push rbx (SS); push rcx (RSP); push rdx (RFLAGS); push rsi (CS); push rdi (RIP); iretq; nop
    f.kernel({0x53, 0x51, 0x52, 0x56, 0x57, 0x48, 0xcf, 0x90});
    f.set(rbx, kSelData).set(rcx, f.reg(rsp)).set(rdx, rf::rf | rf::fixed1).set(rsi, kSelCode).set(rdi, kCode + 7);
    EXPECT_EQ(f.go(), kNone);
    ASSERT_TRUE(f.exited());
    EXPECT_EQ(f.s().rflags() & rf::rf, 0u);
}

// An external interrupt whose vector number is a contributory exception's (10, #TS) and whose
// delivery faults (gate 10 not present: #NP) is benign in Table 6-5 (SDM Vol. 3A 6.15): the #NP
// is delivered through gate 11, not a #DF through gate 8.
TEST(DoubleFault, AnExternalInterruptWithAnExceptionsVectorIsBenign) {
    systest::Sys f;
    f.kernel({0xf4});  // HLT: the handler's exit value tells which gate ran
    constexpr uint64_t kIdt = 0x6000, kHandlers = 0x7000;
    const auto gate = [&](unsigned vector, uint64_t handler) {
        const uint64_t low = (handler & 0xffff) | (uint64_t{systest::kSelCode} << 16) | (uint64_t{0x8e00} << 32) |
                             (((handler >> 16) & 0xffff) << 48);
        f.poke64(kIdt + 16 * vector, low);
        f.poke64(kIdt + 16 * vector + 8, handler >> 32);
    };
    for (unsigned v : {8u, 11u}) {  // mov al, v; out 0xf4, al; hlt
        f.poke(kHandlers + 16 * v, {0xb0, static_cast<uint8_t>(v), 0xe6, 0xf4, 0xf4});
        gate(v, kHandlers + 16 * v);
    }
    f.s().idtr = {kIdt, 16 * 32 - 1};
    f.s().regs[cpu::rsp] = systest::kKernelStack;
    f.core.set_trap_exceptions(false);
    f.poke64(kIdt + 16 * 10, uint64_t{0x0e00} << 32);  // an interrupt gate with P = 0: #NP (6.12.1.2)
    f.core.deliver_event(10, false, 0, false, f.s().rip(), 0, 1);
    f.go();
    ASSERT_TRUE(f.exited());
    EXPECT_EQ(f.control.exit_value & 0xff, 11u);
}
