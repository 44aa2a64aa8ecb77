/* Partitions: ids, second-level address translation (EPT or NPT, by the back-end's entry
   formats) at 4 KiB granularity, access to a partition's memory through its mappings, and the
   boot area of the VP boot convention (hv/abi/partition.h).
   Context: VMX root / SVM host, ring 0, 64-bit, one CPU, interrupts off. */
#include "hv.h"

#include "x86.h"

static struct hv_partition partitions[HV_MAX_PARTITIONS];
static uint64_t next_id = HV_ROOT_PARTITION_ID;

#define SLAT_ADDRESS_MASK 0x000ffffffffff000ull
#define SLAT_PRESENT_MASK 0x7ull  /* EPT R/W/X; NPT P/RW/US: an entry is present if any is set */

struct hv_partition *hv_partition_create(uint64_t flags) {
    for (unsigned i = 0; i < HV_MAX_PARTITIONS; ++i) {
        struct hv_partition *p = &partitions[i];
        if (p->id) continue;
        memset(p, 0, sizeof *p);
        p->id = next_id++;
        p->flags = flags;
        p->slat_root = virt_alloc_pages(1);
        for (unsigned v = 0; v < HV_MAX_VPS; ++v) {
            p->vps[v].index = v;
            p->vps[v].partition = p;
        }
        return p;
    }
    return NULL;
}

struct hv_partition *hv_partition_find(uint64_t id) {
    for (unsigned i = 0; i < HV_MAX_PARTITIONS; ++i)
        if (id && partitions[i].id == id) return &partitions[i];
    return NULL;
}

struct hv_partition *hv_root_partition(void) { return hv_partition_find(HV_ROOT_PARTITION_ID); }

/* The leaf entry of gpa, creating the tables on the way when `create`. 4-level walk:
   bits 47:39, 38:30, 29:21, 20:12 (SDM 29.3.2 for EPT, APM 15.25.5 for NPT: the same shape). */
static uint64_t *slat_leaf(struct hv_partition *p, uint64_t gpa, int create) {
    uint64_t *table = p->slat_root;
    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t *entry = &table[(gpa >> shift) & 511];
        if (!(*entry & SLAT_PRESENT_MASK)) {
            if (!create) return NULL;
            *entry = hv_backend->slat_table_entry(virt_pa(virt_alloc_pages(1)));
        }
        table = (uint64_t *)(*entry & SLAT_ADDRESS_MASK);
    }
    return &table[(gpa >> 12) & 511];
}

void hv_partition_map(struct hv_partition *p, uint64_t gpa, uint64_t hpa) {
    *slat_leaf(p, gpa, 1) = hv_backend->slat_leaf_entry(hpa & SLAT_ADDRESS_MASK);
}

void hv_partition_unmap(struct hv_partition *p, uint64_t gpa) {
    uint64_t *leaf = slat_leaf(p, gpa, 0);
    if (leaf) *leaf = 0;
}

uint64_t hv_partition_translate(struct hv_partition *p, uint64_t gpa) {
    const uint64_t *leaf = slat_leaf(p, gpa, 0);
    if (!leaf || !(*leaf & SLAT_PRESENT_MASK)) return ~0ull;
    return (*leaf & SLAT_ADDRESS_MASK) | (gpa & 0xfff);
}

static int copy(struct hv_partition *p, uint64_t gpa, uint8_t *host, uint64_t len, int to_guest) {
    while (len) {
        const uint64_t hpa = hv_partition_translate(p, gpa);
        if (hpa == ~0ull) return 0;
        uint64_t chunk = HV_PAGE_SIZE - (gpa & 0xfff);
        if (chunk > len) chunk = len;
        if (to_guest) memcpy((void *)hpa, host, chunk);
        else memcpy(host, (const void *)hpa, chunk);
        gpa += chunk;
        host += chunk;
        len -= chunk;
    }
    return 1;
}

int hv_partition_read(struct hv_partition *p, uint64_t gpa, void *dst, uint64_t len) {
    return copy(p, gpa, dst, len, 0);
}

int hv_partition_write(struct hv_partition *p, uint64_t gpa, const void *src, uint64_t len) {
    return copy(p, gpa, (uint8_t *)src, len, 1);
}

/* Page tables identity-mapping the first GiB by 2 MiB pages (SDM 4.5, PS in the PDE), a GDT
   with the hypervisor's descriptors and a TSS descriptor for the partition's own TSS. */
int hv_partition_write_boot_area(struct hv_partition *p, uint64_t base) {
    uint64_t table[512];
    memset(table, 0, sizeof table);
    table[0] = (base + HV_BOOT_PDPT) | 0x3;
    if (!hv_partition_write(p, base + HV_BOOT_PML4, table, sizeof table)) return 0;
    table[0] = (base + HV_BOOT_PD) | 0x3;
    if (!hv_partition_write(p, base + HV_BOOT_PDPT, table, sizeof table)) return 0;
    for (unsigned i = 0; i < 512; ++i) table[i] = ((uint64_t)i << 21) | 0x83;
    if (!hv_partition_write(p, base + HV_BOOT_PD, table, sizeof table)) return 0;
    const struct descriptor_pointer gdtr = read_gdtr();
    uint64_t gdt[6];
    memcpy(gdt, (const void *)gdtr.base, 4 * sizeof(uint64_t));
    const uint64_t tss = base + HV_BOOT_TSS, limit = 0x67;
    /* 64-bit TSS descriptor (SDM 8.2.3): available TSS (type 9), present. */
    gdt[4] = (limit & 0xffff) | ((tss & 0xffffff) << 16) | (0x89ull << 40) | (((tss >> 24) & 0xff) << 56);
    gdt[5] = tss >> 32;
    if (!hv_partition_write(p, base + HV_BOOT_GDT, gdt, sizeof gdt)) return 0;
    uint8_t zero_tss[0x68];
    memset(zero_tss, 0, sizeof zero_tss);
    return hv_partition_write(p, tss, zero_tss, sizeof zero_tss);
}
