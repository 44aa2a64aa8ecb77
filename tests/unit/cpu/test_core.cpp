// The run loop, decode cache, exceptions and the debug-exit stop, on a flat bus.
#include <gtest/gtest.h>

#include "tests/support/core_fixture.h"

using namespace cpu;
using test::CoreFixture;

TEST(Core, RealModeArithmeticReachesTheDebugExitPort) {
    CoreFixture f;
    // mov ax,5; add ax,3; out 0xf4,al
    f.real_mode({0xb8, 0x05, 0x00, 0x05, 0x03, 0x00, 0xe6, 0xf4});
    EXPECT_EQ(f.run(), 3u);
    EXPECT_EQ(f.control.reason, sim::StopReason::exit);
    EXPECT_EQ(f.control.exit_status, (8 << 1) | 1);
}

TEST(Core, LongModeLoopRetiresTheExpectedInstructionCount) {
    CoreFixture f;
    // mov ecx,10; xor eax,eax; L: add rax,rcx; sub ecx,1; jnz L; out 0xf4,al
    f.long_mode({0xb9, 0x0a, 0, 0, 0, 0x31, 0xc0, 0x48, 0x01, 0xc8, 0x83, 0xe9, 0x01, 0x75, 0xf8, 0xe6, 0xf4});
    const uint64_t n = f.run();
    EXPECT_EQ(n, 2u + 10 * 3 + 1);
    EXPECT_EQ(f.reg(rax), 55u);
    EXPECT_EQ(f.control.exit_value, 55u);
}

TEST(Core, SelfModifyingCodeSeesItsNewBytes) {
    CoreFixture f;
    // L: mov byte [rip+patch], 0x07 (patches the immediate below); patch: mov al, 0x01; out 0xf4,al
    // c6 05 <rel32> 07 ; b0 01 ; e6 f4
    std::vector<uint8_t> code = {0xc6, 0x05, 0x01, 0, 0, 0, 0x07, 0xb0, 0x01, 0xe6, 0xf4};
    f.long_mode(code);
    f.run();
    EXPECT_EQ(f.control.exit_value, 7u);
}

TEST(Core, AnUnimplementedInstructionRaisesUdAndIsNamed) {
    CoreFixture f;
    // cpuid is not registered in this test build only if missing; use an obscure one: aesenc
    f.long_mode({0x66, 0x0f, 0x38, 0xdc, 0xc1});
    f.run(10);
    EXPECT_EQ(f.core.last_unimplemented(), "aesenc");
    // No IDT: #UD -> #GP (IDT limit) -> #DF -> triple fault -> shutdown.
    EXPECT_EQ(f.control.reason, sim::StopReason::shutdown);
    EXPECT_TRUE(f.core.in_shutdown());
}

TEST(Core, RealModeInterruptGoesThroughTheIvt) {
    CoreFixture f;
    // IVT[0x21] = 0000:0x7d00; at 0x7c00: int 0x21; out 0xf4,al ; at 0x7d00: mov al,0x2a; iret
    f.bus.load(0x21 * 4, {0x00, 0x7d, 0x00, 0x00});
    f.bus.load(0x7d00, {0xb0, 0x2a, 0xcf});
    f.real_mode({0xcd, 0x21, 0xe6, 0xf4});
    f.run();
    EXPECT_EQ(f.control.exit_value, 0x2au);
}
