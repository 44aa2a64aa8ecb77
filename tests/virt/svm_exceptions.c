/* svm_exceptions: exception intercepts (AMD APM Vol. 2 15.12): EXITCODE 40h + vector,
   EXITINFO1 = the error code (0 without one), EXITINFO2 = the faulting address for #PF (CR2 is
   not written); EXITINTINFO when the exception arose while delivering another event (15.7.2);
   a triple fault is the SHUTDOWN intercept. */
#include "svm_expect.h"

#define UNMAPPED 0x40000000ull  /* the library maps the first GiB only */

#define GUEST(NAME, ASM, ...) \
    static void NAME##_guest(void) { __asm__ volatile(ASM __VA_ARGS__); }

GUEST(ud, "ud2")                                                 /* 0F 0B */
SVM_EXPECT_INIT(ud, SVM_INTERCEPT_EXCEPTION6, SVM_EXIT_EXCP6, 0, 0, 2, false)
/* INT3 is a #BP exception intercept, RIP at the INT3, NRIP after it (15.7.1, 15.12) */
GUEST(bp, "int3")                                                /* CC */
SVM_EXPECT_INIT(bp_expect_only, SVM_INTERCEPT_EXCEPTION3, SVM_EXIT_EXCP3, 0, 0, 1, true)
static enum virt_action bp_init(struct vcpu *v) {
    SVM_TCG_DEVIATION(v, "INT3 goes to the INTn intercept, not the #BP exception intercept");
    return bp_expect_only_init(v);
}
GUEST(de, "xor %%ecx, %%ecx\n\tdiv %%ecx", : : "a"(1), "d"(0) : "rcx")  /* F7 F1 */
SVM_EXPECT_INIT(de, SVM_INTERCEPT_EXCEPTION0, SVM_EXIT_EXCP0, 0, 0, 2, false)
/* #GP(0): a read at a non-canonical address (48 8B 18). (A reserved CR4 bit would do on
   hardware; QEMU TCG turns that into VMEXIT_INVALID, README.md.) */
GUEST(gp, "mov (%0), %%rbx", : : "a"(0x8000000000000000ull) : "rbx")
SVM_EXPECT_INIT(gp, SVM_INTERCEPT_EXCEPTION13, SVM_EXIT_EXCP13, 0, 0, 3, false)
/* #PF: a read (48 8B 18) and a write (48 89 18) of a not-present page */
GUEST(pf_read, "mov (%0), %%rbx", : : "a"(UNMAPPED) : "rbx")
SVM_EXPECT_INIT(pf_read, SVM_INTERCEPT_EXCEPTION14, SVM_EXIT_EXCP14, 0, UNMAPPED, 3, false)
GUEST(pf_write, "mov %%rbx, (%0)", : : "a"(UNMAPPED + 8), "b"(0) : "memory")
SVM_EXPECT_INIT(pf_write, SVM_INTERCEPT_EXCEPTION14, SVM_EXIT_EXCP14, 2, UNMAPPED + 8, 3, false)
/* #DB from ICEBP (F1) when ICEBP itself is not intercepted: like INT3, RIP at the
   instruction and NRIP after it (hvsim's reading of 15.7.1; the APM is silent on INT1). */
GUEST(db_icebp, ".byte 0xf1")
SVM_EXPECT_INIT(db_icebp_expect_only, SVM_INTERCEPT_EXCEPTION1, SVM_EXIT_EXCP1, 0, 0, 1, true)
static enum virt_action db_icebp_init(struct vcpu *v) {
    SVM_TCG_DEVIATION(v, "ICEBP (F1) raises #UD in 64-bit mode");
    return db_icebp_expect_only_init(v);
}

/* #GP while delivering #UD through an IDT too short for vector 6: EXITINFO1 = the IDT error
   code (vector 6, IDT bit, EXT), EXITINTINFO = the #UD (valid, type 3 exception). */
static void nested_guest(void) { __asm__ volatile("ud2"); }
static enum virt_action nested_init(struct vcpu *v) {
    svm_intercept_set(v->vmcb, SVM_INTERCEPT_EXCEPTION13);
    *vmcb_u32(v->vmcb, VMCB_IDTR_LIMIT) = 6 * 16 - 1;
    return VIRT_RESUME;
}
static enum virt_action nested_handler(struct vcpu *v, const struct virt_exit *e) {
    const uint64_t intinfo = *vmcb_u64(v->vmcb, VMCB_EXITINTINFO);
    VIRT_EXPECT(v, e->reason == SVM_EXIT_EXCP13, "EXITCODE %#lx (%s)", e->reason, svm_exit_name((long long)e->reason));
    if (svm_under_tcg() && e->qualification == 6 * 16 + 2)
        printf("note: QEMU TCG deviation: #GP error code %#lx for IDT gate 6\n", e->qualification);
    else
        VIRT_EXPECT(v, e->qualification == ((6 << 3) | 2 | 1), "EXITINFO1 %#lx, expected %#x", e->qualification,
                    (6 << 3) | 3);
    VIRT_EXPECT(v, intinfo == (0x80000000ull | (3 << 8) | 6), "EXITINTINFO %#lx, expected %#x", intinfo,
                0x80000000u | (3 << 8) | 6);
    return VIRT_PASS;
}
static enum virt_action never_finishes(struct vcpu *v) { return virt_fail(v, "the guest finished"); }

/* Triple fault: #UD with an empty IDT escalates to shutdown (15.12, SHUTDOWN intercept). */
static void shutdown_guest(void) { __asm__ volatile("ud2"); }
static enum virt_action shutdown_init(struct vcpu *v) {
    svm_intercept_set(v->vmcb, SVM_INTERCEPT_SHUTDOWN);
    *vmcb_u32(v->vmcb, VMCB_IDTR_LIMIT) = 0;
    return VIRT_RESUME;
}
static enum virt_action shutdown_handler(struct vcpu *v, const struct virt_exit *e) {
    VIRT_EXPECT(v, e->reason == SVM_EXIT_SHUTDOWN, "EXITCODE %#lx (%s), expected SHUTDOWN", e->reason,
                svm_exit_name((long long)e->reason));
    return VIRT_PASS;
}

/* #PF intercept with decode assists (15.33.4): the 15 bytes at the guest RIP. */
static enum virt_action pf_bytes_handler(struct vcpu *v, const struct virt_exit *e) {
    if (v->stage == 0 && svm_has_feature(SVM_FEATURE_DECODE_ASSISTS)) {
        const unsigned n = *vmcb_u8(v->vmcb, VMCB_GUEST_INSTRUCTION_BYTES_FETCHED);
        const uint8_t *bytes = vmcb_u8(v->vmcb, VMCB_GUEST_INSTRUCTION_BYTES), *code = (const uint8_t *)e->guest_rip;
        VIRT_EXPECT(v, n == 15, "%u instruction bytes fetched, expected 15", n);
        for (unsigned k = 0; k < n; ++k)
            VIRT_EXPECT(v, bytes[k] == code[k], "instruction byte %u is %#x, the code has %#x", k, bytes[k], code[k]);
    }
    return svm_expect_handler(v, e);
}

static const struct virt_test tests[] = {
    SVM_EXPECT_TEST(ud), SVM_EXPECT_TEST(bp), SVM_EXPECT_TEST(de), SVM_EXPECT_TEST(gp),
    {"pf_read", VIRT_SVM, pf_read_init, pf_read_guest, pf_bytes_handler, svm_expect_one_exit},
    SVM_EXPECT_TEST(pf_write), SVM_EXPECT_TEST(db_icebp),
    {"exception_during_delivery_exitintinfo", VIRT_SVM, nested_init, nested_guest, nested_handler, never_finishes},
    {"triple_fault_shutdown", VIRT_SVM, shutdown_init, shutdown_guest, shutdown_handler, never_finishes},
};

int main(void) {
    printf("svm_exceptions: %u tests\n", (unsigned)ARRAY_SIZE(tests));
    return virt_run_tests(tests, ARRAY_SIZE(tests));
}
