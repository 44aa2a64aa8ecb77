/* svm_modes: guests in other processor modes (AMD APM Vol. 2 15.5.1: VMRUN loads any legal
   mode from the VMCB): real mode (CR0.PE = 0) and 32-bit protected mode without paging, each
   running a few bytes of its own code up to an intercepted VMMCALL; and a CPL-3 guest whose
   VMLOAD is #GP before its intercept. */
#include "svm_expect.h"


static void not_used(void) {}

/* Real mode: CS base = the code page (its hidden base comes from the VMCB), 16-bit code:
   mov ax, 1234h (B8 34 12); add ax, ax (01 C0); vmmcall (0F 01 D9). */
static enum virt_action real_mode_init(struct vcpu *v) {
    static const uint8_t code[] = {0xb8, 0x34, 0x12, 0x01, 0xc0, 0x0f, 0x01, 0xd9};
    uint8_t *page = flat_guest(v, code, sizeof code, 0x10 /* ET */);
    const uint64_t base = virt_pa(page);
    set_segment(v->vmcb, VMCB_CS_SELECTOR, 0, 0x9b, 0xffff, base);
    set_segment(v->vmcb, VMCB_SS_SELECTOR, 0, 0x93, 0xffff, base);
    set_segment(v->vmcb, VMCB_DS_SELECTOR, 0, 0x93, 0xffff, base);
    set_segment(v->vmcb, VMCB_ES_SELECTOR, 0, 0x93, 0xffff, base);
    *vmcb_u64(v->vmcb, VMCB_RSP) = 0xff0;
    *vmcb_u8(v->vmcb, VMCB_CPL) = 0;
    v->data = page;
    return VIRT_RESUME;
}

/* 32-bit protected mode, flat, no paging: mov eax, 12345678h (B8 78 56 34 12);
   add eax, eax (01 C0); vmmcall. */
static enum virt_action protected32_init(struct vcpu *v) {
    static const uint8_t code[] = {0xb8, 0x78, 0x56, 0x34, 0x12, 0x01, 0xc0, 0x0f, 0x01, 0xd9};
    uint8_t *page = flat_guest(v, code, sizeof code, 0x11 /* PE, ET */);
    const uint64_t base = virt_pa(page);
    set_segment(v->vmcb, VMCB_CS_SELECTOR, 0x08, 0xc9b, 0xffffffff, base);  /* code, D = 1, G = 1 */
    set_segment(v->vmcb, VMCB_SS_SELECTOR, 0x10, 0xc93, 0xffffffff, 0);
    set_segment(v->vmcb, VMCB_DS_SELECTOR, 0x10, 0xc93, 0xffffffff, 0);
    set_segment(v->vmcb, VMCB_ES_SELECTOR, 0x10, 0xc93, 0xffffffff, 0);
    *vmcb_u64(v->vmcb, VMCB_RSP) = base + 0xff0;
    v->data = page;
    return VIRT_RESUME;
}

static enum virt_action expect_vmmcall(struct vcpu *v, const struct virt_exit *e, uint64_t rax, uint64_t mask) {
    VIRT_EXPECT(v, e->reason == SVM_EXIT_VMMCALL, "EXITCODE %#lx (%s) at rip %#lx", e->reason,
                svm_exit_name((long long)e->reason), e->guest_rip);
    VIRT_EXPECT(v, e->guest_rip == 5 || e->guest_rip == 7, "VMMCALL at rip %#lx", e->guest_rip);
    VIRT_EXPECT(v, (v->regs.rax & mask) == rax, "RAX %#lx, expected %#lx", v->regs.rax & mask, rax);
    return VIRT_PASS;
}
static enum virt_action real_mode_handler(struct vcpu *v, const struct virt_exit *e) {
    const uint64_t cr0 = *vmcb_u64(v->vmcb, VMCB_CR0);
    VIRT_EXPECT(v, !(cr0 & 1), "guest CR0 %#lx after the exit: PE set", cr0);
    return expect_vmmcall(v, e, 0x2468, 0xffff);
}
static enum virt_action protected32_handler(struct vcpu *v, const struct virt_exit *e) {
    return expect_vmmcall(v, e, 0x2468acf0, 0xffffffff);
}

/* CPL 3 (a 32-bit flat guest without paging, DPL-3 segments): VMLOAD is #GP(0) before its
   intercept is looked at (APM Vol. 3 "VMLOAD"; 15.9: intercepts come after the simple
   exceptions): with both intercepts set, the exit is #GP's. Code: vmload (0F 01 DA). */
static enum virt_action cpl3_init(struct vcpu *v) {
    static const uint8_t code[] = {0x0f, 0x01, 0xda};
    uint8_t *page = flat_guest(v, code, sizeof code, 0x11 /* PE, ET */);
    const uint64_t base = virt_pa(page);
    set_segment(v->vmcb, VMCB_CS_SELECTOR, 0x1b, 0xcfb, 0xffffffff, base);  /* code, DPL 3 */
    set_segment(v->vmcb, VMCB_SS_SELECTOR, 0x23, 0xcf3, 0xffffffff, 0);
    set_segment(v->vmcb, VMCB_DS_SELECTOR, 0x23, 0xcf3, 0xffffffff, 0);
    set_segment(v->vmcb, VMCB_ES_SELECTOR, 0x23, 0xcf3, 0xffffffff, 0);
    *vmcb_u8(v->vmcb, VMCB_CPL) = 3;
    *vmcb_u64(v->vmcb, VMCB_RSP) = base + 0xff0;
    *vmcb_u64(v->vmcb, VMCB_RAX) = base;  /* aligned */
    v->regs.rax = base;
    svm_intercept_set(v->vmcb, SVM_INTERCEPT_VMLOAD);
    svm_intercept_set(v->vmcb, SVM_INTERCEPT_EXCEPTION13);
    return VIRT_RESUME;
}
static enum virt_action cpl3_handler(struct vcpu *v, const struct virt_exit *e) {
    VIRT_EXPECT(v, e->reason == SVM_EXIT_EXCP13, "EXITCODE %#lx (%s), expected #GP", e->reason,
                svm_exit_name((long long)e->reason));
    VIRT_EXPECT(v, e->qualification == 0 && e->guest_rip == 0, "#GP(%#lx) at rip %#lx, expected #GP(0) at 0",
                e->qualification, e->guest_rip);
    VIRT_EXPECT(v, *vmcb_u8(v->vmcb, VMCB_CPL) == 3, "guest CPL %u after the exit", *vmcb_u8(v->vmcb, VMCB_CPL));
    return VIRT_PASS;
}

static const struct virt_test tests[] = {
    {"real_mode_guest", VIRT_SVM, real_mode_init, not_used, real_mode_handler, NULL},
    {"protected32_guest", VIRT_SVM, protected32_init, not_used, protected32_handler, NULL},
    {"cpl3_vmload_gp_before_intercept", VIRT_SVM, cpl3_init, not_used, cpl3_handler, NULL},
};

int main(void) {
    printf("svm_modes: %u tests\n", (unsigned)ARRAY_SIZE(tests));
    return virt_run_tests(tests, ARRAY_SIZE(tests));
}
