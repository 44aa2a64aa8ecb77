/* The demo's child kernel: four scenarios, each announced on the scenario port
   (hv/abi/demo.h), each checking its architectural results; the number of failed checks is
   reported through the debug-exit port (0: all passed), which the root's emulator takes as
   the child's end. Context: child partition, ring 0, 64-bit, interrupts off; every port
   access is an intercept the root partition emulates. */
#include "../../tests/guest/guest.h"
#include "../abi/demo.h"
#include "../abi/partition.h"
#include "../common/hypercall.h"
#include "hv_cpuid.h"
#include "virt.h"

#define CPUID_LOOPS 100
#define IO_LOOPS 50
#define HYPERCALL_LOOPS 50

uint8_t hv_hypercall_page[4096] __attribute__((aligned(4096)));
static unsigned failures;

static void expect(int ok, const char *what, uint64_t got) {
    if (ok) return;
    ++failures;
    printf("child: FAIL %s (got %#lx)\n", what, got);
}

static void scenario(uint32_t n) {
    __asm__ volatile("outl %0, %1" : : "a"(n), "Nd"((uint16_t)HV_DEMO_SCENARIO_PORT));
}

static void cpuid_loop(void) {
    for (unsigned i = 0; i < CPUID_LOOPS; ++i) {
        uint32_t r[4];
        __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(HV_CPUID_VENDOR + (i & 1)), "c"(0));
        if (i & 1) expect(r[0] == HV_CPUID_INTERFACE_EAX, "CPUID 40000001h is Hv#1", r[0]);
        else expect(r[1] == HV_CPUID_VENDOR_EBX && r[2] == HV_CPUID_VENDOR_ECX && r[3] == HV_CPUID_VENDOR_EDX,
                    "CPUID 40000000h is Microsoft Hv", r[1]);
    }
}

static void io_loop(void) {
    for (uint32_t i = 0; i < IO_LOOPS; ++i) {
        uint32_t v;
        __asm__ volatile("outl %0, %1" : : "a"(i * 3 + 1), "Nd"((uint16_t)HV_DEMO_EMULATED_PORT));
        __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"((uint16_t)HV_DEMO_EMULATED_PORT));
        expect(v == i * 3 + 1, "the emulated register reads back", v);
    }
}

static void hypercall_loop(void) {
    hv_guest_enable_hypercalls();
    const uint64_t hypercall = hv_guest_rdmsr(HV_MSR_HYPERCALL), vp_index = hv_guest_rdmsr(HV_MSR_VP_INDEX);
    expect(hypercall & 1, "the hypercall page is enabled", hypercall);
    expect(vp_index == 0, "VP index 0", vp_index);
    for (unsigned i = 0; i < HYPERCALL_LOOPS; ++i) {
        const uint16_t s = hv_guest_fast(HVCALL_SIGNAL_EVENT, HV_CONNECTION_ROOT_EVENTS | ((uint64_t)(i % 64) << 32), 0);
        expect(s == HV_STATUS_SUCCESS, "HvCallSignalEvent succeeds", s);
    }
    uint16_t s = hv_guest_fast(0x7777, 0, 0);
    expect(s == HV_STATUS_INVALID_HYPERCALL_CODE, "an unknown call code", s);
    s = hv_hypercall_result_status(hv_guest_call(HVCALL_SIGNAL_EVENT | HV_INPUT_FAST | (1ull << 27), 2, 0));
    expect(s == HV_STATUS_INVALID_HYPERCALL_INPUT, "a reserved input bit", s);
    s = hv_guest_fast(HVCALL_INITIALIZE_PARTITION, HV_ROOT_PARTITION_ID, 0);
    expect(s == HV_STATUS_ACCESS_DENIED, "a partition-management call from a child", s);
    s = hv_guest_fast(HVCALL_SIGNAL_EVENT, 99, 0);
    expect(s == HV_STATUS_INVALID_CONNECTION_ID, "an unknown connection", s);
}

void kernel_main(uint64_t partition_id, uint64_t vp_index);
void kernel_main(uint64_t partition_id, uint64_t vp_index) {
    scenario(1);
    cpuid_loop();
    scenario(2);
    io_loop();
    scenario(3);
    hypercall_loop();
    scenario(4);
    console_init();
    printf("child: hello from partition %lu VP %lu through the root's emulated UART\n", partition_id, vp_index);
    virt_exit(failures);
}
