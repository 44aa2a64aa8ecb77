/* Shared by the svm_* test programs: a test that expects exactly one #VMEXIT with a given
   EXITCODE, EXITINFO1, EXITINFO2 and instruction length (checked against NRIP when NRIP save
   is advertised), skips the instruction and lets the guest finish. Context: the test
   hypervisor (ring 0, 64-bit). */
#pragma once
#include "lib/svm.h"
#include "lib/x86.h"

#define EXPECT_ANY ~0ull                   /* do not check this EXITINFO */
#define EXPECT_NEXT_RIP (~0ull - 1)        /* EXITINFO2 = the guest RIP after the instruction */

struct svm_expect {
    unsigned intercept;   /* SVM_INTERCEPT_* set by init (~0u: none) */
    uint64_t code;        /* SVM_EXIT_* */
    uint64_t info1, info2;
    unsigned length;      /* bytes to skip (the instruction's length); 0: resume at RIP */
    bool nrip;            /* NRIP is defined for this exit (instruction intercepts) */
};

static inline bool svm_has_feature(unsigned edx_bit) {
    uint32_t r[4];
    cpuid2(0x8000000a, 0, r);
    return (r[3] >> edx_bit) & 1;
}
#define SVM_FEATURE_NP 0
#define SVM_FEATURE_DECODE_ASSISTS 7
#define SVM_FEATURE_FLUSH_BY_ASID 6

/* QEMU TCG is running us (CPUID 4000_0000h): its known deviations from the APM
   (tests/virt/README.md) are accepted only then, each with a note. */
static inline bool svm_under_tcg(void) {
    char sig[13];
    hypervisor_signature(sig);
    return sig[0] == 'T' && sig[1] == 'C' && sig[2] == 'G';
}

/* QEMU TCG's #VMEXIT stores a 32-bit EXITCODE (svm_basic.c, tests/virt/README.md). */
static inline bool svm_exitcode_is(uint64_t got, uint64_t want) {
    if (got == want) return true;
    return want == (uint64_t)SVM_EXIT_INVALID && got == 0xffffffffull && svm_under_tcg();
}

static inline enum virt_action svm_expect_exit(struct vcpu *v, const struct virt_exit *e, const struct svm_expect *x) {
    VIRT_EXPECT(v, v->stage == 0, "a second exit %s at rip %#lx", virt_exit_name(v, e), e->guest_rip);
    VIRT_EXPECT(v, svm_exitcode_is(e->reason, x->code), "EXITCODE %#lx (%s) at rip %#lx, expected %#lx (%s)",
                e->reason, svm_exit_name((long long)e->reason), e->guest_rip, x->code, svm_exit_name((long long)x->code));
    const uint64_t info2 = x->info2 == EXPECT_NEXT_RIP ? e->guest_rip + x->length : x->info2;
    VIRT_EXPECT(v, x->info1 == EXPECT_ANY || e->qualification == x->info1, "EXITINFO1 %#lx, expected %#lx",
                e->qualification, x->info1);
    VIRT_EXPECT(v, x->info2 == EXPECT_ANY || e->info2 == info2, "EXITINFO2 %#lx, expected %#lx", e->info2, info2);
    /* Decode assists store instruction bytes on #NPF and #PF only; other exits report none (the
       init poisoned the count). */
    if (svm_has_feature(SVM_FEATURE_DECODE_ASSISTS) && x->code != SVM_EXIT_NPF && x->code != SVM_EXIT_EXCP14)
        VIRT_EXPECT(v, *vmcb_u8(v->vmcb, VMCB_GUEST_INSTRUCTION_BYTES_FETCHED) == 0,
                    "%u instruction bytes reported for %s", *vmcb_u8(v->vmcb, VMCB_GUEST_INSTRUCTION_BYTES_FETCHED),
                    svm_exit_name((long long)e->reason));
    if (x->nrip && svm_has_nrip_save())
        VIRT_EXPECT(v, e->instruction_length == x->length, "NRIP - RIP = %u, expected %u", e->instruction_length,
                    x->length);
    virt_set_guest_rip(v, e->guest_rip + x->length);
    ++v->stage;
    return VIRT_RESUME;
}

static inline enum virt_action svm_expect_handler(struct vcpu *v, const struct virt_exit *e) {
    return svm_expect_exit(v, e, (const struct svm_expect *)v->data);
}

static inline enum virt_action svm_expect_one_exit(struct vcpu *v) {
    VIRT_EXPECT(v, v->stage == 1, "the guest finished after %u exits, expected 1", v->stage);
    return VIRT_PASS;
}

/* One test: NAME_init sets the intercept and points v->data at the expectation. */
#define SVM_EXPECT_INIT(NAME, ...)                                          \
    static const struct svm_expect NAME##_expect = {__VA_ARGS__};           \
    static enum virt_action NAME##_init(struct vcpu *v) {                   \
        v->data = (void *)&NAME##_expect;                                   \
        *vmcb_u8(v->vmcb, VMCB_GUEST_INSTRUCTION_BYTES_FETCHED) = 0xff;     \
        if (NAME##_expect.intercept != ~0u) svm_intercept_set(v->vmcb, NAME##_expect.intercept); \
        return VIRT_RESUME;                                                 \
    }
#define SVM_EXPECT_TEST(NAME) \
    {#NAME, VIRT_SVM, NAME##_init, NAME##_guest, svm_expect_handler, svm_expect_one_exit}

/* The same, where EXITINFO1 differs with decode assists (15.33): `assisted` replaces info1. */
#define SVM_EXPECT_INIT_DA(NAME, assisted, ...)                             \
    static const struct svm_expect NAME##_expect = {__VA_ARGS__};           \
    static struct svm_expect NAME##_actual;                                 \
    static enum virt_action NAME##_init(struct vcpu *v) {                   \
        NAME##_actual = NAME##_expect;                                      \
        if (svm_has_feature(SVM_FEATURE_DECODE_ASSISTS)) NAME##_actual.info1 = (assisted); \
        v->data = &NAME##_actual;                                           \
        *vmcb_u8(v->vmcb, VMCB_GUEST_INSTRUCTION_BYTES_FETCHED) = 0xff;     \
        if (NAME##_expect.intercept != ~0u) svm_intercept_set(v->vmcb, NAME##_expect.intercept); \
        return VIRT_RESUME;                                                 \
    }

/* A known QEMU TCG deviation that makes the test meaningless there (README.md). */
#define SVM_TCG_DEVIATION(v, why)                                   \
    do {                                                            \
        if (svm_under_tcg()) return svm_not_applicable((v), "QEMU TCG deviation: " why); \
    } while (0)

/* A feature this processor does not report: the test has nothing to check (a note, then PASS,
   so that the program's status stays comparable between processors). */
static inline enum virt_action svm_not_applicable(struct vcpu *v, const char *why) {
    printf("note: %s: %s\n", v->test->name, why);
    return VIRT_PASS;
}

/* Guests in other modes (svm_modes, svm_exception_vectors): a VMCB segment register with its
   hidden parts (attributes in the VMCB's packed form, APM 15.5.1). */
static inline void set_segment(void *vmcb, unsigned selector_field, uint16_t selector, uint16_t attrib, uint32_t limit,
                        uint64_t base) {
    *vmcb_u16(vmcb, selector_field) = selector;
    *vmcb_u16(vmcb, selector_field + 2) = attrib;
    *vmcb_u32(vmcb, selector_field + 4) = limit;
    *vmcb_u64(vmcb, selector_field + 8) = base;
}

/* Paging off, long mode off: what both guests share. Code goes to a fresh page at `base`. */
static inline uint8_t *flat_guest(struct vcpu *v, const uint8_t *code, unsigned size, uint64_t cr0) {
    uint8_t *page = virt_alloc_pages(1);
    memcpy(page, code, size);
    void *vmcb = v->vmcb;
    *vmcb_u64(vmcb, VMCB_CR0) = cr0;
    *vmcb_u64(vmcb, VMCB_CR4) = 0;
    *vmcb_u64(vmcb, VMCB_EFER) = (*vmcb_u64(vmcb, VMCB_EFER) & ~((1ull << 8) | (1ull << 10)))  /* LME, LMA */;
    *vmcb_u64(vmcb, VMCB_RIP) = 0;
    *vmcb_u64(vmcb, VMCB_RFLAGS) = 2;
    return page;
}

