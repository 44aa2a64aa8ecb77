/* The hostile child: after announcing scenario HV_DEMO_SCENARIO_HOSTILE it makes
   HV_HOSTILE_RANDOM_CALLS hypercalls with pseudo-random input values (codes the hypervisor
   knows half of the time, random flags, rep counts and reserved bits, input GPAs anywhere,
   output GPAs in its scratch page or outside its memory), tallies the statuses it gets and
   prints them, then writes to the root partition's code (HV_HOSTILE_TARGET), which is not in
   its address space: the hypervisor must stop it there and tell the root.
   Context: child partition, ring 0, 64-bit, interrupts off; every port access is emulated by
   the root. */
#include "../../tests/guest/guest.h"
#include "../abi/demo.h"
#include "../abi/partition.h"
#include "../common/hypercall.h"
#include "virt.h"

uint8_t hv_hypercall_page[4096] __attribute__((aligned(4096)));
static uint8_t scratch[4096] __attribute__((aligned(4096)));
static uint64_t seed = 0x9e3779b97f4a7c15ull;

/* xorshift64 (Marsaglia 2003): deterministic, so every run makes the same calls. */
static uint64_t next_random(void) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

static const uint16_t known_codes[] = {
    HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, HVCALL_NOTIFY_LONG_SPIN_WAIT,
    HVCALL_CREATE_PARTITION, HVCALL_INITIALIZE_PARTITION, HVCALL_FINALIZE_PARTITION,
    HVCALL_GET_PARTITION_ID, HVCALL_DEPOSIT_MEMORY, HVCALL_MAP_GPA_PAGES, HVCALL_CREATE_VP,
    HVCALL_POST_MESSAGE, HVCALL_SIGNAL_EVENT, HVCALL_START_VIRTUAL_PROCESSOR, HVCALL_HVSIM_COMPLETE_INTERCEPT,
};

/* An address for RDX/R8: in the scratch page (aligned or not), anywhere, or just past memory. */
static uint64_t random_gpa(uint64_t r, int output) {
    switch (r & 3) {
    case 0: return (uint64_t)scratch + ((r >> 2) & 0xff8);
    case 1: return (uint64_t)scratch + ((r >> 2) & 0xfff);
    case 2: return output ? HV_CHILD_STACK_TOP + ((r >> 2) & 0xffffff) : (r >> 2) & 0xfffff;
    default: return r >> 2;
    }
}

void kernel_main(uint64_t partition_id, uint64_t vp_index);
void kernel_main(uint64_t partition_id, uint64_t vp_index) {
    unsigned by_status[32] = {0};
    __asm__ volatile("outl %0, %1" : : "a"(HV_DEMO_SCENARIO_HOSTILE), "Nd"((uint16_t)HV_DEMO_SCENARIO_PORT));
    hv_guest_enable_hypercalls();
    for (unsigned i = 0; i < HV_HOSTILE_RANDOM_CALLS; ++i) {
        const uint64_t r = next_random();
        for (unsigned q = 0; q < 8; ++q) ((uint64_t *)scratch)[(r >> (8 * q)) & 511] = next_random();
        uint64_t input = (r & 1) ? known_codes[(r >> 1) % (sizeof known_codes / sizeof known_codes[0])] : (uint16_t)(r >> 8);
        input |= r & HV_INPUT_FAST;
        if ((r >> 20) & 1) input |= next_random() & ~0xffffffffull;  /* rep count, start, reserved */
        if ((r >> 21) & 1) input |= next_random() & 0xfffe0000ull;   /* header size, reserved, nested */
        const uint64_t status = hv_hypercall_result_status(
            hv_guest_call(input, random_gpa(next_random(), 0), random_gpa(next_random(), 1)));
        ++by_status[status < 31 ? status : 31];
    }
    console_init();
    printf("child: partition %lu VP %lu made %u random hypercalls; statuses:", partition_id, vp_index,
           HV_HOSTILE_RANDOM_CALLS);
    for (unsigned s = 0; s < 32; ++s)
        if (by_status[s]) printf(" %s=%u", s == 31 ? "other" : hv_status_name(s), by_status[s]);
    printf("\nchild: now writing to the root partition's code at %#x\n", HV_HOSTILE_TARGET);
    *(volatile uint64_t *)HV_HOSTILE_TARGET = 0xdeadbeefdeadbeefull;
    printf("child: FAIL the write outside my memory went through\n");
    virt_exit(1);
}
