/* VMX helpers: entering VMX operation, VMCS access, controls by the capability MSRs, the
   default VMCS of a test and one entry/exit. Context: ring 0, 64-bit, one CPU, interrupts off. */
#include "vmx.h"

#include "x86.h"

int vmx_enter(struct guest_regs *regs, int launched);  /* vmx_enter.S */
extern char vmx_exit_stub[];

#define FEATURE_CONTROL_LOCK (1ull << 0)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX (1ull << 2)
#define VMX_BASIC_TRUE_CONTROLS (1ull << 55)
#define SEGMENT_UNUSABLE (1u << 16)  /* VMX access rights bit 16 (SDM 25.4.1 Table 25-2) */

static uint8_t vmxon_region[4096] __attribute__((aligned(4096)));
static bool vmx_on;

/* CF and ZF after a VMX instruction (SDM 31.2). */
#define VMX_STATUS(cf, zf) ((cf) ? VMX_FAIL_INVALID : (zf) ? VMX_FAIL_VALID : VMX_SUCCEED)

const char *vmx_status_name(enum vmx_status s) {
    return s == VMX_SUCCEED ? "VMsucceed" : s == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid";
}

enum vmx_status vmxon(uint64_t pa) {
    uint8_t cf, zf;
    __asm__ volatile("vmxon %2; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "m"(pa) : "cc", "memory");
    return VMX_STATUS(cf, zf);
}

enum vmx_status vmclear(uint64_t pa) {
    uint8_t cf, zf;
    __asm__ volatile("vmclear %2; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "m"(pa) : "cc", "memory");
    return VMX_STATUS(cf, zf);
}

enum vmx_status vmptrld(uint64_t pa) {
    uint8_t cf, zf;
    __asm__ volatile("vmptrld %2; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "m"(pa) : "cc", "memory");
    return VMX_STATUS(cf, zf);
}

enum vmx_status vmread(uint64_t field, uint64_t *value) {
    uint8_t cf, zf;
    uint64_t v = 0;
    __asm__ volatile("vmread %3, %0; setc %1; setz %2" : "=r"(v), "=qm"(cf), "=qm"(zf) : "r"(field) : "cc");
    *value = v;
    return VMX_STATUS(cf, zf);
}

enum vmx_status vmwrite(uint64_t field, uint64_t value) {
    uint8_t cf, zf;
    __asm__ volatile("vmwrite %2, %3; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "r"(value), "r"(field) : "cc", "memory");
    return VMX_STATUS(cf, zf);
}

static uint32_t instruction_error(void) {
    uint64_t e = 0;
    vmread(VMCS_VM_INSTRUCTION_ERROR, &e);
    return (uint32_t)e;
}

uint64_t vmcs_read(uint64_t field) {
    uint64_t v;
    const enum vmx_status s = vmread(field, &v);
    if (s != VMX_SUCCEED)
        virt_abort("VMREAD %s (%#lx): %s, error %u", vmcs_name(field), field, vmx_status_name(s), instruction_error());
    return v;
}

void vmcs_write(uint64_t field, uint64_t value) {
    const enum vmx_status s = vmwrite(field, value);
    if (s != VMX_SUCCEED)
        virt_abort("VMWRITE %s (%#lx) = %#lx: %s, error %u", vmcs_name(field), field, value, vmx_status_name(s),
                   instruction_error());
}

const char *vmx_unsupported_reason(void) {
    uint32_t r[4];
    cpuid2(1, 0, r);
    if (!(r[2] & (1u << 5))) return "no VMX: CPUID.1:ECX[5] is 0";
    const uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
    if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX))
        return "VMX disabled: IA32_FEATURE_CONTROL is locked with bit 2 (VMXON outside SMX) clear";
    return NULL;
}

void vmx_enable(void) {
    if (vmx_on) return;
    const char *why = vmx_unsupported_reason();
    if (why) virt_abort("%s", why);
    /* SDM 24.7 "Enabling and Entering VMX Operation": firmware normally locks the MSR; if
       nobody did, allow VMXON outside SMX and lock it ourselves. */
    const uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
    if (!(fc & FEATURE_CONTROL_LOCK)) wrmsr(MSR_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON_OUTSIDE_SMX);
    /* 24.8 "Restrictions on VMX Operation", A.7/A.8: bits set in FIXED0 must be 1, bits
       clear in FIXED1 must be 0, in CR0 and CR4 (CR4.VMXE is one of them once enabled). */
    write_cr0((read_cr0() | rdmsr(MSR_VMX_CR0_FIXED0)) & rdmsr(MSR_VMX_CR0_FIXED1));
    write_cr4((read_cr4() | CR4_VMXE | rdmsr(MSR_VMX_CR4_FIXED0)) & rdmsr(MSR_VMX_CR4_FIXED1));
    /* 25.11.5 "VMXON Region": the revision identifier of IA32_VMX_BASIC[30:0] first. */
    *(uint32_t *)vmxon_region = (uint32_t)rdmsr(MSR_VMX_BASIC) & 0x7fffffff;
    const enum vmx_status s = vmxon(virt_pa(vmxon_region));
    if (s != VMX_SUCCEED) virt_abort("VMXON: %s", vmx_status_name(s));
    vmx_on = true;
}

uint32_t vmx_capability_msr(uint64_t field) {
    const bool true_msrs = rdmsr(MSR_VMX_BASIC) & VMX_BASIC_TRUE_CONTROLS;  /* A.1 */
    switch (field) {
    case VMCS_PIN_BASED_VM_EXECUTION_CONTROLS: return true_msrs ? MSR_VMX_TRUE_PINBASED_CTLS : MSR_VMX_PINBASED_CTLS;
    case VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS:
        return true_msrs ? MSR_VMX_TRUE_PROCBASED_CTLS : MSR_VMX_PROCBASED_CTLS;
    case VMCS_SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS: return MSR_VMX_PROCBASED_CTLS2;
    case VMCS_PRIMARY_VM_EXIT_CONTROLS: return true_msrs ? MSR_VMX_TRUE_EXIT_CTLS : MSR_VMX_EXIT_CTLS;
    case VMCS_VM_ENTRY_CONTROLS: return true_msrs ? MSR_VMX_TRUE_ENTRY_CTLS : MSR_VMX_ENTRY_CTLS;
    default: virt_abort("%s is not a control field with a capability MSR", vmcs_name(field));
    }
}

bool vmx_controls_set(uint64_t field, uint32_t set, uint32_t clear) {
    const uint64_t cap = rdmsr(vmx_capability_msr(field));
    const uint32_t must_be_1 = (uint32_t)cap, may_be_1 = (uint32_t)(cap >> 32);
    if ((set & ~may_be_1) || (clear & must_be_1)) return false;
    const uint32_t now = (uint32_t)vmcs_read(field);
    vmcs_write(field, ((now & ~clear) | set | must_be_1) & may_be_1);
    return true;
}

static void init_controls(void) {
    vmcs_write(VMCS_PIN_BASED_VM_EXECUTION_CONTROLS, 0);
    vmcs_write(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, 0);
    vmcs_write(VMCS_PRIMARY_VM_EXIT_CONTROLS, 0);
    vmcs_write(VMCS_VM_ENTRY_CONTROLS, 0);
    const bool ok = vmx_controls_set(VMCS_PIN_BASED_VM_EXECUTION_CONTROLS, 0, 0) &&
                    vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, 0, 0) &&
                    vmx_controls_set(VMCS_PRIMARY_VM_EXIT_CONTROLS, VMX_EXIT_HOST_ADDRESS_SPACE_SIZE, 0) &&
                    vmx_controls_set(VMCS_VM_ENTRY_CONTROLS, VMX_ENTRY_IA32E_MODE_GUEST, 0);
    if (!ok) virt_abort("VMX capability MSRs refuse a 64-bit host and guest");
    /* Every control field the default setup relies on is written, not assumed 0: what a
       VMCS holds after VMCLEAR is implementation-specific (SDM 25.11.3). */
    vmcs_write(VMCS_EXCEPTION_BITMAP, 0);
    vmcs_write(VMCS_PAGE_FAULT_ERROR_CODE_MASK, 0);
    vmcs_write(VMCS_PAGE_FAULT_ERROR_CODE_MATCH, 0);
    vmcs_write(VMCS_TSC_OFFSET, 0);
    vmcs_write(VMCS_CR0_GUEST_HOST_MASK, 0);  /* the guest owns every CR0/CR4 bit */
    vmcs_write(VMCS_CR4_GUEST_HOST_MASK, 0);
    vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
    vmcs_write(VMCS_VM_EXIT_MSR_STORE_COUNT, 0);
    vmcs_write(VMCS_VM_EXIT_MSR_LOAD_COUNT, 0);
    vmcs_write(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0);
    vmcs_write(VMCS_VM_ENTRY_INTERRUPTION_INFORMATION, 0);  /* nothing injected */
    vmcs_write(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0);
    vmcs_write(VMCS_VM_ENTRY_INSTRUCTION_LENGTH, 0);
}

/* Host state (SDM 25.5, checked by 27.2.3): what this processor runs with now; selectors
   with RPL and TI 0; the exit lands in vmx_exit_stub (HOST_RSP is written per entry). */
static void init_host_state(void) {
    vmcs_write(VMCS_HOST_CR0, read_cr0());
    vmcs_write(VMCS_HOST_CR3, read_cr3());
    vmcs_write(VMCS_HOST_CR4, read_cr4());
    vmcs_write(VMCS_HOST_CS_SELECTOR, read_cs() & 0xf8);
    vmcs_write(VMCS_HOST_SS_SELECTOR, read_ss() & 0xf8);
    vmcs_write(VMCS_HOST_DS_SELECTOR, read_ds() & 0xf8);
    vmcs_write(VMCS_HOST_ES_SELECTOR, read_es() & 0xf8);
    vmcs_write(VMCS_HOST_FS_SELECTOR, read_fs() & 0xf8);
    vmcs_write(VMCS_HOST_GS_SELECTOR, read_gs() & 0xf8);
    vmcs_write(VMCS_HOST_TR_SELECTOR, read_tr() & 0xf8);
    vmcs_write(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
    vmcs_write(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
    vmcs_write(VMCS_HOST_TR_BASE, segment_from_gdt(read_tr()).base);
    vmcs_write(VMCS_HOST_GDTR_BASE, read_gdtr().base);
    vmcs_write(VMCS_HOST_IDTR_BASE, read_idtr().base);
    vmcs_write(VMCS_HOST_IA32_SYSENTER_CS, rdmsr(MSR_SYSENTER_CS));
    vmcs_write(VMCS_HOST_IA32_SYSENTER_ESP, rdmsr(MSR_SYSENTER_ESP));
    vmcs_write(VMCS_HOST_IA32_SYSENTER_EIP, rdmsr(MSR_SYSENTER_EIP));
    vmcs_write(VMCS_HOST_RIP, (uint64_t)vmx_exit_stub);
}

/* One guest segment register from the host's GDT entry; a null selector is unusable. */
static void guest_segment(uint64_t selector_field, uint16_t selector) {
    const struct segment s = segment_from_gdt(selector);
    /* The fields of one register sit at the same index in the 16-bit selector, 32-bit limit,
       32-bit access-rights and natural base groups (SDM Appendix B: 0800h, 4800h, 4814h, 6806h). */
    const uint64_t index = selector_field - VMCS_GUEST_ES_SELECTOR;
    vmcs_write(selector_field, selector);
    vmcs_write(VMCS_GUEST_ES_LIMIT + index, s.limit);
    vmcs_write(VMCS_GUEST_ES_ACCESS_RIGHTS + index, s.attributes ? s.attributes : SEGMENT_UNUSABLE);
    vmcs_write(VMCS_GUEST_ES_BASE + index, s.base);
}

/* Guest state (SDM 25.4, checked by 27.3.1): a 64-bit ring-0 guest that shares the host's
   CR3, GDT, IDT and TSS and starts at the trampoline on its own stack. */
static void init_guest_state(struct vcpu *v) {
    vmcs_write(VMCS_GUEST_CR0, read_cr0());
    vmcs_write(VMCS_GUEST_CR3, read_cr3());
    vmcs_write(VMCS_GUEST_CR4, read_cr4());
    vmcs_write(VMCS_CR0_READ_SHADOW, read_cr0());
    vmcs_write(VMCS_CR4_READ_SHADOW, read_cr4());
    vmcs_write(VMCS_GUEST_DR7, 0x400);
    vmcs_write(VMCS_GUEST_RFLAGS, RFLAGS_FIXED);
    vmcs_write(VMCS_GUEST_RSP, (uint64_t)v->guest_stack_top);
    vmcs_write(VMCS_GUEST_RIP, (uint64_t)virt_guest_entry_vmx);
    guest_segment(VMCS_GUEST_ES_SELECTOR, read_es());
    guest_segment(VMCS_GUEST_CS_SELECTOR, read_cs());
    guest_segment(VMCS_GUEST_SS_SELECTOR, read_ss());
    guest_segment(VMCS_GUEST_DS_SELECTOR, read_ds());
    guest_segment(VMCS_GUEST_FS_SELECTOR, read_fs());
    guest_segment(VMCS_GUEST_GS_SELECTOR, read_gs());
    guest_segment(VMCS_GUEST_LDTR_SELECTOR, read_ldtr());
    guest_segment(VMCS_GUEST_TR_SELECTOR, read_tr());
    vmcs_write(VMCS_GUEST_FS_BASE, rdmsr(MSR_FS_BASE));
    vmcs_write(VMCS_GUEST_GS_BASE, rdmsr(MSR_GS_BASE));
    const struct descriptor_pointer gdtr = read_gdtr(), idtr = read_idtr();
    vmcs_write(VMCS_GUEST_GDTR_BASE, gdtr.base);
    vmcs_write(VMCS_GUEST_GDTR_LIMIT, gdtr.limit);
    vmcs_write(VMCS_GUEST_IDTR_BASE, idtr.base);
    vmcs_write(VMCS_GUEST_IDTR_LIMIT, idtr.limit);
    vmcs_write(VMCS_GUEST_IA32_SYSENTER_CS, rdmsr(MSR_SYSENTER_CS));
    vmcs_write(VMCS_GUEST_IA32_SYSENTER_ESP, rdmsr(MSR_SYSENTER_ESP));
    vmcs_write(VMCS_GUEST_IA32_SYSENTER_EIP, rdmsr(MSR_SYSENTER_EIP));
    vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, 0);
    vmcs_write(VMCS_GUEST_ACTIVITY_STATE, 0);  /* active */
    vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_STATE, 0);
    vmcs_write(VMCS_GUEST_PENDING_DEBUG_EXCEPTIONS, 0);
    vmcs_write(VMCS_VMCS_LINK_POINTER, ~0ull);  /* 27.3.1.5: no shadow VMCS */
}

void vmx_vcpu_setup(struct vcpu *v) {
    vmx_enable();
    v->vmcs = virt_alloc_pages(1);
    *(uint32_t *)v->vmcs = (uint32_t)rdmsr(MSR_VMX_BASIC) & 0x7fffffff;  /* 25.2 revision identifier */
    enum vmx_status s = vmclear(virt_pa(v->vmcs));
    if (s == VMX_SUCCEED) s = vmptrld(virt_pa(v->vmcs));
    if (s != VMX_SUCCEED) virt_abort("VMCLEAR/VMPTRLD of a new VMCS: %s", vmx_status_name(s));
    v->launched = false;
    init_controls();
    init_host_state();
    init_guest_state(v);
}

void vmx_vcpu_enter(struct vcpu *v) {
    struct virt_exit *e = &v->exit;
    memset(e, 0, sizeof *e);
    const int r = vmx_enter(&v->regs, v->launched);
    if (r == 1) {
        e->kind = VIRT_EXIT_VMFAIL_INVALID;
        return;
    }
    if (r == 2) {
        e->kind = VIRT_EXIT_VMFAIL_VALID;
        e->vm_instruction_error = instruction_error();
        return;
    }
    e->kind = VIRT_EXIT_VM_EXIT;
    e->vmx_exit_reason = (uint32_t)vmcs_read(VMCS_VM_EXIT_REASON);
    e->reason = e->vmx_exit_reason & 0xffff;
    /* A VM-entry failure (reason bit 31, SDM 27.8) leaves the VMCS unlaunched. */
    v->launched = v->launched || !(e->vmx_exit_reason & (1u << 31));
    e->qualification = vmcs_read(VMCS_EXIT_QUALIFICATION);
    e->info2 = vmcs_read(VMCS_GUEST_LINEAR_ADDRESS);
    e->guest_rip = vmcs_read(VMCS_GUEST_RIP);
    e->instruction_length = (uint32_t)vmcs_read(VMCS_VM_EXIT_INSTRUCTION_LENGTH);
    e->next_rip = e->instruction_length ? e->guest_rip + e->instruction_length : 0;
}

void vmx_vcpu_release(struct vcpu *v) {
    if (v->vmcs) vmclear(virt_pa(v->vmcs));
}
