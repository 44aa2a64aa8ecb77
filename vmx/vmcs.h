// The VMCS: hvsim's layout of a VMCS region in memory (derived from the field table,
// sim/tables/vmcs_fields.toml) and the processor-side cache of the current VMCS that VMREAD,
// VMWRITE, VM entries and exits work on (SDM Vol. 3C 25.1-25.2, 25.11 "Software Use of the
// VMCS and Related Structures"). Context: vmx/ rare paths.
#pragma once
#include <cstdint>
#include <vector>

#include "vmcs_fields_table.h"
#include "vmx/entry_checks.h"

namespace vmx {

// The region: revision identifier (bits 30:0; bit 31 shadow-VMCS indicator) at 0, the
// VMX-abort indicator at 4 (25.2), then hvsim's own part: the launch state at 8 and every
// field of the table as 8 bytes at 16 + 8 * row (the high half of a 64-bit field shares the
// row of its full field).
namespace vmcs_layout {
inline constexpr uint64_t revision = 0, abort_indicator = 4, launch_state = 8, fields = 16;
}

// Field metadata by encoding, for VMREAD/VMWRITE.
struct FieldRef {
    const VmcsFieldInfo* info = nullptr;  // the row of the encoding (null: no such field)
    unsigned slot = 0;                    // storage slot (the full field's row for a high access)
    bool high = false;                    // the high 32 bits of a 64-bit field
    bool read_only = false;               // a VM-exit information field (type "read_only")
    unsigned row = 0;                     // index of `info` in kVmcsFieldTable
    uint64_t mask = ~0ull;                // the bits the field holds (16, 32 or 64 / natural)
};
FieldRef find_field(uint64_t encoding);
unsigned field_slot_count();

class Vmcs {
public:
    Vmcs();
    uint64_t address = ~0ull;  // physical address of the region; ~0: no current VMCS
    bool launched = false;

    // Whole-field access by the full encoding (the processor's own use).
    uint64_t get(VmcsField f) const;
    void set(VmcsField f, uint64_t value);
    // VMREAD/VMWRITE semantics (width truncation, high halves) for a found field.
    uint64_t read(const FieldRef& f) const;
    void write(const FieldRef& f, uint64_t value);
    // For vmx::check_vm_entry: any encoding, read as a whole field.
    FieldReader reader() const;

    // The region image (layout above) and back.
    std::vector<uint8_t> serialize(uint32_t revision) const;
    void deserialize(const uint8_t* region);
private:
    std::vector<uint64_t> values_;
};

uint64_t vmcs_region_bytes();

}  // namespace vmx

namespace vmx {
// The k-th field of a group laid out at consecutive indices (guest segment registers ES, CS,
// SS, DS, FS, GS, LDTR, TR; CR3-target values): encodings step by 2 (Appendix B).
inline VmcsField field_at(VmcsField first, unsigned k) {
    return static_cast<VmcsField>(static_cast<uint32_t>(first) + 2 * k);
}
}  // namespace vmx
