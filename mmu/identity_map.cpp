// Identity-mapping page tables for loaders (SDM Vol. 3A 4.5 "4-Level Paging").
#include "mmu/identity_map.h"

#include <stdexcept>
#include <vector>

namespace mmu {

uint64_t build_identity_map(const PhysicalWriter& write_phys, uint64_t base, uint64_t size) {
    if (base & 0xfff) throw std::invalid_argument("page-table base must be 4 KiB aligned");
    constexpr uint64_t present_rw = 0x3, large = 0x80;
    const uint64_t gib = (size + (1ull << 30) - 1) >> 30;
    const uint64_t pml4 = base, pdpt = base + 4096, pds = base + 8192;
    if (gib > 512) throw std::invalid_argument("identity map larger than 512 GiB");
    std::vector<uint64_t> table(512, 0);
    table[0] = pdpt | present_rw;
    bool ok = write_phys(pml4, table.data(), 4096);
    table.assign(512, 0);
    for (uint64_t g = 0; g < gib; ++g) table[g] = (pds + 4096 * g) | present_rw;
    ok = ok && write_phys(pdpt, table.data(), 4096);
    for (uint64_t g = 0; g < gib && ok; ++g) {
        for (uint64_t e = 0; e < 512; ++e) table[e] = ((g << 30) + (e << 21)) | present_rw | large;
        ok = write_phys(pds + 4096 * g, table.data(), 4096);
    }
    if (!ok) throw std::runtime_error("page tables do not fit in RAM");
    return pml4;
}

}  // namespace mmu
