// Intel EPT: translation of a guest-physical address through the EPT paging structures
// (SDM Vol. 3C 29.3 "The Extended Page Table Mechanism"), the EPT-violation exit
// qualification (SDM Vol. 3C 28.2.1, Table 28-7) and the EPTP format (SDM Vol. 3C 25.6.11).
// Context: called by vmx/ and by the two-dimensional walk; pure function of the request and
// host-physical memory (A/D updates are written back through PhysicalAccess).
#pragma once
#include <cstdint>

#include "mmu/paging.h"
#include "mmu/second_level.h"

namespace mmu {

// What the processor supports (IA32_VMX_EPT_VPID_CAP, SDM Vol. 3D A.10).
struct EptCapabilities {
    bool execute_only = true;    // bit 0: entries with bits 2:0 = 100b
    bool walk_length_4 = true;   // bit 6
    bool walk_length_5 = false;  // bit 7
    bool memory_type_uc = true;  // bit 8: EPTP memory type UC allowed
    bool memory_type_wb = true;  // bit 14: EPTP memory type WB allowed
    bool pages_2m = true;        // bit 16: bit 7 may be set in an EPT PDE
    bool pages_1g = true;        // bit 17: bit 7 may be set in an EPT PDPTE
    bool accessed_dirty = true;  // bit 21: EPTP bit 6 may be set
};

// EPTP fields (SDM Vol. 3C 25.6.11, Table 25-9).
struct Eptp {
    uint8_t memory_type = 0;      // bits 2:0: of the EPT paging structures (0 UC, 6 WB)
    int levels = 4;               // bits 5:3 plus 1: the page-walk length
    bool accessed_dirty = false;  // bit 6
    uint64_t root = 0;            // bits N-1:12: the EPT PML4 (or PML5) table
};
Eptp decode_eptp(uint64_t eptp, uint64_t maxphyaddr_mask);
// The VM-entry check of the EPTP (SDM Vol. 3C 27.2.1.1 "VM-Execution Control Fields").
bool eptp_valid(uint64_t eptp, const EptCapabilities& supported, uint64_t maxphyaddr_mask);

// EPT memory types (SDM Vol. 3C 29.3.7); 2, 3 and 7 are reserved.
namespace ept_memory_type {
inline constexpr uint8_t uc = 0;
inline constexpr uint8_t wc = 1;
inline constexpr uint8_t wt = 4;
inline constexpr uint8_t wp = 5;
inline constexpr uint8_t wb = 6;
}  // namespace ept_memory_type

struct EptWalkRequest {
    uint64_t guest_physical = 0;
    Access access = Access::read;
    // The processor's access to a guest paging-structure entry. With EPT A/D enabled, such
    // reads count as writes, for EPT violations and for the dirty flag (SDM 29.3.3.2, 29.3.5).
    bool guest_paging_structure = false;
    uint64_t eptp = 0;  // must pass eptp_valid (VM entry checked it)
    EptCapabilities supported;
    uint64_t maxphyaddr_mask = (uint64_t{1} << 52) - 1;
    // Mode-based execute control is not modelled: bit 10 of the entries is ignored, execute
    // rights come from bit 2 alone and qualification bit 6 stays 0.
};

enum class EptFailure : uint8_t { none, violation, misconfiguration, bus_error };

// Which rule of SDM 29.3.3.1 "EPT Misconfigurations" the entry broke.
enum class EptMisconfig : uint8_t {
    none,
    write_only,                // bits 2:0 = 010b
    write_execute,             // bits 2:0 = 110b (write without read)
    execute_only_unsupported,  // bits 2:0 = 100b without capability bit 0
    reserved_bits,             // a reserved bit, including 51:N (the physical-address width)
    large_page_unsupported,    // bit 7 in a PDE/PDPTE without the 2M/1G capability
    large_page_reserved_bits,  // bits 20:12 of a 2M page, 29:12 of a 1G page
    invalid_memory_type,       // bits 5:3 of the entry that maps the page are 2, 3 or 7
};

// Exit-qualification bits of an EPT violation (SDM Vol. 3C 28.2.1, Table 28-7).
namespace ept_qualification {
inline constexpr uint64_t read = 1u << 0;        // the access was a data read
inline constexpr uint64_t write = 1u << 1;       // ... a data write
inline constexpr uint64_t execute = 1u << 2;     // ... an instruction fetch
inline constexpr uint64_t readable = 1u << 3;    // AND of bit 0 over the entries used
inline constexpr uint64_t writable = 1u << 4;    // AND of bit 1
inline constexpr uint64_t executable = 1u << 5;  // AND of bit 2
inline constexpr uint64_t linear_valid = 1u << 7;
inline constexpr uint64_t final_translation = 1u << 8;  // 0: a paging-structure access
inline constexpr uint64_t linear_user = 1u << 9;        // advanced VM-exit information
inline constexpr uint64_t linear_writable = 1u << 10;
inline constexpr uint64_t linear_execute_disable = 1u << 11;
inline constexpr uint64_t nmi_unblocking = 1u << 12;
}  // namespace ept_qualification

struct EptWalkResult {
    bool ok = false;
    EptFailure failure = EptFailure::none;
    uint64_t host_physical = 0;
    uint64_t page_size = 4096;    // 4K, 2M or 1G
    uint8_t memory_type = 0;      // bits 5:3 of the entry that maps the page
    bool ignore_pat = false;      // its bit 6 (IPAT)
    // Rights of the translation: bits 0, 1, 2 ANDed over the entries used (SDM 29.3.3.2).
    // On a violation they are those of the entries read so far (0 past a not-present entry).
    bool readable = false;
    bool writable = false;
    bool executable = false;
    uint64_t violation_bits = 0;  // on a violation: qualification bits 5:0
    EptMisconfig misconfig = EptMisconfig::none;
    int misconfig_level = 0;      // 1 (PTE) to 5 (PML5E): the entry that broke a rule
    uint8_t references = 0;       // EPT entries read
};

EptWalkResult ept_walk(const EptWalkRequest& request, PhysicalAccess& memory) noexcept;

// Bits 7, 8 and 12 come from the access the translation served, not from the EPT walk.
struct EptViolationContext {
    bool linear_valid = false;       // a linear address was being translated (not a PDPTE load)
    bool final_translation = false;  // the access was to the translated linear address itself
    bool nmi_unblocking = false;     // bit 12 (SDM 28.2.1: IRET with NMI blocking)
    // Advanced VM-exit information (capability bit 22): the linear address's rights, reported
    // when bits 7 and 8 are 1. Take them from the guest walk's WalkResult.
    bool advanced_information = false;
    bool linear_user = false;
    bool linear_writable = false;
    bool linear_executable = false;
};
uint64_t ept_violation_qualification(const EptWalkResult& violation,
                                     const EptViolationContext& context) noexcept;

// EPT behind the SecondLevel interface: the request's EPTP, capabilities and MAXPHYADDR are
// kept; the address and access change per call. last() holds the result of the latest call.
class EptTranslator final : public SecondLevel {
public:
    EptTranslator(const EptWalkRequest& configuration, PhysicalAccess& host_memory) noexcept
        : request_(configuration), memory_(host_memory) {}
    SecondLevelResult translate(uint64_t guest_physical, Access access,
                                bool guest_paging_structure) noexcept override;
    const EptWalkResult& last() const noexcept { return last_; }

private:
    EptWalkRequest request_;
    PhysicalAccess& memory_;
    EptWalkResult last_;
};

}  // namespace mmu
