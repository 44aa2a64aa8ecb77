/* The hostile child: after announcing scenario HV_DEMO_SCENARIO_HOSTILE it makes
   HV_HOSTILE_RANDOM_CALLS pseudo-random attempts: hypercalls with random input values (codes
   the hypervisor knows half of the time, random flags, rep counts and reserved bits, input GPAs
   anywhere, output GPAs in its scratch page or outside its memory), well-formed PostMessage
   calls with random types and sizes to the root's connection, and SynIC MSR writes with random
   values (a #GP it takes is counted and the WRMSR skipped). It prints what it got, then writes
   to the root partition's code (HV_HOSTILE_TARGET), which is not in its address space: the
   hypervisor must stop it there and tell the root.
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

/* #GP (vector 13) from a refused WRMSR: skip the 2-byte instruction (hostile_isr.S). */
void hostile_gp_isr(void);
volatile uint64_t hostile_gp_count;
static uint64_t idt[256 * 2] __attribute__((aligned(16)));

static void install_gp_handler(void) {
    const uint64_t a = (uint64_t)hostile_gp_isr;  /* 64-bit interrupt gate, SDM 6.14.1 */
    idt[2 * 13] = (a & 0xffff) | (0x08ull << 16) | (0x8eull << 40) | (((a >> 16) & 0xffff) << 48);
    idt[2 * 13 + 1] = a >> 32;
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = {sizeof idt - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

static uint64_t random_hypercall(uint64_t r) {
    for (unsigned q = 0; q < 8; ++q) ((uint64_t *)scratch)[(r >> (8 * q)) & 511] = next_random();
    uint64_t input = (r & 1) ? known_codes[(r >> 1) % (sizeof known_codes / sizeof known_codes[0])] : (uint16_t)(r >> 8);
    input |= r & HV_INPUT_FAST;
    if ((r >> 20) & 1) input |= next_random() & ~0xffffffffull;  /* rep count, start, reserved */
    if ((r >> 21) & 1) input |= next_random() & 0xfffe0000ull;   /* header size, reserved, nested */
    return hv_guest_call(input, random_gpa(next_random(), 0), random_gpa(next_random(), 1));
}

/* A well-formed PostMessage to the root (its size may exceed the 240-byte payload). */
static uint64_t random_message(uint64_t r) {
    struct hv_input_post_message *m = (struct hv_input_post_message *)scratch;
    m->connection_id = HV_CONNECTION_ROOT_MESSAGES;
    m->reserved = 0;
    m->message_type = 1 + (uint32_t)(r >> 8) % 100;
    m->payload_size = (uint32_t)(r >> 16) % 256;
    return hv_guest_call(HVCALL_POST_MESSAGE, (uint64_t)m, 0);
}

/* SynIC MSRs with random values: SCONTROL, SIEFP, SIMP, EOM, SINT0-15. */
static void random_synic_write(uint64_t r) {
    static const uint32_t msrs[] = {HV_MSR_SCONTROL, HV_MSR_SIEFP, HV_MSR_SIMP, HV_MSR_EOM, HV_MSR_SINT0, HV_MSR_SINT15};
    uint32_t msr = msrs[(r >> 8) % 6];
    if (msr == HV_MSR_SINT15) msr = HV_MSR_SINT0 + (uint32_t)(r >> 16) % 16;
    hv_guest_wrmsr(msr, next_random());
}

void kernel_main(uint64_t partition_id, uint64_t vp_index);
void kernel_main(uint64_t partition_id, uint64_t vp_index) {
    unsigned by_status[32] = {0}, calls = 0, messages = 0, msr_writes = 0;
    __asm__ volatile("outl %0, %1" : : "a"(HV_DEMO_SCENARIO_HOSTILE), "Nd"((uint16_t)HV_DEMO_SCENARIO_PORT));
    install_gp_handler();
    hv_guest_enable_hypercalls();
    for (unsigned i = 0; i < HV_HOSTILE_RANDOM_CALLS; ++i) {
        const uint64_t r = next_random();
        uint64_t result;
        switch (r % 8) {
        case 6: random_synic_write(r); ++msr_writes; continue;
        case 7: result = random_message(r); ++messages; break;
        default: result = random_hypercall(r); ++calls; break;
        }
        const uint16_t status = hv_hypercall_result_status(result);
        ++by_status[status < 31 ? status : 31];
    }
    console_init();
    printf("child: partition %lu VP %lu made %u random hypercalls, %u messages, %u SynIC writes (%lu refused); statuses:",
           partition_id, vp_index, calls, messages, msr_writes, hostile_gp_count);
    for (unsigned s = 0; s < 32; ++s)
        if (by_status[s]) printf(" %s=%u", s == 31 ? "other" : hv_status_name(s), by_status[s]);
    printf("\nchild: now writing to the root partition's code at %#x\n", HV_HOSTILE_TARGET);
    *(volatile uint64_t *)HV_HOSTILE_TARGET = 0xdeadbeefdeadbeefull;
    printf("child: FAIL the write outside my memory went through\n");
    virt_exit(1);
}
