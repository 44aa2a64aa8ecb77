/* svm_io_msr: the I/O and MSR permission maps (AMD APM Vol. 2 15.10 "I/O Intercepts", 15.11
   "MSR Intercepts") and CR/DR access intercepts (15.9, decode assists 15.33). EXITINFO1 of
   IOIO (Figure 15-2): PORT 31:16, SEG 12:10 (decode assists), A64/A32/A16 9:7, SZ32/16/8 6:4,
   REP 3, STR 2, TYPE 0 (1 = IN); EXITINFO2 = the next RIP. MSR: EXITINFO1 0 read, 1 write. */
#include "svm_expect.h"

#define IO_IN 1u
#define IO_STR (1u << 2)
#define IO_REP (1u << 3)
#define IO_SZ8 (1u << 4)
#define IO_SZ16 (1u << 5)
#define IO_SZ32 (1u << 6)
#define IO_A64 (1u << 9)
#define IO_SEG_DS (3u << 10)
#define DECODE_MOV_CR (1ull << 63)

static uint8_t scratch[64] __attribute__((aligned(16)));

static void iopm_set(struct vcpu *v, unsigned port) {
    uint8_t *map = (uint8_t *)*vmcb_u64(v->vmcb, VMCB_IOPM_BASE_PA);
    map[port / 8] |= (uint8_t)(1u << (port % 8));
}

/* MSRPM: three 2 KiB ranges (0000_0000h, C000_0000h, C001_0000h), two bits per MSR. */
static void msrpm_set(struct vcpu *v, uint32_t msr, bool write) {
    uint8_t *map = (uint8_t *)*vmcb_u64(v->vmcb, VMCB_MSRPM_BASE_PA);
    const uint32_t base = msr >= 0xc0010000u ? 0xc0010000u : msr >= 0xc0000000u ? 0xc0000000u : 0;
    const unsigned range = base == 0 ? 0 : base == 0xc0000000u ? 1 : 2;
    const unsigned bit = range * 0x4000 + (msr - base) * 2 + (write ? 1 : 0);
    map[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

#define GUEST(NAME, ASM, ...) \
    static void NAME##_guest(void) { __asm__ volatile(ASM __VA_ARGS__); }

#define IO_TEST(NAME, PORT, ASM_AND_OPERANDS, INFO1, DA_INFO1, LEN)                  \
    static const struct svm_expect NAME##_expect = {SVM_INTERCEPT_IOIO_PROT, SVM_EXIT_IOIO, INFO1, \
                                                    EXPECT_NEXT_RIP, LEN, true};    \
    static struct svm_expect NAME##_actual;                                          \
    static enum virt_action NAME##_init(struct vcpu *v) {                            \
        NAME##_actual = NAME##_expect;                                               \
        if (svm_has_feature(SVM_FEATURE_DECODE_ASSISTS)) NAME##_actual.info1 = (DA_INFO1); \
        if (svm_under_tcg()) {                                                       \
            printf("note: QEMU TCG deviation: IOIO EXITINFO1 without A16/A32/A64\n");  \
            NAME##_actual.info1 &= ~(uint64_t)IO_A64;                                \
        }                                                                            \
        v->data = &NAME##_actual;                                                    \
        svm_intercept_set(v->vmcb, SVM_INTERCEPT_IOIO_PROT);                         \
        iopm_set(v, PORT);                                                           \
        return VIRT_RESUME;                                                          \
    }                                                                                \
    static void NAME##_guest(void) { __asm__ volatile ASM_AND_OPERANDS; }

/* IN AL, 80h: E4 80 */
IO_TEST(in_byte_imm, 0x80, ("inb $0x80, %%al" : : : "rax"), (0x80u << 16) | IO_IN | IO_SZ8 | IO_A64,
        (0x80u << 16) | IO_IN | IO_SZ8 | IO_A64, 2)
/* OUT DX, AX: 66 EF */
IO_TEST(out_word_dx, 0x1234, ("outw %%ax, %%dx" : : "a"(0), "d"(0x1234)), (0x1234u << 16) | IO_SZ16 | IO_A64,
        (0x1234u << 16) | IO_SZ16 | IO_A64, 2)
/* IN EAX, 7Fh: E5 7F touches ports 7Fh-82h; only 81h is in the map */
IO_TEST(in_dword_spans_port, 0x81, ("inl $0x7f, %%eax" : : : "rax"), (0x7fu << 16) | IO_IN | IO_SZ32 | IO_A64,
        (0x7fu << 16) | IO_IN | IO_SZ32 | IO_A64, 2)
/* REP OUTSB: F3 6E, from DS:RSI */
IO_TEST(rep_outsb, 0x1235, ("rep outsb" : : "d"(0x1235), "S"(scratch), "c"(1) : "memory"),
        (0x1235u << 16) | IO_STR | IO_REP | IO_SZ8 | IO_A64, (0x1235u << 16) | IO_STR | IO_REP | IO_SZ8 | IO_A64 | IO_SEG_DS, 2)

/* A port outside the map does not exit. */
static void io_unmapped_guest(void) { __asm__ volatile("inb $0x82, %%al" : : : "rax"); }
static enum virt_action io_unmapped_init(struct vcpu *v) {
    svm_intercept_set(v->vmcb, SVM_INTERCEPT_IOIO_PROT);
    iopm_set(v, 0x80);
    return VIRT_RESUME;
}

/* RDMSR / WRMSR of STAR (C000_0081h): 0F 32 / 0F 30 */
#define MSR_TEST(NAME, MSR, WRITE, ASM_AND_OPERANDS)                                  \
    static const struct svm_expect NAME##_expect = {SVM_INTERCEPT_MSR_PROT, SVM_EXIT_MSR, WRITE, 0, 2, true}; \
    static enum virt_action NAME##_init(struct vcpu *v) {                            \
        v->data = (void *)&NAME##_expect;                                            \
        svm_intercept_set(v->vmcb, SVM_INTERCEPT_MSR_PROT);                          \
        if ((MSR) != 0x40000000u) msrpm_set(v, MSR, WRITE);                           \
        return VIRT_RESUME;                                                          \
    }                                                                                \
    static void NAME##_guest(void) { __asm__ volatile ASM_AND_OPERANDS; }

MSR_TEST(rdmsr_star, 0xc0000081u, 0, ("rdmsr" : : "c"(0xc0000081u) : "rax", "rdx"))
MSR_TEST(wrmsr_star, 0xc0000081u, 1,
         ("rdmsr\n\twrmsr" : : "c"(0xc0000081u) : "rax", "rdx"))  /* the RDMSR is not intercepted */
MSR_TEST(rdmsr_sysenter_cs, 0x174u, 0, ("rdmsr" : : "c"(0x174u) : "rax", "rdx"))
/* An MSR outside the three ranges always exits (15.11). */
MSR_TEST(rdmsr_outside_map, 0x40000000u, 0, ("rdmsr" : : "c"(0x40000000u) : "rax", "rdx"))

static void msr_unmapped_guest(void) { __asm__ volatile("rdmsr" : : "c"(0xc0000080u) : "rax", "rdx"); }
static enum virt_action msr_unmapped_init(struct vcpu *v) {
    svm_intercept_set(v->vmcb, SVM_INTERCEPT_MSR_PROT);
    msrpm_set(v, 0xc0000081u, false);
    return VIRT_RESUME;
}

/* ---- CR and DR accesses (15.9; decode assists: EXITINFO1[63] = MOV CRx, [3:0] = the GPR) ---- */
GUEST(cr0_read, "mov %%cr0, %%rax", : : : "rax")                   /* 0F 20 C0 */
SVM_EXPECT_INIT_DA(cr0_read, DECODE_MOV_CR | 0, SVM_INTERCEPT_CR0_READ, SVM_EXIT_CR0_READ, 0, 0, 3, true)
GUEST(cr3_read, "mov %%cr3, %%rbx", : : : "rbx")                   /* 0F 20 DB */
SVM_EXPECT_INIT_DA(cr3_read, DECODE_MOV_CR | 3, SVM_INTERCEPT_CR3_READ, SVM_EXIT_CR3_READ, 0, 0, 3, true)
GUEST(cr4_write, "mov %%cr4, %%rcx\n\tmov %%rcx, %%cr4", : : : "rcx")  /* 0F 22 E1 */
SVM_EXPECT_INIT_DA(cr4_write, DECODE_MOV_CR | 1, SVM_INTERCEPT_CR4_WRITE, SVM_EXIT_CR4_WRITE, 0, 0, 3, true)
GUEST(cr2_read, "mov %%cr2, %%rdx", : : : "rdx")                   /* 0F 20 D2 */
SVM_EXPECT_INIT_DA(cr2_read, DECODE_MOV_CR | 2, SVM_INTERCEPT_CR2_READ, SVM_EXIT_CR2_READ, 0, 0, 3, true)
GUEST(cr4_read, "mov %%cr4, %%rsi", : : : "rsi")                   /* 0F 20 E6 */
SVM_EXPECT_INIT_DA(cr4_read, DECODE_MOV_CR | 6, SVM_INTERCEPT_CR4_READ, SVM_EXIT_CR4_READ, 0, 0, 3, true)
GUEST(cr2_write, "xor %%ecx, %%ecx\n\tmov %%rcx, %%cr2", : : : "rcx")  /* 0F 22 D1 */
SVM_EXPECT_INIT_DA(cr2_write, DECODE_MOV_CR | 1, SVM_INTERCEPT_CR2_WRITE, SVM_EXIT_CR2_WRITE, 0, 0, 3, true)
GUEST(cr3_write, "mov %%cr3, %%rdi\n\tmov %%rdi, %%cr3", : : : "rdi")  /* 0F 22 DF */
SVM_EXPECT_INIT_DA(cr3_write, DECODE_MOV_CR | 7, SVM_INTERCEPT_CR3_WRITE, SVM_EXIT_CR3_WRITE, 0, 0, 3, true)
GUEST(cr8_read, "mov %%cr8, %%rax", : : : "rax")                   /* 44 0F 20 C0 */
SVM_EXPECT_INIT_DA(cr8_read, DECODE_MOV_CR | 0, SVM_INTERCEPT_CR8_READ, SVM_EXIT_CR8_READ, 0, 0, 4, true)
GUEST(cr8_write, "xor %%eax, %%eax\n\tmov %%rax, %%cr8", : : : "rax")  /* 44 0F 22 C0 */
SVM_EXPECT_INIT_DA(cr8_write, DECODE_MOV_CR | 0, SVM_INTERCEPT_CR8_WRITE, SVM_EXIT_CR8_WRITE, 0, 0, 4, true)
/* SMSW is a CR0 read, CLTS and LMSW are CR0 writes; no decode information (not MOV CRx). */
GUEST(smsw, "smsw %%eax", : : : "rax")                             /* 0F 01 E0 */
SVM_EXPECT_INIT(smsw, SVM_INTERCEPT_CR0_READ, SVM_EXIT_CR0_READ, 0, 0, 3, true)
GUEST(clts, "clts")                                                /* 0F 06 */
SVM_EXPECT_INIT(clts, SVM_INTERCEPT_CR0_WRITE, SVM_EXIT_CR0_WRITE, 0, 0, 2, true)
GUEST(lmsw, "smsw %%eax\n\tlmsw %%ax", : : : "rax")                 /* 0F 01 F0 */
SVM_EXPECT_INIT(lmsw, SVM_INTERCEPT_CR0_WRITE, SVM_EXIT_CR0_WRITE, 0, 0, 3, true)
/* Selective CR0 write (15.9.2): toggling TS or MP does not exit, toggling AM (bit 18) does. */
GUEST(cr0_sel_write,
      "mov %%cr0, %%rax\n\txor $8, %%rax\n\tmov %%rax, %%cr0\n\txor $8, %%rax\n\tmov %%rax, %%cr0\n\t"
      "xor $0x40000, %%rax\n\tmov %%rax, %%cr0", : : : "rax")      /* 0F 22 C0 */
SVM_EXPECT_INIT_DA(cr0_sel_write, DECODE_MOV_CR | 0, SVM_INTERCEPT_CR0_SEL_WRITE, SVM_EXIT_CR0_SEL_WRITE, 0, 0, 3, true)
/* The CR0 write intercept takes precedence over the selective one. */
GUEST(cr0_write_first, "mov %%cr0, %%rax\n\txor $0x40000, %%rax\n\tmov %%rax, %%cr0", : : : "rax")
SVM_EXPECT_INIT_DA(cr0_write_first, DECODE_MOV_CR | 0, SVM_INTERCEPT_CR0_WRITE, SVM_EXIT_CR0_WRITE, 0, 0, 3, true)
static enum virt_action cr0_write_both_init(struct vcpu *v) {
    svm_intercept_set(v->vmcb, SVM_INTERCEPT_CR0_SEL_WRITE);
    return cr0_write_first_init(v);
}
GUEST(dr7_read, "mov %%dr7, %%rbx", : : : "rbx")                   /* 0F 21 FB */
SVM_EXPECT_INIT_DA(dr7_read, 3, SVM_INTERCEPT_DR7_READ, SVM_EXIT_DR7_READ, 0, 0, 3, true)
GUEST(dr0_write, "xor %%ebx, %%ebx\n\tmov %%rbx, %%dr0", : : : "rbx")  /* 0F 23 C3 */
SVM_EXPECT_INIT_DA(dr0_write, 3, SVM_INTERCEPT_DR0_WRITE, SVM_EXIT_DR0_WRITE, 0, 0, 3, true)

GUEST(dr6_read, "mov %%dr6, %%rdx", : : : "rdx")                   /* 0F 21 F2 */
SVM_EXPECT_INIT_DA(dr6_read, 2, SVM_INTERCEPT_DR6_READ, SVM_EXIT_DR6_READ, 0, 0, 3, true)
GUEST(dr7_write, "mov %%dr7, %%rax\n\tmov %%rax, %%dr7", : : : "rax")  /* 0F 23 F8 */
SVM_EXPECT_INIT_DA(dr7_write, 0, SVM_INTERCEPT_DR7_WRITE, SVM_EXIT_DR7_WRITE, 0, 0, 3, true)

static enum virt_action no_exit_handler(struct vcpu *v, const struct virt_exit *e) {
    return virt_fail(v, "unexpected exit %s at rip %#lx", virt_exit_name(v, e), e->guest_rip);
}

static const struct virt_test tests[] = {
    SVM_EXPECT_TEST(in_byte_imm), SVM_EXPECT_TEST(out_word_dx), SVM_EXPECT_TEST(in_dword_spans_port),
    SVM_EXPECT_TEST(rep_outsb),
    {"io_unmapped_port", VIRT_SVM, io_unmapped_init, io_unmapped_guest, no_exit_handler, NULL},
    SVM_EXPECT_TEST(rdmsr_star), SVM_EXPECT_TEST(wrmsr_star), SVM_EXPECT_TEST(rdmsr_sysenter_cs),
    SVM_EXPECT_TEST(rdmsr_outside_map),
    {"msr_unmapped", VIRT_SVM, msr_unmapped_init, msr_unmapped_guest, no_exit_handler, NULL},
    SVM_EXPECT_TEST(cr0_read), SVM_EXPECT_TEST(cr2_read), SVM_EXPECT_TEST(cr3_read), SVM_EXPECT_TEST(cr4_read),
    SVM_EXPECT_TEST(cr2_write), SVM_EXPECT_TEST(cr3_write), SVM_EXPECT_TEST(dr6_read), SVM_EXPECT_TEST(dr7_write), SVM_EXPECT_TEST(cr4_write), SVM_EXPECT_TEST(cr8_read),
    SVM_EXPECT_TEST(cr8_write), SVM_EXPECT_TEST(smsw), SVM_EXPECT_TEST(clts), SVM_EXPECT_TEST(lmsw),
    SVM_EXPECT_TEST(cr0_sel_write), SVM_EXPECT_TEST(cr0_write_first),
    {"cr0_write_before_selective", VIRT_SVM, cr0_write_both_init, cr0_write_first_guest, svm_expect_handler,
     svm_expect_one_exit},
    SVM_EXPECT_TEST(dr7_read), SVM_EXPECT_TEST(dr0_write),
};

int main(void) {
    printf("svm_io_msr: %u tests\n", (unsigned)ARRAY_SIZE(tests));
    return virt_run_tests(tests, ARRAY_SIZE(tests));
}
