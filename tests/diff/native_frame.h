/* Layout of the native frame page: where the trampoline (native_trampoline.S) finds a case's
   input and leaves its output. Shared by assembly and C++. Context: host, native runner. */
#pragma once

/* A private page at a fixed address below 2 GiB, so the trampoline and the exit stubs reach
   every slot with an absolute 32-bit displacement and no free register. */
#define HVSIM_DIFF_FRAME 0x360000
#define HVSIM_DIFF_FRAME_SIZE 0x1000

#define HVSIM_DIFF_F_GPR 0x000        /* uint64_t[16] */
#define HVSIM_DIFF_F_RFLAGS 0x080     /* uint64_t */
#define HVSIM_DIFF_F_RIP_OFFSET 0x088 /* uint64_t: which exit stub ran */
#define HVSIM_DIFF_F_ENTRY 0x090      /* uint64_t: snippet address */
#define HVSIM_DIFF_F_EXIT 0x098       /* uint64_t: address of diff_native_exit */
#define HVSIM_DIFF_F_HOST_RSP 0x0a0   /* uint64_t */
#define HVSIM_DIFF_F_HOST_MXCSR 0x0a8 /* uint32_t */
#define HVSIM_DIFF_F_MXCSR 0x0ac      /* uint32_t */
#define HVSIM_DIFF_F_FAULT 0x0b0      /* int64_t: -1 or the vector */
#define HVSIM_DIFF_F_XMM 0x0c0        /* uint8_t[16][16], 16-byte aligned */
/* The trampoline's own tiny stack (for PUSHFQ/POPFQ) grows down from the end of the page. */
#define HVSIM_DIFF_F_STACK_TOP HVSIM_DIFF_FRAME_SIZE

#ifndef __ASSEMBLER__
#include <cstddef>
#include <cstdint>

namespace diff {

struct NativeFrame {
    uint64_t gpr[16];
    uint64_t rflags;
    uint64_t rip_offset;
    uint64_t entry;
    uint64_t exit;
    uint64_t host_rsp;
    uint32_t host_mxcsr;
    uint32_t mxcsr;
    int64_t fault;
    alignas(16) uint8_t xmm[16][16];
};

static_assert(offsetof(NativeFrame, gpr) == HVSIM_DIFF_F_GPR);
static_assert(offsetof(NativeFrame, rflags) == HVSIM_DIFF_F_RFLAGS);
static_assert(offsetof(NativeFrame, rip_offset) == HVSIM_DIFF_F_RIP_OFFSET);
static_assert(offsetof(NativeFrame, entry) == HVSIM_DIFF_F_ENTRY);
static_assert(offsetof(NativeFrame, exit) == HVSIM_DIFF_F_EXIT);
static_assert(offsetof(NativeFrame, host_rsp) == HVSIM_DIFF_F_HOST_RSP);
static_assert(offsetof(NativeFrame, host_mxcsr) == HVSIM_DIFF_F_HOST_MXCSR);
static_assert(offsetof(NativeFrame, mxcsr) == HVSIM_DIFF_F_MXCSR);
static_assert(offsetof(NativeFrame, fault) == HVSIM_DIFF_F_FAULT);
static_assert(offsetof(NativeFrame, xmm) == HVSIM_DIFF_F_XMM);
static_assert(sizeof(NativeFrame) + 256 <= HVSIM_DIFF_FRAME_SIZE);

extern "C" {
void diff_native_enter();   // run the case described by the frame
void diff_native_exit();    // target of the exit stubs (never called from C++)
void diff_native_resume();  // where the fault handler sends a faulted case
}

}  // namespace diff
#endif
