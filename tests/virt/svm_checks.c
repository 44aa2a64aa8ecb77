/* svm_checks: every VMRUN consistency check of AMD APM Vol. 2 15.5.1 ("Canonicalization and
   Consistency Checks") as a negative test: one field of a valid VMCB broken at a time, VMRUN
   must #VMEXIT with VMEXIT_INVALID (-1) before the guest runs. */
#include "svm_expect.h"

#define EFER_LME_BIT (1ull << 8)
#define CR4_PAE_BIT (1ull << 5)
#define ATTRIB_D (1u << 10)
#define BEYOND_MAXPHYADDR ((1ull << 52) - 0x1000)  /* below 2^52 but above any MAXPHYADDR < 52 */

static void guest_never_runs(void) {}
static enum virt_action guest_ran(struct vcpu *v) { return virt_fail(v, "VMRUN succeeded: the guest ran to its end"); }
static enum virt_action expect_invalid(struct vcpu *v, const struct virt_exit *e) {
    VIRT_EXPECT(v, svm_exitcode_is(e->reason, (uint64_t)SVM_EXIT_INVALID), "EXITCODE %#lx (%s), expected VMEXIT_INVALID",
                e->reason, svm_exit_name((long long)e->reason));
    return VIRT_PASS;
}

#define BREAK(NAME, STATEMENT)                                                 \
    static enum virt_action NAME##_init(struct vcpu *v) {                      \
        void *vmcb = v->vmcb;                                                  \
        STATEMENT;                                                             \
        return VIRT_RESUME;                                                    \
    }
#define CHECK_TEST(NAME) {#NAME, VIRT_SVM, NAME##_init, guest_never_runs, expect_invalid, guest_ran}

BREAK(efer_svme_clear, *vmcb_u64(vmcb, VMCB_EFER) &= ~EFER_SVME)
BREAK(cr0_nw_without_cd, *vmcb_u64(vmcb, VMCB_CR0) = (*vmcb_u64(vmcb, VMCB_CR0) & ~(1ull << 30)) | (1ull << 29))
BREAK(cr0_high_bits, *vmcb_u64(vmcb, VMCB_CR0) |= 1ull << 32)
BREAK(cr3_mbz_bits, *vmcb_u64(vmcb, VMCB_CR3) |= 1ull << 62)
BREAK(cr4_reserved_bit, *vmcb_u64(vmcb, VMCB_CR4) |= 1ull << 40)
BREAK(dr6_high_bits, *vmcb_u64(vmcb, VMCB_DR6) |= 1ull << 32)
BREAK(dr7_high_bits, *vmcb_u64(vmcb, VMCB_DR7) |= 1ull << 32)
BREAK(efer_reserved_bit, *vmcb_u64(vmcb, VMCB_EFER) |= 1ull << 40)
BREAK(lme_pg_without_pae, *vmcb_u64(vmcb, VMCB_CR4) &= ~CR4_PAE_BIT)
BREAK(lme_pg_without_pe, *vmcb_u64(vmcb, VMCB_CR0) &= ~1ull)
BREAK(lme_pg_cs_l_and_d, *vmcb_u16(vmcb, VMCB_CS_ATTRIB) |= ATTRIB_D)
BREAK(vmrun_intercept_clear, svm_intercept_clear(vmcb, SVM_INTERCEPT_VMRUN))
BREAK(msrpm_beyond_maxphyaddr, *vmcb_u64(vmcb, VMCB_MSRPM_BASE_PA) = BEYOND_MAXPHYADDR)
BREAK(iopm_beyond_maxphyaddr, *vmcb_u64(vmcb, VMCB_IOPM_BASE_PA) = BEYOND_MAXPHYADDR)
BREAK(eventinj_reserved_type, *vmcb_u64(vmcb, VMCB_EVENTINJ) = 0x80000000u | (1u << 8) | 32)
BREAK(eventinj_exception_vector_2, *vmcb_u64(vmcb, VMCB_EVENTINJ) = 0x80000000u | (3u << 8) | 2)
BREAK(asid_zero, *vmcb_u32(vmcb, VMCB_GUEST_ASID) = 0)

/* TLB_CONTROL 2 is reserved (15.16.1). QEMU TCG ignores TLB_CONTROL (tests/virt/README.md). */
BREAK(tlb_control_reserved, *vmcb_u8(vmcb, VMCB_TLB_CONTROL) = 2)
static enum virt_action tlb_control_reserved_ran(struct vcpu *v) {
    char sig[13];
    hypervisor_signature(sig);
    if (sig[0] == 'T' && sig[1] == 'C' && sig[2] == 'G') {
        printf("svm_checks: note: QEMU TCG runs a guest with reserved TLB_CONTROL 2 (hvsim: VMEXIT_INVALID)\n");
        return VIRT_PASS;
    }
    return guest_ran(v);
}

/* nCR3 with bits above MAXPHYADDR while nested paging is enabled (15.5.1, 15.25.4). */
static enum virt_action ncr3_mbz_bits_init(struct vcpu *v) {
    if (!svm_has_feature(SVM_FEATURE_NP)) return svm_not_applicable(v, "nested paging is not advertised");
    *vmcb_u64(v->vmcb, VMCB_NP_CONTROL) |= 1;
    *vmcb_u64(v->vmcb, VMCB_N_CR3) = 1ull << 62;
    return VIRT_RESUME;
}
static enum virt_action ncr3_mbz_bits_handler(struct vcpu *v, const struct virt_exit *e) {
    if (svm_under_tcg() && e->reason == SVM_EXIT_NPF) {
        printf("svm_checks: note: QEMU TCG runs a guest with nCR3 MBZ bits set (#NPF at the first access)\n");
        return VIRT_PASS;
    }
    return expect_invalid(v, e);
}

/* The valid cases around them: the same VMCB with the field legal runs. */
static enum virt_action tlb_control_flush_all_init(struct vcpu *v) {
    *vmcb_u8(v->vmcb, VMCB_TLB_CONTROL) = 1;
    return VIRT_RESUME;
}
static enum virt_action tlb_control_flush_asid_init(struct vcpu *v) {
    if (!svm_has_feature(SVM_FEATURE_FLUSH_BY_ASID)) return svm_not_applicable(v, "FlushByAsid is not advertised");
    *vmcb_u8(v->vmcb, VMCB_TLB_CONTROL) = 3;
    *vmcb_u32(v->vmcb, VMCB_GUEST_ASID) = 7;
    return VIRT_RESUME;
}

static const struct virt_test tests[] = {
    CHECK_TEST(efer_svme_clear), CHECK_TEST(cr0_nw_without_cd), CHECK_TEST(cr0_high_bits), CHECK_TEST(cr3_mbz_bits),
    CHECK_TEST(cr4_reserved_bit), CHECK_TEST(dr6_high_bits), CHECK_TEST(dr7_high_bits), CHECK_TEST(efer_reserved_bit),
    CHECK_TEST(lme_pg_without_pae), CHECK_TEST(lme_pg_without_pe), CHECK_TEST(lme_pg_cs_l_and_d),
    CHECK_TEST(vmrun_intercept_clear), CHECK_TEST(msrpm_beyond_maxphyaddr), CHECK_TEST(iopm_beyond_maxphyaddr),
    CHECK_TEST(eventinj_reserved_type), CHECK_TEST(eventinj_exception_vector_2), CHECK_TEST(asid_zero),
    {"ncr3_mbz_bits", VIRT_SVM, ncr3_mbz_bits_init, guest_never_runs, ncr3_mbz_bits_handler, guest_ran},
    {"tlb_control_reserved", VIRT_SVM, tlb_control_reserved_init, guest_never_runs, expect_invalid, tlb_control_reserved_ran},
    {"tlb_control_flush_all_runs", VIRT_SVM, tlb_control_flush_all_init, guest_never_runs, NULL, NULL},
    {"tlb_control_flush_asid_runs", VIRT_SVM, tlb_control_flush_asid_init, guest_never_runs, NULL, NULL},
};

int main(void) {
    printf("svm_checks: %u tests\n", (unsigned)ARRAY_SIZE(tests));
    return virt_run_tests(tests, ARRAY_SIZE(tests));
}
