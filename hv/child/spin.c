/* The spinlock child: two VPs take a ticket lock HV_DEMO_SPIN_ROUNDS times each and, holding
   it, write the emulated register (an intercept: the holder waits for the root while the other
   VP spins). With the spin-wait enlightenment (CPUID 40000004h.EBX = the spin-retry count) a
   spinner calls HvCallNotifyLongSpinWait after that many PAUSEs and the hypervisor runs the
   holder; without it (EBX = FFFFFFFFh: never notify) it spins until the hypervisor sees
   HV_PAUSE_YIELD_SPINS PAUSEs. VP 0 announces the scenario (the root then starts VP 1), waits
   for VP 1, checks the count and reports through the debug-exit port.
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

static uint32_t spin_retry_count(void) {
    uint32_t a = HV_CPUID_HINTS, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return b;
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
    const uint32_t retry = spin_retry_count();
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
    if (vp == 1) {
        vp1_done = 1;
        for (;;) __asm__ volatile("hlt");  /* stays halted: nothing wakes it */
    }
    uint32_t spins = 0;
    while (!vp1_done) spin(0, retry, &spins);
    console_init();
    printf("child: partition %lu: 2 VPs took the lock %u times; long-spin notifications %u + %u\n", partition_id,
           counter, notifications[0], notifications[1]);
    virt_exit(counter == 2 * HV_DEMO_SPIN_ROUNDS ? 0 : 1);
}
