// vmx::Vmx construction and what VMX adds to the processor outside the VMX instructions:
// the capability MSRs and IA32_FEATURE_CONTROL (SDM Vol. 3C 24.7 "Enabling and Entering VMX
// Operation"), CPUID.1:ECX.VMX[5], CR4.VMXE and the CR0/CR4 fixed bits in VMX operation
// (24.8 "Restrictions on VMX Operation"). Context: construction, RDMSR/WRMSR, CPUID, MOV CR.
#include "vmx/vmx.h"

#include "cpu/msr.h"
#include "vmx/controls.h"
#include "vmx_msrs_table.h"

namespace vmx {

namespace feature_control {
inline constexpr uint64_t lock = 1u << 0, vmx_inside_smx = 1u << 1, vmx_outside_smx = 1u << 2;
}

Vmx::Vmx(const CapabilityMsrs& caps, std::string preset) : caps_(caps), preset_(std::move(preset)) {
    caps_.maxphyaddr = cpu::kMaxPhysAddrBits;
    for (const auto& row : kVmcsFieldTable) field_supported_.push_back(gate_supported(caps_, row.gate));
}

uint64_t Vmx::guest_tlb_key() const {
    const uint64_t vpid = vmcs_.get(VmcsField::virtual_processor_id);
    if (!(proc2() & proc2::enable_vpid) || vpid == 0) return cpu::Core::kTlbUntagged;
    const uint64_t eptp = (proc2() & proc2::enable_ept) ? vmcs_.get(VmcsField::ept_pointer) : 0;
    return (vpid << 1 | 1) ^ (eptp * 0x100000001b3ull);
}

uint64_t Vmx::host_tlb_key() const { return (proc2() & proc2::enable_vpid) ? 0 : cpu::Core::kTlbUntagged; }

uint32_t Vmx::proc2() const {
    if (!(proc() & proc::secondary_controls)) return 0;
    return static_cast<uint32_t>(vmcs_.get(VmcsField::secondary_processor_based_vm_execution_controls));
}

void Vmx::adjust_cpuid(uint32_t leaf, uint32_t, uint32_t regs[4]) const {
    if (leaf == 1) regs[2] |= 1u << 5;  // CPUID.1:ECX.VMX (SDM 24.6 "Discovering Support for VMX")
}

cpu::MsrResult Vmx::read_msr(cpu::Core&, uint32_t index, uint64_t& value) {
    if (index == static_cast<uint32_t>(VmxMsr::feature_control)) {
        value = feature_control_;
        return cpu::MsrResult::ok;
    }
    if (index < 0x480 || index > 0x491) return cpu::MsrResult::not_mine;
    const auto v = read_capability_msr(caps_, index);
    if (!v) return cpu::MsrResult::gp;
    value = *v;
    return cpu::MsrResult::ok;
}

// IA32_FEATURE_CONTROL: once bit 0 (lock) is set, WRMSR raises #GP(0) until reset (SDM Vol. 4
// Table 2-2, 24.7). hvsim has bits 0-2 only (no SMX, SGX, LMCE): the others are reserved.
// The capability MSRs are read-only.
cpu::MsrResult Vmx::write_msr(cpu::Core&, uint32_t index, uint64_t value) {
    if (index == static_cast<uint32_t>(VmxMsr::feature_control)) {
        using namespace feature_control;
        if ((feature_control_ & lock) || (value & ~(lock | vmx_inside_smx | vmx_outside_smx)))
            return cpu::MsrResult::gp;
        feature_control_ = value;
        return cpu::MsrResult::ok;
    }
    if (index >= 0x480 && index <= 0x491) return cpu::MsrResult::gp;
    return cpu::MsrResult::not_mine;
}

uint64_t Vmx::cr4_bits() const { return cpu::cr4::vmxe; }

// 24.8: in VMX operation CR0 and CR4 keep the bits IA32_VMX_CR*_FIXED0 sets and clear the
// bits FIXED1 clears (#GP(0) otherwise); CR4.VMXE cannot be cleared. With "unrestricted
// guest", a guest may clear CR0.PE and CR0.PG (27.3.1.1).
bool Vmx::cr_write_allowed(const cpu::Core& c, unsigned cr, uint64_t value) const {
    if (!in_vmx_operation_ || (cr != 0 && cr != 4)) return true;
    uint64_t fixed0 = cr == 0 ? caps_.cr0_fixed0 : caps_.cr4_fixed0;
    const uint64_t fixed1 = cr == 0 ? caps_.cr0_fixed1 : caps_.cr4_fixed1;
    if (cr == 0 && c.guest_mode() && (proc2() & proc2::unrestricted_guest))
        fixed0 &= ~(cpu::cr0::pe | cpu::cr0::pg);
    if (cr == 0) value &= 0xffffffffull;  // CR0 bits 63:32 are the core's own concern
    return (value & fixed0) == fixed0 && (value & ~fixed1) == 0;
}

void Vmx::reset(cpu::Core& c) {
    feature_control_ = 0;
    in_vmx_operation_ = false;
    vmxon_pointer_ = ~0ull;
    vmcs_.address = ~0ull;
    vmcs_.launched = false;
    preemption_deadline_ = mtf_at_ = ~0ull;
    attention_ = false;
    nested_paging_ = false;
    caps_.cr4_fixed1 = c.cr4_allowed() | cpu::cr4::vmxe;  // A.8: the CR4 bits the core supports
}

void Vmx::set_attention(cpu::Core& c) {
    attention_ = c.guest_mode();
    c.virtualization_changed();
}

}  // namespace vmx
