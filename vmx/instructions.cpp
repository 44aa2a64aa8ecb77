// VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE and VMCALL, each in the order of
// its pseudocode in SDM Vol. 3C 31.3 "VMX Instructions"; VMfail conventions of 31.2 and error
// numbers of 31.4 Table 31-1. Context: instruction handlers (rare).
#include <Zydis/Zydis.h>

#include "vmx/instruction_info.h"
#include "vmx/vmx.h"

namespace vmx {

using cpu::Core;
using cpu::Insn;
using cpu::Outcome;

namespace vm_error {  // Table 31-1
inline constexpr uint32_t vmcall_in_root = 1, vmclear_invalid_address = 2, vmclear_vmxon_pointer = 3,
                          vmptrld_invalid_address = 9, vmptrld_vmxon_pointer = 10,
                          vmptrld_bad_revision = 11, unsupported_component = 12,
                          vmwrite_read_only = 13, vmxon_in_root = 15;
}

Outcome Vmx::execute(Core& c, const Insn& i) {
    switch (i.mnemonic) {
        case ZYDIS_MNEMONIC_VMXON: return vmxon(c, i);
        case ZYDIS_MNEMONIC_VMXOFF: return vmxoff(c, i);
        case ZYDIS_MNEMONIC_VMCLEAR: return vmclear(c, i);
        case ZYDIS_MNEMONIC_VMPTRLD: return vmptrld(c, i);
        case ZYDIS_MNEMONIC_VMPTRST: return vmptrst(c, i);
        case ZYDIS_MNEMONIC_VMREAD: return vmread(c, i);
        case ZYDIS_MNEMONIC_VMWRITE: return vmwrite(c, i);
        case ZYDIS_MNEMONIC_VMLAUNCH: return vm_entry(c, i, false);
        case ZYDIS_MNEMONIC_VMRESUME: return vm_entry(c, i, true);
        case ZYDIS_MNEMONIC_VMCALL: return vmcall(c, i);
        case ZYDIS_MNEMONIC_INVEPT: return invept(c, i);
        case ZYDIS_MNEMONIC_INVVPID: return invvpid(c, i);
        default: return c.raise_ud();  // VMFUNC (not advertised) and the SVM instructions
    }
}

Outcome Vmx::succeed(Core& c) {
    cpu::State& s = c.state();
    s.set_rflags(s.rflags() & ~cpu::rf::arith);
    return Outcome::next;
}

Outcome Vmx::fail_invalid(Core& c) {
    cpu::State& s = c.state();
    s.set_rflags((s.rflags() & ~cpu::rf::arith) | cpu::rf::cf);
    ++vmfails_;
    return Outcome::next;
}

// VMfail(error): VMfailValid with the error in the VM-instruction error field when there is
// a current VMCS, else VMfailInvalid (31.2).
Outcome Vmx::fail(Core& c, uint32_t error) {
    if (!current_valid()) return fail_invalid(c);
    cpu::State& s = c.state();
    s.set_rflags((s.rflags() & ~cpu::rf::arith) | cpu::rf::zf);
    vmcs_.set(VmcsField::vm_instruction_error, error);
    ++vmfails_;
    ++vmfail_errors_[error & 31];
    return Outcome::next;
}

// The prologue shared by the VMX instructions (31.3): #UD outside VMX operation, in real or
// virtual-8086 mode or in compatibility mode; a VM exit in VMX non-root operation; #GP(0) at
// CPL > 0. (VMXON checks its own #UD and #GP conditions first.)
bool Vmx::common_checks(Core& c, const Insn& i, ExitReason reason, Outcome& o) {
    const cpu::State& s = c.state();
    const bool compat = (s.efer & cpu::efer::lma) && !s.seg[cpu::cs].long_mode();
    if (!in_vmx_operation_ || !(s.cr0 & cpu::cr0::pe) || (s.rflags() & cpu::rf::vm) || compat) {
        o = c.raise_ud();
        return false;
    }
    if (c.guest_mode()) {
        instruction_exit(c, i, reason, memory_operand_displacement(i, vmx_memory_operand(i)));
        o = Outcome::exit;
        return false;
    }
    if (s.cpl > 0) {
        o = c.raise_gp(0);
        return false;
    }
    return true;
}

// A physical-address operand of VMXON, VMCLEAR, VMPTRLD: 64 bits in memory (#UD for a
// register operand, which the decoder already refuses).
bool Vmx::read_pointer_operand(Core& c, const Insn& i, uint64_t& pointer) {
    return c.read<8>(i.seg, c.effective_address(i), pointer);
}

bool Vmx::address_valid(uint64_t pa) const {
    return (pa & 0xfff) == 0 && (pa >> caps_.maxphyaddr) == 0;
}

void Vmx::write_back_current(Core& c) {
    if (!current_valid()) return;
    const auto region = vmcs_.serialize(revision_id(caps_));
    // Only hvsim's part (after the revision id and abort indicator) belongs to the processor.
    c.write_physical(vmcs_.address + vmcs_layout::launch_state, region.data() + vmcs_layout::launch_state,
                     region.size() - vmcs_layout::launch_state);
}

Outcome Vmx::vmxon(Core& c, const Insn& i) {
    const cpu::State& s = c.state();
    const bool compat = (s.efer & cpu::efer::lma) && !s.seg[cpu::cs].long_mode();
    if (!(s.cr0 & cpu::cr0::pe) || !(s.cr4 & cpu::cr4::vmxe) || (s.rflags() & cpu::rf::vm) || compat)
        return c.raise_ud();
    if (in_vmx_operation_) {
        if (c.guest_mode()) return instruction_exit(c, i, ExitReason::vmxon, memory_operand_displacement(i, vmx_memory_operand(i))), Outcome::exit;
        if (s.cpl > 0) return c.raise_gp(0);
        return fail(c, vm_error::vmxon_in_root);
    }
    // #GP(0): CPL > 0, CR0/CR4 not supported in VMX operation (24.8), IA32_FEATURE_CONTROL
    // unlocked or without "VMXON outside SMX" (hvsim has no SMX).
    const bool fixed_ok = cr_fixed_ok(s.cr0 & 0xffffffff, caps_.cr0_fixed0, caps_.cr0_fixed1) &&
                          cr_fixed_ok(s.cr4, caps_.cr4_fixed0, caps_.cr4_fixed1);
    if (s.cpl > 0 || !fixed_ok || (feature_control_ & 5) != 5) return c.raise_gp(0);
    uint64_t pa;
    if (!read_pointer_operand(c, i, pa)) return Outcome::fault;
    if (!address_valid(pa)) return fail_invalid(c);
    uint32_t revision = 0;
    if (!c.read_physical(pa, &revision, 4) || revision != revision_id(caps_)) return fail_invalid(c);
    vmxon_pointer_ = pa;
    vmcs_.address = ~0ull;
    in_vmx_operation_ = true;
    return succeed(c);
}

Outcome Vmx::vmxoff(Core& c, const Insn& i) {
    Outcome o;
    if (!common_checks(c, i, ExitReason::vmxoff, o)) return o;
    write_back_current(c);
    in_vmx_operation_ = false;
    vmxon_pointer_ = ~0ull;
    return succeed(c);
}

Outcome Vmx::vmclear(Core& c, const Insn& i) {
    Outcome o;
    if (!common_checks(c, i, ExitReason::vmclear, o)) return o;
    uint64_t pa;
    if (!read_pointer_operand(c, i, pa)) return Outcome::fault;
    if (!address_valid(pa)) return fail(c, vm_error::vmclear_invalid_address);
    if (pa == vmxon_pointer_) return fail(c, vm_error::vmclear_vmxon_pointer);
    // The VMCS data go to memory and its launch state becomes "clear" (31.3 VMCLEAR).
    if (pa == vmcs_.address) {
        vmcs_.launched = false;
        write_back_current(c);
        vmcs_.address = ~0ull;
    } else {
        const uint8_t clear = 0;
        c.write_physical(pa + vmcs_layout::launch_state, &clear, 1);
    }
    return succeed(c);
}

Outcome Vmx::vmptrld(Core& c, const Insn& i) {
    Outcome o;
    if (!common_checks(c, i, ExitReason::vmptrld, o)) return o;
    uint64_t pa;
    if (!read_pointer_operand(c, i, pa)) return Outcome::fault;
    if (!address_valid(pa)) return fail(c, vm_error::vmptrld_invalid_address);
    if (pa == vmxon_pointer_) return fail(c, vm_error::vmptrld_vmxon_pointer);
    uint32_t revision = 0;
    // Bit 31 (shadow VMCS) is refused too: hvsim has no VMCS shadowing.
    if (!c.read_physical(pa, &revision, 4) || revision != revision_id(caps_))
        return fail(c, vm_error::vmptrld_bad_revision);
    if (pa == vmcs_.address) return succeed(c);
    write_back_current(c);
    std::vector<uint8_t> region(vmcs_region_bytes());
    if (!c.read_physical(pa, region.data(), region.size())) return fail(c, vm_error::vmptrld_invalid_address);
    vmcs_.deserialize(region.data());
    vmcs_.address = pa;
    return succeed(c);
}

Outcome Vmx::vmptrst(Core& c, const Insn& i) {
    Outcome o;
    if (!common_checks(c, i, ExitReason::vmptrst, o)) return o;
    if (!c.write<8>(i.seg, c.effective_address(i), vmcs_.address)) return Outcome::fault;
    return succeed(c);
}

// VMREAD r/m, r and VMWRITE r, r/m: 64-bit operands in 64-bit mode, 32-bit outside it (31.3).
// The field encoding is the whole register: bits beyond 31 name no field (error 12).
Outcome Vmx::vmread(Core& c, const Insn& i) {
    Outcome o;
    if (!common_checks(c, i, ExitReason::vmread, o)) return o;
    if (!current_valid()) return fail_invalid(c);
    const bool memory = i.aux & 1;
    const unsigned field_reg = memory ? i.reg : i.rm;
    const uint64_t encoding = c.long64() ? c.reg<8>(field_reg) : c.reg<4>(field_reg);
    const FieldRef f = find_field(encoding);
    if (!f.info || !field_supported_[f.row]) return fail(c, vm_error::unsupported_component);
    const uint64_t v = vmcs_.read(f);
    if (memory) {
        const uint64_t ea = c.effective_address(i);
        const bool ok = c.long64() ? c.write<8>(i.seg, ea, v) : c.write<4>(i.seg, ea, v);
        if (!ok) return Outcome::fault;
    } else if (c.long64()) {
        c.set_reg<8>(i.reg, v);
    } else {
        c.set_reg<4>(i.reg, v);
    }
    return succeed(c);
}

Outcome Vmx::vmwrite(Core& c, const Insn& i) {
    Outcome o;
    if (!common_checks(c, i, ExitReason::vmwrite, o)) return o;
    if (!current_valid()) return fail_invalid(c);
    const bool memory = i.aux & 2;
    uint64_t v;
    if (memory) {
        const uint64_t ea = c.effective_address(i);
        const bool ok = c.long64() ? c.read<8>(i.seg, ea, v) : c.read<4>(i.seg, ea, v);
        if (!ok) return Outcome::fault;
    } else {
        v = c.long64() ? c.reg<8>(i.rm) : c.reg<4>(i.rm);
    }
    const uint64_t encoding = c.long64() ? c.reg<8>(i.reg) : c.reg<4>(i.reg);
    const FieldRef f = find_field(encoding);
    if (!f.info || !field_supported_[f.row]) return fail(c, vm_error::unsupported_component);
    if (f.read_only && !vmwrite_any_field(caps_))
        return fail(c, vm_error::vmwrite_read_only);
    vmcs_.write(f, v);
    return succeed(c);
}

// VMCALL: a VM exit in VMX non-root operation (even in real mode); in VMX root operation
// without the dual-monitor treatment (not supported) VMfail 1.
Outcome Vmx::vmcall(Core& c, const Insn& i) {
    if (!in_vmx_operation_) return c.raise_ud();
    if (c.guest_mode()) return instruction_exit(c, i, ExitReason::vmcall), Outcome::exit;
    const cpu::State& s = c.state();
    if ((s.rflags() & cpu::rf::vm) || ((s.efer & cpu::efer::lma) && !s.seg[cpu::cs].long_mode()))
        return c.raise_ud();
    if (s.cpl > 0) return c.raise_gp(0);
    return fail(c, vm_error::vmcall_in_root);
}

}  // namespace vmx
