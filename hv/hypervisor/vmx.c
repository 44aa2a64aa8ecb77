/* The Intel VT-x back-end: VMXON through the virt library (tests/virt/lib/vmx.c), one VMCS
   per VP with EPT, the exits the common core needs, normalised.
   Context: VMX root operation, ring 0, 64-bit, one CPU, interrupts off. */
#include "hv.h"

#include "vmx.h"
#include "x86.h"

/* Control bits: VMX_PROC_* / VMX_PROC2_* from sim/tables/vmx_controls.toml (through vmx.h). */
/* EPT entries (SDM 29.3.2): R/W/X in 2:0, memory type WB (6) in 5:3 of a leaf. */
#define EPT_RWX 0x7ull
#define EPT_MEMORY_TYPE_WB (6ull << 3)
/* EPTP (SDM 25.6.11): memory type WB in 2:0, page-walk length - 1 = 3 in 5:3. */
#define EPTP_WB_4_LEVEL 0x1eull
/* IA32_VMX_EPT_VPID_CAP (SDM A.10): the EPT features this hypervisor relies on. */
#define EPT_CAP_WALK_LENGTH_4 (1ull << 6)
#define EPT_CAP_WB (1ull << 14)
#define EPT_CAP_INVEPT (1ull << 20)
#define EPT_CAP_INVEPT_ALL_CONTEXT (1ull << 26)
#define EPT_CAP_NEEDED (EPT_CAP_WALK_LENGTH_4 | EPT_CAP_WB | EPT_CAP_INVEPT | EPT_CAP_INVEPT_ALL_CONTEXT)
#define INTERRUPTION_VALID (1u << 31)
#define INTERRUPTION_DELIVER_ERROR_CODE (1u << 11)
#define INTERRUPTION_TYPE_HARDWARE_EXCEPTION (3u << 8)
#define INTERRUPTION_TYPE_EXTERNAL 0u
#define RFLAGS_IF (1ull << 9)

/* The capability MSRs exist only as far as the ones before them say (SDM A.3.3: 48Bh needs
   the allowed 1-setting of "activate secondary controls"; A.10: 48Ch needs EPT or VPID). */
static const char *vmx_enable_hv(void) {
    const char *why = vmx_unsupported_reason();
    if (why) return why;
    if (!((rdmsr(MSR_VMX_PROCBASED_CTLS) >> 32) & VMX_PROC_ACTIVATE_SECONDARY_CONTROLS))
        return "VMX without secondary processor-based controls (IA32_VMX_PROCBASED_CTLS bit 63)";
    if (!((rdmsr(MSR_VMX_PROCBASED_CTLS2) >> 32) & VMX_PROC2_ENABLE_EPT))
        return "VMX without EPT (IA32_VMX_PROCBASED_CTLS2 bit 33)";
    if ((rdmsr(MSR_VMX_EPT_VPID_CAP) & EPT_CAP_NEEDED) != EPT_CAP_NEEDED)
        return "EPT without 4-level walks, write-back paging structures or all-context INVEPT (IA32_VMX_EPT_VPID_CAP)";
    vmx_enable();
    return NULL;
}

static uint64_t vmx_table_entry(uint64_t pa) { return pa | EPT_RWX; }
static uint64_t vmx_leaf_entry(uint64_t pa) { return pa | EPT_RWX | EPT_MEMORY_TYPE_WB; }

/* The current VMCS (SDM 24.1): VMPTRLD only when another VP's is. */
static void *current;

static void load(struct hv_vp *vp) {
    if (current == vp->hw.vmcs) return;
    if (vmptrld(virt_pa(vp->hw.vmcs)) != VMX_SUCCEED) virt_abort("hv: VMPTRLD of VP %u failed", vp->index);
    current = vp->hw.vmcs;
}

/* The library's default VMCS (a 64-bit ring-0 guest) moved onto the partition: its page
   tables, GDT and TSS (hv/abi/partition.h), an empty IDT, EPT, and the intercepts of a
   Hyper-V partition: CPUID (always), HLT, synthetic MSRs (outside the MSR bitmap's ranges:
   SDM 25.6.9), and for children every I/O port and every PAUSE (PAUSE exiting, SDM 26.1.3:
   the preset offers no PAUSE-loop exiting, so the hypervisor counts the spins itself). */
static void vmx_vp_setup(struct hv_vp *vp, uint64_t rip, uint64_t rsp, int is_root) {
    struct hv_partition *p = vp->partition;
    const uint64_t base = is_root ? HV_ROOT_BASE : 0;
    vp->hw.guest_stack_top = (void *)rsp;
    vmx_vcpu_setup(&vp->hw);  /* VMCLEAR and VMPTRLD: the new VMCS is current */
    current = vp->hw.vmcs;
    vmcs_write(VMCS_GUEST_RIP, rip);
    vmcs_write(VMCS_GUEST_RSP, rsp);
    vmcs_write(VMCS_GUEST_CR3, base + HV_BOOT_PML4);
    vmcs_write(VMCS_GUEST_GDTR_BASE, base + HV_BOOT_GDT);
    vmcs_write(VMCS_GUEST_GDTR_LIMIT, 6 * 8 - 1);
    vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
    vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0);
    vmcs_write(VMCS_GUEST_TR_BASE, base + HV_BOOT_TSS);
    vmcs_write(VMCS_GUEST_TR_LIMIT, 0x67);
    vp->hw.regs.rdi = p->id;
    vp->hw.regs.rsi = vp->index;
    if (!vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS,
                          VMX_PROC_HLT_EXITING | VMX_PROC_USE_MSR_BITMAPS |
                              (is_root ? 0 : VMX_PROC_UNCONDITIONAL_IO_EXITING | VMX_PROC_PAUSE_EXITING), 0) ||
        !vmx_use_ept(virt_pa(p->slat_root) | EPTP_WB_4_LEVEL))
        virt_abort("hv: the VMX capability MSRs refuse the partition's controls");
    /* MSR bitmaps (SDM 25.6.9): zero but the children's x2APIC IPI registers, whose write bits
       sit in the write bitmap for low MSRs (bytes 2048-3071). */
    uint8_t *bitmap = virt_alloc_pages(1);
    static const uint32_t child_msrs[] = HV_CHILD_INTERCEPTED_MSRS;
    for (unsigned k = 0; !is_root && k < sizeof child_msrs / sizeof child_msrs[0]; ++k)
        bitmap[2048 + child_msrs[k] / 8] |= (uint8_t)(1u << (child_msrs[k] % 8));
    vmcs_write(VMCS_MSR_BITMAPS_ADDRESS, virt_pa(bitmap));
}

static void vmx_vp_run(struct hv_vp *vp, struct hv_exit *e) {
    load(vp);
    vmx_vcpu_enter(&vp->hw);
    const struct virt_exit *x = &vp->hw.exit;
    memset(e, 0, sizeof *e);
    e->raw_reason = x->vmx_exit_reason;
    e->rip = x->guest_rip;
    e->length = x->instruction_length;
    e->cpl = (unsigned)(vmcs_read(VMCS_GUEST_SS_ACCESS_RIGHTS) >> 5) & 3;  /* SS.DPL is the CPL (SDM 27.3.1.2) */
    if (x->kind != VIRT_EXIT_VM_EXIT || (x->vmx_exit_reason & (1u << 31))) {
        /* VMfail (raw reason: the VM-instruction error) or a VM-entry failure: it cannot run. */
        e->kind = HV_EXIT_SHUTDOWN;
        if (x->kind != VIRT_EXIT_VM_EXIT) e->raw_reason = x->vm_instruction_error;
        return;
    }
    switch (x->reason) {
    case EXIT_REASON_CPUID: e->kind = HV_EXIT_CPUID; break;
    case EXIT_REASON_RDMSR: e->kind = HV_EXIT_RDMSR; break;
    case EXIT_REASON_WRMSR: e->kind = HV_EXIT_WRMSR; break;
    case EXIT_REASON_HLT: e->kind = HV_EXIT_HLT; break;
    case EXIT_REASON_VMCALL: e->kind = HV_EXIT_HYPERCALL; break;
    case EXIT_REASON_PAUSE: e->kind = HV_EXIT_PAUSE; e->pauses = 1; break;  /* every PAUSE (no PAUSE-loop exiting) */
    case EXIT_REASON_TRIPLE_FAULT: e->kind = HV_EXIT_SHUTDOWN; break;
    case EXIT_REASON_INTERRUPT_WINDOW:  /* the window is open: stop asking (SDM 26.7.5) */
        e->kind = HV_EXIT_INTERRUPT_WINDOW;
        vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, 0, VMX_PROC_INTERRUPT_WINDOW_EXITING);
        break;
    case EXIT_REASON_IO_INSTRUCTION:  /* qualification: SDM 28.2.1 Table 28-5 */
        e->kind = HV_EXIT_IO;
        e->size = (uint8_t)((x->qualification & 7) + 1);
        e->is_in = (x->qualification >> 3) & 1;
        e->is_string = (x->qualification >> 4) & 1;
        e->port = (uint16_t)(x->qualification >> 16);
        break;
    case EXIT_REASON_EPT_VIOLATION:
        e->kind = HV_EXIT_SLAT_VIOLATION;
        e->gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
        break;
    default: e->kind = HV_EXIT_OTHER; break;
    }
}

static void vmx_vp_advance(struct hv_vp *vp, unsigned length) {
    load(vp);
    vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + length);
    /* The instruction completed: blocking by STI / MOV SS ends (SDM 25.4.2 Table 25-3). */
    vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_STATE, vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_STATE) & ~3ull);
}

/* Event injection at the next VM entry (SDM 25.8.3, 27.6). */
static void vmx_vp_inject_exception(struct hv_vp *vp, unsigned vector, int has_error, uint32_t error) {
    load(vp);
    vmcs_write(VMCS_VM_ENTRY_INTERRUPTION_INFORMATION,
               vector | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | INTERRUPTION_VALID |
                   (has_error ? INTERRUPTION_DELIVER_ERROR_CODE : 0));
    vmcs_write(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, error);
}

/* An external interrupt is injected only into a guest that can take it (SDM 27.3.1.5: the
   entry check wants RFLAGS.IF = 1 and no blocking by STI or MOV SS); otherwise interrupt-
   window exiting brings the guest back when it can (SDM 25.6.2, 26.7.5). */
static int vmx_vp_inject_interrupt(struct hv_vp *vp, unsigned vector) {
    load(vp);
    const int open = (vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_IF) && !(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_STATE) & 3);
    if (!open) {
        if (!vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_INTERRUPT_WINDOW_EXITING, 0))
            virt_abort("hv: VMX without interrupt-window exiting");
        return 0;
    }
    vmcs_write(VMCS_VM_ENTRY_INTERRUPTION_INFORMATION, vector | INTERRUPTION_TYPE_EXTERNAL | INTERRUPTION_VALID);
    return 1;
}

/* INVEPT all-context (type 2, SDM 31.3 "INVEPT"): EPT-derived mappings are cached across VM
   exits and entries, so a changed EPT needs it. */
static void vmx_slat_flush(struct hv_partition *p) {
    (void)p;
    struct { uint64_t eptp, reserved; } descriptor = {0, 0};
    __asm__ volatile("invept %0, %1" : : "m"(descriptor), "r"(2ull) : "cc", "memory");
}

const struct hv_backend hv_vmx_backend = {
    .name = "vmx",
    .enable = vmx_enable_hv,
    .slat_table_entry = vmx_table_entry,
    .slat_leaf_entry = vmx_leaf_entry,
    .vp_setup = vmx_vp_setup,
    .vp_run = vmx_vp_run,
    .vp_advance = vmx_vp_advance,
    .vp_inject_exception = vmx_vp_inject_exception,
    .vp_inject_interrupt = vmx_vp_inject_interrupt,
    .slat_flush = vmx_slat_flush,
    .hypercall_code = {0x0f, 0x01, 0xc1, 0xc3},  /* VMCALL; RET */
};
