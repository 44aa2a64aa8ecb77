/* vmx_events: events in VMX non-root operation: the exception bitmap with the #PF error-code
   rule (SDM Vol. 3C 26.2, 25.6.3), VM-entry event injection of every type (27.6), IDT-vectoring
   information (28.2.4), triple fault, interrupt- and NMI-window exiting (26.7.5-6), the
   VMX-preemption timer (26.5.1) and the HLT activity state, the monitor trap flag (26.5.2),
   external interrupts from the APIC timer with "acknowledge interrupt on exit" (28.2.2), NMI
   exiting and INIT from self-IPIs. */
#include "lib/vmx_test.h"

#define UNMAPPED 0x40000000ull  /* the library maps the first GiB only */

/* ---- the exception bitmap ---- */
static void guest_ud2(void) { __asm__ volatile("ud2"); }
static enum virt_action init_bitmap_ud(struct vcpu *v) {
    (void)v;
    vmcs_write(VMCS_EXCEPTION_BITMAP, 1u << 6);
    return VIRT_RESUME;
}
static enum virt_action handle_ud(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_EXCEPTION_OR_NMI);
    const uint64_t info = vmcs_read(VMCS_VM_EXIT_INTERRUPTION_INFORMATION);
    VIRT_EXPECT(v, info == (INFO_VALID | TYPE(3) | 6), "interruption information %#lx, expected #UD type 3", info);
    virt_set_guest_rip(v, e->guest_rip + 2);
    ++v->stage;
    return VIRT_RESUME;
}

/* RDTSCP without "enable RDTSCP" is #UD (SDM 26.3), here caught by the exception bitmap. */
static void guest_rdtscp(void) { __asm__ volatile("rdtscp" : : : "rax", "rcx", "rdx"); }

static enum virt_action handle_ud_rdtscp(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_EXCEPTION_OR_NMI);
    const uint64_t info = vmcs_read(VMCS_VM_EXIT_INTERRUPTION_INFORMATION);
    VIRT_EXPECT(v, info == (INFO_VALID | TYPE(3) | 6), "interruption information %#lx, expected #UD", info);
    virt_set_guest_rip(v, e->guest_rip + 3);
    ++v->stage;
    return VIRT_RESUME;
}

static void guest_int3(void) { __asm__ volatile("int3"); }
static enum virt_action init_bitmap_bp(struct vcpu *v) {
    (void)v;
    vmcs_write(VMCS_EXCEPTION_BITMAP, 1u << 3);
    return VIRT_RESUME;
}
static enum virt_action handle_bp(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_EXCEPTION_OR_NMI);
    const uint64_t info = vmcs_read(VMCS_VM_EXIT_INTERRUPTION_INFORMATION);
    VIRT_EXPECT(v, info == (INFO_VALID | TYPE(6) | 3), "interruption information %#lx, expected #BP type 6", info);
    VIRT_EXPECT(v, e->instruction_length == 1, "INT3 length %u", e->instruction_length);
    virt_skip_instruction(v, e);
    ++v->stage;
    return VIRT_RESUME;
}

/* #PF: bit 14 set; mask P, match 0: a not-present fault (error 0) matches and exits with the
   address as qualification. With match = P it does not match, so the bit's meaning flips and
   the fault goes to the guest (its handler skips the 3-byte load). */
static void guest_pf(void) { __asm__ volatile("mov (%%rax), %%rbx" : : "a"(UNMAPPED) : "rbx", "memory"); }
static bool skip_load(struct exception_frame *f) {
    record_exception(f);
    f->rip += 3;
    return true;
}
static enum virt_action init_pf(struct vcpu *v, uint32_t match) {
    (void)v;
    seen_count = 0;
    virt_exception_hook = skip_load;
    vmcs_write(VMCS_EXCEPTION_BITMAP, 1u << 14);
    vmcs_write(VMCS_PAGE_FAULT_ERROR_CODE_MASK, 1);
    vmcs_write(VMCS_PAGE_FAULT_ERROR_CODE_MATCH, match);
    return VIRT_RESUME;
}
static enum virt_action init_pf_match(struct vcpu *v) { return init_pf(v, 0); }
static enum virt_action init_pf_nomatch(struct vcpu *v) { return init_pf(v, 1); }
static enum virt_action handle_pf(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_EXCEPTION_OR_NMI);
    const uint64_t info = vmcs_read(VMCS_VM_EXIT_INTERRUPTION_INFORMATION);
    VIRT_EXPECT(v, info == (INFO_VALID | ERROR_VALID | TYPE(3) | 14), "interruption information %#lx", info);
    VIRT_EXPECT(v, vmcs_read(VMCS_VM_EXIT_INTERRUPTION_ERROR_CODE) == 0, "error code");
    VIRT_EXPECT(v, e->qualification == UNMAPPED, "qualification %#lx, expected the address", e->qualification);
    virt_set_guest_rip(v, e->guest_rip + 3);
    ++v->stage;
    return VIRT_RESUME;
}
static enum virt_action check_pf_nomatch(struct vcpu *v) {
    virt_exception_hook = NULL;
    VIRT_EXPECT(v, seen_count == 1 && seen_vector == 14, "the guest saw %lu exceptions (last %lu)", seen_count, seen_vector);
    return VIRT_PASS;
}
static enum virt_action check_pf_match(struct vcpu *v) {
    virt_exception_hook = NULL;
    VIRT_EXPECT(v, seen_count == 0, "the guest saw the #PF");
    return check_stage(v, 1);
}

/* ---- event injection (27.6): each type reaches the guest's handler ---- */
struct injection {
    uint32_t info, error, length;
    uint64_t vector, rip_offset;  /* what the handler must see: RIP = entry + offset */
};
static const struct injection injections[] = {
    {INFO_VALID | TYPE(3) | 6, 0, 0, 6, 0},                          /* #UD */
    {INFO_VALID | TYPE(3) | ERROR_VALID | 13, 0x1234, 0, 13, 0},     /* #GP(1234h) */
    {INFO_VALID | TYPE(0) | 20, 0, 0, 20, 0},                        /* external interrupt 20 */
    {INFO_VALID | TYPE(2) | 2, 0, 0, 2, 0},                          /* NMI */
    {INFO_VALID | TYPE(4) | 3, 0, 2, 3, 2},                          /* INT n, length 2 */
    {INFO_VALID | TYPE(5) | 1, 0, 2, 1, 2},                          /* INT1 (privileged) */
    {INFO_VALID | TYPE(6) | 3, 0, 2, 3, 2},                          /* INT3 */
};
static const struct virt_test tests[];
#define FIRST_INJECTION 5  /* tests[] index of the first INJECT() row */
static enum virt_action init_injection(struct vcpu *v) {
    const struct injection *j = &injections[v->test - &tests[FIRST_INJECTION]];
    seen_count = 0;
    /* 27.3.1.4: an injected external interrupt needs RFLAGS.IF = 1. */
    if ((j->info & TYPE(7)) == TYPE(0)) vmcs_write(VMCS_GUEST_RFLAGS, vmcs_read(VMCS_GUEST_RFLAGS) | (1u << 9));
    virt_exception_hook = record_exception;
    vmcs_write(VMCS_VM_ENTRY_INTERRUPTION_INFORMATION, j->info);
    vmcs_write(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, j->error);
    vmcs_write(VMCS_VM_ENTRY_INSTRUCTION_LENGTH, j->length);
    (void)v;
    return VIRT_RESUME;
}
static enum virt_action check_injection(struct vcpu *v) {
    const struct injection *j = &injections[v->test - &tests[FIRST_INJECTION]];
    virt_exception_hook = NULL;
    VIRT_EXPECT(v, seen_count == 1, "the guest handled %lu events", seen_count);
    VIRT_EXPECT(v, seen_vector == j->vector, "vector %lu, expected %lu", seen_vector, j->vector);
    VIRT_EXPECT(v, seen_rip == (uint64_t)virt_guest_entry_vmx + j->rip_offset, "return RIP %#lx, expected %#lx",
                seen_rip, (uint64_t)virt_guest_entry_vmx + j->rip_offset);
    VIRT_EXPECT(v, (j->info & ERROR_VALID) == 0 || seen_error == j->error, "error code %#lx", seen_error);
    VIRT_EXPECT(v, !(vmcs_read(VMCS_VM_ENTRY_INTERRUPTION_INFORMATION) & INFO_VALID),
                "the entry interruption information is still valid after an exit");
    return VIRT_PASS;
}

/* IDT-vectoring: an external interrupt (vector 21h) injected beyond the guest's IDT limit
   raises #GP (error: vector * 8 + 2 for IDT, bit 0 EXT for an external event, SDM 6.13)
   during its delivery; the exception bitmap makes the #GP exit, with the interrupt in the
   IDT-vectoring information (28.2.4). */
static uint32_t vectoring_type;
static enum virt_action init_vectoring_type(struct vcpu *v, uint32_t type) {
    (void)v;
    vectoring_type = type;
    vmcs_write(VMCS_EXCEPTION_BITMAP, 1u << 13);
    vmcs_write(VMCS_GUEST_IDTR_LIMIT, 16 * 0x21 - 1);  /* vector 21h is beyond the limit */
    vmcs_write(VMCS_VM_ENTRY_INTERRUPTION_INFORMATION, INFO_VALID | TYPE(type) | 0x21);
    vmcs_write(VMCS_VM_ENTRY_INSTRUCTION_LENGTH, 2);
    vmcs_write(VMCS_GUEST_RFLAGS, vmcs_read(VMCS_GUEST_RFLAGS) | (1u << 9));  /* 27.3.1.4 */
    return VIRT_RESUME;
}
static enum virt_action init_vectoring(struct vcpu *v) { return init_vectoring_type(v, 0); }
static enum virt_action init_vectoring_soft(struct vcpu *v) { return init_vectoring_type(v, 4); }
static enum virt_action handle_vectoring(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_EXCEPTION_OR_NMI);
    const uint64_t info = vmcs_read(VMCS_VM_EXIT_INTERRUPTION_INFORMATION);
    const uint64_t error = vmcs_read(VMCS_VM_EXIT_INTERRUPTION_ERROR_CODE);
    const uint64_t idt = vmcs_read(VMCS_IDT_VECTORING_INFORMATION);
    VIRT_EXPECT(v, info == (INFO_VALID | ERROR_VALID | TYPE(3) | 13), "interruption information %#lx", info);
    VIRT_EXPECT(v, (error & ~1ull) == 0x21 * 8 + 2, "#GP error %#lx, expected IDT vector 21h", error);
    VIRT_EXPECT(v, idt == (INFO_VALID | TYPE(vectoring_type) | 0x21), "IDT-vectoring information %#lx, expected type %u vector 21h",
                idt, vectoring_type);
    /* 28.2.4: a software interrupt in delivery reports its instruction length. */
    VIRT_EXPECT(v, vectoring_type != 4 || e->instruction_length == 2, "instruction length %u, expected 2",
                e->instruction_length);
    return VIRT_PASS;
}

/* Triple fault: #UD with an empty IDT escalates to a triple fault, exit 2. */
static enum virt_action init_triple(struct vcpu *v) {
    (void)v;
    vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0);
    return VIRT_RESUME;
}
static enum virt_action handle_triple(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_TRIPLE_FAULT);
    return VIRT_PASS;
}

/* ---- windows, timers, MTF ---- */
/* Interrupt window: the guest starts with IF=0; the exit comes after STI's shadow (STI; NOP). */
static void guest_sti_nop(void) { __asm__ volatile("sti; nop; 1: cli" ::: "memory"); }
static enum virt_action init_interrupt_window(struct vcpu *v) {
    if (!vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_INTERRUPT_WINDOW_EXITING, 0))
        return virt_skip(v, "interrupt-window exiting not allowed");
    return VIRT_RESUME;
}
static enum virt_action handle_interrupt_window(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_INTERRUPT_WINDOW);
    const uint8_t *at = (const uint8_t *)e->guest_rip;
    VIRT_EXPECT(v, at[-1] == 0x90 && at[-2] == 0xfb, "exit at %#lx, not right after STI; NOP", e->guest_rip);
    VIRT_EXPECT(v, vmcs_read(VMCS_GUEST_RFLAGS) & (1u << 9), "guest IF is 0 at the window exit");
    vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, 0, VMX_PROC_INTERRUPT_WINDOW_EXITING);
    ++v->stage;
    return VIRT_RESUME;
}

/* Blocking by STI in the guest-state area holds the interrupt window closed for the first
   guest instruction (the trampoline's CALL): the exit comes at guest_main. */
static enum virt_action init_sti_blocking_window(struct vcpu *v) {
    if (init_interrupt_window(v) != VIRT_RESUME) return VIRT_SKIP;
    vmcs_write(VMCS_GUEST_RFLAGS, vmcs_read(VMCS_GUEST_RFLAGS) | (1u << 9));
    vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_STATE, 1);  /* blocking by STI (needs IF = 1, 27.3.1.5) */
    return VIRT_RESUME;
}
static enum virt_action handle_sti_blocking_window(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_INTERRUPT_WINDOW);
    VIRT_EXPECT(v, e->guest_rip == (uint64_t)guest_nothing, "window exit at %#lx, expected after the first instruction",
                e->guest_rip);
    vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, 0, VMX_PROC_INTERRUPT_WINDOW_EXITING);
    vmcs_write(VMCS_GUEST_RFLAGS, vmcs_read(VMCS_GUEST_RFLAGS) & ~(1ull << 9));
    ++v->stage;
    return VIRT_RESUME;
}

/* NMI window (needs virtual NMIs and NMI exiting, 27.2.1.1): with no virtual-NMI blocking the
   exit comes before the first guest instruction. */
static enum virt_action init_nmi_window(struct vcpu *v) {
    if (!vmx_controls_set(VMCS_PIN_BASED_VM_EXECUTION_CONTROLS, VMX_PIN_NMI_EXITING | VMX_PIN_VIRTUAL_NMIS, 0) ||
        !vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_NMI_WINDOW_EXITING, 0))
        return virt_skip(v, "virtual NMIs / NMI-window exiting not allowed");
    return VIRT_RESUME;
}
static enum virt_action handle_nmi_window(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_NMI_WINDOW);
    VIRT_EXPECT(v, e->guest_rip == (uint64_t)virt_guest_entry_vmx, "exit at %#lx, not at the guest's start", e->guest_rip);
    vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, 0, VMX_PROC_NMI_WINDOW_EXITING);
    ++v->stage;
    return VIRT_RESUME;
}

/* A guest that spins until the host releases it. */
static void guest_spin(void) {
    while (!release) __asm__ volatile("" ::: "memory");
}
static enum virt_action init_preemption(struct vcpu *v) {
    release = 0;
    if (!vmx_controls_set(VMCS_PIN_BASED_VM_EXECUTION_CONTROLS, VMX_PIN_ACTIVATE_VMX_PREEMPTION_TIMER, 0) ||
        !vmx_controls_set(VMCS_PRIMARY_VM_EXIT_CONTROLS, VMX_EXIT_SAVE_VMX_PREEMPTION_TIMER_VALUE, 0))
        return virt_skip(v, "VMX-preemption timer not allowed");
    vmcs_write(VMCS_VMX_PREEMPTION_TIMER_VALUE, 1000);
    return VIRT_RESUME;
}
static enum virt_action handle_preemption(struct vcpu *v, const struct virt_exit *e) {
    VIRT_EXPECT(v, e->kind == VIRT_EXIT_VM_EXIT, "%s, error %u", virt_exit_name(v, e), e->vm_instruction_error);
    EXPECT_REASON(v, e, EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED);
    VIRT_EXPECT(v, vmcs_read(VMCS_VMX_PREEMPTION_TIMER_VALUE) == 0, "saved timer value %lu, expected 0",
                vmcs_read(VMCS_VMX_PREEMPTION_TIMER_VALUE));
    /* 27.2.1.2: "save VMX-preemption timer value" needs the timer active: both go. */
    vmx_controls_set(VMCS_PRIMARY_VM_EXIT_CONTROLS, 0, VMX_EXIT_SAVE_VMX_PREEMPTION_TIMER_VALUE);
    vmx_controls_set(VMCS_PIN_BASED_VM_EXECUTION_CONTROLS, 0, VMX_PIN_ACTIVATE_VMX_PREEMPTION_TIMER);
    release = 1;
    ++v->stage;
    return VIRT_RESUME;
}

/* MTF: an exit after the first guest instruction (the trampoline's CALL: RIP = guest_main). */
static enum virt_action init_mtf(struct vcpu *v) {
    if (!vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_MONITOR_TRAP_FLAG, 0))
        return virt_skip(v, "monitor trap flag not allowed");
    return VIRT_RESUME;
}
static enum virt_action handle_mtf(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_MONITOR_TRAP_FLAG);
    VIRT_EXPECT(v, e->guest_rip == (uint64_t)guest_nothing, "MTF exit at %#lx, expected guest_main %#lx",
                e->guest_rip, (uint64_t)guest_nothing);
    vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, 0, VMX_PROC_MONITOR_TRAP_FLAG);
    ++v->stage;
    return VIRT_RESUME;
}

/* External interrupt: the x2APIC timer (one-shot, vector 0x30) fires while the guest spins;
   "acknowledge interrupt on exit" puts the vector in the exit interruption information. */
static enum virt_action init_apic_timer(struct vcpu *v) {
    release = 0;
    if (!vmx_controls_set(VMCS_PIN_BASED_VM_EXECUTION_CONTROLS, VMX_PIN_EXTERNAL_INTERRUPT_EXITING, 0) ||
        !vmx_controls_set(VMCS_PRIMARY_VM_EXIT_CONTROLS, VMX_EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT, 0))
        return virt_skip(v, "external-interrupt exiting / acknowledge on exit not allowed");
    if (!x2apic_enable()) return virt_skip(v, "no x2APIC");
    wrmsr(X2APIC_TIMER_DIVIDE, 0xb);                    /* divide by 1 */
    wrmsr(X2APIC_LVT_TIMER, 0x30);                      /* one-shot, unmasked, vector 30h */
    wrmsr(X2APIC_TIMER_INITIAL, 2000);
    return VIRT_RESUME;
}
static enum virt_action handle_apic_timer(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_EXTERNAL_INTERRUPT);
    const uint64_t info = vmcs_read(VMCS_VM_EXIT_INTERRUPTION_INFORMATION);
    VIRT_EXPECT(v, info == (INFO_VALID | TYPE(0) | 0x30), "interruption information %#lx, expected 0x80000030", info);
    wrmsr(X2APIC_EOI, 0);  /* the exit acknowledged it: the host ends it */
    release = 1;
    ++v->stage;
    return VIRT_RESUME;
}

/* NMI exiting and INIT: the guest sends an NMI / INIT to its own APIC ID through the x2APIC ICR
   (MSR 830h, let through by an empty MSR bitmap); NMI exiting turns the NMI into exit 0 with
   interruption type 2, and INIT always exits in VMX non-root operation (exit 3, SDM 26.2). */
#define ICR_NMI ((4u << 8) | (1u << 14))
#define ICR_INIT ((5u << 8) | (1u << 14))
static void guest_self_nmi(void) { wrmsr(X2APIC_ICR, ICR_NMI); }
static void guest_self_init(void) { wrmsr(X2APIC_ICR, ICR_INIT); }
static enum virt_action init_self_ipi(struct vcpu *v, uint32_t pin) {
    wrmsr(MSR_APIC_BASE_NUM, rdmsr(MSR_APIC_BASE_NUM) | APIC_BASE_EN_EXTD);  /* x2APIC mode */
    if (!vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_USE_MSR_BITMAPS, 0) ||
        (pin && !vmx_controls_set(VMCS_PIN_BASED_VM_EXECUTION_CONTROLS, pin, 0)))
        return virt_skip(v, "MSR bitmaps / NMI exiting not allowed");
    vmcs_write(VMCS_MSR_BITMAPS_ADDRESS, virt_pa(virt_alloc_pages(1)));
    return VIRT_RESUME;
}
static enum virt_action init_self_nmi(struct vcpu *v) { return init_self_ipi(v, VMX_PIN_NMI_EXITING); }
static enum virt_action init_self_init(struct vcpu *v) { return init_self_ipi(v, 0); }
static enum virt_action handle_self_nmi(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_EXCEPTION_OR_NMI);
    const uint64_t info = vmcs_read(VMCS_VM_EXIT_INTERRUPTION_INFORMATION);
    VIRT_EXPECT(v, (info & 0x80000fff) == (INFO_VALID | TYPE(2) | 2), "interruption information %#lx, expected NMI", info);
    ++v->stage;
    return VIRT_RESUME;
}
static enum virt_action handle_self_init(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_INIT_SIGNAL);
    return VIRT_PASS;
}

/* A guest entered in the HLT activity state stays halted until the preemption timer exits;
   the exit saves activity state HLT (28.3.4). */
static enum virt_action init_hlt_activity(struct vcpu *v) {
    if (init_preemption(v) != VIRT_RESUME) return VIRT_SKIP;
    vmcs_write(VMCS_GUEST_ACTIVITY_STATE, 1);
    return VIRT_RESUME;
}
static enum virt_action handle_hlt_activity(struct vcpu *v, const struct virt_exit *e) {
    EXPECT_REASON(v, e, EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED);
    VIRT_EXPECT(v, vmcs_read(VMCS_GUEST_ACTIVITY_STATE) == 1, "saved activity state %lu, expected HLT",
                vmcs_read(VMCS_GUEST_ACTIVITY_STATE));
    VIRT_EXPECT(v, e->guest_rip == (uint64_t)virt_guest_entry_vmx, "the halted guest ran to %#lx", e->guest_rip);
    vmcs_write(VMCS_GUEST_ACTIVITY_STATE, 0);
    return handle_preemption(v, e);
}

#define INJECT(name) {name, VIRT_VMX, init_injection, guest_nothing, handle_one, check_injection}
static const struct virt_test tests[] = {
    {"vmx_exception_bitmap_ud", VIRT_VMX, init_bitmap_ud, guest_ud2, handle_ud, check_one},
    {"vmx_rdtscp_disabled_is_ud", VIRT_VMX, init_bitmap_ud, guest_rdtscp, handle_ud_rdtscp, check_one},
    {"vmx_exception_bitmap_int3_software", VIRT_VMX, init_bitmap_bp, guest_int3, handle_bp, check_one},
    {"vmx_pf_mask_match_exits", VIRT_VMX, init_pf_match, guest_pf, handle_pf, check_pf_match},
    {"vmx_pf_mask_mismatch_to_guest", VIRT_VMX, init_pf_nomatch, guest_pf, handle_one, check_pf_nomatch},
    INJECT("vmx_inject_hardware_exception_ud"),
    INJECT("vmx_inject_hardware_exception_gp_error_code"),
    INJECT("vmx_inject_external_interrupt"),
    INJECT("vmx_inject_nmi"),
    INJECT("vmx_inject_software_interrupt_length"),
    INJECT("vmx_inject_privileged_software_exception"),
    INJECT("vmx_inject_software_exception"),
    {"vmx_idt_vectoring_gp_during_injection", VIRT_VMX, init_vectoring, guest_nothing, handle_vectoring, never_finishes},
    {"vmx_idt_vectoring_software_interrupt_length", VIRT_VMX, init_vectoring_soft, guest_nothing, handle_vectoring, never_finishes},
    {"vmx_triple_fault", VIRT_VMX, init_triple, guest_ud2, handle_triple, never_finishes},
    {"vmx_interrupt_window_after_sti", VIRT_VMX, init_interrupt_window, guest_sti_nop, handle_interrupt_window, check_one},
    {"vmx_interrupt_window_held_by_sti_blocking", VIRT_VMX, init_sti_blocking_window, guest_nothing,
     handle_sti_blocking_window, check_one},
    {"vmx_nmi_window", VIRT_VMX, init_nmi_window, guest_nothing, handle_nmi_window, check_one},
    {"vmx_preemption_timer", VIRT_VMX, init_preemption, guest_spin, handle_preemption, check_one},
    {"vmx_monitor_trap_flag", VIRT_VMX, init_mtf, guest_nothing, handle_mtf, check_one},
    {"vmx_nmi_exiting_self_ipi", VIRT_VMX, init_self_nmi, guest_self_nmi, handle_self_nmi, check_one},
    {"vmx_init_signal_self_ipi", VIRT_VMX, init_self_init, guest_self_init, handle_self_init, never_finishes},
    {"vmx_hlt_activity_state_preemption_timer", VIRT_VMX, init_hlt_activity, guest_nothing, handle_hlt_activity, check_one},
    {"vmx_external_interrupt_apic_timer_ack", VIRT_VMX, init_apic_timer, guest_spin, handle_apic_timer, check_one},
};

int main(void) {
    printf("vmx_events: %u tests\n", (unsigned)ARRAY_SIZE(tests));
    return virt_run_tests(tests, ARRAY_SIZE(tests));
}
