/* svm_intercepts: one test per instruction intercept hvsim can produce (AMD APM Vol. 2 15.9-15.14,
   exit codes Appendix C): the guest executes the instruction once with its intercept set; the
   exit must carry the exact EXITCODE, EXITINFO1 (decode assists, 15.33, when advertised),
   EXITINFO2 and NRIP - RIP (15.7.1, when advertised). Each guest instruction is a fixed
   encoding (its length is in the test). I/O, MSR and CR/DR/exception intercepts: svm_io_msr.c,
   svm_exceptions.c. */
#include "svm_expect.h"

static uint8_t scratch[64] __attribute__((aligned(16)));
/* A page-aligned rAX: QEMU TCG checks the alignment before the intercept (README.md). */
static uint8_t vmcb_page[4096] __attribute__((aligned(4096)));

#define GUEST(NAME, ASM, ...) \
    static void NAME##_guest(void) { __asm__ volatile(ASM __VA_ARGS__); }

/* HLT F4 */
GUEST(hlt, "hlt")
SVM_EXPECT_INIT(hlt, SVM_INTERCEPT_HLT, SVM_EXIT_HLT, 0, 0, 1, true)
/* INVD 0F 08 */
GUEST(invd, "invd")
SVM_EXPECT_INIT(invd_expect_only, SVM_INTERCEPT_INVD, SVM_EXIT_INVD, 0, 0, 2, true)
static enum virt_action invd_init(struct vcpu *v) {
    SVM_TCG_DEVIATION(v, "INVD is never intercepted");
    return invd_expect_only_init(v);
}
/* WBINVD 0F 09 */
GUEST(wbinvd, "wbinvd")
SVM_EXPECT_INIT(wbinvd, SVM_INTERCEPT_WBINVD, SVM_EXIT_WBINVD, 0, 0, 2, true)
/* RDTSC 0F 31 */
GUEST(rdtsc, "rdtsc", : : : "rax", "rdx")
SVM_EXPECT_INIT(rdtsc, SVM_INTERCEPT_RDTSC, SVM_EXIT_RDTSC, 0, 0, 2, true)
/* PUSHF 9C (the stack pointer is restored whether it ran or not) */
GUEST(pushf, "mov %%rsp, %%rbx\n\tpushfq\n\tmov %%rbx, %%rsp", : : : "rbx", "memory")
SVM_EXPECT_INIT(pushf, SVM_INTERCEPT_PUSHF, SVM_EXIT_PUSHF, 0, 0, 1, true)
/* POPF 9D */
GUEST(popf, "mov %%rsp, %%rbx\n\tpushfq\n\tpopfq\n\tmov %%rbx, %%rsp", : : : "rbx", "memory", "cc")
SVM_EXPECT_INIT(popf, SVM_INTERCEPT_POPF, SVM_EXIT_POPF, 0, 0, 1, true)
/* IRETQ 48 CF (a frame is pushed; the stack pointer is restored whether it ran or not) */
GUEST(iret, "mov %%rsp, %%rbx\n\tmov %%ss, %%eax\n\tpush %%rax\n\tpush %%rbx\n\tpushfq\n\tmov %%cs, %%eax\n\t"
            "push %%rax\n\tlea 1f(%%rip), %%rax\n\tpush %%rax\n\tiretq\n1:\tmov %%rbx, %%rsp", : : : "rax", "rbx", "memory")
SVM_EXPECT_INIT(iret, SVM_INTERCEPT_IRET, SVM_EXIT_IRET, 0, 0, 2, true)
/* INT 1Fh CD 1F: EXITINFO1 = the vector with decode assists */
GUEST(intn, "int $0x1f")
SVM_EXPECT_INIT_DA(intn, 0x1f, SVM_INTERCEPT_INTN, SVM_EXIT_SWINT, 0, 0, 2, true)
/* ICEBP F1 */
GUEST(icebp, ".byte 0xf1")
SVM_EXPECT_INIT(icebp_expect_only, SVM_INTERCEPT_ICEBP, SVM_EXIT_ICEBP, 0, 0, 1, true)
static enum virt_action icebp_init(struct vcpu *v) {
    SVM_TCG_DEVIATION(v, "ICEBP (F1) raises #UD in 64-bit mode");
    return icebp_expect_only_init(v);
}
/* PAUSE F3 90 (pause filter count 0 in the default VMCB: every PAUSE exits) */
GUEST(pause, "pause")
SVM_EXPECT_INIT(pause, SVM_INTERCEPT_PAUSE, SVM_EXIT_PAUSE, 0, 0, 2, true)
/* INVLPG (%rax) 0F 01 38: EXITINFO1 = the linear address with decode assists */
GUEST(invlpg, "invlpg (%0)", : : "a"(scratch) : "memory")
SVM_EXPECT_INIT_DA(invlpg, (uint64_t)scratch, SVM_INTERCEPT_INVLPG, SVM_EXIT_INVLPG, 0, 0, 3, true)
/* INVLPGA 0F 01 DF */
GUEST(invlpga, "invlpga", : : "a"(scratch), "c"(1) : "memory")
SVM_EXPECT_INIT(invlpga, SVM_INTERCEPT_INVLPGA, SVM_EXIT_INVLPGA, 0, 0, 3, true)
/* VMLOAD / VMSAVE / STGI / CLGI 0F 01 DA / DB / DC / DD; VMRUN 0F 01 D8 (always intercepted) */
GUEST(vmload, "vmload", : : "a"(vmcb_page) : "memory")
SVM_EXPECT_INIT(vmload, SVM_INTERCEPT_VMLOAD, SVM_EXIT_VMLOAD, 0, 0, 3, true)
GUEST(vmsave, "vmsave", : : "a"(vmcb_page) : "memory")
SVM_EXPECT_INIT(vmsave, SVM_INTERCEPT_VMSAVE, SVM_EXIT_VMSAVE, 0, 0, 3, true)
GUEST(stgi, "stgi")
SVM_EXPECT_INIT(stgi, SVM_INTERCEPT_STGI, SVM_EXIT_STGI, 0, 0, 3, true)
GUEST(clgi, "clgi")
SVM_EXPECT_INIT(clgi, SVM_INTERCEPT_CLGI, SVM_EXIT_CLGI, 0, 0, 3, true)
GUEST(vmrun, "vmrun", : : "a"(vmcb_page) : "memory")
SVM_EXPECT_INIT(vmrun, SVM_INTERCEPT_VMRUN, SVM_EXIT_VMRUN, 0, 0, 3, true)
/* Descriptor-table registers: SIDT/SGDT (%rax) 0F 01 08/00, SLDT/STR (%rax) 0F 00 00/08,
   LIDT/LGDT (%rax) 0F 01 18/10, LLDT/LTR (%rax) 0F 00 10/18. */
GUEST(sidt, "sidt (%0)", : : "a"(scratch) : "memory")
SVM_EXPECT_INIT(sidt, SVM_INTERCEPT_IDTR_READ, SVM_EXIT_IDTR_READ, 0, 0, 3, true)
GUEST(sgdt, "sgdt (%0)", : : "a"(scratch) : "memory")
SVM_EXPECT_INIT(sgdt, SVM_INTERCEPT_GDTR_READ, SVM_EXIT_GDTR_READ, 0, 0, 3, true)
GUEST(sldt, "sldt (%0)", : : "a"(scratch) : "memory")
SVM_EXPECT_INIT(sldt, SVM_INTERCEPT_LDTR_READ, SVM_EXIT_LDTR_READ, 0, 0, 3, true)
GUEST(str, "str (%0)", : : "a"(scratch) : "memory")
SVM_EXPECT_INIT(str, SVM_INTERCEPT_TR_READ, SVM_EXIT_TR_READ, 0, 0, 3, true)
GUEST(lidt, "lidt (%0)", : : "a"(scratch) : "memory")
SVM_EXPECT_INIT(lidt, SVM_INTERCEPT_IDTR_WRITE, SVM_EXIT_IDTR_WRITE, 0, 0, 3, true)
GUEST(lgdt, "lgdt (%0)", : : "a"(scratch) : "memory")
SVM_EXPECT_INIT(lgdt, SVM_INTERCEPT_GDTR_WRITE, SVM_EXIT_GDTR_WRITE, 0, 0, 3, true)
GUEST(lldt, "lldt (%0)", : : "a"(scratch) : "memory")
SVM_EXPECT_INIT(lldt, SVM_INTERCEPT_LDTR_WRITE, SVM_EXIT_LDTR_WRITE, 0, 0, 3, true)
GUEST(ltr, "ltr (%0)", : : "a"(scratch) : "memory")
SVM_EXPECT_INIT(ltr, SVM_INTERCEPT_TR_WRITE, SVM_EXIT_TR_WRITE, 0, 0, 3, true)

/* RDPMC 0F 33 (counter 0, at CPL 0) */
GUEST(rdpmc, "rdpmc", : : "c"(0) : "rax", "rdx")
SVM_EXPECT_INIT(rdpmc, SVM_INTERCEPT_RDPMC, SVM_EXIT_RDPMC, 0, 0, 2, true)

/* RDTSCP 0F 01 F9, where CPUID 8000_0001h:EDX[27] reports it. */
GUEST(rdtscp, "rdtscp", : : : "rax", "rcx", "rdx")
SVM_EXPECT_INIT(rdtscp_expect_only, SVM_INTERCEPT_RDTSCP, SVM_EXIT_RDTSCP, 0, 0, 3, true)
static enum virt_action rdtscp_init(struct vcpu *v) {
    uint32_t r[4];
    cpuid2(0x80000001, 0, r);
    if (!(r[3] & (1u << 27))) return svm_not_applicable(v, "RDTSCP is not reported by CPUID");
    return rdtscp_expect_only_init(v);
}

/* TSC offset (15.30.5): a guest RDTSC without the intercept reads TSC + TSC_OFFSET. */
static uint64_t tsc_seen, tsc_msr_seen;
static void tsc_offset_guest(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    tsc_seen = ((uint64_t)hi << 32) | lo;
    tsc_msr_seen = rdmsr(0x10);  /* IA32_TIME_STAMP_COUNTER */
}
#define TSC_OFFSET (1ull << 50)
static enum virt_action tsc_offset_init(struct vcpu *v) {
    *vmcb_u64(v->vmcb, VMCB_TSC_OFFSET) = TSC_OFFSET;
    return VIRT_RESUME;
}
static enum virt_action tsc_offset_check(struct vcpu *v) {
    VIRT_EXPECT(v, tsc_seen >= TSC_OFFSET && tsc_seen < TSC_OFFSET + (1ull << 44), "guest TSC %#lx without the offset %#llx",
                tsc_seen, TSC_OFFSET);
    if (tsc_msr_seen == 0 && svm_under_tcg()) {
        printf("note: QEMU TCG deviation: a guest RDMSR of IA32_TIME_STAMP_COUNTER reads 0\n");
        return VIRT_PASS;
    }
    VIRT_EXPECT(v, tsc_msr_seen >= tsc_seen && tsc_msr_seen < TSC_OFFSET + (1ull << 44),
                "guest RDMSR(TSC) %#lx without the offset %#llx", tsc_msr_seen, TSC_OFFSET);
    return VIRT_PASS;
}

/* Pause filter (15.14.4): with PAUSE_FILTER_COUNT 3 the third of three back-to-back PAUSEs
   exits (threshold 0: off). */
extern char third_pause[];
static void pause_filter_guest(void) {
    __asm__ volatile("pause\n\tpause\n\t.globl third_pause\nthird_pause:\n\tpause");
}
static enum virt_action pause_filter_init(struct vcpu *v) {
    if (!svm_has_feature(10)) return svm_not_applicable(v, "PauseFilter is not advertised");
    *vmcb_u16(v->vmcb, VMCB_PAUSE_FILTER_COUNT) = 3;
    return pause_init(v);
}
static enum virt_action pause_filter_handler(struct vcpu *v, const struct virt_exit *e) {
    VIRT_EXPECT(v, e->guest_rip == (uint64_t)third_pause, "PAUSE exit at %#lx, expected the third PAUSE at %p",
                e->guest_rip, (void *)third_pause);
    return svm_expect_handler(v, e);
}

/* Pause filter threshold (15.14.4): PAUSEs further apart than the threshold (in cycles) reload
   the count, so five widely spaced PAUSEs with count 3 never exit. */
static void spaced_pauses_guest(void) {
    for (int k = 0; k < 5; ++k)
        __asm__ volatile("pause\n\tmov $2000, %%ecx\n1:\tdec %%ecx\n\tjnz 1b" : : : "rcx", "cc");
}
static enum virt_action pause_threshold_init(struct vcpu *v) {
    if (!svm_has_feature(12)) return svm_not_applicable(v, "PauseFilterThreshold is not advertised");
    *vmcb_u16(v->vmcb, VMCB_PAUSE_FILTER_COUNT) = 3;
    *vmcb_u16(v->vmcb, VMCB_PAUSE_FILTER_THRESHOLD) = 100;
    svm_intercept_set(v->vmcb, SVM_INTERCEPT_PAUSE);
    return VIRT_RESUME;
}
static enum virt_action no_exit(struct vcpu *v, const struct virt_exit *e) {
    return virt_fail(v, "unexpected exit %s at rip %#lx", virt_exit_name(v, e), e->guest_rip);
}

static const struct virt_test tests[] = {
    SVM_EXPECT_TEST(hlt), SVM_EXPECT_TEST(invd), SVM_EXPECT_TEST(wbinvd), SVM_EXPECT_TEST(rdtsc), SVM_EXPECT_TEST(rdpmc),
    SVM_EXPECT_TEST(rdtscp), SVM_EXPECT_TEST(pushf), SVM_EXPECT_TEST(popf), SVM_EXPECT_TEST(iret), SVM_EXPECT_TEST(intn),
    SVM_EXPECT_TEST(icebp), SVM_EXPECT_TEST(pause), SVM_EXPECT_TEST(invlpg), SVM_EXPECT_TEST(invlpga),
    SVM_EXPECT_TEST(vmload), SVM_EXPECT_TEST(vmsave), SVM_EXPECT_TEST(stgi), SVM_EXPECT_TEST(clgi),
    SVM_EXPECT_TEST(vmrun), SVM_EXPECT_TEST(sidt), SVM_EXPECT_TEST(sgdt), SVM_EXPECT_TEST(sldt),
    SVM_EXPECT_TEST(str), SVM_EXPECT_TEST(lidt), SVM_EXPECT_TEST(lgdt), SVM_EXPECT_TEST(lldt),
    SVM_EXPECT_TEST(ltr),
    {"pause_filter_count", VIRT_SVM, pause_filter_init, pause_filter_guest, pause_filter_handler, svm_expect_one_exit},
    {"pause_filter_threshold", VIRT_SVM, pause_threshold_init, spaced_pauses_guest, no_exit, NULL},
    {"tsc_offset", VIRT_SVM, tsc_offset_init, tsc_offset_guest, NULL, tsc_offset_check},
};

int main(void) {
    printf("svm_intercepts: %u tests\n", (unsigned)ARRAY_SIZE(tests));
    return virt_run_tests(tests, ARRAY_SIZE(tests));
}
