/* Zeroed 4 KiB pages for VMCS/VMCB regions, bitmaps and guest stacks: a bump allocator over
   a pool in .bss that the runner resets between tests. Context: ring 0, 64-bit, one CPU. */
#include "virt.h"

#define POOL_PAGES 256

static uint8_t pool[POOL_PAGES][4096] __attribute__((aligned(4096)));
static unsigned used;

void *virt_alloc_pages(unsigned count) {
    if (count > POOL_PAGES - used) virt_abort("page pool exhausted (%u of %u pages used)", used, POOL_PAGES);
    void *p = pool[used];
    memset(p, 0, (size_t)count * 4096);
    used += count;
    return p;
}

void virt_pages_reset(void) { used = 0; }
