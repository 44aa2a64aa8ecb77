/* kmain: the order of the checks, the multiboot command line ("cpus=N") and the long-mode
   check. Each step prints "ok <step>", "FAIL <step>: ..." or "skip <step>: ...", and the
   kernel exits through the debug-exit port with the number of failures.
   Context: BSP, ring 0, 64-bit, interrupts off (entered from entry32.S). */
#include "kernel.h"

#define MULTIBOOT_LOADER_MAGIC 0x2badb002u
#define MB_INFO_CMDLINE (1u << 2)

static char cmdline[256];

/* The multiboot information (Multiboot Specification 3.3) may lie in memory the kernel
   reuses (hvsim puts it at 0x9000, next to the AP trampoline): copy the command line first.
   QEMU prefixes it with the kernel's file name, so look for "cpus=" anywhere. */
static unsigned parse_command_line(uint32_t info) {
    const uint32_t* mbi = (const uint32_t*)(uint64_t)info;
    if (info && (mbi[0] & MB_INFO_CMDLINE) && mbi[4]) {
        const char* s = (const char*)(uint64_t)mbi[4];
        size_t n = 0;
        while (s[n] && n < sizeof cmdline - 1) {
            cmdline[n] = s[n];
            ++n;
        }
    }
    for (const char* p = cmdline; *p; ++p) {
        if (p[0] == 'c' && p[1] == 'p' && p[2] == 'u' && p[3] == 's' && p[4] == '=' && p[5] >= '1' && p[5] <= '9')
            return (unsigned)(p[5] - '0');
    }
    return 1;
}

static void check_long_mode(uint32_t magic) {
    const uint64_t efer = rdmsr(MSR_EFER), cr0 = read_cr0(), cr4 = read_cr4();
    const uint64_t want_efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    check(magic == MULTIBOOT_LOADER_MAGIC && (efer & want_efer) == want_efer &&
              (cr0 & (CR0_PE | CR0_WP | CR0_PG)) == (CR0_PE | CR0_WP | CR0_PG) && (cr4 & CR4_PAE),
          "long-mode", "multiboot magic %#x, EFER %#lx, CR0 %#lx, CR4 %#lx", magic, efer, cr0, cr4);
}

/* Both 8259s remapped away from the exception vectors (0xe0-0xef) and fully masked: only the
   local APIC interrupts. Harmless where no 8259 exists. */
static void mask_8259(void) {
    static const uint8_t icw[2][4] = {{0x11, 0xe0, 0x04, 0x01}, {0x11, 0xe8, 0x02, 0x01}};
    for (int c = 0; c < 2; ++c) {
        const uint16_t port = c ? 0xa0 : 0x20;
        outb(port, icw[c][0]);
        for (int i = 1; i < 4; ++i) outb(port + 1, icw[c][i]);
        outb(port + 1, 0xff);
    }
}

void kmain(uint32_t magic, uint32_t info) {
    console_init();
    const unsigned cpus = parse_command_line(info);
    kprintf("kernel: hvsim system-architecture test kernel, command line \"%s\", cpus=%u\n", cmdline, cpus);
    check_long_mode(magic);
    gdt_init_bsp();
    idt_init();
    mask_8259();
    paging_init();
    test_exceptions();
    test_paging();
    test_page_faults();
    user_init();
    test_user();
    test_apic();
    test_smp(cpus);
    kernel_finish();
}
