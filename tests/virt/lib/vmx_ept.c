/* EPT for test hypervisors (SDM Vol. 3C 29.3): an identity map of guest-physical memory and the
   4 KiB entry of one address, for tests that break a mapping on purpose. Context: ring 0,
   64-bit, VMX root operation; pages from the test's pool. */
#include "vmx.h"

#include "x86.h"

#define EPT_RWX 7ull
#define EPT_WB (6ull << 3)      /* memory type of a leaf entry (29.3.7) */
#define EPT_LARGE (1ull << 7)   /* a 1 GiB (PDPTE) or 2 MiB (PDE) page */
#define EPT_ADDRESS 0x000ffffffffff000ull

uint64_t ept_identity_map(void) {
    uint64_t *pml4 = virt_alloc_pages(1), *pdpt = virt_alloc_pages(1);
    pml4[0] = virt_pa(pdpt) | EPT_RWX;
    for (uint64_t g = 0; g < 4; ++g) pdpt[g] = (g << 30) | EPT_RWX | EPT_WB | EPT_LARGE;
    /* EPTP (25.6.11): memory type WB (6), page-walk length 4 (bits 5:3 = 3). */
    return virt_pa(pml4) | 6 | (3 << 3);
}

/* Replaces a large-page entry by a table of entries of the next size that map the same memory. */
static uint64_t *split(uint64_t *entry, uint64_t child_size, bool leaf_large) {
    uint64_t *table = virt_alloc_pages(1);
    const uint64_t base = *entry & EPT_ADDRESS & ~(child_size * 512 - 1);
    for (uint64_t k = 0; k < 512; ++k)
        table[k] = (base + k * child_size) | EPT_RWX | EPT_WB | (leaf_large ? EPT_LARGE : 0);
    *entry = virt_pa(table) | EPT_RWX;
    return table;
}

uint64_t *ept_entry_4k(uint64_t eptp, uint64_t gpa) {
    uint64_t *pml4 = (uint64_t *)(eptp & EPT_ADDRESS);
    uint64_t *pdpt = (uint64_t *)(pml4[(gpa >> 39) & 511] & EPT_ADDRESS);
    uint64_t *pdpte = &pdpt[(gpa >> 30) & 511];
    uint64_t *pd = (*pdpte & EPT_LARGE) ? split(pdpte, 1ull << 21, true) : (uint64_t *)(*pdpte & EPT_ADDRESS);
    uint64_t *pde = &pd[(gpa >> 21) & 511];
    uint64_t *pt = (*pde & EPT_LARGE) ? split(pde, 1ull << 12, false) : (uint64_t *)(*pde & EPT_ADDRESS);
    return &pt[(gpa >> 12) & 511];
}

bool vmx_use_ept(uint64_t eptp) {
    if (!vmx_secondary_set(VMX_PROC2_ENABLE_EPT)) return false;
    vmcs_write(VMCS_EPT_POINTER, eptp);
    return true;
}

bool vmx_secondary_set(uint32_t set) {
    /* The secondary field is written before it first counts (its contents after VMCLEAR are
       implementation-specific, SDM 25.11.3). */
    if (!(vmcs_read(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS) & VMX_PROC_ACTIVATE_SECONDARY_CONTROLS))
        vmcs_write(VMCS_SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, 0);
    if (!vmx_controls_set(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VMX_PROC_ACTIVATE_SECONDARY_CONTROLS, 0))
        return false;
    return vmx_controls_set(VMCS_SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, set, 0);
}
