// EPT walker (SDM Vol. 3C 29.3): guest-physical to host-physical, with misconfiguration and
// violation detection and EPT A/D flags. Context: noexcept, no allocation; every outcome is
// an EptWalkResult.
#include "mmu/ept.h"

#include <cassert>

namespace mmu {
namespace {

constexpr uint64_t bits(unsigned high, unsigned low) {
    const uint64_t upto_high = high >= 63 ? ~uint64_t{0} : (uint64_t{1} << (high + 1)) - 1;
    return upto_high & ~((uint64_t{1} << low) - 1);
}

// Entry bits (SDM 29.3.2, Tables 29-1 to 29-6).
constexpr uint64_t rights_bits = bits(2, 0);  // R, W, X; all clear: not present
constexpr uint64_t read_bit = uint64_t{1} << 0;
constexpr uint64_t write_bit = uint64_t{1} << 1;
constexpr uint64_t execute_bit = uint64_t{1} << 2;
constexpr uint64_t page_bit = uint64_t{1} << 7;      // in a PDPTE or PDE: maps a page
constexpr uint64_t accessed_bit = uint64_t{1} << 8;  // with EPTP bit 6 (SDM 29.3.5)
constexpr uint64_t dirty_bit = uint64_t{1} << 9;     // only in an entry that maps a page
constexpr uint64_t ignore_pat_bit = uint64_t{1} << 6;

// How each level's entries are laid out (SDM 29.3.2, Tables 29-1 to 29-6); index = level,
// 1 = PTE ... 5 = PML5E. Bits 51:N are reserved at every level and added at run time.
struct LevelFormat {
    uint64_t table_reserved;  // reserved bits of an entry that references a table
    bool may_map_page;        // bit 7 selects a page (needs the matching capability)
    uint64_t page_reserved;   // reserved bits between the flags and the frame of a page
};
constexpr LevelFormat level_formats[6] = {
    {0, false, 0},                     // (no level 0)
    {0, true, 0},                      // PTE: always maps a 4-KByte page; bit 7 ignored
    {bits(7, 3), true, bits(20, 12)},  // PDE: 2-MByte page
    {bits(7, 3), true, bits(29, 12)},  // PDPTE: 1-GByte page
    {bits(7, 3), false, 0},            // PML4E
    {bits(7, 3), false, 0},            // PML5E
};

// Memory types 2, 3 and 7 are reserved (SDM 29.3.3.1).
constexpr bool memory_type_valid(uint64_t type) { return type != 2 && type != 3 && type != 7; }

class EptWalker {
public:
    EptWalker(const EptWalkRequest& request, PhysicalAccess& memory) noexcept
        : req_(request), mem_(memory), eptp_(decode_eptp(request.eptp, request.maxphyaddr_mask)),
          address_mask_(request.maxphyaddr_mask & bits(51, 12)),
          high_reserved_(bits(51, 0) & ~request.maxphyaddr_mask) {}

    EptWalkResult run() noexcept;

private:
    EptMisconfig misconfiguration(int level, uint64_t entry) const noexcept;
    EptWalkResult finish(uint64_t address, uint64_t entry, unsigned shift) noexcept;
    bool access_allowed() const noexcept;
    bool counts_as_write() const noexcept;
    uint64_t access_bits() const noexcept;
    bool set_flags(uint64_t address, uint64_t& entry, uint64_t flags) noexcept;

    EptWalkResult violation() noexcept;
    EptWalkResult misconfigured(EptMisconfig rule, int level) noexcept;
    EptWalkResult bus_error() noexcept;

    const EptWalkRequest& req_;
    PhysicalAccess& mem_;
    const Eptp eptp_;
    const uint64_t address_mask_;   // bits N-1:12: the next table or the page frame
    const uint64_t high_reserved_;  // bits 51:N
    EptWalkResult result_;
    uint64_t rights_ = rights_bits;  // ANDed over the entries used
};

EptWalkResult EptWalker::run() noexcept {
    assert(eptp_.levels == 4 || eptp_.levels == 5);  // VM entry checked the EPTP
    uint64_t table = eptp_.root;
    for (int level = eptp_.levels; level >= 1; --level) {
        const unsigned shift = 12 + 9 * (level - 1);
        const uint64_t address = table + (((req_.guest_physical >> shift) & 0x1ff) << 3);
        uint64_t entry = 0;
        if (!mem_.read64(address, entry)) return bus_error();
        ++result_.references;
        rights_ &= entry;
        // Not present: bits 2:0 all clear; the rest of the entry is ignored (SDM 29.3.2).
        if (!(entry & rights_bits)) return violation();
        if (const EptMisconfig rule = misconfiguration(level, entry); rule != EptMisconfig::none) {
            return misconfigured(rule, level);
        }
        if (level == 1 || (entry & page_bit)) return finish(address, entry, shift);
        // A referencing entry is used once it leads to the next table (SDM 29.3.5).
        if (eptp_.accessed_dirty && !set_flags(address, entry, accessed_bit)) return bus_error();
        table = entry & address_mask_;
    }
    return bus_error();  // unreachable: level 1 always maps a page
}

// SDM 29.3.3.1 "EPT Misconfigurations", checked for a present entry.
EptMisconfig EptWalker::misconfiguration(int level, uint64_t entry) const noexcept {
    const uint64_t rights = entry & rights_bits;
    if (rights == write_bit) return EptMisconfig::write_only;
    if (rights == (write_bit | execute_bit)) return EptMisconfig::write_execute;
    if (rights == execute_bit && !req_.supported.execute_only) {
        return EptMisconfig::execute_only_unsupported;
    }
    if (entry & high_reserved_) return EptMisconfig::reserved_bits;
    const LevelFormat& format = level_formats[level];
    const bool maps_page = level == 1 || (format.may_map_page && (entry & page_bit));
    if (!maps_page) return (entry & format.table_reserved) ? EptMisconfig::reserved_bits : EptMisconfig::none;
    // Bit 7 of a PDE/PDPTE may be 1 only where 2M/1G pages are supported (SDM 29.3.2 notes).
    if ((level == 2 && !req_.supported.pages_2m) || (level == 3 && !req_.supported.pages_1g)) {
        return EptMisconfig::large_page_unsupported;
    }
    if (entry & format.page_reserved) return EptMisconfig::large_page_reserved_bits;
    if (!memory_type_valid((entry >> 3) & 7)) return EptMisconfig::invalid_memory_type;
    return EptMisconfig::none;
}

EptWalkResult EptWalker::finish(uint64_t address, uint64_t entry, unsigned shift) noexcept {
    const uint64_t page_size = uint64_t{1} << shift;
    result_.host_physical = (entry & address_mask_ & ~(page_size - 1)) |
                            (req_.guest_physical & (page_size - 1));
    result_.page_size = page_size;
    result_.memory_type = static_cast<uint8_t>((entry >> 3) & 7);
    result_.ignore_pat = entry & ignore_pat_bit;
    if (!access_allowed()) return violation();
    // SDM 29.3.5: A in every entry used; D in the entry that maps the page on a write, and
    // on any access to a guest paging-structure entry. A refused access sets neither.
    if (eptp_.accessed_dirty) {
        const uint64_t flags = accessed_bit | (counts_as_write() ? dirty_bit : 0);
        if (!set_flags(address, entry, flags)) return bus_error();
    }
    result_.ok = true;
    result_.readable = rights_ & read_bit;
    result_.writable = rights_ & write_bit;
    result_.executable = rights_ & execute_bit;
    return result_;
}

// With EPT A/D enabled the processor's accesses to guest paging-structure entries are
// writes "with regard to EPT violations" (SDM 29.3.3.2); W without R is a misconfiguration,
// so checking W suffices.
bool EptWalker::counts_as_write() const noexcept {
    return req_.access == Access::write || (req_.guest_paging_structure && eptp_.accessed_dirty);
}

bool EptWalker::access_allowed() const noexcept {
    if (req_.access == Access::execute) return rights_ & execute_bit;
    if (counts_as_write()) return rights_ & write_bit;
    return rights_ & read_bit;
}

// Qualification bits 2:0 (SDM 28.2.1, Table 28-7). A paging-structure access that counts as
// a write sets bits 0 and 1 (the table's note 1). An A/D update without EPT A/D is a write
// alone: whether a read-modify-write also sets bit 0 is implementation-specific, we do not.
uint64_t EptWalker::access_bits() const noexcept {
    if (req_.access == Access::execute) return ept_qualification::execute;
    if (req_.guest_paging_structure && eptp_.accessed_dirty) {
        return ept_qualification::read | ept_qualification::write;
    }
    return req_.access == Access::write ? ept_qualification::write : ept_qualification::read;
}

// A and D are sticky: written only to set a flag still clear (as for paging, SDM 4.8).
bool EptWalker::set_flags(uint64_t address, uint64_t& entry, uint64_t flags) noexcept {
    if ((entry & flags) == flags) return true;
    entry |= flags;
    return mem_.write64(address, entry);
}

EptWalkResult EptWalker::violation() noexcept {
    result_.ok = false;
    result_.failure = EptFailure::violation;
    result_.readable = rights_ & read_bit;
    result_.writable = rights_ & write_bit;
    result_.executable = rights_ & execute_bit;
    // Bits 5:3 are the ANDed rights: 0 when the walk met a not-present entry.
    result_.violation_bits = access_bits() | ((rights_ & rights_bits) << 3);
    return result_;
}

EptWalkResult EptWalker::misconfigured(EptMisconfig rule, int level) noexcept {
    result_.ok = false;
    result_.failure = EptFailure::misconfiguration;
    result_.misconfig = rule;
    result_.misconfig_level = level;
    result_.readable = result_.writable = result_.executable = false;
    return result_;
}

EptWalkResult EptWalker::bus_error() noexcept {
    result_.ok = false;
    result_.failure = EptFailure::bus_error;
    return result_;
}

}  // namespace

Eptp decode_eptp(uint64_t eptp, uint64_t maxphyaddr_mask) {
    Eptp decoded;
    decoded.memory_type = static_cast<uint8_t>(eptp & 7);
    decoded.levels = static_cast<int>((eptp >> 3) & 7) + 1;
    decoded.accessed_dirty = eptp & (uint64_t{1} << 6);
    decoded.root = eptp & maxphyaddr_mask & bits(51, 12);
    return decoded;
}

// SDM 27.2.1.1: a supported memory type and walk length, bit 6 only with A/D support, bits
// 11:7 and 63:N zero (bit 7, supervisor shadow-stack control, is not modelled: reserved).
bool eptp_valid(uint64_t eptp, const EptCapabilities& supported, uint64_t maxphyaddr_mask) {
    const Eptp decoded = decode_eptp(eptp, maxphyaddr_mask);
    const bool type_ok = (decoded.memory_type == ept_memory_type::uc && supported.memory_type_uc) ||
                         (decoded.memory_type == ept_memory_type::wb && supported.memory_type_wb);
    const bool length_ok = (decoded.levels == 4 && supported.walk_length_4) ||
                           (decoded.levels == 5 && supported.walk_length_5);
    const bool ad_ok = !decoded.accessed_dirty || supported.accessed_dirty;
    const bool reserved_clear = !(eptp & (bits(11, 7) | (bits(63, 0) & ~maxphyaddr_mask)));
    return type_ok && length_ok && ad_ok && reserved_clear;
}

EptWalkResult ept_walk(const EptWalkRequest& request, PhysicalAccess& memory) noexcept {
    return EptWalker(request, memory).run();
}

// SDM 28.2.1, Table 28-7: bit 8 is defined only with bit 7; bits 11:9 only with bits 7 and 8
// and the advanced-information capability (otherwise undefined: we clear them).
uint64_t ept_violation_qualification(const EptWalkResult& violation,
                                     const EptViolationContext& context) noexcept {
    namespace q = ept_qualification;
    uint64_t qualification = violation.violation_bits & bits(5, 0);
    if (context.linear_valid) {
        qualification |= q::linear_valid;
        if (context.final_translation) {
            qualification |= q::final_translation;
            if (context.advanced_information) {
                if (context.linear_user) qualification |= q::linear_user;
                if (context.linear_writable) qualification |= q::linear_writable;
                if (!context.linear_executable) qualification |= q::linear_execute_disable;
            }
        }
    }
    if (context.nmi_unblocking) qualification |= q::nmi_unblocking;
    return qualification;
}

SecondLevelResult EptTranslator::translate(uint64_t guest_physical, Access access,
                                           bool guest_paging_structure) noexcept {
    request_.guest_physical = guest_physical;
    request_.access = access;
    request_.guest_paging_structure = guest_paging_structure;
    last_ = ept_walk(request_, memory_);
    SecondLevelResult result;
    result.ok = last_.ok;
    result.failure = last_.ok ? SecondLevelFailure::none
                   : last_.failure == EptFailure::bus_error ? SecondLevelFailure::bus_error
                                                            : SecondLevelFailure::fault;
    result.host_physical = last_.host_physical;
    result.page_size = last_.page_size;
    result.references = last_.references;
    return result;
}

}  // namespace mmu
