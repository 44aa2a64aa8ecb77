/* svm_instructions: the SVM instructions in the host (AMD APM Vol. 3 "VMRUN", "VMLOAD",
   "VMSAVE", "VMMCALL", "STGI", "CLGI", "SKINIT"): their #UD and #GP conditions (EFER.SVME = 0,
   rAX not 4 KiB aligned or beyond MAXPHYADDR, VMMCALL outside a guest, SKINIT not modelled),
   and what VMSAVE/VMLOAD move (15.5.2: FS, GS, TR, LDTR with hidden state, KernelGsBase,
   STAR, LSTAR, CSTAR, SFMASK, SYSENTER_*). Each test runs in its init (no guest). */
#include "svm_expect.h"

static uint8_t area[4096] __attribute__((aligned(4096)));

/* The exception a host instruction raised: recorded, and the instruction skipped (length in
   `skip`). */
static struct {
    unsigned count;
    uint64_t vector, error;
    unsigned skip;
} fault;

static bool record_fault(struct exception_frame *f) {
    ++fault.count;
    fault.vector = f->vector;
    fault.error = f->error;
    f->rip += fault.skip;
    return true;
}

static void expect_fault_setup(unsigned skip) {
    memset(&fault, 0, sizeof fault);
    fault.skip = skip;
    virt_exception_hook = record_fault;
}

static enum virt_action expect_fault(struct vcpu *v, unsigned vector) {
    virt_exception_hook = NULL;
    VIRT_EXPECT(v, fault.count == 1, "%u exceptions, expected one", fault.count);
    VIRT_EXPECT(v, fault.vector == vector, "vector %lu, expected %u", fault.vector, vector);
    if (vector == 13) VIRT_EXPECT(v, fault.error == 0, "#GP error code %#lx, expected 0", fault.error);
    return VIRT_PASS;
}

/* 0F 01 D8 / DA / DB: rAX 8 bytes past a page boundary */
static enum virt_action vmrun_unaligned_init(struct vcpu *v) {
    expect_fault_setup(3);
    __asm__ volatile("clgi\n\tvmrun\n\tstgi" : : "a"(area + 8) : "memory");
    return expect_fault(v, 13);
}
static enum virt_action vmload_unaligned_init(struct vcpu *v) {
    expect_fault_setup(3);
    __asm__ volatile("vmload" : : "a"(area + 8) : "memory");
    return expect_fault(v, 13);
}
static enum virt_action vmsave_beyond_maxphyaddr_init(struct vcpu *v) {
    expect_fault_setup(3);
    __asm__ volatile("vmsave" : : "a"(1ull << 60) : "memory");
    return expect_fault(v, 13);
}
/* VMMCALL outside a guest: #UD (0F 01 D9) */
static enum virt_action vmmcall_host_init(struct vcpu *v) {
    expect_fault_setup(3);
    __asm__ volatile("vmmcall" ::: "memory");
    return expect_fault(v, 6);
}
/* SKINIT (0F 01 DE) is not modelled: #UD, as where CPUID 8000_0001h:ECX.SKINIT is 0 */
static enum virt_action skinit_init(struct vcpu *v) {
    expect_fault_setup(3);
    __asm__ volatile("skinit" : : "a"(area) : "memory");
    return expect_fault(v, 6);
}
/* With EFER.SVME clear, STGI (0F 01 DC) and VMSAVE are #UD. */
static enum virt_action svme_clear_init(struct vcpu *v) {
    const uint64_t efer = rdmsr(MSR_EFER);
    wrmsr(MSR_EFER, efer & ~EFER_SVME);
    expect_fault_setup(3);
    __asm__ volatile("stgi\n\tvmsave" : : "a"(area) : "memory");
    wrmsr(MSR_EFER, efer);
    virt_exception_hook = NULL;
    VIRT_EXPECT(v, fault.count == 2 && fault.vector == 6, "%u exceptions (last %lu), expected two #UD", fault.count,
                fault.vector);
    return VIRT_PASS;
}

/* VMSAVE stores the processor's KernelGsBase, STAR, LSTAR, SYSENTER_CS ...; VMLOAD loads them. */
static enum virt_action vmsave_vmload_init(struct vcpu *v) {
    const uint64_t kgs = rdmsr(MSR_KERNEL_GS_BASE), lstar = rdmsr(MSR_LSTAR);
    wrmsr(MSR_KERNEL_GS_BASE, 0x123456789000ull);
    __asm__ volatile("vmsave" : : "a"(area) : "memory");
    const uint64_t saved = *vmcb_u64(area, VMCB_KERNEL_GS_BASE);
    const uint16_t tr = *vmcb_u16(area, VMCB_TR_SELECTOR);
    *vmcb_u64(area, VMCB_LSTAR) = 0xffff800000001000ull;
    __asm__ volatile("vmload" : : "a"(area) : "memory");
    const uint64_t loaded = rdmsr(MSR_LSTAR);
    wrmsr(MSR_KERNEL_GS_BASE, kgs);
    wrmsr(MSR_LSTAR, lstar);
    VIRT_EXPECT(v, saved == 0x123456789000ull, "VMSAVE stored KernelGsBase %#lx", saved);
    VIRT_EXPECT(v, tr == read_tr(), "VMSAVE stored TR selector %#x, TR is %#x", tr, read_tr());
    VIRT_EXPECT(v, loaded == 0xffff800000001000ull, "after VMLOAD LSTAR is %#lx", loaded);
    return VIRT_PASS;
}

static void no_guest(void) {}

static const struct virt_test tests[] = {
    {"vmrun_rax_unaligned_gp", VIRT_SVM, vmrun_unaligned_init, no_guest, NULL, NULL},
    {"vmload_rax_unaligned_gp", VIRT_SVM, vmload_unaligned_init, no_guest, NULL, NULL},
    {"vmsave_rax_beyond_maxphyaddr_gp", VIRT_SVM, vmsave_beyond_maxphyaddr_init, no_guest, NULL, NULL},
    {"vmmcall_in_host_ud", VIRT_SVM, vmmcall_host_init, no_guest, NULL, NULL},
    {"skinit_ud", VIRT_SVM, skinit_init, no_guest, NULL, NULL},
    {"efer_svme_clear_ud", VIRT_SVM, svme_clear_init, no_guest, NULL, NULL},
    {"vmsave_vmload_round_trip", VIRT_SVM, vmsave_vmload_init, no_guest, NULL, NULL},
};

int main(void) {
    printf("svm_instructions: %u tests\n", (unsigned)ARRAY_SIZE(tests));
    return virt_run_tests(tests, ARRAY_SIZE(tests));
}
