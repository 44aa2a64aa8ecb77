/* vmx_instructions: the VMX instructions in VMX root operation (SDM Vol. 3C 31.3) with their
   VMfail outcomes and VM-instruction error numbers (31.4 Table 31-1), VMREAD/VMWRITE widths and
   high halves (B.1, 31.3), and IA32_FEATURE_CONTROL's lock (24.7). */
#include "lib/vmx.h"
#include "lib/x86.h"

static uint32_t error_number(void) {
    uint64_t e = 0;
    vmread(VMCS_VM_INSTRUCTION_ERROR, &e);
    return (uint32_t)e;
}

#define EXPECT_FAIL_VALID(v, status, number, what)                                                  \
    VIRT_EXPECT(v, (status) == VMX_FAIL_VALID && error_number() == (number), "%s: %s, error %u, expected VMfailValid %u", \
                what, vmx_status_name(status), error_number(), (unsigned)(number))

static enum virt_action unsupported_fields(struct vcpu *v) {
    uint64_t x;
    EXPECT_FAIL_VALID(v, vmread(0x100000000ull, &x), 12, "VMREAD of an encoding with bits 63:32 set");
    EXPECT_FAIL_VALID(v, vmread(0x6ffeull, &x), 12, "VMREAD of an encoding the SDM does not define");
    EXPECT_FAIL_VALID(v, vmread(VMCS_PML_ADDRESS, &x), 12, "VMREAD of PML address (PML not advertised)");
    EXPECT_FAIL_VALID(v, vmwrite(VMCS_POSTED_INTERRUPT_DESCRIPTOR_ADDRESS, 0), 12, "VMWRITE of a posted-interrupt field");
    return VIRT_PASS;
}

static enum virt_action read_only_field(struct vcpu *v) {
    if (rdmsr(MSR_VMX_MISC) & (1ull << 29)) return virt_skip(v, "IA32_VMX_MISC[29]: VMWRITE may write read-only fields");
    EXPECT_FAIL_VALID(v, vmwrite(VMCS_VM_EXIT_REASON, 1), 13, "VMWRITE of the exit reason");
    EXPECT_FAIL_VALID(v, vmwrite(VMCS_EXIT_QUALIFICATION, 1), 13, "VMWRITE of the exit qualification");
    return VIRT_PASS;
}

static enum virt_action field_widths(struct vcpu *v) {
    uint64_t x = 0;
    vmcs_write(VMCS_TSC_OFFSET, 0x1122334455667788ull);
    VIRT_EXPECT(v, vmcs_read(VMCS_TSC_OFFSET_HIGH) == 0x11223344, "high half %#lx", vmcs_read(VMCS_TSC_OFFSET_HIGH));
    vmcs_write(VMCS_TSC_OFFSET_HIGH, 0xaabbccddull);
    VIRT_EXPECT(v, vmcs_read(VMCS_TSC_OFFSET) == 0xaabbccdd55667788ull, "full field %#lx after a high write",
                vmcs_read(VMCS_TSC_OFFSET));
    vmcs_write(VMCS_GUEST_ES_SELECTOR, 0x12345);
    VIRT_EXPECT(v, vmcs_read(VMCS_GUEST_ES_SELECTOR) == 0x2345, "16-bit field kept %#lx", vmcs_read(VMCS_GUEST_ES_SELECTOR));
    vmcs_write(VMCS_GUEST_ES_LIMIT, 0x1ffffffffull);
    VIRT_EXPECT(v, vmcs_read(VMCS_GUEST_ES_LIMIT) == 0xffffffff, "32-bit field kept %#lx", vmcs_read(VMCS_GUEST_ES_LIMIT));
    vmcs_write(VMCS_GUEST_RIP, 0xffffffff80001234ull);
    VIRT_EXPECT(v, vmcs_read(VMCS_GUEST_RIP) == 0xffffffff80001234ull, "natural-width field");
    /* A memory operand for VMREAD/VMWRITE (64 bits in 64-bit mode). */
    uint64_t in = 0x5566, out = 0;
    __asm__ volatile("vmwrite %1, %0" : : "r"((uint64_t)VMCS_GUEST_CS_SELECTOR), "m"(in) : "cc");
    __asm__ volatile("vmread %1, %0" : "=m"(out) : "r"((uint64_t)VMCS_GUEST_CS_SELECTOR) : "cc");
    VIRT_EXPECT(v, out == 0x5566, "memory-operand VMREAD/VMWRITE gave %#lx", out);
    (void)x;
    return VIRT_PASS;
}

static enum virt_action pointer_checks(struct vcpu *v) {
    uint32_t *bad = virt_alloc_pages(1);
    *bad = 0x1234;  /* not the revision identifier */
    EXPECT_FAIL_VALID(v, vmptrld(virt_pa(bad)), 11, "VMPTRLD with a wrong revision identifier");
    EXPECT_FAIL_VALID(v, vmptrld(virt_pa(bad) + 8), 9, "VMPTRLD of an unaligned address");
    EXPECT_FAIL_VALID(v, vmclear(virt_pa(bad) + 8), 2, "VMCLEAR of an unaligned address");
    EXPECT_FAIL_VALID(v, vmptrld(1ull << 52), 9, "VMPTRLD beyond the physical-address width");
    uint64_t current = 0;
    __asm__ volatile("vmptrst %0" : "=m"(current) : : "cc");
    VIRT_EXPECT(v, current == virt_pa(v->vmcs), "VMPTRST gave %#lx, expected %#lx", current, virt_pa(v->vmcs));
    /* Without a current VMCS: VMfailInvalid. */
    VIRT_EXPECT(v, vmclear(virt_pa(v->vmcs)) == VMX_SUCCEED, "VMCLEAR of the current VMCS");
    uint64_t x;
    VIRT_EXPECT(v, vmread(VMCS_GUEST_RIP, &x) == VMX_FAIL_INVALID, "VMREAD without a current VMCS");
    __asm__ volatile("vmptrst %0" : "=m"(current) : : "cc");
    VIRT_EXPECT(v, current == ~0ull, "VMPTRST without a current VMCS gave %#lx", current);
    VIRT_EXPECT(v, vmptrld(virt_pa(v->vmcs)) == VMX_SUCCEED, "VMPTRLD back");
    VIRT_EXPECT(v, vmcs_read(VMCS_GUEST_RIP) == (uint64_t)virt_guest_entry_vmx, "the VMCS data survived VMCLEAR");
    return VIRT_PASS;
}

static enum virt_action root_errors(struct vcpu *v) {
    uint8_t cf, zf;
    __asm__ volatile("vmcall; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : : "cc", "memory");
    VIRT_EXPECT(v, zf && !cf && error_number() == 1, "VMCALL in VMX root operation: cf %u zf %u error %u", cf, zf, error_number());
    uint64_t region = virt_pa(virt_alloc_pages(1));
    EXPECT_FAIL_VALID(v, vmxon(region), 15, "VMXON in VMX root operation");
    /* IA32_VMX_EPT_VPID_CAP exists only with EPT or VPID among the secondary controls (A.10). */
    const bool secondary = rdmsr(MSR_VMX_PROCBASED_CTLS) & ((uint64_t)VMX_PROC_ACTIVATE_SECONDARY_CONTROLS << 32);
    const uint64_t ctls2 = secondary ? rdmsr(MSR_VMX_PROCBASED_CTLS2) >> 32 : 0;
    if (!(ctls2 & VMX_PROC2_ENABLE_EPT) || !(ctls2 & VMX_PROC2_ENABLE_VPID)) return VIRT_PASS;
    if (!(rdmsr(MSR_VMX_EPT_VPID_CAP) & (1ull << 20))) return VIRT_PASS;
    uint64_t descriptor[2] = {0, 0};
    __asm__ volatile("invept %2, %3; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "m"(descriptor), "r"(7ull) : "cc");
    VIRT_EXPECT(v, zf && error_number() == 28, "INVEPT type 7: cf %u zf %u error %u", cf, zf, error_number());
    __asm__ volatile("invvpid %2, %3; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "m"(descriptor), "r"(1ull) : "cc");
    VIRT_EXPECT(v, zf && error_number() == 28, "INVVPID single-context with VPID 0: error %u", error_number());
    __asm__ volatile("invvpid %2, %3; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "m"(descriptor), "r"(2ull) : "cc");
    VIRT_EXPECT(v, !zf && !cf, "INVVPID all-context failed");
    return VIRT_PASS;
}

static volatile unsigned gp_count;
static bool skip_wrmsr(struct exception_frame *f) {
    if (f->vector != 13) return false;
    ++gp_count;
    f->rip += 2;
    return true;
}
static enum virt_action feature_control_locked(struct vcpu *v) {
    VIRT_EXPECT(v, rdmsr(MSR_FEATURE_CONTROL) & 1, "IA32_FEATURE_CONTROL is not locked after VMXON");
    gp_count = 0;
    virt_exception_hook = skip_wrmsr;
    wrmsr(MSR_FEATURE_CONTROL, rdmsr(MSR_FEATURE_CONTROL));
    virt_exception_hook = NULL;
    VIRT_EXPECT(v, gp_count == 1, "WRMSR to a locked IA32_FEATURE_CONTROL did not #GP");
    return VIRT_PASS;
}

/* VMLAUNCH of a launched VMCS (error 4) and VMRESUME of a clear one (error 5). */
static void guest_cpuid(void) { __asm__ volatile("cpuid" : : "a"(0) : "rbx", "rcx", "rdx"); }
static enum virt_action handle_relaunch(struct vcpu *v, const struct virt_exit *e) {
    if (v->stage == 0) {
        VIRT_EXPECT(v, e->reason == EXIT_REASON_CPUID, "first exit %s", virt_exit_name(v, e));
        v->launched = false;  /* VMLAUNCH next */
        ++v->stage;
        return VIRT_RESUME;
    }
    VIRT_EXPECT(v, e->kind == VIRT_EXIT_VMFAIL_VALID && e->vm_instruction_error == 4,
                "VMLAUNCH of a launched VMCS: %s error %u", virt_exit_name(v, e), e->vm_instruction_error);
    return VIRT_PASS;
}
static enum virt_action init_resume_clear(struct vcpu *v) {
    v->launched = true;  /* VMRESUME first */
    return VIRT_RESUME;
}
static enum virt_action handle_resume_clear(struct vcpu *v, const struct virt_exit *e) {
    VIRT_EXPECT(v, e->kind == VIRT_EXIT_VMFAIL_VALID && e->vm_instruction_error == 5,
                "VMRESUME of a clear VMCS: %s error %u", virt_exit_name(v, e), e->vm_instruction_error);
    return VIRT_PASS;
}

/* VMLAUNCH right after MOV SS (in its blocking shadow): VMfailValid 26 (31.3 VMLAUNCH). */
static enum virt_action blocked_by_mov_ss(struct vcpu *v) {
    uint8_t cf, zf;
    __asm__ volatile("mov %%ss, %%ax; mov %%ax, %%ss; vmlaunch; setc %0; setz %1"
                     : "=qm"(cf), "=qm"(zf) : : "rax", "cc", "memory");
    VIRT_EXPECT(v, zf && !cf && error_number() == 26, "VMLAUNCH after MOV SS: cf %u zf %u error %u", cf, zf,
                error_number());
    return VIRT_PASS;
}

static void none(void) {}

static const struct virt_test tests[] = {
    {"vmx_vmread_vmwrite_unsupported_field_12", VIRT_VMX, unsupported_fields, none, NULL, NULL},
    {"vmx_vmwrite_read_only_field_13", VIRT_VMX, read_only_field, none, NULL, NULL},
    {"vmx_vmread_vmwrite_widths_high_halves_memory", VIRT_VMX, field_widths, none, NULL, NULL},
    {"vmx_vmptrld_vmclear_vmptrst_pointer_checks", VIRT_VMX, pointer_checks, none, NULL, NULL},
    {"vmx_root_vmcall_1_vmxon_15_invept_invvpid_28", VIRT_VMX, root_errors, none, NULL, NULL},
    {"vmx_feature_control_locked_gp", VIRT_VMX, feature_control_locked, none, NULL, NULL},
    {"vmx_vmlaunch_launched_vmcs_4", VIRT_VMX, NULL, guest_cpuid, handle_relaunch, NULL},
    {"vmx_vmlaunch_blocked_by_mov_ss_26", VIRT_VMX, blocked_by_mov_ss, none, NULL, NULL},
    {"vmx_vmresume_clear_vmcs_5", VIRT_VMX, init_resume_clear, none, handle_resume_clear, NULL},
};

int main(void) {
    printf("vmx_instructions: %u tests\n", (unsigned)ARRAY_SIZE(tests));
    return virt_run_tests(tests, ARRAY_SIZE(tests));
}
