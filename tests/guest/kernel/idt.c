/* The IDT (64-bit interrupt gates for all 256 vectors, #DF on IST1), the C side of every
   interrupt, and the exception checks: #DE, #BP, #UD, #GP, and a #DF raised by a #GP whose
   gate is not present (#GP then #NP: two contributory exceptions, SDM Vol. 3A 6.15 table 6-5).
   Context: ring 0, 64-bit, interrupts off; trap_dispatch runs on either CPU. */
#include "kernel.h"

extern char isr_stubs[], isr_stubs_end[];
extern uint64_t df_stack_top[2];

static uint64_t idt[512] __attribute__((aligned(16)));
static struct {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed)) idt_pointer = {sizeof idt - 1, (uint64_t)idt};

volatile trap_hook_fn trap_hook;
void user_killed(struct trap_frame* f);  /* user.c */

/* Gate descriptor (6.14.1, figure 6-8): type 0xe = 64-bit interrupt gate, P in bit 47. */
static void set_gate(unsigned vector, uint64_t handler, unsigned ist, bool present) {
    idt[2 * vector] = (handler & 0xffff) | ((uint64_t)SEL_KCODE << 16) | ((uint64_t)ist << 32) |
                      ((present ? 0x8eull : 0x0eull) << 40) | ((handler >> 16 & 0xffff) << 48);
    idt[2 * vector + 1] = handler >> 32;
}

void idt_set_present(unsigned vector, bool present) {
    const uint64_t handler = (uint64_t)(isr_stubs + 16 * vector);
    set_gate(vector, handler, vector == 8 ? 1 : 0, present);
}

void idt_load(void) { __asm__ volatile("lidt %0" : : "m"(idt_pointer)); }

void idt_init(void) {
    if (isr_stubs_end - isr_stubs != 256 * 16) kernel_abort("isr stubs are not 16 bytes each");
    for (unsigned v = 0; v < 256; ++v) idt_set_present(v, true);
    idt_load();
}

static const char* const exception_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "15",
    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "22", "23", "24", "25", "26", "27", "#HV", "#VC", "#SX", "31"};

/* The CPU from the GS base (the APIC may not be mapped yet). */
static unsigned this_cpu(void) { return rdmsr(MSR_GS_BASE) == (uint64_t)&percpu_ap ? 1 : 0; }

static void unexpected(struct trap_frame* f) {
    kprintf("FAIL unexpected-exception: %s (vector %lu) error %#lx at %#lx:%#lx rsp %#lx cr2 %#lx on CPU %u\n",
            f->vector < 32 ? exception_names[f->vector] : "interrupt", f->vector, f->error, f->cs, f->rip,
            f->rsp, read_cr2(), this_cpu());
    kernel_abort("unexpected exception");
}

void trap_dispatch(struct trap_frame* f) {
    const trap_hook_fn hook = trap_hook;
    if (hook && hook(f)) return;
    switch (f->vector) {
    case VEC_TIMER: apic_on_timer(); return;
    case VEC_PING:
    case VEC_PONG: smp_on_ipi((unsigned)f->vector); return;
    case VEC_SPURIOUS: return;  /* no EOI for the spurious vector (SDM Vol. 3A 10.9) */
    default: break;
    }
    if (f->vector < 32 && (f->cs & 3) == 3) user_killed(f);  /* does not return */
    unexpected(f);
}

/* ---- exception checks ---- */

static struct {
    volatile unsigned count;
    uint64_t vector, error, rip, rsp_at_frame;
    uint64_t resume;  /* where the hook continues the interrupted code */
} seen;

static bool record_and_resume(struct trap_frame* f) {
    if (f->vector >= 32) return false;
    ++seen.count;
    seen.vector = f->vector;
    seen.error = f->error;
    seen.rip = f->rip;
    seen.rsp_at_frame = (uint64_t)f;
    f->rip = seen.resume;
    return true;
}

/* Runs the instructions INSN with the hook armed: `at` receives their first address and the
   hook resumes after them. */
#define PROBE(insn)                                                        \
    __asm__ volatile("leaq 1f(%%rip), %%rax\n\tmovq %%rax, %[resume]\n\t"  \
                     "leaq 0f(%%rip), %%rax\n\tmovq %%rax, %[at]\n\t"      \
                     "0: " insn "\n1:"                                     \
                     : [resume] "=m"(seen.resume), [at] "=m"(at)           \
                     :                                                     \
                     : "rax", "rcx", "rdx", "memory")

static bool expect(const char* name, unsigned vector, uint64_t error, uint64_t rip) {
    if (seen.count == 1 && seen.vector == vector && seen.error == error && seen.rip == rip) return true;
    fail("exceptions", "%s: %u exceptions, last vector %lu error %#lx rip %#lx (expected vector %u error %#lx rip %#lx)",
         name, seen.count, seen.vector, seen.error, seen.rip, vector, error, rip);
    return false;
}

static struct kctx df_return;

static bool on_double_fault(struct trap_frame* f) {
    if (f->vector != 8) return false;
    seen.vector = f->vector;
    seen.error = f->error;
    seen.rsp_at_frame = (uint64_t)f;
    ++seen.count;
    /* #DF is an abort: the saved RIP is undefined (6.15, interrupt 8), so do not return. */
    kctx_restore(&df_return, 1);
}

void test_exceptions(void) {
    uint64_t at = 0;
    bool ok = true;
    trap_hook = record_and_resume;

    seen.count = 0;
    PROBE("xor %%edx, %%edx\n\txor %%ecx, %%ecx\n\tdiv %%ecx");  /* faults at the DIV, after two 2-byte XORs */
    ok &= expect("#DE", 0, 0, at + 4);

    seen.count = 0;
    PROBE("int3");  /* a trap: RIP after the instruction, which is where resume is */
    ok &= expect("#BP", 3, 0, seen.resume);

    seen.count = 0;
    PROBE("ud2");
    ok &= expect("#UD", 6, 0, at);

    seen.count = 0;
    PROBE("movabs $0x8000000000000000, %%rcx\n\tmovq (%%rcx), %%rcx");  /* non-canonical: #GP(0) */
    ok &= expect("#GP", 13, 0, at + 10);  /* after the 10-byte MOVABS */
    trap_hook = 0;
    if (ok) pass("exceptions");

    /* #DF: make the #GP gate not present, then #GP. */
    seen.count = 0;
    trap_hook = on_double_fault;
    if (kctx_save(&df_return) == 0) {
        idt_set_present(13, false);
        PROBE("movabs $0x8000000000000000, %%rcx\n\tmovq (%%rcx), %%rcx");
    }
    idt_set_present(13, true);
    trap_hook = 0;
    const uint64_t top = df_stack_top[0];
    const bool on_ist = seen.rsp_at_frame < top && seen.rsp_at_frame > top - 8192;
    check(seen.count == 1 && seen.vector == 8 && seen.error == 0 && on_ist, "double-fault-ist",
          "%u exceptions, vector %lu error %#lx, frame at %#lx (IST1 stack top %#lx)", seen.count, seen.vector,
          seen.error, seen.rsp_at_frame, top);
}
