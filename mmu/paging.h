// Paging-structure walks of every x86 mode: 32-bit, PAE, 4-level and 5-level paging.
// Intel SDM Vol. 3A ch. 4 "Paging"; AMD APM Vol. 2 ch. 5 "Page Translation and Protection".
// Context: the core's TLB-miss path. Pure function of the request and physical memory.
#pragma once
#include <cstdint>

namespace mmu {

enum class PagingMode : uint8_t { none, legacy32, pae, level4, level5 };
enum class Access : uint8_t { read, write, execute };

// Reads and writes paging structures in physical memory (A/D updates write back).
class PhysicalAccess {
public:
    virtual ~PhysicalAccess() = default;
    // false when the address is not RAM (the walk then fails with a host-visible diagnostic).
    virtual bool read64(uint64_t paddr, uint64_t& value) = 0;
    virtual bool read32(uint64_t paddr, uint32_t& value) = 0;
    virtual bool write64(uint64_t paddr, uint64_t value) = 0;
    virtual bool write32(uint64_t paddr, uint32_t value) = 0;
};

struct WalkRequest {
    uint64_t linear = 0;
    Access access = Access::read;
    bool user = false;                // CPL 3 and not an implicit supervisor access
    bool implicit_supervisor = false; // GDT/IDT/TSS accesses: supervisor even at CPL 3
    PagingMode mode = PagingMode::none;
    uint64_t cr3 = 0;
    bool cr0_wp = false;
    bool cr4_pse = false;   // 4 MiB pages in 32-bit paging
    bool cr4_smep = false;
    bool cr4_smap = false;
    bool cr4_pke = false;   // protection keys (not modelled: must be false)
    bool efer_nxe = false;
    bool amd_pml4e_bit8_reserved = false;  // AMD: bit 8 of a PML4E/PML5E is MBZ (Intel ignores it)
    bool rflags_ac = false; // SMAP override for explicit accesses
    uint64_t maxphyaddr_mask = (uint64_t{1} << 52) - 1;  // physical-address bits the CPU has
    // PAE paging: the four PDPTE registers, when the processor holds them (Intel loads them at
    // MOV to CR3 and checks them there, SDM 4.4.1); null: read each PDPTE from memory.
    const uint64_t* pae_pdptes = nullptr;
};

// Page-fault error code bits (SDM Vol. 3A 4.7 "Page-Fault Exceptions").
namespace pf {
inline constexpr uint32_t present = 1u << 0;
inline constexpr uint32_t write = 1u << 1;
inline constexpr uint32_t user = 1u << 2;
inline constexpr uint32_t reserved = 1u << 3;
inline constexpr uint32_t fetch = 1u << 4;
inline constexpr uint32_t pk = 1u << 5;
}  // namespace pf

struct WalkResult {
    bool ok = false;
    uint64_t physical = 0;      // translation of `linear`
    uint64_t page_size = 4096;  // 4K, 2M, 4M or 1G
    uint32_t error_code = 0;    // when !ok: the #PF error code
    bool bus_error = false;     // when !ok: a paging structure was not in RAM (not a #PF)
    // Effective rights of the whole translation, for caching it in a TLB: R/W and U/S ANDed,
    // XD ORed (when EFER.NXE and not 32-bit paging) over the entries (SDM 4.6). They are the
    // page's rights, not this access's verdict (that also depends on CPL, WP, SMEP, SMAP, AC).
    // Also filled when a translation exists but the access was refused.
    bool writable = false;
    bool user_page = false;
    bool executable = false;
    bool global = false;
    bool dirty = false;         // D is set in the final entry (a write needs no further walk)
    uint8_t references = 0;     // paging-structure entries read (for the timing model);
                                // PAE PDPTEs are not counted (hardware holds them in registers)
};

WalkResult walk(const WalkRequest& request, PhysicalAccess& memory);

}  // namespace mmu
