/* SVM helpers: enabling SVM, the default VMCB of a test and one VMRUN/#VMEXIT.
   Context: ring 0, 64-bit, one CPU, interrupts off. */
#include "svm.h"

#include "x86.h"

void svm_enter(struct guest_regs *regs, uint64_t vmcb_pa, uint64_t host_save_pa);  /* svm_enter.S */

#define VM_CR_SVMDIS (1ull << 4)  /* APM 15.30.1 "VM_CR MSR" */
#define CPUID_SVM_NRIPS (1u << 3)

static uint8_t host_save_area[4096] __attribute__((aligned(4096)));  /* VM_HSAVE_PA: VMRUN's */
static uint8_t host_extra_state[4096] __attribute__((aligned(4096)));  /* VMSAVE/VMLOAD of the host */
static bool svm_on;

const char *svm_unsupported_reason(void) {
    uint32_t r[4];
    cpuid2(0x80000000, 0, r);
    if (r[0] < 0x8000000a) return "no SVM: CPUID 8000000Ah is not reported";
    cpuid2(0x80000001, 0, r);
    if (!(r[2] & (1u << 2))) return "no SVM: CPUID 80000001h:ECX[2] is 0";
    /* 15.4 "Enabling SVM": VM_CR.SVMDIS set means EFER.SVME cannot be set. */
    if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) return "SVM disabled: VM_CR.SVMDIS is 1";
    return NULL;
}

bool svm_has_nrip_save(void) {
    uint32_t r[4];
    cpuid2(0x8000000a, 0, r);
    return r[3] & CPUID_SVM_NRIPS;
}

void svm_enable(void) {
    if (svm_on) return;
    const char *why = svm_unsupported_reason();
    if (why) virt_abort("%s", why);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, virt_pa(host_save_area));  /* 15.30.4 "VM_HSAVE_PA MSR" */
    svm_on = true;
}

/* VMCB segment attributes pack descriptor bits 47:40 into 7:0 and 55:52 into 11:8
   (APM 15.5.1 "Basic Operation", "Segment State in the VMCB"). */
static void guest_segment(void *vmcb, unsigned selector_offset, uint16_t selector) {
    const struct segment s = segment_from_gdt(selector);
    *vmcb_u16(vmcb, selector_offset) = selector;
    *vmcb_u16(vmcb, selector_offset + 2) = (uint16_t)((s.attributes & 0xff) | ((s.attributes >> 4) & 0xf00));
    *vmcb_u32(vmcb, selector_offset + 4) = s.limit;
    *vmcb_u64(vmcb, selector_offset + 8) = s.base;
}

void svm_vcpu_setup(struct vcpu *v) {
    svm_enable();
    void *vmcb = v->vmcb = virt_alloc_pages(1);
    /* FS, GS, TR, LDTR (with their hidden parts), KernelGSbase, STAR, LSTAR, CSTAR, SFMASK and
       SYSENTER_* of this processor become the guest's (15.5.2 "VMSAVE and VMLOAD"). */
    __asm__ volatile("vmsave %%rax" : : "a"(virt_pa(vmcb)) : "memory");

    svm_intercept_set(vmcb, SVM_INTERCEPT_VMRUN);
    svm_intercept_set(vmcb, SVM_INTERCEPT_VMMCALL);
    *vmcb_u32(vmcb, VMCB_GUEST_ASID) = 1;  /* ASID 0 is the host's: VMRUN refuses it */
    *vmcb_u64(vmcb, VMCB_IOPM_BASE_PA) = virt_pa(virt_alloc_pages(3));  /* 12 KiB, nothing intercepted */
    *vmcb_u64(vmcb, VMCB_MSRPM_BASE_PA) = virt_pa(virt_alloc_pages(2));  /* 8 KiB */

    guest_segment(vmcb, VMCB_ES_SELECTOR, read_es());
    guest_segment(vmcb, VMCB_CS_SELECTOR, read_cs());
    guest_segment(vmcb, VMCB_SS_SELECTOR, read_ss());
    guest_segment(vmcb, VMCB_DS_SELECTOR, read_ds());
    const struct descriptor_pointer gdtr = read_gdtr(), idtr = read_idtr();
    *vmcb_u32(vmcb, VMCB_GDTR_LIMIT) = gdtr.limit;
    *vmcb_u64(vmcb, VMCB_GDTR_BASE) = gdtr.base;
    *vmcb_u32(vmcb, VMCB_IDTR_LIMIT) = idtr.limit;
    *vmcb_u64(vmcb, VMCB_IDTR_BASE) = idtr.base;
    *vmcb_u8(vmcb, VMCB_CPL) = 0;
    *vmcb_u64(vmcb, VMCB_EFER) = rdmsr(MSR_EFER);
    *vmcb_u64(vmcb, VMCB_CR0) = read_cr0();
    *vmcb_u64(vmcb, VMCB_CR3) = read_cr3();
    *vmcb_u64(vmcb, VMCB_CR4) = read_cr4();
    *vmcb_u64(vmcb, VMCB_DR6) = 0xffff0ff0;  /* architectural reset values */
    *vmcb_u64(vmcb, VMCB_DR7) = 0x400;
    *vmcb_u64(vmcb, VMCB_RFLAGS) = RFLAGS_FIXED;
    *vmcb_u64(vmcb, VMCB_RIP) = (uint64_t)virt_guest_entry_svm;
    *vmcb_u64(vmcb, VMCB_RSP) = (uint64_t)v->guest_stack_top;
    *vmcb_u64(vmcb, VMCB_G_PAT) = rdmsr(MSR_PAT);
}

void svm_vcpu_enter(struct vcpu *v) {
    void *vmcb = v->vmcb;
    struct virt_exit *e = &v->exit;
    *vmcb_u64(vmcb, VMCB_RAX) = v->regs.rax;
    svm_enter(&v->regs, virt_pa(vmcb), virt_pa(host_extra_state));
    v->regs.rax = *vmcb_u64(vmcb, VMCB_RAX);
    memset(e, 0, sizeof *e);
    e->kind = VIRT_EXIT_VM_EXIT;
    e->reason = *vmcb_u64(vmcb, VMCB_EXITCODE);
    e->qualification = *vmcb_u64(vmcb, VMCB_EXITINFO1);
    e->info2 = *vmcb_u64(vmcb, VMCB_EXITINFO2);
    e->guest_rip = *vmcb_u64(vmcb, VMCB_RIP);
    const uint64_t nrip = *vmcb_u64(vmcb, VMCB_NRIP);
    if (svm_has_nrip_save() && nrip > e->guest_rip && nrip - e->guest_rip <= 15) {
        e->next_rip = nrip;
        e->instruction_length = (uint32_t)(nrip - e->guest_rip);
    }
}
