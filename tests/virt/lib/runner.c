/* The test runner: program start (after entry.S), one vCPU per test, the exit loop, the
   verdict lines and the summary. Context: ring 0, 64-bit, one CPU, interrupts off. */
#include "svm.h"
#include "virt.h"
#include "vmx.h"

#define GUEST_STACK_PAGES 4
#define DEFAULT_MAX_EXITS 1000

int main(void);  /* the test program's */

void virt_start(void);
void virt_start(void) {
    console_init();
    desc_init();
    virt_exit((uint32_t)main());
}

static enum virt_action record(struct vcpu *v, enum virt_action a, const char *fmt, va_list ap) {
    vsnprintf(v->fail_reason, sizeof v->fail_reason, fmt, ap);
    return a;
}

enum virt_action virt_fail(struct vcpu *v, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    record(v, VIRT_FAIL, fmt, ap);
    va_end(ap);
    return VIRT_FAIL;
}

enum virt_action virt_skip(struct vcpu *v, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    record(v, VIRT_SKIP, fmt, ap);
    va_end(ap);
    return VIRT_SKIP;
}

uint64_t virt_guest_rip(struct vcpu *v) {
    return v->arch == VIRT_VMX ? vmcs_read(VMCS_GUEST_RIP) : *vmcb_u64(v->vmcb, VMCB_RIP);
}

void virt_set_guest_rip(struct vcpu *v, uint64_t rip) {
    if (v->arch == VIRT_VMX) vmcs_write(VMCS_GUEST_RIP, rip);
    else *vmcb_u64(v->vmcb, VMCB_RIP) = rip;
}

bool virt_skip_instruction(struct vcpu *v, const struct virt_exit *e) {
    if (!e->next_rip) return false;
    virt_set_guest_rip(v, e->next_rip);
    return true;
}

const char *virt_exit_name(const struct vcpu *v, const struct virt_exit *e) {
    switch (e->kind) {
    case VIRT_EXIT_VMFAIL_INVALID: return "VMfailInvalid";
    case VIRT_EXIT_VMFAIL_VALID: return "VMfailValid";
    default: break;
    }
    return v->arch == VIRT_VMX ? exit_reason_name(e->reason) : svm_exit_name((long long)e->reason);
}

/* The VMCALL/VMMCALL of the guest trampoline after guest_main returned. */
static bool guest_finished(const struct vcpu *v, const struct virt_exit *e) {
    if (e->kind != VIRT_EXIT_VM_EXIT) return false;
    if (v->arch == VIRT_VMX)
        return e->reason == EXIT_REASON_VMCALL && e->guest_rip == (uint64_t)virt_guest_done_vmx;
    return e->reason == SVM_EXIT_VMMCALL && e->guest_rip == (uint64_t)virt_guest_done_svm;
}

static enum virt_action run_guest(const struct virt_test *t, struct vcpu *v) {
    for (;;) {
        if (v->arch == VIRT_VMX) vmx_vcpu_enter(v);
        else svm_vcpu_enter(v);
        const struct virt_exit *e = &v->exit;
        ++v->exits;
        if (guest_finished(v, e)) return t->check ? t->check(v) : VIRT_PASS;
        if (!t->exit_handler)
            return virt_fail(v, "unexpected exit %s (%#lx) at rip %#lx", virt_exit_name(v, e), e->reason, e->guest_rip);
        const enum virt_action a = t->exit_handler(v, e);
        if (a != VIRT_RESUME) return a;
        if (v->exits >= v->max_exits) return virt_fail(v, "still running after %u exits", v->exits);
    }
}

static enum virt_action run_test(const struct virt_test *t, struct vcpu *v) {
    memset(v, 0, sizeof *v);
    v->arch = t->arch;
    v->test = t;
    v->max_exits = DEFAULT_MAX_EXITS;
    const char *why = t->arch == VIRT_VMX ? vmx_unsupported_reason() : svm_unsupported_reason();
    if (why) return virt_skip(v, "%s", why);
    v->guest_stack_top = (char *)virt_alloc_pages(GUEST_STACK_PAGES) + GUEST_STACK_PAGES * 4096;
    v->regs.rdi = (uint64_t)t->guest_main;  /* the trampoline calls it */
    if (t->arch == VIRT_VMX) vmx_vcpu_setup(v);
    else svm_vcpu_setup(v);
    enum virt_action a = t->init ? t->init(v) : VIRT_RESUME;
    if (a == VIRT_RESUME) a = t->guest_main ? run_guest(t, v) : virt_fail(v, "the test has no guest_main");
    if (t->arch == VIRT_VMX) vmx_vcpu_release(v);
    return a;
}

int virt_run_tests(const struct virt_test *tests, unsigned count) {
    static struct vcpu vcpu;
    unsigned passed = 0, failed = 0, skipped = 0;
    for (unsigned i = 0; i < count; ++i) {
        const struct virt_test *t = &tests[i];
        virt_pages_reset();
        const enum virt_action a = run_test(t, &vcpu);
        const char *reason = vcpu.fail_reason[0] ? vcpu.fail_reason : "no reason given";
        switch (a) {
        case VIRT_PASS: ++passed; printf("PASS %s (%u exits)\n", t->name, vcpu.exits); break;
        case VIRT_SKIP: ++skipped; printf("SKIP %s: %s\n", t->name, reason); break;
        case VIRT_RESUME:  /* not returned by run_test */
        case VIRT_FAIL: ++failed; printf("FAIL %s: %s\n", t->name, reason); break;
        }
    }
    printf("SUMMARY: %u tests, %u passed, %u failed, %u skipped\n", count, passed, failed, skipped);
    return failed ? 1 : skipped ? 77 : 0;
}
