/* svm_npt: nested paging (AMD APM Vol. 2 15.25): a guest on identity nested page tables runs;
   #VMEXIT(NPF) (15.25.6) carries EXITINFO1 = the #PF-format error code (nested walks are user
   accesses: U/S set) with bit 32 (the final guest-physical address) or bit 33 (a guest page-
   table access) and EXITINFO2 = the faulting guest-physical address; TLB_CONTROL = 1 (15.16)
   makes a changed nested mapping visible. Needs NP (CPUID 8000_000Ah:EDX[0]). */
#include "svm_expect.h"

#define NPT_P 1ull
#define NPT_RW 2ull
#define NPT_US 4ull
#define NPT_PS 0x80ull
#define NPT_NX (1ull << 63)
#define NPT_ALL (NPT_P | NPT_RW | NPT_US)
#define NPF_FINAL (1ull << 32)
#define NPF_GUEST_TABLE (1ull << 33)
#define PF_P 1ull
#define PF_W 2ull
#define PF_U 4ull
#define PF_ID 0x10ull
#define EFER_NXE_BIT (1ull << 11)

static uint64_t *npt_pd;        /* 512 x 2 MiB: the first GiB */
static uint8_t *test_page;      /* a page of its own, mapped by a 4 KiB nested PTE */
static uint64_t *test_pte;
static struct svm_expect npf_expect;
static volatile uint64_t first_read, second_read;

/* Identity nested tables for the first GiB (2 MiB pages, user and writable); NP on. */
static void npt_setup(struct vcpu *v) {
    uint64_t *pml4 = virt_alloc_pages(1), *pdpt = virt_alloc_pages(1);
    npt_pd = virt_alloc_pages(1);
    pml4[0] = virt_pa(pdpt) | NPT_ALL;
    pdpt[0] = virt_pa(npt_pd) | NPT_ALL;
    for (uint64_t i = 0; i < 512; ++i) npt_pd[i] = (i << 21) | NPT_ALL | NPT_PS;
    *vmcb_u64(v->vmcb, VMCB_NP_CONTROL) |= 1;
    *vmcb_u64(v->vmcb, VMCB_N_CR3) = virt_pa(pml4);
}

/* Splits the 2 MiB nested page holding `pa` into 4 KiB pages; returns its PTE. */
static uint64_t *npt_pte(uint64_t pa) {
    const unsigned pde = (unsigned)(pa >> 21);
    if (npt_pd[pde] & NPT_PS) {
        uint64_t *pt = virt_alloc_pages(1);
        for (uint64_t j = 0; j < 512; ++j) pt[j] = (((uint64_t)pde << 21) + (j << 12)) | NPT_ALL;
        npt_pd[pde] = virt_pa(pt) | NPT_ALL;
    }
    uint64_t *pt = (uint64_t *)(npt_pd[pde] & 0x000ffffffffff000ull);
    return &pt[(pa >> 12) & 511];
}

static enum virt_action npt_common_init(struct vcpu *v) {
    if (!svm_has_feature(SVM_FEATURE_NP)) return svm_not_applicable(v, "nested paging is not advertised");
    npt_setup(v);
    test_page = virt_alloc_pages(1);
    test_pte = npt_pte(virt_pa(test_page));
    return VIRT_RESUME;
}

/* Decode assists (15.33.4): the bytes at the guest RIP the processor could fetch: all 15 for a
   data access, none when the fetch itself (or the guest walk for it) is what faulted. */
static unsigned expected_bytes;
static enum virt_action check_instruction_bytes(struct vcpu *v, const struct virt_exit *e) {
    if (!svm_has_feature(SVM_FEATURE_DECODE_ASSISTS)) return VIRT_RESUME;
    const unsigned n = *vmcb_u8(v->vmcb, VMCB_GUEST_INSTRUCTION_BYTES_FETCHED);
    VIRT_EXPECT(v, n == expected_bytes, "%u instruction bytes fetched, expected %u", n, expected_bytes);
    const uint8_t *bytes = vmcb_u8(v->vmcb, VMCB_GUEST_INSTRUCTION_BYTES), *code = (const uint8_t *)e->guest_rip;
    for (unsigned k = 0; k < n; ++k)
        VIRT_EXPECT(v, bytes[k] == code[k], "instruction byte %u is %#x, the code has %#x", k, bytes[k], code[k]);
    return VIRT_RESUME;
}

/* The expected #NPF; the handler then restores the PTE (TLB_CONTROL 1) and lets the guest go on. */
static enum virt_action npf_handler(struct vcpu *v, const struct virt_exit *e) {
    if (v->stage == 0 && check_instruction_bytes(v, e) != VIRT_RESUME) return VIRT_FAIL;
    const enum virt_action a = svm_expect_exit(v, e, &npf_expect);
    *test_pte = virt_pa(test_page) | NPT_ALL;
    *vmcb_u8(v->vmcb, VMCB_TLB_CONTROL) = 1;
    return a;
}

static void npt_read_guest(void) { first_read = *(volatile uint64_t *)test_page; }
static void npt_write_guest(void) { *(volatile uint64_t *)(test_page + 8) = 1; }
static void npt_exec_guest(void) { ((void (*)(void))test_page)(); }

#define NPF_TEST(NAME, PTE, GUEST, INFO1, OFFSET)                                          \
    static enum virt_action NAME##_init(struct vcpu *v) {                                \
        enum virt_action a = npt_common_init(v);                                         \
        if (a != VIRT_RESUME) return a;                                                  \
        test_page[0] = 0xc3; /* RET, for the execute case */                             \
        *test_pte = (PTE);                                                               \
        npf_expect = (struct svm_expect){~0u, SVM_EXIT_NPF, INFO1, virt_pa(test_page) + (OFFSET), 0, false}; \
        expected_bytes = (INFO1) & PF_ID ? 0 : 15;                                       \
        v->data = &npf_expect;                                                           \
        return VIRT_RESUME;                                                              \
    }
#define NPF(NAME, GUEST) {#NAME, VIRT_SVM, NAME##_init, GUEST, npf_handler, svm_expect_one_exit}

NPF_TEST(npf_not_present, 0, npt_read_guest, NPF_FINAL | PF_U, 0)
NPF_TEST(npf_write_to_read_only, virt_pa(test_page) | NPT_P | NPT_US, npt_write_guest, NPF_FINAL | PF_U | PF_W | PF_P, 8)
NPF_TEST(npf_supervisor_page, virt_pa(test_page) | NPT_P | NPT_RW, npt_read_guest, NPF_FINAL | PF_U | PF_P, 0)
NPF_TEST(npf_execute_no_execute, virt_pa(test_page) | NPT_ALL | NPT_NX, npt_exec_guest, NPF_FINAL | PF_U | PF_ID | PF_P, 0)

static enum virt_action npf_nx_init(struct vcpu *v) {
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE_BIT);  /* the nested tables follow the host's EFER.NXE */
    *vmcb_u64(v->vmcb, VMCB_EFER) |= EFER_NXE_BIT;
    return npf_execute_no_execute_init(v);
}

/* The guest's own PML4 (the host's CR3) read-only in the nested tables: the first guest walk
   writes it (A/D, 15.25.5: guest table accesses are writes at the nested level), bit 33. */
static uint64_t *pml4_pte;
static enum virt_action npf_guest_table_init(struct vcpu *v) {
    enum virt_action a = npt_common_init(v);
    if (a != VIRT_RESUME) return a;
    const uint64_t pml4 = read_cr3() & 0x000ffffffffff000ull;
    pml4_pte = npt_pte(pml4);
    *pml4_pte = pml4 | NPT_P | NPT_US;
    npf_expect = (struct svm_expect){~0u, SVM_EXIT_NPF, NPF_GUEST_TABLE | PF_U | PF_W | PF_P, EXPECT_ANY, 0, false};
    expected_bytes = 0;  /* the walk that faulted was the one for the instruction fetch */
    v->data = &npf_expect;
    return VIRT_RESUME;
}
static enum virt_action npf_guest_table_handler(struct vcpu *v, const struct virt_exit *e) {
    const uint64_t pml4 = read_cr3() & 0x000ffffffffff000ull;
    VIRT_EXPECT(v, v->stage > 0 || (e->info2 & ~0xfffull) == pml4, "EXITINFO2 %#lx is not in the guest PML4 page %#lx",
                e->info2, pml4);
    if (v->stage == 0 && check_instruction_bytes(v, e) != VIRT_RESUME) return VIRT_FAIL;
    const enum virt_action a = svm_expect_exit(v, e, &npf_expect);
    *pml4_pte = pml4 | NPT_ALL;
    *vmcb_u8(v->vmcb, VMCB_TLB_CONTROL) = 1;
    return a;
}

/* Identity nested tables: the guest runs and its accesses land where the host's would. */
static void npt_identity_guest(void) {
    *(volatile uint64_t *)(test_page + 16) = 0x1122334455667788ull;
    first_read = *(volatile uint64_t *)(test_page + 16);
}
static enum virt_action npt_identity_check(struct vcpu *v) {
    VIRT_EXPECT(v, first_read == 0x1122334455667788ull && *(uint64_t *)(test_page + 16) == 0x1122334455667788ull,
                "guest read %#lx", first_read);
    return VIRT_PASS;
}

/* TLB_CONTROL 1 after remapping the test page to another host page between two guest reads. */
static uint8_t *other_page;
static void tlb_guest(void) {
    first_read = *(volatile uint64_t *)test_page;
    __asm__ volatile("cpuid" : : "a"(0), "c"(0) : "rbx", "rdx", "memory");  /* 0F A2, intercepted */
    second_read = *(volatile uint64_t *)test_page;
}
static enum virt_action tlb_init(struct vcpu *v) {
    enum virt_action a = npt_common_init(v);
    if (a != VIRT_RESUME) return a;
    other_page = virt_alloc_pages(1);
    *(uint64_t *)test_page = 0xaaaa;
    *(uint64_t *)other_page = 0xbbbb;
    svm_intercept_set(v->vmcb, SVM_INTERCEPT_CPUID);
    return VIRT_RESUME;
}
static enum virt_action tlb_handler(struct vcpu *v, const struct virt_exit *e) {
    VIRT_EXPECT(v, e->reason == SVM_EXIT_CPUID && v->stage == 0, "exit %s at stage %u", virt_exit_name(v, e), v->stage);
    *test_pte = virt_pa(other_page) | NPT_ALL;
    *vmcb_u8(v->vmcb, VMCB_TLB_CONTROL) = 1;
    virt_set_guest_rip(v, e->guest_rip + 2);
    ++v->stage;
    return VIRT_RESUME;
}
static enum virt_action tlb_check(struct vcpu *v) {
    VIRT_EXPECT(v, first_read == 0xaaaa && second_read == 0xbbbb, "reads %#lx then %#lx, expected 0xaaaa then 0xbbbb",
                first_read, second_read);
    return VIRT_PASS;
}

/* #NPF while delivering a guest #UD (the IDT page not present in the nested tables): the
   exit reports the #UD in EXITINTINFO (15.7.2), EXITINFO2 = the gate's guest-physical address. */
static uint64_t *idt_pte;
static void ud_guest(void) { __asm__ volatile("ud2"); }
static enum virt_action npf_delivery_init(struct vcpu *v) {
    enum virt_action a = npt_common_init(v);
    if (a != VIRT_RESUME) return a;
    idt_pte = npt_pte(read_idtr().base);
    *idt_pte &= ~NPT_P;
    return VIRT_RESUME;
}
static enum virt_action npf_delivery_handler(struct vcpu *v, const struct virt_exit *e) {
    const uint64_t intinfo = *vmcb_u64(v->vmcb, VMCB_EXITINTINFO), gate = read_idtr().base + 6 * 16;
    *idt_pte |= NPT_P;
    VIRT_EXPECT(v, e->reason == SVM_EXIT_NPF, "EXITCODE %#lx (%s)", e->reason, svm_exit_name((long long)e->reason));
    VIRT_EXPECT(v, e->qualification == (NPF_FINAL | PF_U), "EXITINFO1 %#lx, expected %#llx", e->qualification, NPF_FINAL | PF_U);
    VIRT_EXPECT(v, (e->info2 & ~0xfull) == gate, "EXITINFO2 %#lx, expected the #UD gate at %#lx", e->info2, gate);
    VIRT_EXPECT(v, intinfo == (0x80000000ull | (3 << 8) | 6), "EXITINTINFO %#lx, expected the #UD (0x80000306)", intinfo);
    return VIRT_PASS;
}
static enum virt_action never_finishes(struct vcpu *v) { return virt_fail(v, "the guest finished"); }

static const struct virt_test tests[] = {
    {"npt_identity_runs", VIRT_SVM, npt_common_init, npt_identity_guest, NULL, npt_identity_check},
    NPF(npf_not_present, npt_read_guest), NPF(npf_write_to_read_only, npt_write_guest),
    NPF(npf_supervisor_page, npt_read_guest),
    {"npf_execute_no_execute", VIRT_SVM, npf_nx_init, npt_exec_guest, npf_handler, svm_expect_one_exit},
    {"npf_guest_page_table_walk", VIRT_SVM, npf_guest_table_init, npt_read_guest, npf_guest_table_handler, svm_expect_one_exit},
    {"npf_during_event_delivery_exitintinfo", VIRT_SVM, npf_delivery_init, ud_guest, npf_delivery_handler, never_finishes},
    {"tlb_control_flush_sees_new_nested_mapping", VIRT_SVM, tlb_init, tlb_guest, tlb_handler, tlb_check},
};

int main(void) {
    printf("svm_npt: %u tests\n", (unsigned)ARRAY_SIZE(tests));
    return virt_run_tests(tests, ARRAY_SIZE(tests));
}
