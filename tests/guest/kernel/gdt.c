/* GDT, the two 64-bit TSSs (one per CPU: LTR marks a TSS busy) and the per-CPU blocks.
   Descriptor formats: SDM Vol. 3A 3.4.5 "Segment Descriptors", 7.2.3 "TSS Descriptor in
   64-bit mode", 7.7 "Task Management in 64-bit Mode". Context: ring 0, 64-bit, interrupts off
   (the GDT itself is also loaded by entry32.S and trampoline.S in 32-bit mode). */
#include "kernel.h"

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

/* Flat descriptors: G=1, limit 0xfffff; type 0xa = execute/read code, 0x2 = read/write data. */
#define DESC_CODE64(dpl) (0x00af9a000000ffffull | ((uint64_t)(dpl) << 45))
#define DESC_CODE32(dpl) (0x00cf9a000000ffffull | ((uint64_t)(dpl) << 45))
#define DESC_DATA(dpl) (0x00cf92000000ffffull | ((uint64_t)(dpl) << 45))

uint64_t gdt[11] __attribute__((aligned(16))) = {
    0,
    DESC_CODE64(0),  /* 0x08 */
    DESC_DATA(0),    /* 0x10 */
    DESC_CODE32(3),  /* 0x18: compatibility-mode user code (SYSRET's base; unused) */
    DESC_DATA(3),    /* 0x20 */
    DESC_CODE64(3),  /* 0x28 */
    0, 0,            /* 0x30: BSP TSS, filled in by gdt_init_bsp */
    DESC_CODE32(0),  /* 0x40 */
    0, 0,            /* 0x48: AP TSS */
};

/* One pseudo-descriptor serves the 32-bit LGDT (6 bytes) and the 64-bit one (10 bytes). */
struct {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed)) gdt_pointer = {sizeof gdt - 1, (uint64_t)gdt};

static struct tss64 tss_bsp __attribute__((aligned(16)));
static struct tss64 tss_ap __attribute__((aligned(16)));
static uint8_t bsp_trap_stack[16384] __attribute__((aligned(16)));
static uint8_t bsp_df_stack[8192] __attribute__((aligned(16)));
static uint8_t ap_df_stack[8192] __attribute__((aligned(16)));

struct percpu percpu_bsp, percpu_ap;

/* Double-fault IST stacks, so trap handlers can tell which stack they run on. */
uint64_t df_stack_top[2];

static void set_tss_descriptor(unsigned selector, struct tss64* tss) {
    const uint64_t base = (uint64_t)tss, limit = sizeof *tss - 1;
    uint64_t low = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |  /* P, type 9 */
                   ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
    gdt[selector / 8] = low;
    gdt[selector / 8 + 1] = base >> 32;
}

static void load_tr(uint16_t selector) { __asm__ volatile("ltr %0" : : "r"(selector) : "memory"); }

static uint16_t store_tr(void) {
    uint16_t v;
    __asm__ volatile("str %0" : "=r"(v));
    return v;
}

void tss_set_rsp0(uint64_t rsp0) { tss_bsp.rsp[0] = rsp0; }

void gdt_init_bsp(void) {
    tss_bsp.iomap_base = sizeof tss_bsp;  /* no I/O permission bitmap */
    tss_bsp.rsp[0] = (uint64_t)(bsp_trap_stack + sizeof bsp_trap_stack);
    tss_bsp.ist[0] = (uint64_t)(bsp_df_stack + sizeof bsp_df_stack);  /* IST1 */
    tss_ap.iomap_base = sizeof tss_ap;
    tss_ap.ist[0] = (uint64_t)(ap_df_stack + sizeof ap_df_stack);
    df_stack_top[0] = tss_bsp.ist[0];
    df_stack_top[1] = tss_ap.ist[0];
    set_tss_descriptor(SEL_TSS_BSP, &tss_bsp);
    set_tss_descriptor(SEL_TSS_AP, &tss_ap);
    load_tr(SEL_TSS_BSP);

    percpu_bsp.self = (uint64_t)&percpu_bsp;
    percpu_bsp.kernel_rsp = tss_bsp.rsp[0];
    percpu_bsp.index = 0;
    percpu_ap.self = (uint64_t)&percpu_ap;
    percpu_ap.index = 1;
    wrmsr(MSR_GS_BASE, (uint64_t)&percpu_bsp);
    wrmsr(MSR_KERNEL_GS_BASE, 0);

    /* LTR sets the busy bit: type 9 becomes 0xb (SDM Vol. 2A "LTR"). */
    const uint16_t tr = store_tr();
    const unsigned type = (unsigned)(gdt[SEL_TSS_BSP / 8] >> 40) & 0xf;
    uint16_t cs, ss;
    __asm__ volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
    check(tr == SEL_TSS_BSP && type == 0xb && cs == SEL_KCODE && ss == SEL_KDATA, "gdt-tss",
          "TR=%#x TSS type=%#x CS=%#x SS=%#x", tr, type, cs, ss);
}

void gdt_load_ap(void) {
    load_tr(SEL_TSS_AP);
    wrmsr(MSR_GS_BASE, (uint64_t)&percpu_ap);
}
