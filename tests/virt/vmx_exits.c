/* vmx_exits: one test per instruction VM exit hvsim's "modern" preset can produce (SDM Vol. 3C
   26.1 "Instructions That Cause VM Exits"), each with the exact exit reason (Appendix C),
   instruction length (fixed encodings below), exit qualification (28.2.1) and, where the SDM
   defines one, VM-exit instruction information (28.2.5). A table names each case: the
   controls it sets, the guest instruction, and what the exit must report. */
#include "lib/vmx.h"
#include "lib/x86.h"

#define ANY (~0ull)          /* qualification / information not checked */
#define PAGE_A 0x123000ull   /* an address operand (INVLPG) */

static uint8_t scratch[64] __attribute__((aligned(16)));   /* memory operands */
static uint64_t cr3_now;

/* Guests: one instruction each, with the registers the case needs. */
static void g_invd(void) { __asm__ volatile(".byte 0x0f, 0x08"); }                  /* INVD */
static void g_wbinvd(void) { __asm__ volatile("wbinvd"); }
static void g_invlpg(void) { __asm__ volatile("invlpg (%0)" : : "r"(PAGE_A) : "memory"); }
static void g_rdtsc(void) { __asm__ volatile("rdtsc" : : : "rax", "rdx"); }
static void g_rdtscp(void) { __asm__ volatile("rdtscp" : : : "rax", "rcx", "rdx"); }
static void g_rdpmc(void) { __asm__ volatile("rdpmc" : : "c"(0) : "rax", "rdx"); }
static void g_pause(void) { __asm__ volatile("pause"); }
static void g_mov_from_dr7(void) { __asm__ volatile("mov %%dr7, %%rax" : : : "rax"); }
static void g_mov_to_dr7(void) { __asm__ volatile("mov %%rbx, %%dr7" : : "b"(0x400ull)); }
static void g_mov_from_cr3(void) { __asm__ volatile("mov %%cr3, %%rax" : : : "rax"); }
static void g_mov_to_cr3(void) { __asm__ volatile("mov %%rax, %%cr3" : : "a"(cr3_now) : "memory"); }
static void g_mov_to_cr8(void) { __asm__ volatile("mov %%rax, %%cr8" : : "a"(0ull)); }
static void g_mov_from_cr8(void) { __asm__ volatile("mov %%cr8, %%rax" : : : "rax"); }
static void g_out_imm(void) { __asm__ volatile("outb %%al, $0x80" : : "a"(0)); }
static void g_in_dx(void) { __asm__ volatile("inb %%dx, %%al" : : "d"(0x71) : "rax"); }
static void g_outw_dx_b(void) { __asm__ volatile("outw %%ax, %%dx" : : "a"(0), "d"(0x8004)); }
static void g_rep_outsb(void) {
    __asm__ volatile("rep outsb" : : "S"(scratch), "c"(3), "d"(0x80) : "memory");
}
static void g_rdmsr_low(void) { __asm__ volatile("rdmsr" : : "c"(0x10) : "rax", "rdx"); }
static void g_rdmsr_high(void) { __asm__ volatile("rdmsr" : : "c"(0xc0000080u) : "rax", "rdx"); }
static void g_wrmsr_low(void) { __asm__ volatile("wrmsr" : : "c"(0x174), "a"(0), "d"(0)); }
static void g_sgdt(void) { __asm__ volatile("sgdt (%0)" : : "a"(scratch) : "memory"); }
static void g_str(void) { __asm__ volatile("str %%ax" : : : "rax"); }
static void g_vmptrst(void) { __asm__ volatile("vmptrst (%0)" : : "a"(scratch) : "memory"); }
static void g_vmread(void) { __asm__ volatile("vmread %%rax, %%rbx" : : "a"(0x4400ull) : "rbx", "cc"); }
static void g_vmwrite(void) { __asm__ volatile("vmwrite %%rax, %%rbx" : : "a"(0ull), "b"(0x4002ull) : "cc"); }
static void g_vmlaunch(void) { __asm__ volatile("vmlaunch" : : : "cc"); }
static void g_vmresume(void) { __asm__ volatile("vmresume" : : : "cc"); }
static void g_vmxoff(void) { __asm__ volatile("vmxoff" : : : "cc"); }
static void g_vmclear(void) { __asm__ volatile("vmclear (%0)" : : "a"(scratch) : "cc", "memory"); }
static void g_vmptrld(void) { __asm__ volatile("vmptrld (%0)" : : "a"(scratch) : "cc", "memory"); }
static void g_vmxon(void) { __asm__ volatile("vmxon (%0)" : : "a"(scratch) : "cc", "memory"); }
static void g_invept(void) { __asm__ volatile("invept (%0), %%rbx" : : "a"(scratch), "b"(2ull) : "cc", "memory"); }
static void g_invvpid(void) { __asm__ volatile("invvpid (%0), %%rbx" : : "a"(scratch), "b"(2ull) : "cc", "memory"); }

/* Instruction information of a memory operand [RAX] with 64-bit addressing and DS (28.2.5):
   address size 2 in 9:7, segment 3 in 17:15, no index (bit 22), base RAX (0 in 26:23). */
#define INFO_MEM_RAX (0x100u | (3u << 15) | (1u << 22))

struct exit_case {
    const char *name;
    void (*guest)(void);
    uint32_t proc, proc2;      /* controls to set (primary, secondary) */
    uint64_t reason, length, qualification, info;
    void (*setup)(struct vcpu *v);
};

static void setup_io_bitmaps(struct vcpu *v) {
    (void)v;
    uint8_t *a = virt_alloc_pages(1), *b = virt_alloc_pages(1);
    a[0x80 / 8] |= 1u << (0x80 % 8);      /* port 80h in bitmap A */
    b[0x0004 / 8] |= 1u << (0x0004 % 8);  /* port 8004h in bitmap B */
    vmcs_write(VMCS_IO_BITMAP_A_ADDRESS, virt_pa(a));
    vmcs_write(VMCS_IO_BITMAP_B_ADDRESS, virt_pa(b));
}

static void setup_msr_bitmaps(struct vcpu *v) {
    (void)v;
    uint8_t *m = virt_alloc_pages(1);  /* read-low 0, read-high 1024, write-low 2048, write-high 3072 */
    m[0x10 / 8] |= 1u << (0x10 % 8);
    m[1024 + 0x80 / 8] |= 1u << (0x80 % 8);
    m[2048 + 0x174 / 8] |= 1u << (0x174 % 8);
    vmcs_write(VMCS_MSR_BITMAPS_ADDRESS, virt_pa(m));
}

static void setup_cr3_current(struct vcpu *v) { (void)v; cr3_now = read_cr3(); }

static const struct exit_case cases[] = {
    /* reason, length, qualification (Tables 28-1..28-5), information */
    {"vmx_exit_invd", g_invd, 0, 0, EXIT_REASON_INVD, 2, 0, ANY, NULL},
    {"vmx_exit_wbinvd", g_wbinvd, 0, VMX_PROC2_WBINVD_EXITING, EXIT_REASON_WBINVD_OR_WBNOINVD, 2, 0, ANY, NULL},
    {"vmx_exit_invlpg_address", g_invlpg, VMX_PROC_INVLPG_EXITING, 0, EXIT_REASON_INVLPG, 3, PAGE_A, ANY, NULL},
    {"vmx_exit_rdtsc", g_rdtsc, VMX_PROC_RDTSC_EXITING, 0, EXIT_REASON_RDTSC, 2, 0, ANY, NULL},
    {"vmx_exit_rdtscp", g_rdtscp, VMX_PROC_RDTSC_EXITING, VMX_PROC2_ENABLE_RDTSCP, EXIT_REASON_RDTSCP, 3, 0, ANY, NULL},
    {"vmx_exit_rdpmc", g_rdpmc, VMX_PROC_RDPMC_EXITING, 0, EXIT_REASON_RDPMC, 2, 0, ANY, NULL},
    {"vmx_exit_pause", g_pause, VMX_PROC_PAUSE_EXITING, 0, EXIT_REASON_PAUSE, 2, 0, ANY, NULL},
    /* MOV DR (Table 28-4): DR 2:0, direction 4 (1 = from DR), register 11:8. */
    {"vmx_exit_mov_from_dr7_rax", g_mov_from_dr7, VMX_PROC_MOV_DR_EXITING, 0, EXIT_REASON_MOV_DR, 3, 0x17, ANY, NULL},
    {"vmx_exit_mov_to_dr7_rbx", g_mov_to_dr7, VMX_PROC_MOV_DR_EXITING, 0, EXIT_REASON_MOV_DR, 3, 0x307, ANY, NULL},
    /* Control registers (Table 28-3): CR 3:0, access type 5:4 (0 to CR, 1 from CR), register 11:8. */
    {"vmx_exit_mov_from_cr3_store_exiting", g_mov_from_cr3, VMX_PROC_CR3_STORE_EXITING, 0,
     EXIT_REASON_CONTROL_REGISTER_ACCESS, 3, 0x13, ANY, NULL},
    {"vmx_exit_mov_to_cr3_load_exiting", g_mov_to_cr3, VMX_PROC_CR3_LOAD_EXITING, 0,
     EXIT_REASON_CONTROL_REGISTER_ACCESS, 3, 0x03, ANY, setup_cr3_current},
    {"vmx_exit_mov_to_cr8_load_exiting", g_mov_to_cr8, VMX_PROC_CR8_LOAD_EXITING, 0,
     EXIT_REASON_CONTROL_REGISTER_ACCESS, 4, 0x08, ANY, NULL},
    {"vmx_exit_mov_from_cr8_store_exiting", g_mov_from_cr8, VMX_PROC_CR8_STORE_EXITING, 0,
     EXIT_REASON_CONTROL_REGISTER_ACCESS, 4, 0x18, ANY, NULL},
    /* I/O (Table 28-5): size-1 2:0, IN 3, string 4, REP 5, immediate 6, port 31:16. */
    {"vmx_exit_io_unconditional_out_imm8", g_out_imm, VMX_PROC_UNCONDITIONAL_IO_EXITING, 0,
     EXIT_REASON_IO_INSTRUCTION, 2, 0x00800040, ANY, NULL},
    {"vmx_exit_io_unconditional_in_dx", g_in_dx, VMX_PROC_UNCONDITIONAL_IO_EXITING, 0,
     EXIT_REASON_IO_INSTRUCTION, 1, 0x00710008, ANY, NULL},
    {"vmx_exit_io_bitmap_a_port_80", g_out_imm, VMX_PROC_USE_IO_BITMAPS, 0, EXIT_REASON_IO_INSTRUCTION, 2,
     0x00800040, ANY, setup_io_bitmaps},
    {"vmx_exit_io_bitmap_b_port_8004_word", g_outw_dx_b, VMX_PROC_USE_IO_BITMAPS, 0, EXIT_REASON_IO_INSTRUCTION, 2,
     0x80040001, ANY, setup_io_bitmaps},
    /* REP OUTSB: INS/OUTS information (Table 28-9): address size 64 (2 << 7), segment DS (3 << 15). */
    {"vmx_exit_io_rep_outsb_string_info", g_rep_outsb, VMX_PROC_UNCONDITIONAL_IO_EXITING, 0,
     EXIT_REASON_IO_INSTRUCTION, 2, 0x00800030, 0x100u | (3u << 15), NULL},
    {"vmx_exit_rdmsr_bitmap_read_low", g_rdmsr_low, VMX_PROC_USE_MSR_BITMAPS, 0, EXIT_REASON_RDMSR, 2, 0, ANY,
     setup_msr_bitmaps},
    {"vmx_exit_rdmsr_bitmap_read_high", g_rdmsr_high, VMX_PROC_USE_MSR_BITMAPS, 0, EXIT_REASON_RDMSR, 2, 0, ANY,
     setup_msr_bitmaps},
    {"vmx_exit_wrmsr_bitmap_write_low", g_wrmsr_low, VMX_PROC_USE_MSR_BITMAPS, 0, EXIT_REASON_WRMSR, 2, 0, ANY,
     setup_msr_bitmaps},
    {"vmx_exit_rdmsr_without_bitmaps", g_rdmsr_low, 0, 0, EXIT_REASON_RDMSR, 2, 0, ANY, NULL},
    /* Descriptor tables (Tables 28-10, 28-11): identity 29:28, operand size 11, register form 10. */
    {"vmx_exit_sgdt_info", g_sgdt, 0, VMX_PROC2_DESCRIPTOR_TABLE_EXITING, EXIT_REASON_GDTR_IDTR_ACCESS, 3, 0,
     INFO_MEM_RAX | (1u << 11), NULL},
    {"vmx_exit_str_register_info", g_str, 0, VMX_PROC2_DESCRIPTOR_TABLE_EXITING, EXIT_REASON_LDTR_TR_ACCESS, 4, 0,
     (1u << 10) | (1u << 28), NULL},
    /* VMX instructions in VMX non-root operation exit unconditionally (26.1.2). */
    {"vmx_exit_vmptrst", g_vmptrst, 0, 0, EXIT_REASON_VMPTRST, 3, 0, INFO_MEM_RAX, NULL},
    {"vmx_exit_vmread_register_info", g_vmread, 0, 0, EXIT_REASON_VMREAD, 3, 0, (1u << 10) | (3u << 3) | (0u << 28), NULL},
    {"vmx_exit_vmwrite_register_info", g_vmwrite, 0, 0, EXIT_REASON_VMWRITE, 3, 0, (1u << 10) | (0u << 3) | (3u << 28), NULL},
    {"vmx_exit_vmlaunch", g_vmlaunch, 0, 0, EXIT_REASON_VMLAUNCH, 3, 0, ANY, NULL},
    {"vmx_exit_vmresume", g_vmresume, 0, 0, EXIT_REASON_VMRESUME, 3, 0, ANY, NULL},
    {"vmx_exit_vmxoff", g_vmxoff, 0, 0, EXIT_REASON_VMXOFF, 3, 0, ANY, NULL},
    {"vmx_exit_vmclear", g_vmclear, 0, 0, EXIT_REASON_VMCLEAR, 4, 0, INFO_MEM_RAX, NULL},
    {"vmx_exit_vmptrld", g_vmptrld, 0, 0, EXIT_REASON_VMPTRLD, 3, 0, INFO_MEM_RAX, NULL},
    {"vmx_exit_vmxon", g_vmxon, 0, 0, EXIT_REASON_VMXON, 4, 0, INFO_MEM_RAX, NULL},
    {"vmx_exit_invept_info", g_invept, 0, 0, EXIT_REASON_INVEPT, 5, 0, INFO_MEM_RAX | (3u << 28), NULL},
    {"vmx_exit_invvpid_info", g_invvpid, 0, 0, EXIT_REASON_INVVPID, 5, 0, INFO_MEM_RAX | (3u << 28), NULL},
};

static struct virt_test tests[ARRAY_SIZE(cases)];

static const struct exit_case *case_of(const struct vcpu *v) { return &cases[v->test - tests]; }

/* The secondary controls the processor allows (0 without "activate secondary controls"). */
static uint32_t secondary_allowed(void) {
    if (!(rdmsr(MSR_VMX_PROCBASED_CTLS) & ((uint64_t)VMX_PROC_ACTIVATE_SECONDARY_CONTROLS << 32))) return 0;
    return (uint32_t)(rdmsr(MSR_VMX_PROCBASED_CTLS2) >> 32);
}

static enum virt_action init_case(struct vcpu *v) {
    const struct exit_case *c = case_of(v);
    /* INVEPT/INVVPID are #UD on a processor without EPT/VPID (SDM 31.3), not exits. */
    if (c->reason == EXIT_REASON_INVEPT && !(secondary_allowed() & VMX_PROC2_ENABLE_EPT))
        return virt_skip(v, "no EPT: INVEPT is #UD");
    if (c->reason == EXIT_REASON_INVVPID && !(secondary_allowed() & VMX_PROC2_ENABLE_VPID))
        return virt_skip(v, "no VPID: INVVPID is #UD");
    if (c->proc && !vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, c->proc, 0))
        return virt_skip(v, "primary control %#x not allowed", c->proc);
    if (c->proc2 && !vmx_secondary_set(c->proc2)) return virt_skip(v, "secondary control %#x not allowed", c->proc2);
    if (c->setup) c->setup(v);
    return VIRT_RESUME;
}

static enum virt_action handle_case(struct vcpu *v, const struct virt_exit *e) {
    const struct exit_case *c = case_of(v);
    VIRT_EXPECT(v, v->stage == 0, "a second exit: %s", virt_exit_name(v, e));
    VIRT_EXPECT(v, e->kind == VIRT_EXIT_VM_EXIT, "%s instead of a VM exit", virt_exit_name(v, e));
    VIRT_EXPECT(v, e->vmx_exit_reason == c->reason, "exit reason %#x (%s), expected %lu (%s)", e->vmx_exit_reason,
                exit_reason_name(e->reason), c->reason, exit_reason_name(c->reason));
    VIRT_EXPECT(v, e->instruction_length == c->length, "instruction length %u, expected %lu", e->instruction_length,
                c->length);
    VIRT_EXPECT(v, c->qualification == ANY || e->qualification == c->qualification,
                "exit qualification %#lx, expected %#lx", e->qualification, c->qualification);
    /* INS/OUTS information only with IA32_VMX_BASIC[54] (A.1). */
    const bool info_defined = c->reason != EXIT_REASON_IO_INSTRUCTION || (rdmsr(MSR_VMX_BASIC) & (1ull << 54));
    if (c->info != ANY && info_defined) {
        const uint64_t info = vmcs_read(VMCS_VM_EXIT_INSTRUCTION_INFORMATION);
        VIRT_EXPECT(v, info == c->info, "instruction information %#lx, expected %#lx", info, c->info);
    }
    virt_skip_instruction(v, e);
    ++v->stage;
    return VIRT_RESUME;
}

static enum virt_action check_case(struct vcpu *v) {
    VIRT_EXPECT(v, v->stage == 1, "the guest finished without the exit");
    return VIRT_PASS;
}

int main(void) {
    for (unsigned k = 0; k < ARRAY_SIZE(cases); ++k)
        tests[k] = (struct virt_test){cases[k].name, VIRT_VMX, init_case, cases[k].guest, handle_case, check_case};
    printf("vmx_exits: %u tests\n", (unsigned)ARRAY_SIZE(tests));
    return virt_run_tests(tests, ARRAY_SIZE(tests));
}
