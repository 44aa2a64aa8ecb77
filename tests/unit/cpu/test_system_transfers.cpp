// Mode switches and privilege transfers: the real -> protected -> long mode boot path and its
// way back, far JMP/CALL/RET (real mode, code segments, call gates to inner privilege with
// stack switch and parameters), SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS, the FS/GS base
// instructions, and the hardware task switches hvsim reports as not modelled.
#include "mmu/identity_map.h"
#include "tests/unit/cpu/system_fixture.h"

using namespace cpu;
using namespace systest;

#define PROGRAM(name) extern "C" const uint8_t name[], name##_end[];
PROGRAM(boot_to_long)
PROGRAM(leave_long_mode)
PROGRAM(far_compat)
PROGRAM(syscall_round_trip)
PROGRAM(sysenter_round_trip)
PROGRAM(call_gate64)
PROGRAM(call_gate32)
PROGRAM(real_far)
#undef PROGRAM
extern "C" const uint8_t syscall_return_point[], syscall_kernel_entry[], sysenter_kernel_entry[],
    call_gate64_user[], call_gate64_return_point[], call_gate64_kernel[], call_gate32_user[],
    call_gate32_return_point[], call_gate32_kernel[];

// ---- the boot path ----

TEST(BootPath, RealToProtectedToLongMode) {
    Sys f;
    f.bus.load(0x8000, image(boot_to_long, boot_to_long_end));
    mmu::build_identity_map([&](uint64_t pa, const void* d, size_t n) { return f.core.write_physical(pa, d, n); },
                            0x1000, f.bus.ram.size());
    enter_real_mode(f.core, 0, 0x8000);
    f.core.set_trap_exceptions(true);
    EXPECT_EQ(f.go(), kNone);
    ASSERT_TRUE(f.exited());
    const State& s = f.s();
    EXPECT_EQ(s.mode, Mode::long64);
    EXPECT_EQ(f.reg(rax), 0x123456789abcdef0u);
    EXPECT_EQ(s.efer & (efer::lme | efer::lma), efer::lme | efer::lma);
    EXPECT_EQ(f.reg(rsi) & (efer::lme | efer::lma), efer::lme | efer::lma);  // read in compatibility mode
    EXPECT_EQ(s.cr0 & (cr0::pe | cr0::pg), cr0::pe | cr0::pg);
    EXPECT_EQ(s.seg[cs].selector, 0x18u);
    EXPECT_EQ(s.cpl, 0);
    EXPECT_EQ(s.gdtr.limit, 31u);
}

TEST(BootPath, LeavingLongModeThroughCompatibilityMode) {
    Sys f;
    f.kernel_image(image(leave_long_mode, leave_long_mode_end));
    EXPECT_EQ(f.go(), kNone);
    ASSERT_TRUE(f.exited());
    EXPECT_EQ(f.control.exit_value & 0xff, 0x5au);
    EXPECT_EQ(f.s().mode, Mode::protected32);
    EXPECT_EQ(f.s().efer & (efer::lme | efer::lma), 0u);
    EXPECT_FALSE(f.s().cr0 & cr0::pg);
}

// ---- far transfers ----

TEST(FarTransfer, RealModeCallRetAndJmp) {
    Sys f;
    f.real(image(real_far, real_far_end), false);
    EXPECT_EQ(f.go(), kNone);
    ASSERT_TRUE(f.exited());
    EXPECT_EQ(f.reg(rbx) & 0xffff, 0x07c0u);  // CS inside the callee
    EXPECT_EQ(f.reg(rcx) & 0xffff, 0x1234u);
    EXPECT_EQ(f.s().seg[cs].selector, 0u);
    EXPECT_EQ(f.reg(rsp), 0x7c00u);           // the far return popped what the call pushed
}

TEST(FarTransfer, To32BitCompatibilityCodeAndBack) {
    Sys f;
    f.kernel_image(image(far_compat, far_compat_end));
    EXPECT_EQ(f.go(), kNone);
    ASSERT_TRUE(f.exited());
    EXPECT_EQ(f.reg(rax), 0x32u);
    EXPECT_EQ(f.s().mode, Mode::long64);
    EXPECT_EQ(f.s().seg[cs].selector, kSelCode);
}

TEST(FarTransfer, JmpToCodeSegmentChecks) {
    struct Case {
        uint64_t descriptor;
        uint16_t selector;
        int vector;
        uint32_t error;
    };
    for (const Case& c : {Case{kUserCode64, kSelUser64, kGP, kSelUser64},                         // DPL 3 != CPL 0
                          Case{kCode64 & ~(1ull << 47), kSelSpare, kNP, kSelSpare},                // not present
                          Case{kCode64 | (1ull << 54), kSelSpare, kGP, kSelSpare},                 // L and D
                          Case{kData32, kSelData, kGP, kSelData},                                  // data
                          Case{kCode64, kSelSpare | 3, kGP, kSelSpare},                            // RPL 3 > CPL
                          Case{kCode64, 0, kGP, 0},                                                // null
                          Case{descriptor(0, 0xfffff, 0xff, 0xa), kSelSpare, kGP, kSelSpare},      // conforming, DPL 3 > CPL
                          Case{descriptor(0, 0xfffff, 0x9f, 0xa), kSelSpare, kNone, 0}}) {         // conforming, DPL 0
        Sys f;
        f.kernel({0xff, 0x2b});  // ljmp [rbx] (m16:32)
        f.set_gdt(11, c.descriptor);
        f.poke(kData, {0x00, 0x10, 0x10, 0x00, static_cast<uint8_t>(c.selector), static_cast<uint8_t>(c.selector >> 8)});
        f.poke(kCode + 0x1000, {0xe6, 0xf4});
        f.set(rbx, kData);
        EXPECT_EQ(f.go(), c.vector) << std::hex << c.descriptor;
        EXPECT_EQ(f.error(), c.error);
        if (c.vector == kNone) {
            EXPECT_EQ(f.s().seg[cs].selector, kSelSpare);  // RPL := CPL 0; CPL stays 0 (conforming)
            EXPECT_EQ(f.s().cpl, 0);
        }
    }
}

TEST(FarTransfer, ConformingCodeKeepsTheCallersPrivilege) {
    Sys f;
    f.kernel({});
    f.set_gdt(11, descriptor(0, 0xfffff, 0x9f, 0xa));  // 64-bit conforming code, DPL 0
    f.poke(kCode + 0x1000, {0xff, 0x2b});              // ljmp [rbx]
    f.poke(kCode + 0x2000, {0xe6, 0xf4});
    f.poke(kData, {0x00, 0x20, 0x10, 0x00, kSelSpare, 0x00});
    f.user(kCode + 0x1000);
    f.set(rbx, kData);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_TRUE(f.exited());
    EXPECT_EQ(f.s().cpl, 3);
    EXPECT_EQ(f.s().seg[cs].selector, kSelSpare | 3u);  // RPL := CPL
}

TEST(FarTransfer, IntelFarJmpTakesAnM16Colon64OperandAmdIgnoresRexW) {
    for (Vendor v : {Vendor::intel, Vendor::amd}) {
        Sys f(v);
        f.kernel({0x48, 0xff, 0x2b});  // rex.w ljmp [rbx]
        f.poke64(kData, kCode + 0x1000);
        f.poke64(kData + 8, kSelCode);
        f.poke(kCode + 0x1000, {0xe6, 0xf4});
        f.set(rbx, kData);
        // AMD reads m16:32: offset 0x101000, selector = bytes 4-5 of the quadword (0): #GP(0).
        EXPECT_EQ(f.go(), v == Vendor::intel ? kNone : kGP) << to_string(v);
    }
}

TEST(FarTransfer, CallAndRetfAtTheSamePrivilege) {
    Sys f;
    // lcall [rbx] (m16:32) -> 0x08:kCode+0x1000: retf (32-bit); then out
    f.kernel({0xff, 0x1b});
    f.poke(kData, {0x00, 0x10, 0x10, 0x00, kSelCode, 0x00});
    f.poke(kCode + 0x1000, {0xcb});
    f.set(rbx, kData);
    const uint64_t rsp0 = f.reg(rsp);
    EXPECT_EQ(f.go(), kNone);
    ASSERT_TRUE(f.exited());
    EXPECT_EQ(f.reg(rsp), rsp0);
    EXPECT_EQ(f.peek64(rsp0 - 8), (uint64_t{kSelCode} << 32) | (kCode + 2));  // CS:EIP pushed as two dwords
}

TEST(FarTransfer, RetfToAMorePrivilegedLevelRaisesGp) {
    Sys f;
    f.kernel({});
    f.poke(kCode + 0x1000, {0x48, 0xcb});  // retfq
    f.user(kCode + 0x1000);
    f.poke64(kUserStack, kCode);
    f.poke64(kUserStack + 8, kSelCode);  // RPL 0 < CPL 3
    EXPECT_EQ(f.go(), kGP);
    EXPECT_EQ(f.error(), kSelCode);
}

// IRETQ to an outer level checks the new SS before the new EIP against the CS limit (SDM Vol. 2
// "IRET" RETURN-TO-OUTER-PRIVILEGE-LEVEL), and a faulting IRET leaves the accessed bit of the
// CS descriptor it examined clear (SDM Vol. 3A 6.5: faults restore the state).
TEST(Iret, OuterReturnChecksSsBeforeTheEipLimitAndFaultsLeaveAccessedBits) {
    Sys f;
    f.kernel({0x48, 0xcf});                                 // iretq
    const uint64_t code = descriptor(0, 0xff, 0xfa, 0x4);  // 32-bit code, DPL 3, limit FFh, A = 0
    f.set_gdt(11, code);
    const uint64_t sp = f.reg(rsp);
    f.poke64(sp, 0x1000);  // beyond the limit: #GP(0) once SS passes
    f.poke64(sp + 8, kSelSpare | 3);
    f.poke64(sp + 16, 2);
    f.poke64(sp + 24, 0x2000);
    f.poke64(sp + 32, kSelData);  // RPL 0 != new CPL 3: #GP(SS selector) first
    EXPECT_EQ(f.go(), kGP);
    EXPECT_EQ(f.error(), kSelData);
    EXPECT_EQ(f.peek64(kGdt + 8 * 11), code);
}

TEST(CallGate, SixtyFourBitCallToInnerPrivilegeAndRetfBack) {
    Sys f;
    f.kernel_image(image(call_gate64, call_gate64_end));
    f.set_gate(9, gate(kSelCode, address(call_gate64, call_gate64_kernel), 0xc, 3));
    f.user(address(call_gate64, call_gate64_user));
    const uint64_t user_rsp = f.reg(rsp);
    EXPECT_EQ(f.go(), kNone);
    ASSERT_TRUE(f.exited());
    EXPECT_EQ(f.reg(rbp), kKernelStack - 32);  // RSP0, four 8-byte pushes
    EXPECT_EQ(f.reg(r12), address(call_gate64, call_gate64_return_point));
    EXPECT_EQ(f.reg(r13), kSelUser64 | 3u);
    EXPECT_EQ(f.reg(r14), user_rsp);
    EXPECT_EQ(f.reg(r15), kSelUserData | 3u);
    EXPECT_EQ(f.s().cpl, 3);
    EXPECT_EQ(f.reg(rsp), user_rsp);
    EXPECT_EQ(f.s().seg[ss].selector, kSelUserData | 3u);
    EXPECT_TRUE(f.s().seg[ds].unusable());  // DS (DPL 0) was made null by the outer return
}

TEST(CallGate, GateChecks) {
    struct Case {
        Gate16 g;
        int vector;
        uint32_t error;
    };
    const uint64_t target = kCode + 0x1000;
    for (const Case& c : {Case{gate(kSelCode, target, 0xc, 0), kGP, kSelGate},                         // gate DPL 0 < CPL 3
                          Case{{gate(kSelCode, target, 0xc, 3).low & ~(1ull << 47), 0}, kNP, kSelGate},   // not present
                          Case{{gate(kSelCode, target, 0xc, 3).low, 1ull << 40}, kGP, kSelGate},         // upper type
                          Case{gate(0, target, 0xc, 3), kGP, 0},                                         // null target
                          Case{gate(kSelData, target, 0xc, 3), kGP, kSelData},                           // not code
                          Case{gate(kSelCode32, target, 0xc, 3), kGP, kSelCode32},                       // not 64-bit
                          Case{gate(kSelCode, target, 0xe, 3), kGP, kSelGate}}) {                        // interrupt gate
        Sys f;
        f.kernel({});
        f.set_gate(9, c.g);
        f.poke(kCode + 0x2000, {0xff, 0x1b});  // lcall [rbx]
        f.poke(kData, {0, 0, 0, 0, kSelGate | 3, 0});
        f.user(kCode + 0x2000);
        f.set(rbx, kData);
        EXPECT_EQ(f.go(), c.vector) << std::hex << c.g.low;
        EXPECT_EQ(f.error(), c.error) << std::hex << c.g.low;
        EXPECT_EQ(f.s().cpl, 3);
    }
}

TEST(CallGate, JmpThroughAGateKeepsThePrivilege) {
    Sys f;
    f.kernel({0xff, 0x2b});  // ljmp [rbx] to the gate
    f.set_gate(9, gate(kSelCode, kCode + 0x1000, 0xc, 0));
    f.poke(kCode + 0x1000, {0xe6, 0xf4});
    f.poke(kData, {0, 0, 0, 0, kSelGate, 0});
    f.set(rbx, kData);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_TRUE(f.exited());
    EXPECT_EQ(f.s().rip(), kCode + 0x1002);
}

TEST(CallGate, ThirtyTwoBitGateCopiesParametersToTheInnerStack) {
    Sys f;
    f.protected32(image(call_gate32, call_gate32_end), false);
    f.set_gdt(9, gate(kSelCode, address(call_gate32, call_gate32_kernel), 0xc, 3, 2).low);
    f.user(address(call_gate32, call_gate32_user), false);
    EXPECT_EQ(f.go(), kNone);
    ASSERT_TRUE(f.exited());
    EXPECT_EQ(f.reg(rbp), kKernelStack - 24);  // SS, ESP, 2 parameters, CS, EIP
    EXPECT_EQ(f.reg(rax), address(call_gate32, call_gate32_return_point));
    EXPECT_EQ(f.reg(rbx), kSelUser32 | 3u);
    EXPECT_EQ(f.reg(rcx), 0x22u);  // the parameters in the caller's order
    EXPECT_EQ(f.reg(rdx), 0x11u);
    EXPECT_EQ(f.reg(rsi), kUserStack - 8);
    EXPECT_EQ(f.reg(rdi), kSelUserData | 3u);
    EXPECT_EQ(f.s().cpl, 3);
    EXPECT_EQ(f.reg(rsp), kUserStack);  // RETF 8 released the parameters
    EXPECT_EQ(f.s().mode, Mode::protected32);
}

TEST(CallGate, InnerStackFromTheTssIsChecked) {
    // SS0 in the TSS names a DPL-3 segment: #TS(SS selector).
    Sys f;
    f.protected32(image(call_gate32, call_gate32_end), false);
    f.set_gdt(9, gate(kSelCode, address(call_gate32, call_gate32_kernel), 0xc, 3, 2).low);
    f.poke64(kTss + 4, kKernelStack | (uint64_t{kSelUserData} << 32));
    f.user(address(call_gate32, call_gate32_user), false);
    EXPECT_EQ(f.go(), kTS);
    EXPECT_EQ(f.error(), kSelUserData);
    EXPECT_EQ(f.s().cpl, 3);
}

// ---- hardware task switches: not modelled, and said so ----

TEST(TaskSwitch, FarJmpToATssIsReportedAsNotModelled) {
    Sys f;
    f.protected32({0xea, 0, 0, 0, 0, kSelTss, 0});  // ljmp 0x38:0 (an available 32-bit TSS)
    EXPECT_EQ(f.go(), kUD);
    EXPECT_EQ(f.core.last_unimplemented(), "jmp");
    EXPECT_NE(f.core.last_error().find("task switching is not modelled"), std::string::npos);
}

TEST(TaskSwitch, CallThroughATaskGateIsReportedAsNotModelled) {
    Sys f;
    f.protected32({0x9a, 0, 0, 0, 0, kSelGate, 0});  // lcall 0x48:0
    f.set_gdt(9, gate(kSelTss, 0, 0x5, 0).low);
    EXPECT_EQ(f.go(), kUD);
    EXPECT_NE(f.core.last_error().find("task gate or TSS"), std::string::npos);
}

TEST(TaskSwitch, IretWithNestedTaskIsReportedAsNotModelled) {
    Sys f;
    f.protected32({0xcf});  // iret
    f.s().rflags_other |= rf::nt;
    EXPECT_EQ(f.go(), kUD);
    EXPECT_EQ(f.core.last_unimplemented(), "iretd");
    EXPECT_NE(f.core.last_error().find("task switching is not modelled"), std::string::npos);
}

TEST(TaskSwitch, IsGpInLongMode) {
    Sys f;
    f.kernel({0xff, 0x2b});  // ljmp [rbx] to the 64-bit TSS
    f.poke(kData, {0, 0, 0, 0, kSelTss, 0});
    f.set(rbx, kData);
    EXPECT_EQ(f.go(), kGP);
    EXPECT_EQ(f.error(), kSelTss);
}

// ---- SYSCALL / SYSRET ----

namespace {

void star(Sys& f) {
    f.allow_user_pages();
    f.s().msr.star = (uint64_t{kSelUser32} << 48) | (uint64_t{kSelCode} << 32);
    f.s().msr.lstar = address(syscall_round_trip, syscall_kernel_entry);
    f.s().msr.fmask = rf::ac;
}

}  // namespace

TEST(Syscall, RoundTripThroughSysret) {
    for (Vendor v : {Vendor::intel, Vendor::amd}) {
        Sys f(v);
        f.kernel_image(image(syscall_round_trip, syscall_round_trip_end));
        star(f);
        EXPECT_EQ(f.go(), kNone) << to_string(v);
        ASSERT_TRUE(f.exited());
        EXPECT_EQ(f.reg(r12), address(syscall_round_trip, syscall_return_point));
        EXPECT_EQ(f.reg(r13) & ~rf::arith, 0x43002u);  // the user RFLAGS
        EXPECT_EQ(f.reg(r14), kSelCode);
        EXPECT_EQ(f.reg(r15), kSelData);
        EXPECT_FALSE(f.reg(rbx) & rf::ac);              // FMASK cleared AC in the kernel
        EXPECT_EQ(f.reg(rax), 0x42u);
        const State& s = f.s();
        EXPECT_EQ(s.cpl, 3);
        EXPECT_EQ(s.mode, Mode::long64);
        EXPECT_EQ(s.seg[cs].selector, kSelUser64 | 3u);
        EXPECT_EQ(s.seg[ss].selector, kSelUserData | 3u);
        EXPECT_TRUE(s.rflags() & rf::ac);
    }
}

TEST(Syscall, UndefinedWithoutSce) {
    Sys f;
    f.kernel({0x0f, 0x05});
    f.s().efer &= ~efer::sce;
    EXPECT_EQ(f.go(), kUD);
}

TEST(Syscall, CompatibilityModeIsUdOnIntelAndUsesCstarOnAmd) {
    for (Vendor v : {Vendor::intel, Vendor::amd}) {
        Sys f(v);
        f.kernel({});
        f.poke(kCode + 0x1000, {0x0f, 0x05});        // syscall (32-bit code)
        f.poke(kCode + 0x2000, {0xe6, 0xf4});        // CSTAR target
        star(f);
        f.s().msr.cstar = kCode + 0x2000;
        f.user(kCode + 0x1000, false);
        ASSERT_EQ(f.s().mode, Mode::compat32);
        EXPECT_EQ(f.go(), v == Vendor::intel ? kUD : kNone) << to_string(v);
        if (v == Vendor::amd) {
            EXPECT_EQ(f.s().mode, Mode::long64);
            EXPECT_EQ(f.reg(rcx), kCode + 0x1002);
        }
    }
}

TEST(Syscall, AmdLegacyModeUsesStarEip) {
    Sys f(Vendor::amd);
    f.protected32({0x0f, 0x05}, false);  // syscall
    f.poke(kCode + 0x1000, {0xe6, 0xf4});
    f.s().efer |= efer::sce;
    f.s().msr.star = (uint64_t{kSelUser32} << 48) | (uint64_t{kSelCode} << 32) | (kCode + 0x1000);
    f.s().rflags_other |= rf::if_;
    EXPECT_EQ(f.go(), kNone);
    EXPECT_TRUE(f.exited());
    EXPECT_EQ(f.reg(rcx), kCode + 2);
    EXPECT_FALSE(f.s().interrupts_enabled());
    EXPECT_EQ(f.s().mode, Mode::protected32);
}

TEST(Sysret, NonCanonicalRcxFaultsAtCpl0OnIntelAndAtCpl3OnAmd) {
    for (Vendor v : {Vendor::intel, Vendor::amd}) {
        Sys f(v);
        f.kernel({0x48, 0x0f, 0x07});  // sysretq
        star(f);
        f.set(rcx, 0x0000800000000000).set(r11, 0x2);
        EXPECT_EQ(f.go(), kGP) << to_string(v);
        EXPECT_EQ(f.s().cpl, v == Vendor::intel ? 0 : 3);
        EXPECT_EQ(f.s().rip(), v == Vendor::intel ? kCode : 0x0000800000000000u);
    }
}

TEST(Sysret, CplAboveZeroRaisesGp) {
    Sys f;
    f.kernel({});
    f.poke(kCode + 0x1000, {0x48, 0x0f, 0x07});
    f.user(kCode + 0x1000);
    EXPECT_EQ(f.go(), kGP);
}

TEST(Sysret, ThirtyTwoBitFormReturnsToCompatibilityMode) {
    Sys f;
    f.kernel({0x0f, 0x07});  // sysret (to 32-bit code)
    f.poke(kCode + 0x1000, {0xe6, 0xf4});
    star(f);
    f.set(rcx, 0xffffffff00000000 | (kCode + 0x1000)).set(r11, 0x3202 | rf::rf | rf::vm);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().mode, Mode::compat32);
    EXPECT_EQ(f.s().seg[cs].selector, kSelUser32 | 3u);
    EXPECT_EQ(f.s().rflags() & (rf::rf | rf::vm), 0u);
    EXPECT_TRUE(f.s().interrupts_enabled());
}

// ---- SYSENTER / SYSEXIT ----

TEST(Sysenter, RoundTripIn64BitModeOnIntel) {
    Sys f;
    f.kernel_image(image(sysenter_round_trip, sysenter_round_trip_end));
    f.s().msr.sysenter_cs = kSelCode;
    f.s().msr.sysenter_esp = kKernelStack;
    f.s().msr.sysenter_eip = address(sysenter_round_trip, sysenter_kernel_entry);
    f.allow_user_pages();  // SYSEXIT goes to CPL 3 in the same pages
    EXPECT_EQ(f.go(), kNone);
    ASSERT_TRUE(f.exited());
    EXPECT_EQ(f.reg(r13), kSelCode + 32 + 3u);  // CS in user mode: SYSENTER_CS + 32, RPL 3
    EXPECT_EQ(f.reg(r12), kKernelStack);
    EXPECT_EQ(f.reg(r14), kSelCode);
    EXPECT_EQ(f.reg(r15), kSelCode + 8u);
    EXPECT_EQ(f.s().cpl, 0);
}

TEST(Sysenter, NullSysenterCsRaisesGpAndAmdLongModeRaisesUd) {
    Sys f;
    f.kernel({0x0f, 0x34});
    EXPECT_EQ(f.go(), kGP);
    Sys amd(Vendor::amd);
    amd.kernel({0x0f, 0x34});
    amd.s().msr.sysenter_cs = kSelCode;
    EXPECT_EQ(amd.go(), kUD);
}

TEST(Sysenter, LegacyModeOnAmd) {
    Sys f(Vendor::amd);
    f.protected32({0x0f, 0x34}, false);  // sysenter
    f.poke(kCode + 0x1000, {0xe6, 0xf4});
    f.s().msr.sysenter_cs = kSelCode;
    f.s().msr.sysenter_esp = 0x12345678;
    f.s().msr.sysenter_eip = kCode + 0x1000;
    EXPECT_EQ(f.go(), kNone);
    EXPECT_TRUE(f.exited());
    EXPECT_EQ(f.reg(rsp), 0x12345678u);
    EXPECT_EQ(f.s().mode, Mode::protected32);
}

TEST(Sysexit, NonCanonicalTargetRaisesGp) {
    Sys f;
    f.kernel({0x48, 0x0f, 0x35});  // sysexitq
    f.s().msr.sysenter_cs = kSelCode;
    f.set(rdx, 0x0000800000000000).set(rcx, kUserStack);
    EXPECT_EQ(f.go(), kGP);
    EXPECT_EQ(f.s().cpl, 0);
}

// ---- SWAPGS and the FS/GS base instructions ----

TEST(Swapgs, ExchangesGsBaseWithKernelGsBase) {
    Sys f;
    f.kernel({0x0f, 0x01, 0xf8, 0x65, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0});  // swapgs; mov rax, gs:[0]
    f.s().msr.kernel_gs_base = kData;
    f.s().seg[gs].base = 0x1234;
    f.core.refresh_mode();
    f.poke64(kData, 0xfeedface);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.reg(rax), 0xfeedfaceu);
    EXPECT_EQ(f.s().msr.kernel_gs_base, 0x1234u);
}

TEST(Swapgs, UndefinedOutside64BitMode) {
    Sys f;
    f.kernel({});
    f.poke(kCode + 0x1000, {0x0f, 0x01, 0xf8});
    f.s().seg[cs] = segment_from_descriptor(kSelCode32, kCode32);
    f.s().rip() = kCode + 0x1000;
    f.core.refresh_mode();
    EXPECT_EQ(f.go(), kUD);  // in 32-bit code 0F 01 F8 is not SWAPGS
}

TEST(FsGsBase, NeedCr4FsgsbaseAndCanonicalValues) {
    Sys f;
    f.kernel({0xf3, 0x48, 0x0f, 0xae, 0xd0});  // wrfsbase rax
    f.set(rax, 0x1000);
    EXPECT_EQ(f.go(), kUD);
    Sys g;
    g.kernel({0xf3, 0x48, 0x0f, 0xae, 0xd0, 0xf3, 0x48, 0x0f, 0xae, 0xc3});  // wrfsbase rax; rdfsbase rbx
    g.s().cr4 |= cr4::fsgsbase;
    g.set(rax, 0xffff800000001000);
    EXPECT_EQ(g.go(), kNone);
    EXPECT_EQ(g.s().seg[fs].base, 0xffff800000001000u);
    EXPECT_EQ(g.reg(rbx), 0xffff800000001000u);
    Sys h;
    h.kernel({0xf3, 0x48, 0x0f, 0xae, 0xd8});  // wrgsbase rax
    h.s().cr4 |= cr4::fsgsbase;
    h.set(rax, 0x0000800000000000);
    EXPECT_EQ(h.go(), kGP);
}

TEST(FsGsBase, ThirtyTwoBitFormsZeroExtend) {
    Sys f;
    f.kernel({0xf3, 0x0f, 0xae, 0xd8, 0xf3, 0x0f, 0xae, 0xc9});  // wrgsbase eax; rdgsbase ecx
    f.s().cr4 |= cr4::fsgsbase;
    f.s().seg[gs].base = ~0ull;
    f.set(rax, 0xffffffff80001000).set(rcx, ~0ull);
    EXPECT_EQ(f.go(), kNone);
    EXPECT_EQ(f.s().seg[gs].base, 0x80001000u);
    EXPECT_EQ(f.reg(rcx), 0x80001000u);
}
