/* Two CPUs: the BSP starts the AP with INIT-SIPI-SIPI (SDM Vol. 3A 8.4.4 "MP Initialization
   Example"), the AP comes up through trampoline.S into ap_main, enables its local APIC, runs
   its own timer, then answers each ping IPI with a pong IPI; finally it halts (cli; hlt).
   APIC IDs are assumed to be 0 (BSP) and 1 (AP). Context: ring 0, 64-bit; ap_main on the AP,
   the rest on the BSP; the IPI handlers run with interrupts off on their CPU. */
#include "kernel.h"

#define TRAMPOLINE_PA 0x8000ull
#define AP_APIC_ID 1
#define PINGS 100
#define AP_TICKS 5
#define TIMEOUT_CYCLES (1ull << 30)     /* waits give up after this many TSC cycles */
#define ICR_FIXED(v) ((v) | (1u << 14)) /* fixed delivery, physical destination, assert */
#define ICR_INIT 0x4500u                /* INIT, level assert (10.6.1) */
#define ICR_STARTUP(pa) (0x4600u | (uint32_t)((pa) >> 12))

extern char trampoline_start[], trampoline_end[], tramp_gdtr[], tramp_cr3[], tramp_stack[];
extern char gdt_pointer[];
void ap_main(void);

static uint8_t ap_stack[16384] __attribute__((aligned(16)));

static volatile struct {
    int ready, timer_done, halt_request, halted;
    unsigned apic_id, pings;
    uint64_t apic_base, efer, cr0;
    uint16_t tr;
} ap;
static volatile unsigned pongs;

void smp_on_ipi(unsigned vector) {
    lapic_eoi();
    if (vector == VEC_PING) {
        ++ap.pings;
        lapic_send_ipi(0, ICR_FIXED(VEC_PONG));
    } else {
        ++pongs;
    }
}

void ap_main(void) {
    gdt_load_ap();
    idt_load();
    uint16_t tr;
    __asm__ volatile("str %0" : "=r"(tr));
    ap.tr = tr;
    ap.efer = rdmsr(MSR_EFER);
    ap.cr0 = read_cr0();
    ap.apic_base = rdmsr(MSR_APIC_BASE);
    lapic_enable();
    ap.apic_id = lapic_id();
    __atomic_store_n(&ap.ready, 1, __ATOMIC_RELEASE);

    lapic_timer_periodic(20000, 0x3);
    while (timer_ticks[1] < AP_TICKS) wait_for_interrupt();
    lapic_timer_stop();
    __atomic_store_n(&ap.timer_done, 1, __ATOMIC_RELEASE);

    while (!__atomic_load_n(&ap.halt_request, __ATOMIC_ACQUIRE)) wait_for_interrupt();
    __atomic_store_n(&ap.halted, 1, __ATOMIC_RELEASE);
    for (;;) __asm__ volatile("cli; hlt");
}

static void delay_cycles(uint64_t n) {
    const uint64_t end = rdtsc() + n;
    while (rdtsc() < end) cpu_relax();
}

/* Polls with interrupts open for one instruction at a time ("sti; nop; cli"). */
static bool wait_flag(volatile int* flag) {
    const uint64_t end = rdtsc() + TIMEOUT_CYCLES;
    while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
        if (rdtsc() > end) return false;
        __asm__ volatile("sti; nop; cli" ::: "memory");
    }
    return true;
}

static bool start_ap(void) {
    const size_t size = (size_t)(trampoline_end - trampoline_start);
    uint8_t* copy = (uint8_t*)TRAMPOLINE_PA;
    memcpy(copy, trampoline_start, size);
    memcpy(copy + (tramp_gdtr - trampoline_start), gdt_pointer, 6);
    *(uint32_t*)(copy + (tramp_cr3 - trampoline_start)) = (uint32_t)read_cr3();
    *(uint64_t*)(copy + (tramp_stack - trampoline_start)) = (uint64_t)(ap_stack + sizeof ap_stack);
    __asm__ volatile("mfence" ::: "memory");

    /* Nominal delays (10 ms, 200 us at 1 GHz): emulators need the order, not the time. */
    lapic_send_ipi(AP_APIC_ID, ICR_INIT);
    delay_cycles(10000000);
    lapic_send_ipi(AP_APIC_ID, ICR_STARTUP(TRAMPOLINE_PA));
    delay_cycles(200000);
    lapic_send_ipi(AP_APIC_ID, ICR_STARTUP(TRAMPOLINE_PA));  /* ignored if the AP already runs */
    delay_cycles(200000);
    return wait_flag(&ap.ready);
}

void test_smp(unsigned cpus) {
    if (cpus < 2) {
        skip("smp", "cpus=1 on the command line");
        return;
    }
    if (!check(start_ap(), "smp-ap-started", "no sign of the AP after INIT-SIPI-SIPI")) return;
    check(ap.apic_id == AP_APIC_ID && !(ap.apic_base & (1ull << 8)) && (ap.efer & EFER_LMA) && (ap.efer & EFER_NXE) &&
              (ap.cr0 & CR0_PG) && ap.tr == SEL_TSS_AP,
          "smp-ap-state", "AP: APIC ID %u, IA32_APIC_BASE %#lx (BSP flag must be clear), EFER %#lx, CR0 %#lx, TR %#x",
          ap.apic_id, ap.apic_base, ap.efer, ap.cr0, ap.tr);

    const uint64_t bsp_ticks = timer_ticks[0];
    const bool timer_ok = wait_flag(&ap.timer_done);
    check(timer_ok && timer_ticks[1] >= AP_TICKS && timer_ticks[0] == bsp_ticks, "smp-ap-timer",
          "AP timer %s: AP ticks %lu (want %u), BSP ticks %lu -> %lu", timer_ok ? "done" : "timed out", timer_ticks[1],
          AP_TICKS, bsp_ticks, timer_ticks[0]);

    unsigned sent = 0;
    bool in_step = true;
    for (; sent < PINGS && in_step; ++sent) {
        lapic_send_ipi(AP_APIC_ID, ICR_FIXED(VEC_PING));
        const uint64_t end = rdtsc() + TIMEOUT_CYCLES;
        while (__atomic_load_n(&pongs, __ATOMIC_ACQUIRE) != sent + 1 && in_step) {
            __asm__ volatile("sti; nop; cli" ::: "memory");
            in_step = rdtsc() < end;
        }
    }
    check(in_step && ap.pings == PINGS && pongs == PINGS, "smp-ipi-pingpong",
          "sent %u pings, the AP counted %u, the BSP counted %u pongs%s", sent, ap.pings, pongs,
          in_step ? "" : " (timed out)");

    __atomic_store_n(&ap.halt_request, 1, __ATOMIC_RELEASE);
    lapic_send_ipi(AP_APIC_ID, ICR_FIXED(VEC_PING));  /* wake it from HLT; this ping is not counted back */
    check(wait_flag(&ap.halted), "smp-ap-halted", "the AP did not acknowledge the halt request");
}
