/* Calling the hypervisor from a partition (TLFS "Hypercall Interface"): enabling the
   hypercall page through the synthetic MSRs, then calls through the page with the x64
   register convention (RCX input value, RDX input GPA or fast qword 0, R8 output GPA or fast
   qword 1; RAX result; RCX, RDX, R8-R11 clobbered like the Linux hv_do_hypercall).
   Context: partition kernels (hv/root, hv/child), ring 0, 64-bit; identity-mapped, so a
   pointer is its GPA. */
#pragma once
#include <stdint.h>

#include "../abi/hypercall_input.h"
#include "hv_hypercalls.h"
#include "hv_msrs.h"
#include "hv_status.h"

#define HV_GUEST_OS_ID_HVSIM 0x8000000000000000ull /* open source (bit 63), OS type 0 */

static inline void hv_guest_wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint64_t hv_guest_rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

extern uint8_t hv_hypercall_page[4096];

/* Guest OS id first, then the page (TLFS: the page cannot be enabled without an OS id). */
static inline void hv_guest_enable_hypercalls(void) {
    hv_guest_wrmsr(HV_MSR_GUEST_OS_ID, HV_GUEST_OS_ID_HVSIM);
    hv_guest_wrmsr(HV_MSR_HYPERCALL, (uint64_t)hv_hypercall_page | 1);
}

static inline uint64_t hv_guest_call(uint64_t input, uint64_t rdx, uint64_t r8) {
    uint64_t rax;
    register uint64_t r8_ __asm__("r8") = r8;
    __asm__ volatile("call *%[page]"
                     : "=a"(rax), "+c"(input), "+d"(rdx), "+r"(r8_)
                     : [page] "r"(hv_hypercall_page)
                     : "r9", "r10", "r11", "memory", "cc");
    return rax;
}

static inline uint16_t hv_guest_fast(uint16_t code, uint64_t a, uint64_t b) {
    return hv_hypercall_result_status(hv_guest_call(hv_hypercall_input_encode(code, 1, 0, 0, 0), a, b));
}
static inline uint16_t hv_guest_memory(uint16_t code, const void *in, void *out) {
    return hv_hypercall_result_status(hv_guest_call(code, (uint64_t)in, (uint64_t)out));
}
static inline uint16_t hv_guest_rep(uint16_t code, unsigned reps, const void *in, void *out) {
    return hv_hypercall_result_status(
        hv_guest_call(hv_hypercall_input_encode(code, 0, 0, reps, 0), (uint64_t)in, (uint64_t)out));
}
