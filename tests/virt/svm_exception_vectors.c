/* svm_exception_vectors: the exception intercepts (AMD APM Vol. 2 15.12) of the vectors that
   svm_exceptions does not cover, each raised by the guest itself: EXITCODE 40h + vector,
   EXITINFO1 = the error code (0 without one), RIP at the faulting instruction (at the INTO for
   the #OF trap, like INT3, with NRIP after it). Vectors the model cannot raise: see
   docs/svm-coverage.md. */
#include "svm_expect.h"

#define GUEST(NAME, ASM, ...) \
    static void NAME##_guest(void) { __asm__ volatile(ASM __VA_ARGS__); }
#define CR0_NE (1ull << 5)
#define CR0_TS (1ull << 3)
#define CR0_AM (1ull << 18)
#define RFLAGS_AC (1ull << 18)
#define NON_CANONICAL 0x8000000000000000ull

static void not_used(void) {}

/* #DB: MOV from DR0 with DR7.GD set is a fault at the MOV (APM Vol. 2 13.1.1.5). 0F 21 C0. */
GUEST(db_general_detect, "mov %%rax, %%dr7\n\tmov %%dr0, %%rax", : : "a"(0x2400ull))
SVM_EXPECT_INIT(db_gd_expect_only, SVM_INTERCEPT_EXCEPTION1, SVM_EXIT_EXCP1, 0, 0, 3, false)
static enum virt_action db_general_detect_init(struct vcpu *v) {
    SVM_TCG_DEVIATION(v, "DR7.GD is ignored: MOV DR runs");
    return db_gd_expect_only_init(v);
}

/* #NM: FNINIT (DB E3) with CR0.TS set (SDM Vol. 3A Table 2-2). */
GUEST(nm, "fninit")
SVM_EXPECT_INIT(nm_expect_only, SVM_INTERCEPT_EXCEPTION7, SVM_EXIT_EXCP7, 0, 0, 2, false)
static enum virt_action nm_init(struct vcpu *v) {
    *vmcb_u64(v->vmcb, VMCB_CR0) |= CR0_TS;
    return nm_expect_only_init(v);
}

/* #SS(0): a non-canonical address through RSP (48 8B 1C 04: mov rbx, [rsp + rax]). */
GUEST(ss_non_canonical, "mov (%%rsp,%0,1), %%rbx", : : "a"(NON_CANONICAL) : "rbx")
SVM_EXPECT_INIT(ss_nc_expect_only, SVM_INTERCEPT_EXCEPTION12, SVM_EXIT_EXCP12, 0, 0, 4, false)
static enum virt_action ss_non_canonical_init(struct vcpu *v) {
    SVM_TCG_DEVIATION(v, "a non-canonical stack reference raises #GP, not #SS");
    return ss_nc_expect_only_init(v);
}

/* #GP(selector): MOV DS (8E D8) with a selector beyond the GDT limit. */
GUEST(gp_selector_beyond_gdt, "mov %0, %%ds", : : "a"(0xfff8))
SVM_EXPECT_INIT(gp_selector_beyond_gdt, SVM_INTERCEPT_EXCEPTION13, SVM_EXIT_EXCP13, 0xfff8, 0, 2, false)

/* A guest GDT: the host's plus one not-present writable data descriptor (P = 0), at the
   selector returned. */
static uint16_t guest_gdt_with_not_present_data(struct vcpu *v) {
    const struct descriptor_pointer host = read_gdtr();
    uint8_t *gdt = virt_alloc_pages(1);
    memcpy(gdt, (const void *)host.base, host.limit + 1u);
    const uint16_t selector = (uint16_t)((host.limit + 1u + 7u) & ~7u);
    const uint64_t not_present_data = 0x00cf13000000ffffull;  /* type 3 (RW, accessed), S, DPL 0, P = 0 */
    memcpy(gdt + selector, &not_present_data, 8);
    *vmcb_u64(v->vmcb, VMCB_GDTR_BASE) = virt_pa(gdt);
    *vmcb_u32(v->vmcb, VMCB_GDTR_LIMIT) = selector + 7u;
    return selector;
}

/* #NP(selector): MOV DS (8E D8) of the not-present descriptor. */
static uint16_t np_selector;
GUEST(np_segment_load, "mov %0, %%ds", : : "a"(np_selector))
SVM_EXPECT_INIT(np_expect_only, SVM_INTERCEPT_EXCEPTION11, SVM_EXIT_EXCP11, 0, 0, 2, false)
static struct svm_expect np_actual;
static enum virt_action np_segment_load_init(struct vcpu *v) {
    np_selector = guest_gdt_with_not_present_data(v);
    np_expect_only_init(v);
    np_actual = np_expect_only_expect;
    np_actual.info1 = np_selector;
    v->data = &np_actual;
    return VIRT_RESUME;
}

/* #SS(selector): MOV SS (8E D0) of the same not-present descriptor (SS takes #SS, not #NP). */
static uint16_t ss_selector;
GUEST(ss_segment_not_present, "mov %0, %%ss", : : "a"(ss_selector))
SVM_EXPECT_INIT(ss_np_expect_only, SVM_INTERCEPT_EXCEPTION12, SVM_EXIT_EXCP12, 0, 0, 2, false)
static struct svm_expect ss_np_actual;
static enum virt_action ss_segment_not_present_init(struct vcpu *v) {
    ss_selector = guest_gdt_with_not_present_data(v);
    ss_np_expect_only_init(v);
    ss_np_actual = ss_np_expect_only_expect;
    ss_np_actual.info1 = ss_selector;
    v->data = &ss_np_actual;
    return VIRT_RESUME;
}

/* A guest IDT: a copy of the host's, for the test to change. */
static uint8_t *guest_idt(struct vcpu *v) {
    const struct descriptor_pointer host = read_idtr();
    uint8_t *idt = virt_alloc_pages(1);
    memcpy(idt, (const void *)host.base, host.limit + 1u);
    *vmcb_u64(v->vmcb, VMCB_IDTR_BASE) = virt_pa(idt);
    return idt;
}
GUEST(divide_by_zero, "xor %%ecx, %%ecx\n\tdiv %%ecx", : : "a"(1), "d"(0) : "rcx")  /* F7 F1 at +2 */

/* #DF(0): #DE whose gate is not present gives #NP, a contributory exception during a
   contributory one (SDM Vol. 3A Table 6-5). Only #DF is intercepted. */
static const struct svm_expect df_expect = {SVM_INTERCEPT_EXCEPTION8, SVM_EXIT_EXCP8, 0, 0, 2, false};
static enum virt_action df_init(struct vcpu *v) {
    SVM_TCG_DEVIATION(v, "a #DF is never intercepted (it reaches the guest IDT)");
    guest_idt(v)[5] &= 0x7f;  /* gate 0: P = 0 */
    svm_intercept_set(v->vmcb, SVM_INTERCEPT_EXCEPTION8);
    v->data = (void *)&df_expect;
    return VIRT_RESUME;
}

/* #TS(TR selector | EXT): #UD through a gate with IST 1 while the guest TSS (limit 20h) is too
   short to hold IST1 (bytes 36-43, SDM Vol. 3A 8.7); EXT because an exception was being
   delivered (SDM Vol. 3A 6.13). #UD is benign, so the #TS is not merged into a #DF. */
GUEST(invalid_opcode, "ud2")
static struct svm_expect ts_expect = {SVM_INTERCEPT_EXCEPTION10, SVM_EXIT_EXCP10, 0, 0, 2, false};
static enum virt_action ts_init(struct vcpu *v) {
    guest_idt(v)[6 * 16 + 4] = 1;  /* gate 6: IST 1 */
    *vmcb_u32(v->vmcb, VMCB_TR_LIMIT) = 0x20;
    svm_intercept_set(v->vmcb, SVM_INTERCEPT_EXCEPTION10);
    ts_expect.info1 = (*vmcb_u16(v->vmcb, VMCB_TR_SELECTOR) & ~3u) | 1u;
    v->data = &ts_expect;
    return VIRT_RESUME;
}
static enum virt_action ts_handler(struct vcpu *v, const struct virt_exit *e) {
    if (svm_under_tcg() && e->reason == SVM_EXIT_EXCP10 && e->qualification == (ts_expect.info1 & ~1ull)) {
        printf("note: QEMU TCG deviation: #TS error code %#lx without EXT\n", e->qualification);
        ts_expect.info1 &= ~1ull;
    }
    return svm_expect_handler(v, e);
}

/* #MF: FWAIT (9B) with an unmasked pending x87 exception (FSW.ES, FSW.IE with FCW.IM = 0)
   loaded by FXRSTOR, CR0.NE = 1 (SDM Vol. 1 8.7). The x87 state is the host's too: the
   handler clears it with FNINIT. */
static uint8_t fx_area[512] __attribute__((aligned(16)));
GUEST(mf, "fxrstor (%0)\n\tfwait", : : "r"(fx_area) : "memory")
SVM_EXPECT_INIT(mf_expect_only, SVM_INTERCEPT_EXCEPTION16, SVM_EXIT_EXCP16, 0, 0, 1, false)
static enum virt_action mf_init(struct vcpu *v) {
    memset(fx_area, 0, sizeof fx_area);
    const uint16_t fcw = 0x037e, fsw = 0x0081;
    memcpy(fx_area, &fcw, 2);
    memcpy(fx_area + 2, &fsw, 2);
    *vmcb_u64(v->vmcb, VMCB_CR0) = (*vmcb_u64(v->vmcb, VMCB_CR0) | CR0_NE) & ~CR0_TS;
    return mf_expect_only_init(v);
}
static enum virt_action mf_handler(struct vcpu *v, const struct virt_exit *e) {
    __asm__ volatile("fninit");
    return svm_expect_handler(v, e);
}

/* Guests of raw code in 32-bit protected mode (flat, no paging), ending with VMMCALL: the
   handler expects the exception, skips the instruction, then passes at the VMMCALL. */
static enum virt_action then_vmmcall(struct vcpu *v, const struct virt_exit *e) {
    if (v->stage == 0 && e->reason == SVM_EXIT_VMMCALL && svm_under_tcg()) {
        printf("note: %s: QEMU TCG deviation: no exception, the guest reached its VMMCALL\n", v->test->name);
        return VIRT_PASS;
    }
    if (v->stage == 1 && e->reason == SVM_EXIT_VMMCALL) return VIRT_PASS;
    return svm_expect_handler(v, e);
}

/* #OF: INTO (CE) with OF = 1 (mov al, 7Fh: B0 7F; add al, 1: 04 01), a trap like INT3: RIP at
   the INTO, NRIP after it. INTO is #UD in 64-bit mode. */
static const struct svm_expect of_expect = {SVM_INTERCEPT_EXCEPTION4, SVM_EXIT_EXCP4, 0, 0, 1, true};
static enum virt_action of_init(struct vcpu *v) {
    SVM_TCG_DEVIATION(v, "INTO's #OF does not reach the #OF exception intercept (the run hangs)");
    static const uint8_t code[] = {0xb0, 0x7f, 0x04, 0x01, 0xce, 0x0f, 0x01, 0xd9};
    const uint64_t base = virt_pa(flat_guest(v, code, sizeof code, 0x11 /* PE, ET */));
    set_segment(v->vmcb, VMCB_CS_SELECTOR, 0x08, 0xc9b, 0xffffffff, base);
    set_segment(v->vmcb, VMCB_SS_SELECTOR, 0x10, 0xc93, 0xffffffff, 0);
    set_segment(v->vmcb, VMCB_DS_SELECTOR, 0x10, 0xc93, 0xffffffff, 0);
    *vmcb_u64(v->vmcb, VMCB_RSP) = base + 0xff0;
    svm_intercept_set(v->vmcb, SVM_INTERCEPT_EXCEPTION4);
    v->data = (void *)&of_expect;
    return VIRT_RESUME;
}

/* #AC(0): CPL 3, CR0.AM and RFLAGS.AC set, a doubleword read at an odd address
   (mov eax, [page + 1]: A1 imm32). */
static const struct svm_expect ac_expect = {SVM_INTERCEPT_EXCEPTION17, SVM_EXIT_EXCP17, 0, 0, 5, false};
static enum virt_action ac_init(struct vcpu *v) {
    uint8_t code[] = {0xa1, 0, 0, 0, 0, 0x0f, 0x01, 0xd9};
    uint8_t *page = flat_guest(v, code, sizeof code, 0x11 | CR0_AM);
    const uint64_t base = virt_pa(page);
    const uint32_t odd = (uint32_t)base + 0x801;
    memcpy(page + 1, &odd, 4);
    set_segment(v->vmcb, VMCB_CS_SELECTOR, 0x1b, 0xcfb, 0xffffffff, base);  /* code, DPL 3 */
    set_segment(v->vmcb, VMCB_SS_SELECTOR, 0x23, 0xcf3, 0xffffffff, 0);
    set_segment(v->vmcb, VMCB_DS_SELECTOR, 0x23, 0xcf3, 0xffffffff, 0);
    *vmcb_u8(v->vmcb, VMCB_CPL) = 3;
    *vmcb_u64(v->vmcb, VMCB_RSP) = base + 0xff0;
    *vmcb_u64(v->vmcb, VMCB_RFLAGS) = 2 | RFLAGS_AC;
    svm_intercept_set(v->vmcb, SVM_INTERCEPT_EXCEPTION17);
    v->data = (void *)&ac_expect;
    return VIRT_RESUME;
}

static const struct virt_test tests[] = {
    SVM_EXPECT_TEST(db_general_detect), SVM_EXPECT_TEST(nm), SVM_EXPECT_TEST(ss_non_canonical),
    SVM_EXPECT_TEST(gp_selector_beyond_gdt), SVM_EXPECT_TEST(np_segment_load), SVM_EXPECT_TEST(ss_segment_not_present),
    {"df", VIRT_SVM, df_init, divide_by_zero_guest, svm_expect_handler, svm_expect_one_exit},
    {"ts", VIRT_SVM, ts_init, invalid_opcode_guest, ts_handler, svm_expect_one_exit},
    {"mf", VIRT_SVM, mf_init, mf_guest, mf_handler, svm_expect_one_exit},
    {"of_into_protected32", VIRT_SVM, of_init, not_used, then_vmmcall, NULL},
    {"ac_cpl3", VIRT_SVM, ac_init, not_used, then_vmmcall, NULL},
};

int main(void) {
    printf("svm_exception_vectors: %u tests\n", (unsigned)ARRAY_SIZE(tests));
    return virt_run_tests(tests, ARRAY_SIZE(tests));
}
