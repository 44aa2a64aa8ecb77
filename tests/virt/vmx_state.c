/* vmx_state: state the VMM virtualizes: CR0 guest/host masks and read shadows, CLTS, LMSW and
   CR3-target values (SDM Vol. 3C 26.3, 26.1.3), the TPR shadow (30.3), TSC offsetting, EPT
   violations and misconfigurations (29.3.3), an unrestricted real-mode guest (27.3.1.1) and
   the VM-entry/VM-exit MSR lists (27.4, 28.4, 28.6). */
#include "lib/vmx_test.h"

#define CR0_TS (1ull << 3)
#define CR0_MP (1ull << 1)

/* ---- CR0 guest/host mask and read shadow ---- */
/* TS and MP are host-owned; the shadow says TS=1, MP as the real CR0. The guest reads CR0
   (TS=1 from the shadow), writes CR0 with TS=1 (equal to the shadow: no exit, the real TS
   keeps the host's 0), then writes TS=0 (differs from the shadow: exit 28, MOV to CR0 from RAX). */
static void guest_cr0(void) {
    uint64_t cr0;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    guest_value = cr0;
    __asm__ volatile("mov %%rax, %%cr0" : : "a"(cr0) : "memory");
    __asm__ volatile("mov %%rax, %%cr0" : : "a"(cr0 & ~CR0_TS) : "memory");
}
static enum virt_action init_cr0(struct vcpu *v) {
    (void)v;
    vmcs_write(VMCS_CR0_GUEST_HOST_MASK, CR0_TS | CR0_MP);
    vmcs_write(VMCS_CR0_READ_SHADOW, (read_cr0() & ~CR0_TS) | CR0_TS);
    vmcs_write(VMCS_GUEST_CR0, read_cr0() & ~CR0_TS);
    return VIRT_RESUME;
}
static enum virt_action handle_cr0(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_CONTROL_REGISTER_ACCESS);
    VIRT_EXPECT(v, e->qualification == 0, "qualification %#lx, expected 0 (CR0, MOV to CR, RAX)", e->qualification);
    VIRT_EXPECT(v, e->instruction_length == 3, "length %u", e->instruction_length);
    VIRT_EXPECT(v, guest_value & CR0_TS, "MOV from CR0 read TS=0: the read shadow was not used");
    VIRT_EXPECT(v, !(vmcs_read(VMCS_GUEST_CR0) & CR0_TS), "the host-owned TS changed without an exit");
    virt_skip_instruction(v, e);
    ++v->stage;
    return VIRT_RESUME;
}

/* CLTS with TS host-owned and TS=1 in the shadow exits (qualification type 2). */
static void guest_clts(void) { __asm__ volatile("clts"); }
static enum virt_action handle_clts(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_CONTROL_REGISTER_ACCESS);
    VIRT_EXPECT(v, e->qualification == 0x20, "qualification %#lx, expected 0x20 (CLTS)", e->qualification);
    virt_skip_instruction(v, e);
    ++v->stage;
    return VIRT_RESUME;
}

/* LMSW of a value whose MP differs from the shadow exits: type 3, source data in 31:16. */
static void guest_lmsw(void) { __asm__ volatile("lmsw %%ax" : : "a"((uint16_t)(read_cr0() ^ CR0_MP))); }
static enum virt_action init_lmsw(struct vcpu *v) {
    (void)v;
    vmcs_write(VMCS_CR0_GUEST_HOST_MASK, CR0_MP);
    vmcs_write(VMCS_CR0_READ_SHADOW, read_cr0());
    return VIRT_RESUME;
}
static enum virt_action handle_lmsw(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_CONTROL_REGISTER_ACCESS);
    const uint64_t source = (read_cr0() ^ CR0_MP) & 0xffff;
    VIRT_EXPECT(v, e->qualification == (0x30 | (source << 16)), "qualification %#lx, expected %#lx",
                e->qualification, 0x30 | (source << 16));
    virt_skip_instruction(v, e);
    ++v->stage;
    return VIRT_RESUME;
}

/* CR3-load exiting does not exit for a CR3-target value (26.1.3). */
static void guest_cr3_target(void) { __asm__ volatile("mov %%rax, %%cr3" : : "a"(read_cr3()) : "memory"); }
static enum virt_action init_cr3_target(struct vcpu *v) {
    if (!vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_CR3_LOAD_EXITING, 0))
        return virt_skip(v, "CR3-load exiting not allowed");
    vmcs_write(VMCS_CR3_TARGET_VALUE_1, read_cr3());
    vmcs_write(VMCS_CR3_TARGET_COUNT, 2);
    return VIRT_RESUME;
}

/* TPR shadow (SDM 30.3): MOV from CR8 reads VTPR[7:4] from the virtual-APIC page; MOV to CR8
   writes VTPR and, when VTPR[7:4] drops below the TPR threshold, exits with reason 43 after
   the instruction (trap-like). The APIC's own TPR never changes. */
static uint8_t *virtual_apic;
static enum virt_action init_tpr_shadow(struct vcpu *v, uint32_t vtpr, uint32_t threshold) {
    if (!vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_USE_TPR_SHADOW,
                          VMX_PROC_CR8_LOAD_EXITING | VMX_PROC_CR8_STORE_EXITING))
        return virt_skip(v, "TPR shadow not allowed");
    virtual_apic = virt_alloc_pages(1);
    virtual_apic[0x80] = (uint8_t)vtpr;
    vmcs_write(VMCS_VIRTUAL_APIC_ADDRESS, virt_pa(virtual_apic));
    vmcs_write(VMCS_TPR_THRESHOLD, threshold);
    guest_value = ~0ull;
    return VIRT_RESUME;
}
static void guest_read_cr8(void) {
    uint64_t v;
    __asm__ volatile("mov %%cr8, %0" : "=r"(v));
    guest_value = v;
}
static enum virt_action init_tpr_read(struct vcpu *v) { return init_tpr_shadow(v, 0x50, 0); }
static enum virt_action check_tpr_read(struct vcpu *v) {
    VIRT_EXPECT(v, guest_value == 5, "MOV from CR8 gave %#lx, expected VTPR[7:4] = 5", guest_value);
    return VIRT_PASS;
}
static void guest_write_cr8(void) { __asm__ volatile("mov %%rax, %%cr8" : : "a"(1ull)); }
static enum virt_action init_tpr_threshold(struct vcpu *v) { return init_tpr_shadow(v, 0x30, 3); }
static enum virt_action handle_tpr_threshold(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_TPR_BELOW_THRESHOLD);
    const uint8_t *at = (const uint8_t *)e->guest_rip;
    VIRT_EXPECT(v, at[-4] == 0x44 && at[-3] == 0x0f && at[-2] == 0x22, "exit RIP %#lx is not after MOV to CR8", e->guest_rip);
    VIRT_EXPECT(v, virtual_apic[0x80] == 0x10, "VTPR %#x, expected 0x10", virtual_apic[0x80]);
    VIRT_EXPECT(v, read_cr8() == 0, "the APIC's TPR changed to %#lx", read_cr8());
    vmcs_write(VMCS_TPR_THRESHOLD, 0);
    ++v->stage;
    return VIRT_RESUME;
}

/* ---- EPT ---- */
static uint8_t ept_page[4096] __attribute__((aligned(4096)));
static uint64_t ept_root;
static void guest_read_ept_page(void) { guest_value = *(volatile uint8_t *)ept_page; }
static enum virt_action init_ept(struct vcpu *v, uint64_t entry_bits) {
    ept_root = ept_identity_map();
    if (!vmx_use_ept(ept_root)) return virt_skip(v, "EPT not allowed");
    uint64_t *pte = ept_entry_4k(ept_root, virt_pa(ept_page));
    *pte = (*pte & ~7ull) | entry_bits;
    return VIRT_RESUME;
}
static enum virt_action init_ept_violation(struct vcpu *v) { return init_ept(v, 0); }  /* not present */
static enum virt_action init_ept_misconfig(struct vcpu *v) { return init_ept(v, 2); }  /* write-only */
static enum virt_action handle_ept_violation(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_EPT_VIOLATION);
    /* Table 28-7: data read (0), linear address valid (7), the final translation (8). */
    VIRT_EXPECT(v, e->qualification == 0x181, "qualification %#lx, expected 0x181", e->qualification);
    VIRT_EXPECT(v, vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS) == virt_pa(ept_page), "guest-physical %#lx",
                vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS));
    VIRT_EXPECT(v, e->info2 == (uint64_t)ept_page, "guest-linear %#lx", e->info2);
    uint64_t *pte = ept_entry_4k(ept_root, virt_pa(ept_page));
    *pte |= 7;  /* map it and let the guest retry */
    ++v->stage;
    return VIRT_RESUME;
}
static enum virt_action handle_ept_misconfig(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_EPT_MISCONFIGURATION);
    VIRT_EXPECT(v, vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS) == virt_pa(ept_page), "guest-physical %#lx",
                vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS));
    uint64_t *pte = ept_entry_4k(ept_root, virt_pa(ept_page));
    *pte |= 7;
    ++v->stage;
    return VIRT_RESUME;
}

/* ---- unrestricted guest: real mode, CR0.PE = PG = 0, with EPT ---- */
static uint8_t real_code[4096] __attribute__((aligned(4096)));
static enum virt_action init_real_mode(struct vcpu *v) {
    if (!vmx_use_ept(ept_identity_map()) || !vmx_secondary_set(VMX_PROC2_UNRESTRICTED_GUEST))
        return virt_skip(v, "unrestricted guest not allowed");
    vmx_controls_set(VMCS_VM_ENTRY_CONTROLS, 0, VMX_ENTRY_IA32E_MODE_GUEST);
    static const uint8_t code[] = {0xb8, 0x34, 0x12, 0x0f, 0x01, 0xc1};  /* mov $0x1234, %ax; vmcall */
    memcpy(real_code, code, sizeof code);
    vmcs_write(VMCS_GUEST_CR0, CR0_NE | (1u << 4));
    vmcs_write(VMCS_GUEST_CR4, CR4_VMXE);
    vmcs_write(VMCS_GUEST_IA32_EFER, 0);
    for (unsigned k = 0; k < 6; ++k) {  /* ES CS SS DS FS GS: real-mode segments */
        const uint64_t base = k == 1 ? virt_pa(real_code) : 0;
        vmcs_write(VMCS_GUEST_ES_SELECTOR + 2 * k, base >> 4);
        vmcs_write(VMCS_GUEST_ES_BASE + 2 * k, base);
        vmcs_write(VMCS_GUEST_ES_LIMIT + 2 * k, 0xffff);
        vmcs_write(VMCS_GUEST_ES_ACCESS_RIGHTS + 2 * k, k == 1 ? 0x9b : 0x93);
    }
    vmcs_write(VMCS_GUEST_TR_ACCESS_RIGHTS, 0x8b);
    vmcs_write(VMCS_GUEST_LDTR_ACCESS_RIGHTS, 0x10000);
    vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
    vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0x3ff);
    vmcs_write(VMCS_GUEST_GDTR_BASE, 0);
    vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0xffff);
    vmcs_write(VMCS_GUEST_RIP, 0);
    vmcs_write(VMCS_GUEST_RSP, 0x1000);
    return VIRT_RESUME;
}
static enum virt_action handle_real_mode(struct vcpu *v, const struct virt_exit *e) {
    if (e->vmx_exit_reason & (1u << 31))
        return virt_fail(v, "VM entry failed: reason %#x qualification %#lx", e->vmx_exit_reason, e->qualification);
    EXPECT_REASON(v, e, EXIT_REASON_VMCALL);
    VIRT_EXPECT(v, e->guest_rip == 3, "VMCALL at IP %#lx, expected 3", e->guest_rip);
    VIRT_EXPECT(v, (v->regs.rax & 0xffff) == 0x1234, "AX %#lx", v->regs.rax);
    VIRT_EXPECT(v, !(vmcs_read(VMCS_GUEST_CR0) & CR0_PE), "guest CR0.PE is 1");
    return VIRT_PASS;
}

/* ---- TSC offsetting and the VM-entry MSR-load list ---- */
#define TSC_OFFSET (1ull << 50)
static void guest_rdtsc_value(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    guest_value = ((uint64_t)hi << 32) | lo;
}
static enum virt_action init_tsc_offset(struct vcpu *v) {
    if (!vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_USE_TSC_OFFSETTING, 0))
        return virt_skip(v, "TSC offsetting not allowed");
    vmcs_write(VMCS_TSC_OFFSET, TSC_OFFSET);
    return VIRT_RESUME;
}
static enum virt_action check_tsc_offset(struct vcpu *v) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    const uint64_t host = ((uint64_t)hi << 32) | lo;
    VIRT_EXPECT(v, guest_value >= TSC_OFFSET && guest_value - TSC_OFFSET <= host, "guest TSC %#lx, host %#lx",
                guest_value, host);
    return VIRT_PASS;
}

static enum virt_action init_msr_load_failure(struct vcpu *v) {
    (void)v;
    uint64_t *list = virt_alloc_pages(1);
    list[0] = 0x174;  list[1] = 0;           /* entry 1: SYSENTER_CS = 0, fine */
    list[2] = 0xdeadbeef;  list[3] = 0;      /* entry 2: no such MSR */
    vmcs_write(VMCS_VM_ENTRY_MSR_LOAD_ADDRESS, virt_pa(list));
    vmcs_write(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 2);
    return VIRT_RESUME;
}
static enum virt_action handle_msr_load_failure(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_ENTRY_FAILURE_MSR_LOADING | (1u << 31));
    VIRT_EXPECT(v, e->qualification == 2, "qualification %lu, expected entry 2", e->qualification);
    return VIRT_PASS;
}

/* VM-exit MSR-store and MSR-load lists (28.4, 28.6): the guest sets IA32_SYSENTER_ESP (an empty
   MSR bitmap lets WRMSR through); the exit stores the guest's value into the store list and
   loads the host's value from the load list. */
#define GUEST_ESP 0xabcd0000ull
#define HOST_ESP 0x1234ull
static uint64_t *exit_store, *exit_load;
static uint64_t saved_esp;
static void guest_set_sysenter_esp(void) { wrmsr(0x175, GUEST_ESP); }
static enum virt_action init_exit_msr_lists(struct vcpu *v) {
    if (!vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_USE_MSR_BITMAPS, 0))
        return virt_skip(v, "MSR bitmaps not allowed");
    vmcs_write(VMCS_MSR_BITMAPS_ADDRESS, virt_pa(virt_alloc_pages(1)));
    saved_esp = rdmsr(0x175);
    exit_store = virt_alloc_pages(1);
    exit_load = virt_alloc_pages(1);
    exit_store[0] = 0x175;
    exit_load[0] = 0x175;
    exit_load[1] = HOST_ESP;
    vmcs_write(VMCS_VM_EXIT_MSR_STORE_ADDRESS, virt_pa(exit_store));
    vmcs_write(VMCS_VM_EXIT_MSR_STORE_COUNT, 1);
    vmcs_write(VMCS_VM_EXIT_MSR_LOAD_ADDRESS, virt_pa(exit_load));
    vmcs_write(VMCS_VM_EXIT_MSR_LOAD_COUNT, 1);
    return VIRT_RESUME;
}
static enum virt_action check_exit_msr_lists(struct vcpu *v) {
    const uint64_t host = rdmsr(0x175);
    wrmsr(0x175, saved_esp);
    VIRT_EXPECT(v, exit_store[1] == GUEST_ESP, "store list holds %#lx, expected the guest's %#llx", exit_store[1], GUEST_ESP);
    VIRT_EXPECT(v, host == HOST_ESP, "host SYSENTER_ESP %#lx after the exit, expected %#llx", host, HOST_ESP);
    VIRT_EXPECT(v, vmcs_read(VMCS_GUEST_IA32_SYSENTER_ESP) == GUEST_ESP, "guest-state SYSENTER_ESP %#lx",
                vmcs_read(VMCS_GUEST_IA32_SYSENTER_ESP));
    return VIRT_PASS;
}

static const struct virt_test tests[] = {
    {"vmx_cr0_mask_shadow_read_write", VIRT_VMX, init_cr0, guest_cr0, handle_cr0, check_one},
    {"vmx_cr0_clts_host_owned_ts", VIRT_VMX, init_cr0, guest_clts, handle_clts, check_one},
    {"vmx_cr0_lmsw_host_owned_mp", VIRT_VMX, init_lmsw, guest_lmsw, handle_lmsw, check_one},
    {"vmx_cr3_target_value_no_exit", VIRT_VMX, init_cr3_target, guest_cr3_target, handle_one, NULL},
    {"vmx_ept_violation_read", VIRT_VMX, init_ept_violation, guest_read_ept_page, handle_ept_violation, check_one},
    {"vmx_ept_misconfiguration_write_only", VIRT_VMX, init_ept_misconfig, guest_read_ept_page, handle_ept_misconfig, check_one},
    {"vmx_unrestricted_guest_real_mode", VIRT_VMX, init_real_mode, guest_nothing, handle_real_mode, never_finishes},
    {"vmx_tsc_offsetting", VIRT_VMX, init_tsc_offset, guest_rdtsc_value, handle_one, check_tsc_offset},
    {"vmx_tpr_shadow_mov_from_cr8", VIRT_VMX, init_tpr_read, guest_read_cr8, handle_one, check_tpr_read},
    {"vmx_tpr_below_threshold", VIRT_VMX, init_tpr_threshold, guest_write_cr8, handle_tpr_threshold, check_one},
    {"vmx_exit_msr_store_and_load_lists", VIRT_VMX, init_exit_msr_lists, guest_set_sysenter_esp, handle_one, check_exit_msr_lists},
    {"vmx_entry_msr_load_failure_34", VIRT_VMX, init_msr_load_failure, guest_nothing, handle_msr_load_failure, never_finishes},
};

int main(void) {
    printf("vmx_state: %u tests\n", (unsigned)ARRAY_SIZE(tests));
    return virt_run_tests(tests, ARRAY_SIZE(tests));
}
