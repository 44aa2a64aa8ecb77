/* vmx_basic: VMXON, a default VMCS and a guest that executes CPUID, HLT and VMCALL; the exit
   handler checks each basic exit reason (SDM Vol. 3C Appendix C: 10, 12, 18) and instruction
   length, emulates CPUID, advances the guest RIP and resumes. Negative case: VMLAUNCH with a
   host TR selector of 0 fails with VMfailValid, VM-instruction error 8 ("VM entry with invalid
   host-state field(s)", SDM 31.4; the check is 28.2.3: the TR selector cannot be 0000H). */
#include "lib/vmx.h"

#define CPUID_LEAF_ASKED 0x4000beefu
#define VMCALL_ARGUMENT 0x1234u

static struct {
    uint32_t eax, ebx, ecx, edx;  /* what the guest's CPUID returned */
} seen;

/* Fixed encodings, so the instruction lengths are known: CPUID 0F A2, HLT F4, VMCALL 0F 01 C1. */
static void guest_cpuid_hlt_vmcall(void) {
    __asm__ volatile("cpuid" : "=a"(seen.eax), "=b"(seen.ebx), "=c"(seen.ecx), "=d"(seen.edx) : "a"(CPUID_LEAF_ASKED), "c"(0));
    __asm__ volatile("hlt");
    __asm__ volatile("vmcall" : : "a"(VMCALL_ARGUMENT) : "memory");
}

static enum virt_action init_hlt_exiting(struct vcpu *v) {
    if (!vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_HLT_EXITING, 0))
        return virt_skip(v, "HLT exiting cannot be set (IA32_VMX_PROCBASED_CTLS)");
    return VIRT_RESUME;
}

static enum virt_action expect_exit(struct vcpu *v, const struct virt_exit *e, uint64_t reason, uint32_t length) {
    VIRT_EXPECT(v, e->kind == VIRT_EXIT_VM_EXIT, "step %u: %s instead of a VM exit", v->stage, virt_exit_name(v, e));
    VIRT_EXPECT(v, e->reason == reason, "step %u: exit reason %lu (%s), expected %lu (%s)", v->stage, e->reason,
                exit_reason_name(e->reason), reason, exit_reason_name(reason));
    VIRT_EXPECT(v, e->instruction_length == length, "step %u: %s instruction length %u, expected %u", v->stage,
                exit_reason_name(reason), e->instruction_length, length);
    VIRT_EXPECT(v, virt_skip_instruction(v, e), "step %u: no next RIP", v->stage);
    ++v->stage;
    return VIRT_RESUME;
}

static enum virt_action handle_cpuid_hlt_vmcall(struct vcpu *v, const struct virt_exit *e) {
    switch (v->stage) {
    case 0:
        VIRT_EXPECT(v, (uint32_t)v->regs.rax == CPUID_LEAF_ASKED, "CPUID exit with EAX %#lx", v->regs.rax);
        v->regs.rax = 0x11111111;  /* the emulated CPUID result */
        v->regs.rbx = 0x22222222;
        v->regs.rcx = 0x33333333;
        v->regs.rdx = 0x44444444;
        return expect_exit(v, e, EXIT_REASON_CPUID, 2);
    case 1: return expect_exit(v, e, EXIT_REASON_HLT, 1);
    case 2:
        VIRT_EXPECT(v, v->regs.rax == VMCALL_ARGUMENT, "VMCALL with RAX %#lx, expected %#x", v->regs.rax, VMCALL_ARGUMENT);
        return expect_exit(v, e, EXIT_REASON_VMCALL, 3);
    default: return virt_fail(v, "unexpected exit %s after the VMCALL", virt_exit_name(v, e));
    }
}

static enum virt_action check_cpuid_hlt_vmcall(struct vcpu *v) {
    VIRT_EXPECT(v, v->stage == 3, "guest finished after %u of 3 exits", v->stage);
    VIRT_EXPECT(v, seen.eax == 0x11111111 && seen.ebx == 0x22222222 && seen.ecx == 0x33333333 && seen.edx == 0x44444444,
                "guest's CPUID returned %x %x %x %x, not the emulated values", seen.eax, seen.ebx, seen.ecx, seen.edx);
    return VIRT_PASS;
}

static void guest_never_runs(void) {}

static enum virt_action check_guest_never_runs(struct vcpu *v) {
    return virt_fail(v, "VMLAUNCH succeeded: the guest ran to its end");
}

static enum virt_action init_bad_host_tr(struct vcpu *v) {
    (void)v;
    vmcs_write(VMCS_HOST_TR_SELECTOR, 0);
    return VIRT_RESUME;
}

static enum virt_action handle_bad_host_tr(struct vcpu *v, const struct virt_exit *e) {
    VIRT_EXPECT(v, e->kind == VIRT_EXIT_VMFAIL_VALID, "VMLAUNCH gave %s (exit reason %#x), expected VMfailValid",
                virt_exit_name(v, e), e->vmx_exit_reason);
    VIRT_EXPECT(v, e->vm_instruction_error == 8, "VM-instruction error %u, expected 8", e->vm_instruction_error);
    return VIRT_PASS;
}

static const struct virt_test tests[] = {
    {"vmx_cpuid_hlt_vmcall", VIRT_VMX, init_hlt_exiting, guest_cpuid_hlt_vmcall, handle_cpuid_hlt_vmcall,
     check_cpuid_hlt_vmcall},
    {"vmx_vmlaunch_host_tr_0_vmfail_valid_8", VIRT_VMX, init_bad_host_tr, guest_never_runs, handle_bad_host_tr,
     check_guest_never_runs},
};

int main(void) {
    printf("vmx_basic: %u tests\n", (unsigned)ARRAY_SIZE(tests));
    return virt_run_tests(tests, ARRAY_SIZE(tests));
}
