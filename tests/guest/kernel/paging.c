/* 4-level paging (SDM Vol. 3A 4.5): a frame allocator, mapping with 4 KiB, 2 MiB and 1 GiB
   pages, the checks of aliases, accessed/dirty bits and INVLPG, and the page-fault checks
   (4.7): not-present read, write to a read-only page, fetch from an NX page, demand paging.
   The page-fault hook fixes the entry and returns, so the instruction is retried.
   Context: ring 0, 64-bit, interrupts off, BSP only (the AP shares these tables read-only). */
#include "kernel.h"

#define FRAME_POOL_START 0x400000ul   /* [4 MiB, 8 MiB): page tables and test frames */
#define FRAME_POOL_END 0x800000ul
#define TEST_2M_PA 0x800000ul          /* the 2 MiB page's frame */
#define TEST_1G_VA 0x8000000000ul      /* PML4[1], PDPT[0]: 1 GiB page onto physical 0 */
#define TEST_2M_VA 0x8040000000ul      /* PDPT[1], PD[0]: 2 MiB page */
#define TEST_4K_VA 0x8080000000ul      /* PDPT[2], PD[0], PT: 4 KiB pages */
#define ALIAS_A (TEST_4K_VA + 0x0000)
#define ALIAS_B (TEST_4K_VA + 0x1000)
#define NX_PAGE (TEST_4K_VA + 0x2000)
#define RO_PAGE (TEST_4K_VA + 0x3000)
#define ABSENT_PAGE (TEST_4K_VA + 0x4000)
#define DEMAND_BASE (TEST_4K_VA + 0x10000)
#define DEMAND_PAGES 8
#define APIC_MMIO 0xfee00000ul

extern char __user_text_start[], __user_text_end[], __user_data_start[], __user_data_end[];

static uint64_t next_frame = FRAME_POOL_START;

uint64_t alloc_frame(void) {
    if (next_frame >= FRAME_POOL_END) kernel_abort("frame pool exhausted");
    const uint64_t pa = next_frame;
    next_frame += 4096;
    memset((void*)pa, 0, 4096);  /* the pool is identity-mapped */
    return pa;
}

void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }

/* The entry that maps `va` at `level` (1 = PTE, 2 = PDE, 3 = PDPTE), creating the tables
   above it. Intermediate entries allow everything (P, R/W, U/S): the leaf decides (4.6). */
uint64_t* pte_for(uint64_t va, int level, bool create) {
    uint64_t* table = boot_pml4;
    for (int l = 4; l > level; --l) {
        uint64_t* e = &table[(va >> (12 + 9 * (l - 1))) & 511];
        if (!(*e & PTE_P)) {
            if (!create) return 0;
            *e = alloc_frame() | PTE_P | PTE_W | PTE_U;
        } else if (*e & PTE_PS) {
            kernel_abort("pte_for: a large page is in the way");
        } else if (create) {
            *e |= PTE_U;
        }
        table = (uint64_t*)(*e & PTE_ADDR);
    }
    return &table[(va >> (12 + 9 * (level - 1))) & 511];
}

void map_page(uint64_t va, uint64_t pa, uint64_t flags, int level) {
    *pte_for(va, level, true) = pa | flags | (level > 1 ? PTE_PS : 0) | PTE_P;
    invlpg(va);
}

/* Splits the first 2 MiB into 4 KiB pages (page 0 absent: a null-pointer guard), opens the
   user task's pages to CPL 3, and maps the local APIC uncached (PCD+PWT: UC with the default
   PAT, 11.12.3). */
void paging_init(void) {
    const uint64_t pt = alloc_frame();
    uint64_t* pte = (uint64_t*)pt;
    for (uint64_t i = 1; i < 512; ++i) pte[i] = (i << 12) | PTE_P | PTE_W;
    for (uint64_t a = (uint64_t)__user_text_start; a < (uint64_t)__user_text_end; a += 4096)
        pte[a >> 12] = a | PTE_P | PTE_U;
    for (uint64_t a = (uint64_t)__user_data_start; a < (uint64_t)__user_data_end; a += 4096)
        pte[a >> 12] = a | PTE_P | PTE_U | PTE_W | PTE_NX;
    uint64_t* pdpte = pte_for(0, 3, true);  /* PML4[0] gains U/S on the way; PDPT[0] here */
    *pdpte |= PTE_U;
    uint64_t* pd = (uint64_t*)(*pdpte & PTE_ADDR);
    pd[0] = pt | PTE_P | PTE_W | PTE_U;
    map_page(APIC_MMIO, APIC_MMIO, PTE_W | PTE_PCD | PTE_PWT | PTE_NX, 1);
    write_cr3(read_cr3());
}

/* ---- mappings ---- */

static uint64_t pattern(uint64_t va) { return va ^ 0x5a5a5a5a00000000ul; }
static uint64_t peek(uint64_t va) { return *(volatile uint64_t*)va; }
static void poke(uint64_t va, uint64_t v) { *(volatile uint64_t*)va = v; }

static void test_4k_alias(void) {
    const uint64_t x = alloc_frame(), y = alloc_frame();
    map_page(ALIAS_A, x, PTE_W | PTE_NX, 1);
    map_page(ALIAS_B, x, PTE_W | PTE_NX, 1);
    poke(ALIAS_A + 0x238, 0x1111222233334444ul);
    const uint64_t via_b = peek(ALIAS_B + 0x238), via_identity = peek(x + 0x238);
    const uint64_t pte_a = *pte_for(ALIAS_A, 1, false), pte_b = *pte_for(ALIAS_B, 1, false);
    poke(y + 0x238, 0x5555666677778888ul);  /* B moves to another frame: INVLPG must drop the old one */
    *pte_for(ALIAS_B, 1, false) = y | PTE_P | PTE_W | PTE_NX;
    invlpg(ALIAS_B);
    const uint64_t after_move = peek(ALIAS_B + 0x238);
    check(via_b == 0x1111222233334444ul && via_identity == via_b && after_move == 0x5555666677778888ul,
          "paging-4k", "wrote 0x1111222233334444 via %#lx, read %#lx via the alias, %#lx via identity; "
          "after moving the alias and INVLPG read %#lx", ALIAS_A, via_b, via_identity, after_move);
    /* 4.8: the processor sets A on any access, D on a write. */
    check((pte_a & (PTE_A | PTE_D)) == (PTE_A | PTE_D) && (pte_b & (PTE_A | PTE_D)) == PTE_A,
          "paging-accessed-dirty", "written PTE %#lx (want A and D), read PTE %#lx (want A, not D)", pte_a, pte_b);
}

static void test_2m(void) {
    map_page(TEST_2M_VA, TEST_2M_PA, PTE_W | PTE_NX, 2);
    poke(TEST_2M_PA + 0x12340, pattern(0x12340));
    poke(TEST_2M_VA + 0x1ff008, pattern(0x1ff008));
    const uint64_t a = peek(TEST_2M_VA + 0x12340), b = peek(TEST_2M_PA + 0x1ff008);
    check(a == pattern(0x12340) && b == pattern(0x1ff008), "paging-2m",
          "2 MiB page at %#lx onto %#lx: read %#lx (want %#lx), identity read %#lx (want %#lx)", TEST_2M_VA,
          TEST_2M_PA, a, pattern(0x12340), b, pattern(0x1ff008));
}

static void test_1g(void) {
    uint32_t r[4];
    cpuid(0x80000001, 0, r);
    if (!(r[3] & (1u << 26))) {
        skip("paging-1g", "CPUID 80000001h:EDX[26] (Page1GB) is clear");
        return;
    }
    const uint64_t x = alloc_frame();
    map_page(TEST_1G_VA, 0, PTE_W | PTE_NX, 3);
    poke(x + 0x40, pattern(x));
    poke(TEST_1G_VA + x + 0x48, pattern(x + 8));
    const uint64_t a = peek(TEST_1G_VA + x + 0x40), b = peek(x + 0x48);
    check(a == pattern(x) && b == pattern(x + 8), "paging-1g",
          "1 GiB page at %#lx: read %#lx (want %#lx), identity read %#lx (want %#lx)", TEST_1G_VA, a, pattern(x), b,
          pattern(x + 8));
}

void test_paging(void) {
    test_4k_alias();
    test_2m();
    test_1g();
}

/* ---- page faults ---- */

static struct {
    enum pf_fix fix;
    uint32_t want_error;
    uint64_t lo, hi;  /* CR2 must fall in [lo, hi) */
    volatile unsigned count, wrong;
    uint64_t cr2, error, rip;
} pf;

void pf_arm(enum pf_fix fix, uint32_t want_error, uint64_t lo, uint64_t hi) {
    pf.fix = fix;
    pf.want_error = want_error;
    pf.lo = lo;
    pf.hi = hi;
    pf.count = pf.wrong = 0;
    trap_hook = pf_hook;
}

unsigned pf_disarm(uint64_t* cr2, uint64_t* error, uint64_t* rip) {
    trap_hook = 0;
    *cr2 = pf.cr2;
    *error = pf.error;
    *rip = pf.rip;
    return pf.wrong ? 1000 + pf.count : pf.count;
}

bool pf_hook(struct trap_frame* f) {
    if (f->vector != 14 || pf.count >= 16) return false;  /* 16: a fix that does not hold */
    ++pf.count;
    pf.cr2 = read_cr2();
    pf.error = f->error;
    pf.rip = f->rip;
    if (pf.cr2 < pf.lo || pf.cr2 >= pf.hi || f->error != pf.want_error) ++pf.wrong;
    const uint64_t page = pf.cr2 & ~0xffful;
    uint64_t* pte = pte_for(page, 1, false);
    if (!pte) return false;
    switch (pf.fix) {
    case PF_FIX_DEMAND: {
        const uint64_t frame = alloc_frame();
        poke(frame, pattern(page));
        *pte = frame | PTE_P | PTE_W | PTE_NX;
        break;
    }
    case PF_FIX_WRITE: *pte |= PTE_W; break;
    case PF_FIX_EXEC: *pte &= ~PTE_NX; break;
    case PF_FIX_USER: *pte |= PTE_U; break;
    }
    invlpg(page);
    return true;
}

static void report_pf(const char* step, unsigned want_count, uint64_t want_rip, bool value_ok, uint64_t value) {
    uint64_t cr2, error, rip;
    const unsigned count = pf_disarm(&cr2, &error, &rip);
    check(count == want_count && value_ok && (want_rip == 0 || rip == want_rip), step,
          "%u faults (1000+: wrong CR2 or error code), last CR2 %#lx error %#lx RIP %#lx, value %#lx", count, cr2,
          error, rip, value);
}

void test_page_faults(void) {
    /* Not-present read at CPL 0: error code 0 (P=0, W/R=0, U/S=0, I/D=0). */
    *pte_for(ABSENT_PAGE, 1, true) = 0;
    pf_arm(PF_FIX_DEMAND, 0, ABSENT_PAGE, ABSENT_PAGE + 1);
    uint64_t v = peek(ABSENT_PAGE);
    report_pf("pf-not-present", 1, 0, v == pattern(ABSENT_PAGE), v);

    /* Write to a read-only page with CR0.WP=1: error P|W. */
    map_page(RO_PAGE, alloc_frame(), PTE_NX, 1);
    pf_arm(PF_FIX_WRITE, PF_P | PF_W, RO_PAGE + 0x80, RO_PAGE + 0x81);
    poke(RO_PAGE + 0x80, 0xabcdef);
    v = peek(RO_PAGE + 0x80);
    report_pf("pf-write-protect", 1, 0, v == 0xabcdef, v);

    /* Fetch from an NX page (EFER.NXE=1): error P|I/D, CR2 = RIP = the page. */
    const uint64_t code = alloc_frame();
    static const uint8_t body[] = {0xb8, 0x0d, 0xf0, 0x0d, 0x60, 0xc3};  /* mov $0x600df00d, %eax; ret */
    memcpy((void*)code, body, sizeof body);
    map_page(NX_PAGE, code, PTE_NX, 1);
    pf_arm(PF_FIX_EXEC, PF_P | PF_ID, NX_PAGE, NX_PAGE + 1);
    v = ((uint32_t(*)(void))NX_PAGE)();
    report_pf("pf-nx-fetch", 1, NX_PAGE, v == 0x600df00d, v);

    /* Demand paging: writes to absent pages (error W), each mapped by the handler. */
    pf_arm(PF_FIX_DEMAND, PF_W, DEMAND_BASE, DEMAND_BASE + DEMAND_PAGES * 4096);
    bool ok = true;
    for (uint64_t i = 0; i < DEMAND_PAGES; ++i) poke(DEMAND_BASE + i * 4096 + 8, i);
    for (uint64_t i = 0; i < DEMAND_PAGES; ++i) {
        const uint64_t page = DEMAND_BASE + i * 4096;
        ok &= peek(page) == pattern(page) && peek(page + 8) == i;
    }
    report_pf("demand-paging", DEMAND_PAGES, 0, ok, DEMAND_PAGES);
}
