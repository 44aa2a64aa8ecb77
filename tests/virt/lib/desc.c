/* The descriptor tables: the GDT of entry.S gains a 64-bit TSS (VM entry needs a usable TR:
   SDM 27.2.3 "host TR selector cannot be 0000H"; 27.3.1.2 guest TR must be a busy TSS), the IDT
   reports exceptions. Context: ring 0, 64-bit, one CPU, interrupts off. */
#include "virt.h"
#include "x86.h"

extern uint64_t gdt[];
extern char isr_stubs[], isr_stubs_end[];

/* 64-bit TSS (SDM Vol. 3A 8.7, figure 8-11); no stacks are switched: RSP0 and ISTs stay 0. */
static struct {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed, aligned(16))) tss = {.iomap_base = 104};

static uint64_t idt[2 * 32] __attribute__((aligned(16)));

exception_hook_fn virt_exception_hook;

static const char *const exception_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "15",
    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "22",  "23",  "24",  "25",  "26",  "27",  "#HV", "#VC", "#SX", "31"};

void exception_dispatch(struct exception_frame *f);
void exception_dispatch(struct exception_frame *f) {
    const exception_hook_fn hook = virt_exception_hook;
    if (hook && hook(f)) return;
    uint64_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    virt_abort("unexpected exception %s (vector %lu) error %#lx at rip %#lx rsp %#lx cr2 %#lx",
               exception_names[f->vector & 31], f->vector, f->error, f->rip, f->rsp, cr2);
}

struct segment segment_from_gdt(uint16_t selector) {
    struct segment s = {.selector = selector};
    const struct descriptor_pointer gdtr = read_gdtr();
    if ((selector & ~7u) == 0 || (selector | 7u) > gdtr.limit) return s;
    const uint64_t *entry = (const uint64_t *)(gdtr.base + (selector & ~7u));
    const uint64_t d = entry[0];
    s.attributes = (uint16_t)((d >> 40) & 0xf0ff);
    const uint32_t raw_limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
    s.limit = (d & (1ull << 55)) ? (raw_limit << 12) | 0xfff : raw_limit;  /* G: 4 KiB units */
    s.base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
    if (!(d & (1ull << 44)))  /* a system descriptor (TSS, LDT) holds base 63:32 in the next word */
        s.base |= entry[1] << 32;
    return s;
}

void desc_init(void) {
    /* TSS descriptor (SDM Vol. 3A 8.2.3, figure 8-4): type 9 (available 64-bit TSS), present. */
    const uint64_t base = (uint64_t)&tss, limit = sizeof tss - 1;
    gdt[SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
                       ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
    gdt[SEL_TSS / 8 + 1] = base >> 32;
    __asm__ volatile("ltr %w0" : : "r"((uint16_t)SEL_TSS));  /* marks the descriptor busy */

    if (isr_stubs_end - isr_stubs != 32 * 16) virt_abort("exception stubs are not 16 bytes each");
    for (unsigned v = 0; v < 32; ++v) {
        /* 64-bit interrupt gate (6.14.1, figure 6-8): type 0xe, present. */
        const uint64_t h = (uint64_t)(isr_stubs + 16 * v);
        idt[2 * v] = (h & 0xffff) | ((uint64_t)SEL_CODE64 << 16) | (0x8eull << 40) | ((h >> 16 & 0xffff) << 48);
        idt[2 * v + 1] = h >> 32;
    }
    const struct descriptor_pointer idtr = {sizeof idt - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr));
}
