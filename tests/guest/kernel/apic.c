/* The local APIC in xAPIC mode (SDM Vol. 3A chapter 10 "Advanced Programmable Interrupt
   Controller"): enabling through IA32_APIC_BASE and the SVR (10.4.3, 10.9), the timer in
   periodic mode (10.5.4) and in TSC-deadline mode (10.5.4.1), EOI, and IPIs through the ICR
   (10.6.1). Registers are 32 bits wide at 16-byte strides in the page at 0xFEE00000, mapped UC.
   Context: ring 0, 64-bit; either CPU; the timer handler runs with interrupts off. */
#include "kernel.h"

#define LAPIC_BASE 0xfee00000ull
#define REG_ID 0x20
#define REG_VERSION 0x30
#define REG_TPR 0x80
#define REG_EOI 0xb0
#define REG_SVR 0xf0
#define REG_ICR_LOW 0x300
#define REG_ICR_HIGH 0x310
#define REG_LVT_TIMER 0x320
#define REG_TIMER_INITIAL 0x380
#define REG_TIMER_CURRENT 0x390
#define REG_TIMER_DIVIDE 0x3e0
#define ICR_PENDING (1u << 12)      /* delivery status: send pending */
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)     /* timer mode 01b */
#define LVT_TSC_DEADLINE (2u << 17) /* timer mode 10b */
#define DIVIDE_BY_16 0x3u           /* divide configuration 0011b (figure 10-10) */
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_ENABLE (1ull << 11)

#define PERIODIC_TICKS 10
#define DEADLINE_TICKS 5

volatile uint64_t timer_ticks[2];
static volatile uint64_t tsc_at_interrupt;

uint32_t lapic_read(uint32_t reg) { return *(volatile uint32_t*)(LAPIC_BASE + reg); }
void lapic_write(uint32_t reg, uint32_t value) { *(volatile uint32_t*)(LAPIC_BASE + reg) = value; }
unsigned lapic_id(void) { return lapic_read(REG_ID) >> 24; }
void lapic_eoi(void) { lapic_write(REG_EOI, 0); }

/* Global enable in IA32_APIC_BASE, then software enable (SVR bit 8) with the spurious vector. */
void lapic_enable(void) {
    const uint64_t base = rdmsr(MSR_APIC_BASE);
    if (!(base & APIC_BASE_ENABLE)) wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
    lapic_write(REG_TPR, 0);
    lapic_write(REG_SVR, 0x100 | VEC_SPURIOUS);
}

/* Fixed IPIs use level = 1 (bit 14), edge trigger, physical destination (10.6.1). */
void lapic_send_ipi(unsigned apic_id, uint32_t icr_low) {
    while (lapic_read(REG_ICR_LOW) & ICR_PENDING) cpu_relax();
    lapic_write(REG_ICR_HIGH, apic_id << 24);
    lapic_write(REG_ICR_LOW, icr_low);
}

void lapic_timer_periodic(uint32_t initial, uint32_t divide_code) {
    lapic_write(REG_TIMER_DIVIDE, divide_code);
    lapic_write(REG_LVT_TIMER, VEC_TIMER | LVT_PERIODIC);
    lapic_write(REG_TIMER_INITIAL, initial);  /* writing the initial count starts the timer */
}

void lapic_timer_stop(void) {
    lapic_write(REG_LVT_TIMER, VEC_TIMER | LVT_MASKED);
    lapic_write(REG_TIMER_INITIAL, 0);
}

void apic_on_timer(void) {
    tsc_at_interrupt = rdtsc();
    const unsigned id = lapic_id();
    ++timer_ticks[id < 2 ? id : 1];
    lapic_eoi();
}

static void test_periodic(void) {
    const uint32_t initial = 20000;
    lapic_timer_periodic(initial, DIVIDE_BY_16);
    const uint32_t first = lapic_read(REG_TIMER_CURRENT);
    uint32_t second = first;
    for (int i = 0; i < 100000 && second == first; ++i) second = lapic_read(REG_TIMER_CURRENT);
    unsigned wakeups = 0;
    while (timer_ticks[0] < PERIODIC_TICKS) {
        wait_for_interrupt();
        ++wakeups;
    }
    lapic_timer_stop();
    const uint32_t stopped = lapic_read(REG_TIMER_CURRENT);
    check(first <= initial && second <= initial && first != second && stopped == 0 && wakeups >= 1 &&
              wakeups <= timer_ticks[0],
          "apic-timer-periodic",
          "current count %u then %u (initial %u), %lu ticks after %u wake-ups from HLT, %u after stopping", first,
          second, initial, timer_ticks[0], wakeups, stopped);
}

/* TSC-deadline mode: the timer fires when the TSC reaches IA32_TSC_DEADLINE, then disarms
   itself and clears the MSR (10.5.4.1). The first deadline is already past: it fires at once. */
static void test_tsc_deadline(void) {
    uint32_t r[4];
    cpuid(1, 0, r);
    if (!(r[2] & (1u << 24))) {
        skip("apic-tsc-deadline", "CPUID.1:ECX[24] (TSC-deadline) is clear");
        return;
    }
    lapic_write(REG_LVT_TIMER, VEC_TIMER | LVT_TSC_DEADLINE);
    __asm__ volatile("mfence" ::: "memory");  /* order the LVT write before the WRMSR (10.5.4.1) */
    unsigned early = 0, not_cleared = 0;
    uint64_t deadline = 0, seen = 0;
    const uint64_t start = timer_ticks[0];
    for (int i = 0; i < DEADLINE_TICKS; ++i) {
        const uint64_t before = timer_ticks[0];
        deadline = i == 0 ? rdtsc() - 1 : rdtsc() + 200000;
        wrmsr(MSR_TSC_DEADLINE, deadline);
        while (timer_ticks[0] == before) wait_for_interrupt();
        seen = tsc_at_interrupt;
        if (seen < deadline) ++early;
        if (rdmsr(MSR_TSC_DEADLINE) != 0) ++not_cleared;
    }
    lapic_timer_stop();
    check(early == 0 && not_cleared == 0 && timer_ticks[0] - start == DEADLINE_TICKS, "apic-tsc-deadline",
          "%lu interrupts, %u before their deadline (last: TSC %lu, deadline %lu), MSR not cleared %u times",
          timer_ticks[0] - start, early, seen, deadline, not_cleared);
}

void test_apic(void) {
    uint32_t r[4];
    cpuid(1, 0, r);
    const bool present = r[3] & (1u << 9);  /* CPUID.1:EDX[9]: APIC on chip */
    lapic_enable();
    const uint64_t base = rdmsr(MSR_APIC_BASE);
    const uint32_t version = lapic_read(REG_VERSION), svr = lapic_read(REG_SVR);
    const unsigned id = lapic_id();
    /* Integrated APICs report versions 10h-15h (10.4.8). */
    check(present && (base & ~0xfffull) == LAPIC_BASE && (base & APIC_BASE_BSP) && (base & APIC_BASE_ENABLE) && id == 0 &&
              (version & 0xff) >= 0x10 && (version & 0xff) <= 0x15 && (svr & 0x1ff) == (0x100 | VEC_SPURIOUS),
          "apic-enable", "CPUID.1:EDX[9] %d, IA32_APIC_BASE %#lx, ID %u, version %#x, SVR %#x", present, base, id,
          version, svr);
    test_periodic();
    test_tsc_deadline();
}
