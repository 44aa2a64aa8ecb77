/* The spinlock child: two VPs take a ticket lock HV_DEMO_SPIN_ROUNDS times each and, holding
   it, write the emulated register (an intercept: the holder waits for the root while the other
   VP spins). With the spin-wait enlightenment (CPUID 40000004h.EBX = the spin-retry count) a
   spinner calls HvCallNotifyLongSpinWait after that many PAUSEs and the hypervisor runs the
   holder; without it (EBX = FFFFFFFFh: never notify) it spins until the hypervisor sees
   HV_PAUSE_YIELD_SPINS PAUSEs. VP 0 announces the scenario (the root then starts VP 1), waits
   for VP 1 and checks the count. Then VP 0 makes HV_DEMO_SHOOTDOWNS TLB shootdowns of one page
   to VP 1: with the TLB-flush enlightenment (CPUID 40000004h.EAX[2]) one
   HvCallFlushVirtualAddressList naming both VPs; without it an IPI through the x2APIC ICR, VP 1
   invalidating the page in its handler, acknowledging, EOI. It reports through the debug-exit
   port.
   Context: child partition with two VPs, ring 0, 64-bit, interrupts off; port accesses are
   emulated by the root. */
#include "../../tests/guest/guest.h"
#include "../abi/demo.h"
#include "../abi/partition.h"
#include "../common/hypercall.h"
#include "hv_cpuid.h"
#include "virt.h"

uint8_t hv_hypercall_page[4096] __attribute__((aligned(4096)));
static volatile uint32_t next_ticket, now_serving, counter, vp1_done;
static volatile uint32_t notifications[2];
static volatile uint32_t shootdowns_seen;       /* by VP 1's IPI handler */
static uint64_t idt[256 * 2] __attribute__((aligned(16)));
static uint64_t flush_input[8] __attribute__((aligned(64)));
void shootdown_isr(void);                        /* spin_isr.S */
#define SHOOTDOWN_PAGE 0x80000ull                /* the page whose translation changes */
#define X2APIC_MSR_EOI 0x80b                     /* SDM Vol. 3A 10.12.1.2 Table 10-6 */
#define X2APIC_MSR_ICR 0x830

/* VP 1's part of an IPI shootdown (from spin_isr.S): invalidate, acknowledge, EOI. */
void shootdown_handler(void);
void shootdown_handler(void) {
    __asm__ volatile("invlpg (%0)" : : "r"(SHOOTDOWN_PAGE) : "memory");
    __atomic_add_fetch(&shootdowns_seen, 1, __ATOMIC_RELEASE);
    hv_guest_wrmsr(X2APIC_MSR_EOI, 0);
}

/* VP 1 after the lock rounds: waits for IPIs with interrupts on. */
static void __attribute__((noreturn)) vp1_wait_for_ipis(void) {
    const uint64_t a = (uint64_t)shootdown_isr;  /* 64-bit interrupt gate, SDM 6.14.1 */
    idt[2 * HV_DEMO_SHOOTDOWN_VECTOR] = (a & 0xffff) | (0x08ull << 16) | (0x8eull << 40) | (((a >> 16) & 0xffff) << 48);
    idt[2 * HV_DEMO_SHOOTDOWN_VECTOR + 1] = a >> 32;
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = {sizeof idt - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr));
    vp1_done = 1;
    for (;;) __asm__ volatile("sti; hlt; cli" : : : "memory");
}

static void spin(unsigned vp, uint32_t retry, uint32_t *spins);

/* One shootdown from VP 0: the local INVLPG, then VP 1's. */
static int shootdown(int by_hypercall) {
    __asm__ volatile("invlpg (%0)" : : "r"(SHOOTDOWN_PAGE) : "memory");
    if (by_hypercall) {
        flush_input[0] = 0;                          /* address space: the current one */
        flush_input[1] = HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES;
        flush_input[2] = 3;                          /* processor mask: VP 0 and VP 1 */
        flush_input[3] = SHOOTDOWN_PAGE;             /* the GVA range: one page */
        const uint64_t r = hv_guest_call(hv_hypercall_input_encode(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, 0, 0, 1, 0),
                                         (uint64_t)flush_input, 0);
        return r == hv_hypercall_result(HV_STATUS_SUCCESS, 1);
    }
    const uint32_t before = shootdowns_seen;
    hv_guest_wrmsr(X2APIC_MSR_ICR, (1ull << 32) | HV_DEMO_SHOOTDOWN_VECTOR);  /* fixed, to x2APIC ID 1 */
    uint32_t spins = 0;
    while (__atomic_load_n(&shootdowns_seen, __ATOMIC_ACQUIRE) == before) spin(0, 0xffffffffu, &spins);
    return 1;
}

/* CPUID 40000004h: EAX the hints (bit 2: remote TLB flush by hypercall), EBX the spin-retry count. */
static uint32_t hints(uint32_t *spin_retry) {
    uint32_t a = HV_CPUID_HINTS, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    *spin_retry = b;
    return a;
}

/* One spin of a waiting VP: PAUSE, and every `retry` spins the notification (TLFS
   "HvCallNotifyLongSpinWait": fast, RDX = the spin count). */
static void spin(unsigned vp, uint32_t retry, uint32_t *spins) {
    __asm__ volatile("pause");
    if (++*spins != retry) return;
    hv_guest_fast(HVCALL_NOTIFY_LONG_SPIN_WAIT, *spins, 0);
    ++notifications[vp];
    *spins = 0;
}

static void lock(unsigned vp, uint32_t retry) {
    const uint32_t ticket = __atomic_fetch_add(&next_ticket, 1, __ATOMIC_ACQ_REL);
    uint32_t spins = 0;
    while (__atomic_load_n(&now_serving, __ATOMIC_ACQUIRE) != ticket) spin(vp, retry, &spins);
}

static void unlock(void) { __atomic_store_n(&now_serving, now_serving + 1, __ATOMIC_RELEASE); }

void kernel_main(uint64_t partition_id, uint64_t vp_index);
void kernel_main(uint64_t partition_id, uint64_t vp_index) {
    const unsigned vp = (unsigned)vp_index;
    uint32_t retry;
    const int flush_by_hypercall = (hints(&retry) >> 2) & 1;
    if (vp == 0) {
        hv_guest_enable_hypercalls();
        const uint32_t scenario = retry == 0xffffffffu ? HV_DEMO_SCENARIO_SPIN_PLAIN : HV_DEMO_SCENARIO_SPIN_ENLIGHTENED;
        __asm__ volatile("outl %0, %1" : : "a"(scenario), "Nd"((uint16_t)HV_DEMO_SCENARIO_PORT));
    }
    for (unsigned i = 0; i < HV_DEMO_SPIN_ROUNDS; ++i) {
        lock(vp, retry);
        const uint32_t n = counter + 1;
        __asm__ volatile("outl %0, %1" : : "a"(n), "Nd"((uint16_t)HV_DEMO_EMULATED_PORT));  /* the root, lock held */
        counter = n;
        unlock();
    }
    if (vp == 1) vp1_wait_for_ipis();
    uint32_t spins = 0;
    while (!vp1_done) spin(0, retry, &spins);
    const uint32_t locked = counter;
    const uint32_t scenario = flush_by_hypercall ? HV_DEMO_SCENARIO_FLUSH_HYPERCALL : HV_DEMO_SCENARIO_FLUSH_IPI;
    __asm__ volatile("outl %0, %1" : : "a"(scenario), "Nd"((uint16_t)HV_DEMO_SCENARIO_PORT));
    unsigned done = 0;
    for (unsigned k = 0; k < HV_DEMO_SHOOTDOWNS; ++k) done += (unsigned)shootdown(flush_by_hypercall);
    console_init();
    printf("child: partition %lu: 2 VPs took the lock %u times; long-spin notifications %u + %u\n", partition_id,
           locked, notifications[0], notifications[1]);
    printf("child: partition %lu: %u TLB shootdowns by %s, %u seen by VP 1's handler\n", partition_id, done,
           flush_by_hypercall ? "hypercall" : "IPI", shootdowns_seen);
    virt_exit(locked == 2 * HV_DEMO_SPIN_ROUNDS && done == HV_DEMO_SHOOTDOWNS ? 0 : 1);
}
