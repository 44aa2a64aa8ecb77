/* vmx_events: VMX behaviour beyond single instruction exits: CR0 guest/host masks and read
   shadows (SDM Vol. 3C 26.3, 26.1.3), the exception bitmap with the #PF error-code rule
   (26.2, 25.6.3), VM-entry event injection of every type (27.6), IDT-vectoring information
   (28.2.4), triple fault, interrupt- and NMI-window exiting (26.7.5-6), the VMX-preemption
   timer (26.5.1), the monitor trap flag (26.5.2), external interrupts from the APIC timer with
   "acknowledge interrupt on exit" (28.2.2), EPT violations and misconfigurations (29.3.3), an
   unrestricted real-mode guest (27.3.1.1), TSC offsetting and VM-entry MSR-load failure. */
#include "lib/vmx.h"
#include "lib/x86.h"

#define INFO_VALID (1u << 31)
#define TYPE(t) ((uint32_t)(t) << 8)
#define ERROR_VALID (1u << 11)
#define CR0_TS (1ull << 3)
#define CR0_MP (1ull << 1)
#define UNMAPPED 0x40000000ull  /* the library maps the first GiB only */

static volatile uint64_t seen_vector, seen_error, seen_rip, seen_count;
static volatile uint64_t guest_value;
static volatile int release;  /* the host lets a spinning guest finish */

static bool record_exception(struct exception_frame *f) {
    seen_vector = f->vector;
    seen_error = f->error;
    seen_rip = f->rip;
    ++seen_count;
    return true;
}

static enum virt_action expect_reason(struct vcpu *v, const struct virt_exit *e, uint64_t reason) {
    VIRT_EXPECT(v, e->kind == VIRT_EXIT_VM_EXIT, "%s instead of a VM exit", virt_exit_name(v, e));
    VIRT_EXPECT(v, e->vmx_exit_reason == reason, "exit reason %#x (%s), expected %lu (%s)", e->vmx_exit_reason,
                exit_reason_name(e->reason), reason, exit_reason_name(reason));
    return VIRT_RESUME;
}
#define EXPECT_REASON(v, e, r)                                          \
    do {                                                                \
        if (expect_reason((v), (e), (r)) != VIRT_RESUME) return VIRT_FAIL; \
    } while (0)

static enum virt_action check_stage(struct vcpu *v, unsigned n) {
    VIRT_EXPECT(v, v->stage == n, "guest finished after %u of %u expected exits", v->stage, n);
    return VIRT_PASS;
}
static enum virt_action check_one(struct vcpu *v) { return check_stage(v, 1); }

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
#define FIRST_INJECTION 9  /* tests[] index of the first INJECT() row */
static void guest_nothing(void) {}
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
#define X2APIC_EOI 0x80b
#define X2APIC_LVT_TIMER 0x832
#define X2APIC_TIMER_INITIAL 0x838
#define X2APIC_TIMER_DIVIDE 0x83e
static enum virt_action init_apic_timer(struct vcpu *v) {
    release = 0;
    if (!vmx_controls_set(VMCS_PIN_BASED_VM_EXECUTION_CONTROLS, VMX_PIN_EXTERNAL_INTERRUPT_EXITING, 0) ||
        !vmx_controls_set(VMCS_PRIMARY_VM_EXIT_CONTROLS, VMX_EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT, 0))
        return virt_skip(v, "external-interrupt exiting / acknowledge on exit not allowed");
    wrmsr(0x1b, rdmsr(0x1b) | (1u << 11) | (1u << 10));  /* IA32_APIC_BASE: xAPIC + x2APIC enable */
    wrmsr(0x80f, 0x1ff);                                /* spurious vector register: APIC on */
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
#define X2APIC_ICR 0x830
#define ICR_NMI ((4u << 8) | (1u << 14))
#define ICR_INIT ((5u << 8) | (1u << 14))
static void guest_self_nmi(void) { wrmsr(X2APIC_ICR, ICR_NMI); }
static void guest_self_init(void) { wrmsr(X2APIC_ICR, ICR_INIT); }
static enum virt_action init_self_ipi(struct vcpu *v, uint32_t pin) {
    wrmsr(0x1b, rdmsr(0x1b) | (1u << 11) | (1u << 10));  /* x2APIC mode */
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
    vmx_controls_set(VMCS_VM_ENTRY_CONTROLS, 0, ENTRY_IA32E_MODE_GUEST);
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

static enum virt_action never_finishes(struct vcpu *v) { return virt_fail(v, "the guest finished"); }

static enum virt_action handle_one(struct vcpu *v, const struct virt_exit *e) {
    return virt_fail(v, "unexpected exit %s", virt_exit_name(v, e));
}

#define INJECT(name) {name, VIRT_VMX, init_injection, guest_nothing, handle_one, check_injection}
static const struct virt_test tests[] = {
    {"vmx_cr0_mask_shadow_read_write", VIRT_VMX, init_cr0, guest_cr0, handle_cr0, check_one},
    {"vmx_cr0_clts_host_owned_ts", VIRT_VMX, init_cr0, guest_clts, handle_clts, check_one},
    {"vmx_cr0_lmsw_host_owned_mp", VIRT_VMX, init_lmsw, guest_lmsw, handle_lmsw, check_one},
    {"vmx_cr3_target_value_no_exit", VIRT_VMX, init_cr3_target, guest_cr3_target, handle_one, NULL},
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
    {"vmx_nmi_window", VIRT_VMX, init_nmi_window, guest_nothing, handle_nmi_window, check_one},
    {"vmx_preemption_timer", VIRT_VMX, init_preemption, guest_spin, handle_preemption, check_one},
    {"vmx_monitor_trap_flag", VIRT_VMX, init_mtf, guest_nothing, handle_mtf, check_one},
    {"vmx_nmi_exiting_self_ipi", VIRT_VMX, init_self_nmi, guest_self_nmi, handle_self_nmi, check_one},
    {"vmx_init_signal_self_ipi", VIRT_VMX, init_self_init, guest_self_init, handle_self_init, never_finishes},
    {"vmx_hlt_activity_state_preemption_timer", VIRT_VMX, init_hlt_activity, guest_nothing, handle_hlt_activity, check_one},
    {"vmx_external_interrupt_apic_timer_ack", VIRT_VMX, init_apic_timer, guest_spin, handle_apic_timer, check_one},
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
    printf("vmx_events: %u tests\n", (unsigned)ARRAY_SIZE(tests));
    return virt_run_tests(tests, ARRAY_SIZE(tests));
}
