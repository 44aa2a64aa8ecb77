/* SVM fuzzer: FUZZ_ITERATIONS times, a fresh default VMCB gets 1-8 random mutations (an
   aligned 1/2/4/8-byte word anywhere in the control area or the state-save area, APM Vol. 2
   Appendix B), then VMRUN. The host state lives in the host save area, out of the fuzzer's
   reach. Exceptions, I/O, MSRs, HLT, shutdown and the physical events are always intercepted, so
   a guest that does run cannot reach the machine's devices; the guest RIP and RSP are kept (a
   flipped bit would run host code as the guest). The simulator must survive every attempt;
   EXITCODEs (mostly VMEXIT_INVALID) are counted. Acceptance of issue 5: 100,000 VMRUNs. */
#include "fuzz.h"
#include "svm.h"

#define VMCB_BYTES 0x1000

static void guest_returns(void) {}
void fuzz_guest_leaves(void);
__asm__(".globl fuzz_guest_leaves\nfuzz_guest_leaves: vmmcall\n ud2\n");

static bool protected_offset(unsigned offset, unsigned size) {
    const unsigned keep[] = {VMCB_RIP, VMCB_RSP};
    for (unsigned i = 0; i < ARRAY_SIZE(keep); ++i)
        if (offset < keep[i] + 8 && keep[i] < offset + size) return true;
    return false;
}

static void mutate_word(void *vmcb, uint64_t *rng) {
    const unsigned size = 1u << (fuzz_next(rng) % 4);
    const unsigned offset = (unsigned)(fuzz_next(rng) % VMCB_BYTES) & ~(size - 1);
    if (protected_offset(offset, size)) return;
    uint64_t value = 0;
    memcpy(&value, (char *)vmcb + offset, size);
    value = fuzz_mutate(rng, value);
    memcpy((char *)vmcb + offset, &value, size);
}

static void contain_guest(void *vmcb) {
    *vmcb_u32(vmcb, VMCB_INTERCEPT_EXCEPTIONS) = 0xffffffffu;
    const unsigned always[] = {SVM_INTERCEPT_IOIO_PROT, SVM_INTERCEPT_MSR_PROT, SVM_INTERCEPT_HLT,
                               SVM_INTERCEPT_SHUTDOWN, SVM_INTERCEPT_INTR, SVM_INTERCEPT_NMI,
                               SVM_INTERCEPT_INIT};
    for (unsigned i = 0; i < ARRAY_SIZE(always); ++i) svm_intercept_set(vmcb, always[i]);
}

int main(void) {
    const char *why = svm_unsupported_reason();
    if (why) {
        printf("SKIP svm_fuzz: %s\n", why);
        return 77;
    }
    svm_enable();
    printf("svm_fuzz: %u iterations\n", FUZZ_ITERATIONS);
    static struct vcpu v;
    static struct fuzz_histogram outcomes;
    uint64_t rng = FUZZ_SEED;
    const uint64_t guest_idt = fuzz_guest_idt(fuzz_guest_leaves);
    for (unsigned i = 0; i < FUZZ_ITERATIONS; ++i) {
        virt_pages_reset();
        memset(&v, 0, sizeof v);
        v.arch = VIRT_SVM;
        v.guest_stack_top = (char *)virt_alloc_pages(1) + 4096;
        v.regs.rdi = (uint64_t)guest_returns;
        svm_vcpu_setup(&v);
        *vmcb_u64(v.vmcb, VMCB_IDTR_BASE) = guest_idt;
        *vmcb_u32(v.vmcb, VMCB_IDTR_LIMIT) = 256 * 16 - 1;
        const unsigned mutations = 1 + fuzz_next(&rng) % 8;
        for (unsigned k = 0; k < mutations; ++k) mutate_word(v.vmcb, &rng);
        contain_guest(v.vmcb);
        svm_vcpu_enter(&v);
        fuzz_count(&outcomes, "EXITCODE", v.exit.reason);
    }
    printf("svm_fuzz: %u VMRUNs done; outcomes:\n", FUZZ_ITERATIONS);
    fuzz_print(&outcomes);
    printf("SUMMARY: svm_fuzz survived %u iterations\n", FUZZ_ITERATIONS);
    return 0;
}
