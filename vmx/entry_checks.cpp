// The VM-entry checks in the SDM's order (Vol. 3C 27.2, 27.3.1): the first failing check
// decides the outcome. Each group lives in its own file (entry_checks_*.cpp).
// Context: vmx/ VMLAUNCH/VMRESUME (rare path); pure function of the VMCS and capabilities.
#include "vmx/entry_checks.h"

#include "vmx/entry_checks_internal.h"

namespace vmx {
namespace entry {

namespace {
// A control field whose activating control is 0 is treated as 0 (SDM 25.6.2: "If this
// control is 0, the logical processor operates as if all the secondary controls were 0").
uint32_t secondary_controls(const FieldReader& vmcs, uint32_t primary) {
    if (!(primary & bit(VmxControl::proc_activate_secondary_controls))) return 0;
    return static_cast<uint32_t>(vmcs(static_cast<uint32_t>(VmcsField::secondary_processor_based_vm_execution_controls)));
}
uint64_t tertiary_controls(const FieldReader& vmcs, uint32_t primary) {
    if (!(primary & bit(VmxControl::proc_activate_tertiary_controls))) return 0;
    return vmcs(static_cast<uint32_t>(VmcsField::tertiary_processor_based_vm_execution_controls));
}
uint32_t read32(const FieldReader& vmcs, VmcsField f) {
    return static_cast<uint32_t>(vmcs(static_cast<uint32_t>(f)));
}
}  // namespace

Context::Context(const FieldReader& v, const CapabilityMsrs& k, const ProcessorContext& p,
                 const PhysicalReader& m)
    : vmcs(v), caps(k), cpu(p), memory(m),
      pin_controls(read32(v, VmcsField::pin_based_vm_execution_controls)),
      proc_controls(read32(v, VmcsField::primary_processor_based_vm_execution_controls)),
      proc2_controls(secondary_controls(v, proc_controls)),
      exit_controls(read32(v, VmcsField::primary_vm_exit_controls)),
      entry_controls(read32(v, VmcsField::vm_entry_controls)),
      proc3_controls(tertiary_controls(v, proc_controls)) {}

}  // namespace entry

EntryCheckResult check_vm_entry(const FieldReader& vmcs, const CapabilityMsrs& caps,
                                const ProcessorContext& cpu, const PhysicalReader& memory) {
    const entry::Context context(vmcs, caps, cpu, memory);
    using Group = EntryCheckResult (*)(const entry::Context&);
    // SDM 27.2 (VMfailValid 7 or 8) before 27.3.1 (VM-entry failure, exit reason 33).
    static constexpr Group kGroups[] = {
        entry::check_execution_controls, entry::check_exit_controls, entry::check_entry_controls,
        entry::check_host_state,         entry::check_guest_registers, entry::check_guest_segments,
        entry::check_guest_rip_tables_flags, entry::check_guest_non_register, entry::check_guest_pdptes,
    };
    for (Group group : kGroups) {
        const EntryCheckResult result = group(context);
        if (entry::failed(result)) return result;
    }
    return entry::passed();
}

}  // namespace vmx
