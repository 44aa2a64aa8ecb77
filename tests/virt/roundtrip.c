/* The VM-exit round trip measured by bench/vm_exits.cpp: a guest executes ROUNDTRIPS times the
   instruction that exits unconditionally (VMX: CPUID, exit reason 10; SVM: VMMCALL, EXITCODE
   81h, and CPUID with its intercept set, 72h), and the hypervisor's handler skips it and
   re-enters (VMRESUME / VMRUN). The test on the other vendor's extension is skipped. */
#include "svm.h"
#include "vmx.h"
#include "vmx_controls.h"

#ifndef ROUNDTRIPS
#define ROUNDTRIPS 20000u
#endif

static void cpuid_loop(void) {
    for (unsigned i = 0; i < ROUNDTRIPS; ++i) {
        uint32_t eax = 0;
        __asm__ volatile("cpuid" : "+a"(eax) : : "rbx", "rcx", "rdx");  /* 0F A2 */
    }
}

static void cpuid_and_vmmcall_loop(void) {
    cpuid_loop();
    for (unsigned i = 0; i < ROUNDTRIPS; ++i) __asm__ volatile("vmmcall" : : : "memory");  /* 0F 01 D9 */
}

/* As a hypervisor would run it: VMX with a VPID (the guest's translations survive its exits,
   SDM 29.1), SVM with ASID 1 (the library's default). */
static enum virt_action many_exits(struct vcpu *v) {
    v->max_exits = 4 * ROUNDTRIPS;
    if (v->arch == VIRT_SVM) {
        svm_intercept_set(v->vmcb, SVM_INTERCEPT_CPUID);
    } else {
        if (!vmx_secondary_set(VMX_PROC2_ENABLE_VPID)) return virt_skip(v, "no VPID");
        vmcs_write(VMCS_VIRTUAL_PROCESSOR_ID, 1);
    }
    return VIRT_RESUME;
}

static enum virt_action skip_and_resume(struct vcpu *v, const struct virt_exit *e) {
    const bool expected = v->arch == VIRT_VMX ? e->reason == EXIT_REASON_CPUID
                                              : e->reason == SVM_EXIT_CPUID || e->reason == SVM_EXIT_VMMCALL;
    VIRT_EXPECT(v, e->kind == VIRT_EXIT_VM_EXIT && expected, "unexpected %s", virt_exit_name(v, e));
    const unsigned length = e->reason == SVM_EXIT_VMMCALL && v->arch == VIRT_SVM ? 3 : 2;
    virt_set_guest_rip(v, e->guest_rip + length);
    return VIRT_RESUME;
}

static enum virt_action counted(struct vcpu *v) {
    const unsigned expected = v->arch == VIRT_VMX ? ROUNDTRIPS : 2 * ROUNDTRIPS;
    VIRT_EXPECT(v, v->exits == expected + 1, "%u exits, expected %u", v->exits, expected + 1);
    return VIRT_PASS;
}

static const struct virt_test tests[] = {
    {"vmx_cpuid_roundtrip", VIRT_VMX, many_exits, cpuid_loop, skip_and_resume, counted},
    {"svm_cpuid_vmmcall_roundtrip", VIRT_SVM, many_exits, cpuid_and_vmmcall_loop, skip_and_resume, counted},
};

int main(void) { return virt_run_tests(tests, ARRAY_SIZE(tests)); }
