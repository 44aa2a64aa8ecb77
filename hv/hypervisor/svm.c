/* The AMD-V back-end: EFER.SVME and the host save area through the virt library
   (tests/virt/lib/svm.c), one VMCB per VP with nested paging, the exits the common core
   needs, normalised. Context: SVM host mode (GIF cleared around VMRUN), ring 0, 64-bit, one
   CPU, interrupts off. */
#include "hv.h"

#include "svm.h"
#include "x86.h"

/* NPT entries are long-mode page-table entries; NPT walks are user accesses (APM 15.25.5),
   so every level has P, R/W and U/S. */
#define NPT_PRESENT_WRITABLE_USER 0x7ull
#define NP_ENABLE 1ull                      /* VMCB 090h bit 0 (APM Table B-1) */
#define EVENTINJ_VALID (1ull << 31)         /* APM 15.20 "Event Injection" */
#define EVENTINJ_ERROR_VALID (1ull << 11)
#define EVENTINJ_TYPE_EXCEPTION (3ull << 8)
#define EVENTINJ_TYPE_INTR 0ull
#define V_IRQ (1ull << 8)                   /* VMCB 060h (APM 15.21.4 "Injecting Virtual Interrupts") */
#define V_IGN_TPR (1ull << 20)
#define RFLAGS_IF (1ull << 9)
#define TLB_CONTROL_FLUSH_ALL 1
#define CPUID_SVM_NP (1u << 0)              /* CPUID 8000000Ah:EDX[0] nested paging */
#define CPUID_SVM_PAUSE_FILTER (1u << 10)   /* CPUID 8000000Ah:EDX[10] pause filter */

/* PAUSEs one PAUSE exit stands for: the filter count, or 1 without a filter (every PAUSE exits). */
static unsigned pauses_per_exit = 1;

static const char *svm_enable_hv(void) {
    const char *why = svm_unsupported_reason();
    if (why) return why;
    uint32_t r[4];
    cpuid2(0x8000000a, 0, r);
    if (!(r[3] & CPUID_SVM_NP)) return "SVM without nested paging (CPUID 8000000Ah:EDX[0])";
    if (r[3] & CPUID_SVM_PAUSE_FILTER) pauses_per_exit = HV_PAUSE_YIELD_SPINS;
    svm_enable();
    return NULL;
}

static uint64_t svm_table_entry(uint64_t pa) { return pa | NPT_PRESENT_WRITABLE_USER; }
static uint64_t svm_leaf_entry(uint64_t pa) { return pa | NPT_PRESENT_WRITABLE_USER; }

/* The library's default VMCB (a 64-bit ring-0 guest) moved onto the partition: its page
   tables, GDT and TSS (hv/abi/partition.h), an empty IDT, nested paging with ASID = the
   partition id, and the intercepts of a Hyper-V partition: CPUID, HLT, MSRs (the permission
   map is zero: only MSRs outside its ranges, the synthetic ones, exit: APM 15.11), VMMCALL,
   shutdown, and for children every I/O port (a permission map of ones: APM 15.10.1) and
   PAUSE through the pause filter. */
static void svm_vp_setup(struct hv_vp *vp, uint64_t rip, uint64_t rsp, int is_root) {
    struct hv_partition *p = vp->partition;
    const uint64_t base = is_root ? HV_ROOT_BASE : 0;
    vp->hw.guest_stack_top = (void *)rsp;
    svm_vcpu_setup(&vp->hw);
    void *vmcb = vp->hw.vmcb;
    *vmcb_u64(vmcb, VMCB_RIP) = rip;
    *vmcb_u64(vmcb, VMCB_RSP) = rsp;
    *vmcb_u64(vmcb, VMCB_CR3) = base + HV_BOOT_PML4;
    *vmcb_u64(vmcb, VMCB_GDTR_BASE) = base + HV_BOOT_GDT;
    *vmcb_u32(vmcb, VMCB_GDTR_LIMIT) = 6 * 8 - 1;
    *vmcb_u64(vmcb, VMCB_IDTR_BASE) = 0;
    *vmcb_u32(vmcb, VMCB_IDTR_LIMIT) = 0;
    *vmcb_u16(vmcb, VMCB_TR_SELECTOR) = 0x20;
    *vmcb_u16(vmcb, VMCB_TR_ATTRIB) = 0x8b;  /* present, busy 64-bit TSS */
    *vmcb_u32(vmcb, VMCB_TR_LIMIT) = 0x67;
    *vmcb_u64(vmcb, VMCB_TR_BASE) = base + HV_BOOT_TSS;
    *vmcb_u32(vmcb, VMCB_GUEST_ASID) = (uint32_t)p->id;
    *vmcb_u64(vmcb, VMCB_NP_CONTROL) |= NP_ENABLE;
    *vmcb_u64(vmcb, VMCB_N_CR3) = virt_pa(p->slat_root);
    vp->hw.regs.rdi = p->id;
    vp->hw.regs.rsi = vp->index;
    svm_intercept_set(vmcb, SVM_INTERCEPT_CPUID);
    svm_intercept_set(vmcb, SVM_INTERCEPT_HLT);
    svm_intercept_set(vmcb, SVM_INTERCEPT_MSR_PROT);
    svm_intercept_set(vmcb, SVM_INTERCEPT_SHUTDOWN);
    if (!is_root) {
        /* PAUSE with the pause filter where there is one (APM 15.14.4): an exit after
           HV_PAUSE_YIELD_SPINS PAUSEs; without it every PAUSE exits. */
        svm_intercept_set(vmcb, SVM_INTERCEPT_PAUSE);
        *vmcb_u16(vmcb, VMCB_PAUSE_FILTER_COUNT) = pauses_per_exit > 1 ? (uint16_t)pauses_per_exit : 0;
        svm_intercept_set(vmcb, SVM_INTERCEPT_IOIO_PROT);
        memset((void *)*vmcb_u64(vmcb, VMCB_IOPM_BASE_PA), 0xff, 3 * 4096);
        /* The x2APIC IPI registers' writes: MSRs 0-1FFFh take two bits each from the start of
           the MSR permissions map, the write bit second (APM 15.11 Figure 15-3). */
        uint8_t *msrpm = (uint8_t *)*vmcb_u64(vmcb, VMCB_MSRPM_BASE_PA);
        static const uint32_t child_msrs[] = HV_CHILD_INTERCEPTED_MSRS;
        for (unsigned k = 0; k < sizeof child_msrs / sizeof child_msrs[0]; ++k)
            msrpm[(2 * child_msrs[k] + 1) / 8] |= (uint8_t)(1u << ((2 * child_msrs[k] + 1) % 8));
    }
}

static void svm_vp_run(struct hv_vp *vp, struct hv_exit *e) {
    svm_vcpu_enter(&vp->hw);
    void *vmcb = vp->hw.vmcb;
    *vmcb_u8(vmcb, VMCB_TLB_CONTROL) = 0;  /* a flush asked for by svm_slat_flush is done */
    const struct virt_exit *x = &vp->hw.exit;
    memset(e, 0, sizeof *e);
    e->raw_reason = x->reason;
    e->rip = x->guest_rip;
    e->cpl = *vmcb_u8(vmcb, VMCB_CPL);
    /* Lengths of the intercepted instructions we handle are fixed (CPUID 0F A2, RDMSR 0F 32,
       WRMSR 0F 30, HLT F4, VMMCALL 0F 01 D9); IOIO gives the next RIP in EXITINFO2 (APM 15.10.2). */
    switch ((int64_t)x->reason) {
    case SVM_EXIT_CPUID: e->kind = HV_EXIT_CPUID; e->length = 2; break;
    case SVM_EXIT_MSR: e->kind = x->qualification ? HV_EXIT_WRMSR : HV_EXIT_RDMSR; e->length = 2; break;
    case SVM_EXIT_HLT: e->kind = HV_EXIT_HLT; e->length = 1; break;
    case SVM_EXIT_VMMCALL: e->kind = HV_EXIT_HYPERCALL; e->length = 3; break;
    case SVM_EXIT_PAUSE:  /* F3 90; the filter, if any, let the others pass first */
        e->kind = HV_EXIT_PAUSE;
        e->length = 2;
        e->pauses = pauses_per_exit;
        break;
    case SVM_EXIT_SHUTDOWN: e->kind = HV_EXIT_SHUTDOWN; break;
    case SVM_EXIT_VINTR:  /* the guest can take an interrupt: drop the virtual one (15.21.4) */
        e->kind = HV_EXIT_INTERRUPT_WINDOW;
        *vmcb_u64(vmcb, VMCB_VINTR) &= ~(V_IRQ | V_IGN_TPR);
        svm_intercept_clear(vmcb, SVM_INTERCEPT_VINTR);
        break;
    case SVM_EXIT_IOIO:  /* EXITINFO1: APM 15.10.2 Figure 15-2 */
        e->kind = HV_EXIT_IO;
        e->is_in = x->qualification & 1;
        e->is_string = (x->qualification >> 2) & 1;
        e->size = (x->qualification & (1u << 6)) ? 4 : (x->qualification & (1u << 5)) ? 2 : 1;
        e->port = (uint16_t)(x->qualification >> 16);
        e->length = (unsigned)(x->info2 - x->guest_rip);
        break;
    case SVM_EXIT_NPF:
        e->kind = HV_EXIT_SLAT_VIOLATION;
        e->gpa = x->info2;
        break;
    default: e->kind = (int64_t)x->reason < 0 ? HV_EXIT_SHUTDOWN : HV_EXIT_OTHER; break;
    }
}

static void svm_vp_advance(struct hv_vp *vp, unsigned length) {
    *vmcb_u64(vp->hw.vmcb, VMCB_RIP) += length;
    *vmcb_u64(vp->hw.vmcb, VMCB_INTERRUPT_SHADOW) &= ~1ull;  /* the instruction completed */
}

static void svm_vp_inject_exception(struct hv_vp *vp, unsigned vector, int has_error, uint32_t error) {
    *vmcb_u64(vp->hw.vmcb, VMCB_EVENTINJ) = vector | EVENTINJ_TYPE_EXCEPTION | EVENTINJ_VALID |
                                            (has_error ? EVENTINJ_ERROR_VALID : 0) | ((uint64_t)error << 32);
}

/* EVENTINJ delivers an interrupt even with RFLAGS.IF = 0 (APM 15.20), so it is used only
   when the guest can take one; otherwise a virtual interrupt (V_IRQ, any priority) with the
   VINTR intercept exits when the guest could take it (APM 15.21.4). */
static int svm_vp_inject_interrupt(struct hv_vp *vp, unsigned vector) {
    void *vmcb = vp->hw.vmcb;
    const int open = (*vmcb_u64(vmcb, VMCB_RFLAGS) & RFLAGS_IF) && !(*vmcb_u64(vmcb, VMCB_INTERRUPT_SHADOW) & 1);
    if (!open) {
        *vmcb_u64(vmcb, VMCB_VINTR) |= V_IRQ | V_IGN_TPR;
        svm_intercept_set(vmcb, SVM_INTERCEPT_VINTR);
        return 0;
    }
    *vmcb_u64(vmcb, VMCB_EVENTINJ) = vector | EVENTINJ_TYPE_INTR | EVENTINJ_VALID;
    return 1;
}

/* A changed nested page table: flush this partition's ASID at its next VMRUN (APM 15.16.1). */
static void svm_slat_flush(struct hv_partition *p) {
    for (unsigned i = 0; i < HV_MAX_VPS; ++i)
        if (p->vps[i].hw.vmcb) *vmcb_u8(p->vps[i].hw.vmcb, VMCB_TLB_CONTROL) = TLB_CONTROL_FLUSH_ALL;
}

const struct hv_backend hv_svm_backend = {
    .name = "svm",
    .enable = svm_enable_hv,
    .slat_table_entry = svm_table_entry,
    .slat_leaf_entry = svm_leaf_entry,
    .vp_setup = svm_vp_setup,
    .vp_run = svm_vp_run,
    .vp_advance = svm_vp_advance,
    .vp_inject_exception = svm_vp_inject_exception,
    .vp_inject_interrupt = svm_vp_inject_interrupt,
    .slat_flush = svm_slat_flush,
    .hypercall_code = {0x0f, 0x01, 0xd9, 0xc3},  /* VMMCALL; RET */
};
