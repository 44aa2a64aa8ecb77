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

static uint64_t flush_input[8] __attribute__((aligned(64)));

/* TLB flushes by hypercall (the enlightenment replacing shootdown IPIs): the plain form with a
   processor mask, the Ex forms with an HV_VP_SET (sparse format, bank 0 = VP 0) in the variable
   header, and an Ex set naming a VP this partition does not have. */
static void flush_calls(void) {
    flush_input[0] = 0;                      /* address space (ignored with the flag below) */
    flush_input[1] = HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES;
    flush_input[2] = 1;                      /* processor mask: VP 0 */
    uint16_t s = hv_guest_memory(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, flush_input, NULL);
    expect(s == HV_STATUS_SUCCESS, "HvCallFlushVirtualAddressSpace", s);
    flush_input[2] = 0;                      /* HV_GENERIC_SET_SPARSE_4K */
    flush_input[3] = 1;                      /* valid bank mask: bank 0 */
    flush_input[4] = 1;                      /* bank 0: VP 0 */
    flush_input[5] = 0x200000;               /* the list form's GVA ranges follow the set */
    flush_input[6] = 0x201000;
    s = hv_guest_call(hv_hypercall_input_encode(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX, 0, 1, 0, 0),
                      (uint64_t)flush_input, 0) & 0xffff;
    expect(s == HV_STATUS_SUCCESS, "HvCallFlushVirtualAddressSpaceEx", s);
    const uint64_t r = hv_guest_call(hv_hypercall_input_encode(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX, 0, 1, 2, 0),
                                     (uint64_t)flush_input, 0);
    expect(r == hv_hypercall_result(HV_STATUS_SUCCESS, 2), "HvCallFlushVirtualAddressListEx: 2 reps done", r);
    flush_input[4] = 1ull << 1;              /* VP 1: this partition has none */
    s = hv_guest_call(hv_hypercall_input_encode(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX, 0, 1, 0, 0),
                      (uint64_t)flush_input, 0) & 0xffff;
    expect(s == HV_STATUS_INVALID_PARAMETER, "a flush naming a VP that does not exist", s);
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
    flush_calls();
}

/* PIO READ SECTORS from the emulated IDE disk (ATA/ATAPI-6 8.27, 9.5): LBA mode, one status
   read per sector (the emulated drive is ready at once), 256 IN AX per sector; the data is
   the disk's pattern (hv/root/ide.c). */
static void ide_read(void) {
    const uint32_t lba = HV_DEMO_IDE_FIRST_SECTOR;
    outb(0x1f6, (uint8_t)(0xe0 | (lba >> 24)));  /* master, LBA */
    outb(0x1f2, HV_DEMO_IDE_SECTORS);
    outb(0x1f3, (uint8_t)lba);
    outb(0x1f4, (uint8_t)(lba >> 8));
    outb(0x1f5, (uint8_t)(lba >> 16));
    outb(0x1f7, 0x20);  /* READ SECTORS */
    for (uint32_t s = 0; s < HV_DEMO_IDE_SECTORS; ++s) {
        const uint8_t status = inb(0x1f7);
        expect((status & 0x89) == 0x08, "the drive has data (DRQ, not BSY or ERR)", status);
        unsigned wrong = 0;
        for (unsigned i = 0; i < 256; ++i) {
            uint16_t w;
            __asm__ volatile("inw %1, %0" : "=a"(w) : "Nd"((uint16_t)0x1f0));
            wrong += w != (uint16_t)(((lba + s) << 8) ^ i ^ 0xa5a5);
        }
        expect(wrong == 0, "every word of the sector is the disk's", wrong);
    }
    const uint8_t status = inb(0x1f7);
    expect((status & 0x89) == 0, "the transfer is over (no DRQ)", status);
}

void kernel_main(uint64_t partition_id, uint64_t vp_index);
void kernel_main(uint64_t partition_id, uint64_t vp_index) {
    scenario(HV_DEMO_SCENARIO_CPUID);
    cpuid_loop();
    scenario(HV_DEMO_SCENARIO_PORT_IO);
    io_loop();
    scenario(HV_DEMO_SCENARIO_HYPERCALL);
    hypercall_loop();
    scenario(HV_DEMO_SCENARIO_IDE);
    ide_read();
    scenario(HV_DEMO_SCENARIO_UART);
    console_init();
    printf("child: hello from partition %lu VP %lu through the root's emulated UART\n", partition_id, vp_index);
    virt_exit(failures);
}
