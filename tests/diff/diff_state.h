// The architectural state one differential case starts from and ends in, and the fixed
// addresses both executors (native and simulated) agree on. Context: user level, 64-bit mode.
#pragma once
#include <cstdint>

namespace diff {

// Address space of a case, identical natively and in the simulator (identity mapped there).
// The code region holds the snippet (one instruction) at kSnippetAddr, with room below it
// for backward branch targets; the data page is the only memory compared.
inline constexpr uint64_t kCodeBase = 0x1ff000;
inline constexpr uint64_t kCodeSize = 0x2000;
inline constexpr uint64_t kSnippetAddr = 0x200000;
inline constexpr uint64_t kDataAddr = 0x300000;
inline constexpr uint64_t kDataSize = 0x1000;
inline constexpr uint64_t kStackBase = 0x370000;
inline constexpr uint64_t kStackSize = 0x10000;
inline constexpr uint64_t kDefaultRsp = 0x37f000;  // rsp unless a form's rule moves it

// Branch targets a form may use, relative to kSnippetAddr. Natively each holds an exit stub.
inline constexpr int64_t kTargetOffsets[] = {0x40, 0x400, -0x40, -0x400};

// RFLAGS bits (Intel SDM Vol. 1 3.4.3 "EFLAGS Register").
namespace rflags {
inline constexpr uint64_t cf = 1u << 0, fixed1 = 1u << 1, pf = 1u << 2, af = 1u << 4,
                          zf = 1u << 6, sf = 1u << 7, tf = 1u << 8, if_ = 1u << 9,
                          df = 1u << 10, of = 1u << 11, rf = 1u << 16;
inline constexpr uint64_t arith = cf | pf | af | zf | sf | of;
// What a case starts with: IF=1 and bit 1 as in any user process, everything else clear
// except the bits the generator randomizes (arith and DF).
inline constexpr uint64_t base = fixed1 | if_;
inline constexpr uint64_t random_mask = arith | df;
// Compared at the end: every bit but RF, which the kernel may set in a fault frame.
inline constexpr uint64_t compare_mask = 0x3fffffu & ~rf;
}  // namespace rflags

inline constexpr uint32_t kMxcsrDefault = 0x1f80;

// x86 exception vectors as they appear in fault_vector (SDM Vol. 3A 6.15).
namespace vector {
inline constexpr int none = -1, de = 0, db = 1, bp = 3, ud = 6, nm = 7, ss = 12, gp = 13,
                     pf = 14, ac = 17;
}

enum Gpr : uint8_t { rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14,
                     r15 };

struct DiffState {
    uint64_t gpr[16];       // x86 encoding order: rax rcx rdx rbx rsp rbp rsi rdi r8..r15
    uint64_t rip_offset;    // where execution ended, relative to kSnippetAddr (two's complement)
    uint64_t rflags;
    alignas(16) uint8_t xmm[16][16];
    uint32_t mxcsr;
    uint8_t mem[kDataSize];  // the data page at kDataAddr
    int fault_vector;        // vector::none, or the exception the instruction raised
};

}  // namespace diff
