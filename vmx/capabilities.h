// The VMX capability MSRs as data (SDM Vol. 3D Appendix A), the named presets a machine picks
// with --virt, and what follows from them: which controls may be 1, which VMCS fields exist
// (the `gate` column of sim/tables/vmcs_fields.toml), what RDMSR of 480H-491H returns.
// Context: construction and the rare paths of vmx/ (VMREAD/VMWRITE, VM entry).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmx/entry_checks.h"

namespace vmx {

// The preset names, in the order `hvsim --help` lists them.
std::vector<std::string> capability_preset_names();
// The capability MSRs of a preset, or nullopt for an unknown name. CR4_FIXED1 is completed
// by the caller with the CR4 bits its core supports (A.8).
std::optional<CapabilityMsrs> capability_preset(std::string_view name);

// The control fields whose allowed settings the capability MSRs report.
enum class ControlField : uint8_t { pin, proc, proc2, exit, entry };
// Bits a control field may set to 1 (the allowed-1 settings, A.3-A.5).
uint32_t allowed1(const CapabilityMsrs& caps, ControlField f);
inline bool supports(const CapabilityMsrs& caps, ControlField f, uint32_t bit) {
    return (allowed1(caps, f) & bit) == bit;
}

// A VMCS field exists when its gating capability is supported (or it has none).
bool gate_supported(const CapabilityMsrs& caps, std::string_view gate);

// RDMSR of a capability MSR (480H-491H): nullopt when the processor does not have that MSR
// (A.1: the TRUE_* MSRs need BASIC[55], PROCBASED_CTLS2 the secondary controls, EPT_VPID_CAP
// EPT or VPID, VMFUNC the VM functions), so RDMSR raises #GP(0).
std::optional<uint64_t> read_capability_msr(const CapabilityMsrs& caps, uint32_t index);

// IA32_VMX_BASIC fields (A.1).
inline uint32_t revision_id(const CapabilityMsrs& c) { return static_cast<uint32_t>(c.basic) & 0x7fffffff; }
inline uint32_t vmcs_size(const CapabilityMsrs& c) { return static_cast<uint32_t>(c.basic >> 32) & 0x1fff; }
inline bool ins_outs_information(const CapabilityMsrs& c) { return (c.basic >> 54) & 1; }
inline bool true_controls(const CapabilityMsrs& c) { return (c.basic >> 55) & 1; }
// IA32_VMX_MISC fields (A.6).
inline unsigned preemption_timer_rate(const CapabilityMsrs& c) { return c.misc & 0x1f; }
inline unsigned cr3_target_count(const CapabilityMsrs& c) { return (c.misc >> 16) & 0x1ff; }
inline unsigned msr_list_limit(const CapabilityMsrs& c) { return 512 * (((c.misc >> 25) & 7) + 1); }
inline bool vmwrite_any_field(const CapabilityMsrs& c) { return (c.misc >> 29) & 1; }

}  // namespace vmx

namespace vmx {
// CR0/CR4 against IA32_VMX_CR*_FIXED0/1 (A.7, A.8): FIXED0 bits set, only FIXED1 bits set.
inline bool cr_fixed_ok(uint64_t value, uint64_t fixed0, uint64_t fixed1) {
    return (value & fixed0) == fixed0 && (value & ~fixed1) == 0;
}
}  // namespace vmx
