// Page-table walker for 32-bit, PAE, 4-level and 5-level paging (Intel SDM Vol. 3A ch. 4).
// Context: the core's TLB-miss path: noexcept, no allocation; every outcome is a WalkResult.
#include "mmu/paging.h"

#include <algorithm>
#include <bit>

namespace mmu {
namespace {

// Mask of bits high:low (high >= low), as the SDM's entry-format tables write them.
constexpr uint64_t bits(unsigned high, unsigned low) {
    const uint64_t upto_high = high >= 63 ? ~uint64_t{0} : (uint64_t{1} << (high + 1)) - 1;
    return upto_high & ~((uint64_t{1} << low) - 1);
}

// Entry bits shared by every paging mode (SDM 4.3, 4.4.2, 4.5: tables 4-4 to 4-20).
constexpr uint64_t present_bit = uint64_t{1} << 0;
constexpr uint64_t rw_bit = uint64_t{1} << 1;
constexpr uint64_t us_bit = uint64_t{1} << 2;
constexpr uint64_t accessed_bit = uint64_t{1} << 5;
constexpr uint64_t dirty_bit = uint64_t{1} << 6;
constexpr uint64_t ps_bit = uint64_t{1} << 7;
constexpr uint64_t global_bit = uint64_t{1} << 8;
constexpr uint64_t xd_bit = uint64_t{1} << 63;

// PAE PDPTE: bits 2:1 and 8:5 are reserved (no R/W, U/S, A); the rest is handled with
// 63:MAXPHYADDR (SDM 4.4.1, table 4-8).
constexpr uint64_t pdpte_fixed_reserved = bits(2, 1) | bits(8, 5);

// 2-MByte and 1-GByte pages get their size from the level that maps them (1 << shift).
constexpr uint64_t size_4k = uint64_t{1} << 12;
constexpr uint64_t size_4m = uint64_t{1} << 22;

// A paging-structure entry as read: where it lives and whether it is 8 or 4 bytes wide.
struct Entry {
    uint64_t address = 0;
    uint64_t value = 0;
    bool wide = true;
};

class Walker {
public:
    Walker(const WalkRequest& request, PhysicalAccess& memory) noexcept
        : req_(request), mem_(memory),
          address_mask_(request.maxphyaddr_mask & bits(51, 12)) {}

    WalkResult run() noexcept;

private:
    WalkResult walk_legacy32() noexcept;
    WalkResult walk_pae() noexcept;
    WalkResult walk_levels(uint64_t table, int top_level, uint64_t high_reserved) noexcept;
    WalkResult finish(Entry& leaf, uint64_t frame, uint64_t page_size) noexcept;

    bool read_entry(uint64_t address, bool wide, Entry& entry) noexcept;
    bool set_bits(Entry& entry, uint64_t mask) noexcept;
    void combine_rights(uint64_t entry) noexcept;
    uint64_t reserved_mask(int level, uint64_t entry, uint64_t high_reserved) const noexcept;

    bool access_allowed() const noexcept;
    bool read_allowed() const noexcept;
    bool write_allowed() const noexcept;
    bool fetch_allowed() const noexcept;
    bool user_mode_access() const noexcept;
    bool smap_blocks() const noexcept;
    bool xd_in_use() const noexcept;

    WalkResult fault(uint32_t cause_bits) noexcept;
    WalkResult bus_error() noexcept;

    const WalkRequest& req_;
    PhysicalAccess& mem_;
    const uint64_t address_mask_;  // bits M-1:12 of an entry: the next table or the page frame
    WalkResult result_;
    // Rights start permissive and every entry controlling the translation can only narrow them.
    bool writable_ = true;
    bool user_ = true;
    bool executable_ = true;
};

WalkResult Walker::run() noexcept {
    switch (req_.mode) {
    case PagingMode::legacy32: return walk_legacy32();
    case PagingMode::pae: return walk_pae();
    case PagingMode::level4:
        return walk_levels(req_.cr3 & address_mask_, 4, bits(51, 0) & ~req_.maxphyaddr_mask);
    case PagingMode::level5:
        return walk_levels(req_.cr3 & address_mask_, 5, bits(51, 0) & ~req_.maxphyaddr_mask);
    case PagingMode::none: break;
    }
    // Paging off: linear is physical. Long mode needs paging, so linear addresses are 32 bits.
    result_.ok = true;
    result_.physical = req_.linear & bits(31, 0);
    result_.writable = result_.user_page = result_.executable = result_.dirty = true;
    return result_;
}

// 32-bit paging (SDM 4.3): 4-byte entries, a page directory and page tables; no XD bit and
// no reserved bits except in a 4-MByte PDE.
WalkResult Walker::walk_legacy32() noexcept {
    const auto linear = static_cast<uint32_t>(req_.linear);
    Entry pde;
    if (!read_entry((req_.cr3 & bits(31, 12)) | ((linear >> 22) << 2), false, pde)) {
        return bus_error();
    }
    if (!(pde.value & present_bit)) return fault(0);
    combine_rights(pde.value);
    if (req_.cr4_pse && (pde.value & ps_bit)) {  // PS is ignored while CR4.PSE = 0 (SDM 4.3)
        // PSE-36 (SDM 4.3, table 4-4): PDE bits (M-20):13 give physical bits (M-1):32 with
        // M = min(MAXPHYADDR, 40); bits 21:(M-19) are reserved.
        const auto m = std::min(static_cast<unsigned>(std::bit_width(req_.maxphyaddr_mask)), 40u);
        const uint64_t high_address = m > 32 ? bits(m - 20, 13) : 0;
        if (pde.value & bits(21, 13) & ~high_address) return fault(pf::present | pf::reserved);
        const uint64_t frame = (pde.value & bits(31, 22)) | ((pde.value & high_address) << 19);
        return finish(pde, frame, size_4m);
    }
    if (!set_bits(pde, accessed_bit)) return bus_error();
    Entry pte;
    if (!read_entry((pde.value & bits(31, 12)) | (((linear >> 12) & 0x3ff) << 2), false, pte)) {
        return bus_error();
    }
    if (!(pte.value & present_bit)) return fault(0);
    combine_rights(pte.value);
    return finish(pte, pte.value & bits(31, 12), size_4k);
}

// PAE paging (SDM 4.4). Intel processors load the four PDPTEs into registers at MOV CR3 (and
// on some CR0/CR4 writes) and check them there, failing with #GP(0), not #PF (SDM 4.4.1): the
// core does that and passes the registers in `pae_pdptes`. Without them this walker reads the
// PDPTE from memory at walk time, so a bad PDPTE shows as a #PF (RSVD set for reserved bits).
// Either way the PDPTE is not counted in `references`: hardware reads no memory for it here.
WalkResult Walker::walk_pae() noexcept {
    const auto linear = static_cast<uint32_t>(req_.linear);
    const uint64_t pdpte_address = (req_.cr3 & bits(31, 5)) + ((linear >> 30) << 3);
    uint64_t pdpte = 0;
    if (req_.pae_pdptes) pdpte = req_.pae_pdptes[linear >> 30];
    else if (!mem_.read64(pdpte_address, pdpte)) return bus_error();
    if (!(pdpte & present_bit)) return fault(0);
    const uint64_t high_reserved = bits(63, 0) & ~req_.maxphyaddr_mask;  // 63:M, XD included
    if (pdpte & (pdpte_fixed_reserved | high_reserved)) return fault(pf::present | pf::reserved);
    // In PAE PDEs and PTEs bits 62:M are reserved, not ignored as in 4-level paging (table 4-9ff).
    return walk_levels(pdpte & address_mask_, 2, bits(62, 0) & ~req_.maxphyaddr_mask);
}

// The 8-byte-entry walk shared by PAE (levels 2..1) and 4/5-level paging (levels 4|5..1).
// Level n's index is linear bits (12 + 9n - 1):(12 + 9(n-1)) (SDM 4.4.2, 4.5.4).
WalkResult Walker::walk_levels(uint64_t table, int top_level, uint64_t high_reserved) noexcept {
    for (int level = top_level; level >= 1; --level) {
        const unsigned shift = 12 + 9 * (level - 1);
        Entry entry;
        if (!read_entry(table + (((req_.linear >> shift) & 0x1ff) << 3), true, entry)) {
            return bus_error();
        }
        if (!(entry.value & present_bit)) return fault(0);
        // Reserved bits are checked only in present entries (SDM 4.7, RSVD flag).
        if (entry.value & reserved_mask(level, entry.value, high_reserved)) {
            return fault(pf::present | pf::reserved);
        }
        combine_rights(entry.value);
        const bool maps_page = level == 1 || ((level == 2 || level == 3) && (entry.value & ps_bit));
        if (maps_page) {
            const uint64_t page_size = uint64_t{1} << shift;
            return finish(entry, entry.value & address_mask_ & ~(page_size - 1), page_size);
        }
        // A non-leaf entry is "used" as soon as it references the next table, so its A bit is
        // set now, even if a lower level later faults (SDM 4.8; 4.10.3.1 lets paging-structure
        // caches, whose creation sets A, be filled "even if there are no translations").
        if (!set_bits(entry, accessed_bit)) return bus_error();
        table = entry.value & address_mask_;
    }
    return bus_error();  // unreachable: level 1 always maps a page
}

// Reserved bits of a present 8-byte entry (SDM 4.4.2 and 4.5.4 "reserved bits" lists).
uint64_t Walker::reserved_mask(int level, uint64_t entry, uint64_t high_reserved) const noexcept {
    uint64_t mask = high_reserved;
    if (!req_.efer_nxe) mask |= xd_bit;      // XD is reserved while EFER.NXE = 0
    if (level >= 4) mask |= ps_bit;          // no pages mapped by a PML4E or PML5E
    // AMD long mode: PML4E bits 8:7 are MBZ (APM Vol. 2 5.3.3, Figure 5-18 "4-Kbyte PML4E-Long
    // Mode"); bit 8 of a non-leaf PDPE or PDE is ignored, as on Intel (SDM Table 4-15).
    if (level >= 4 && req_.amd_pml4e_bit8_reserved) mask |= global_bit;
    const bool large = entry & ps_bit;
    if (level == 3 && large) mask |= bits(29, 13);  // 1-GByte page: below the frame, above PAT
    if (level == 2 && large) mask |= bits(20, 13);  // 2-MByte page
    return mask;
}

// The translation exists; decide the access, then set A (and D for writes) in the leaf.
WalkResult Walker::finish(Entry& leaf, uint64_t frame, uint64_t page_size) noexcept {
    result_.physical = frame | (req_.linear & (page_size - 1));
    result_.page_size = page_size;
    result_.writable = writable_;
    result_.user_page = user_;
    result_.executable = executable_;
    result_.global = leaf.value & global_bit;
    if (!access_allowed()) {
        // The faulting access is not performed, so it neither accesses nor dirties the page
        // (SDM 4.8 ties A/D to accesses; 4.10.2.1: A is set only when a translation is cached).
        result_.dirty = leaf.value & dirty_bit;
        return fault(pf::present);
    }
    const uint64_t update = accessed_bit | (req_.access == Access::write ? dirty_bit : 0);
    if (!set_bits(leaf, update)) return bus_error();
    result_.dirty = leaf.value & dirty_bit;
    result_.ok = true;
    return result_;
}

bool Walker::read_entry(uint64_t address, bool wide, Entry& entry) noexcept {
    entry.address = address;
    entry.wide = wide;
    bool in_ram = false;
    if (wide) {
        in_ram = mem_.read64(address, entry.value);
    } else {
        uint32_t narrow = 0;
        in_ram = mem_.read32(address, narrow);
        entry.value = narrow;
    }
    if (in_ram) ++result_.references;
    return in_ram;
}

// A and D are sticky: the processor writes only to set a flag that is still clear (SDM 4.8).
// Hardware uses a locked read-modify-write; writing back the value just read is equivalent
// while processors are simulated one instruction at a time.
bool Walker::set_bits(Entry& entry, uint64_t mask) noexcept {
    if ((entry.value & mask) == mask) return true;
    entry.value |= mask;
    return entry.wide ? mem_.write64(entry.address, entry.value)
                      : mem_.write32(entry.address, static_cast<uint32_t>(entry.value));
}

// SDM 4.6: R/W and U/S are ANDed and XD ORed over every entry controlling the translation.
// PAE PDPTEs have none of these bits and never come here.
void Walker::combine_rights(uint64_t entry) noexcept {
    writable_ = writable_ && (entry & rw_bit);
    user_ = user_ && (entry & us_bit);
    if (xd_in_use()) executable_ = executable_ && !(entry & xd_bit);
}

// SDM 4.6.1 "Determination of Access Rights".
bool Walker::access_allowed() const noexcept {
    switch (req_.access) {
    case Access::read: return read_allowed();
    case Access::write: return write_allowed();
    case Access::execute: return fetch_allowed();
    }
    return false;
}

bool Walker::read_allowed() const noexcept {
    if (user_mode_access()) return user_;
    return !user_ || !smap_blocks();
}

bool Walker::write_allowed() const noexcept {
    if (user_mode_access()) return user_ && writable_;
    if (user_ && smap_blocks()) return false;
    return writable_ || !req_.cr0_wp;  // CR0.WP = 0 lets supervisor writes ignore R/W
}

bool Walker::fetch_allowed() const noexcept {
    if (!executable_) return false;
    if (user_mode_access()) return user_;
    return !(user_ && req_.cr4_smep);  // SMEP: no supervisor fetch from a user-mode address
}

// Implicit supervisor accesses (GDT, IDT, TSS...) are supervisor-mode even at CPL 3 (SDM 4.6).
bool Walker::user_mode_access() const noexcept {
    return req_.user && !req_.implicit_supervisor;
}

// SMAP (SDM 4.6.1): supervisor data accesses to user-mode addresses are refused, unless the
// access is explicit and RFLAGS.AC = 1; implicit accesses ignore AC.
bool Walker::smap_blocks() const noexcept {
    return req_.cr4_smap && !(req_.rflags_ac && !req_.implicit_supervisor);
}

// XD exists only in 8-byte entries (CR4.PAE = 1) and only with EFER.NXE = 1 (SDM 4.6).
bool Walker::xd_in_use() const noexcept {
    return req_.efer_nxe && req_.mode != PagingMode::legacy32;
}

// SDM 4.7: W/R, U/S and I/D describe the access, not the entry. I/D is reported only when
// SMEP is on or XD is in use (CR4.PAE = 1 and EFER.NXE = 1). PK is never set: protection keys
// are not modelled (cr4_pke must be false), so bits 62:59 stay ignored bits as with CR4.PKE = 0.
WalkResult Walker::fault(uint32_t cause_bits) noexcept {
    uint32_t code = cause_bits;
    if (req_.access == Access::write) code |= pf::write;
    if (user_mode_access()) code |= pf::user;
    if (req_.access == Access::execute && (req_.cr4_smep || xd_in_use())) code |= pf::fetch;
    result_.ok = false;
    result_.error_code = code;
    return result_;
}

WalkResult Walker::bus_error() noexcept {
    result_.ok = false;
    result_.bus_error = true;
    result_.error_code = 0;
    return result_;
}

}  // namespace

WalkResult walk(const WalkRequest& request, PhysicalAccess& memory) {
    return Walker(request, memory).run();
}

}  // namespace mmu
