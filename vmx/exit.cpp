// VM exits (SDM Vol. 3C 28): exit information, guest-state saving (28.3), host-state loading
// (28.5), the VM-exit MSR-store and MSR-load lists (28.4, 28.6), VMX aborts (28.7).
// Context: rare path, called from every guest-mode hook that decides to exit.
#include "cpu/msr.h"
#include "vmx/controls.h"
#include "vmx/vmx.h"

namespace vmx {

using cpu::Core;
using F = VmcsField;

namespace {

// VMX access rights of a segment register (25.4.1): the core keeps them in this format.
uint32_t access_rights(const cpu::Segment& s) { return s.attributes & 0x1f0ff; }

}  // namespace

void Vmx::save_guest_state(Core& c) {
    const cpu::State& s = c.state();
    vmcs_.set(F::guest_cr0, s.cr0);
    vmcs_.set(F::guest_cr3, s.cr3);
    vmcs_.set(F::guest_cr4, s.cr4);
    if (exit_controls() & exit_ctl::save_debug_controls) vmcs_.set(F::guest_dr7, s.dr[7]);
    vmcs_.set(F::guest_rsp, s.regs[cpu::rsp]);
    vmcs_.set(F::guest_rip, s.rip());
    vmcs_.set(F::guest_rflags, s.rflags());
    for (unsigned k = 0; k < 8; ++k) {
        const cpu::Segment& seg = k < 6 ? s.seg[k] : k == 6 ? s.ldtr : s.tr;
        vmcs_.set(field_at(F::guest_es_selector, k), seg.selector);
        vmcs_.set(field_at(F::guest_es_base, k), seg.base);
        vmcs_.set(field_at(F::guest_es_limit, k), seg.limit);
        vmcs_.set(field_at(F::guest_es_access_rights, k), access_rights(seg));
    }
    vmcs_.set(F::guest_gdtr_base, s.gdtr.base);
    vmcs_.set(F::guest_gdtr_limit, s.gdtr.limit);
    vmcs_.set(F::guest_idtr_base, s.idtr.base);
    vmcs_.set(F::guest_idtr_limit, s.idtr.limit);
    vmcs_.set(F::guest_ia32_sysenter_cs, s.msr.sysenter_cs);
    vmcs_.set(F::guest_ia32_sysenter_esp, s.msr.sysenter_esp);
    vmcs_.set(F::guest_ia32_sysenter_eip, s.msr.sysenter_eip);
    if (exit_controls() & exit_ctl::save_pat) vmcs_.set(F::guest_ia32_pat, s.msr.pat);
    if (exit_controls() & exit_ctl::save_efer) vmcs_.set(F::guest_ia32_efer, s.efer);
    // A.6 bit 5: the processor stores EFER.LMA into the "IA-32e mode guest" entry control.
    uint64_t entry = vmcs_.get(F::vm_entry_controls) & ~uint64_t{entry_ctl::ia32e_mode_guest};
    if (s.efer & cpu::efer::lma) entry |= entry_ctl::ia32e_mode_guest;
    vmcs_.set(F::vm_entry_controls, entry);
    // 28.3.4: activity and interruptibility state; blocking by STI/MOV SS only while the
    // shadowed instruction has not completed.
    Activity activity = Activity::active;
    if (c.waiting_for_sipi()) activity = Activity::wait_for_sipi;
    else if (c.in_shutdown()) activity = Activity::shutdown;
    else if (c.halted()) activity = Activity::hlt;
    vmcs_.set(F::guest_activity_state, static_cast<uint32_t>(activity));
    uint32_t interruptibility = 0;
    if (c.shadow_kind() == Core::Shadow::sti) interruptibility |= interruptibility::sti;
    if (c.shadow_kind() == Core::Shadow::mov_ss) interruptibility |= interruptibility::mov_ss;
    if (c.nmi_blocked()) interruptibility |= interruptibility::nmi;
    vmcs_.set(F::guest_interruptibility_state, interruptibility);
    vmcs_.set(F::guest_pending_debug_exceptions, 0);  // hvsim has no pending debug traps at exits
    if ((pin() & pin::preemption_timer) && (exit_controls() & exit_ctl::save_preemption_timer))
        vmcs_.set(F::vmx_preemption_timer_value, preemption_timer_value(c));
    // 28.3.4: with EPT and PAE paging, the PDPTEs the processor uses.
    if ((proc2() & proc2::enable_ept) && (s.cr0 & cpu::cr0::pg) && (s.cr4 & cpu::cr4::pae) &&
        !(s.efer & cpu::efer::lma))
        for (unsigned k = 0; k < 4; ++k) vmcs_.set(field_at(F::guest_pdpte0, k), s.pdpte[k]);
}

// 28.5: the host state. Segment attributes are fixed: CS a 64-bit (or 32-bit) code segment,
// the others flat data segments (unusable with a null selector), TR a busy 64-bit TSS.
void Vmx::load_host_state(Core& c) {
    cpu::State& s = c.state();
    const bool ia32e = exit_controls() & exit_ctl::host_address_space_size;
    // CR0: bits the processor keeps are ignored (28.5.1); CR4.PAE is 1 for a 64-bit host.
    s.cr0 = vmcs_.get(F::host_cr0) | cpu::cr0::et;
    s.cr3 = vmcs_.get(F::host_cr3);
    s.cr4 = vmcs_.get(F::host_cr4) | (ia32e ? cpu::cr4::pae : 0);
    s.dr[7] = 0x400;
    s.msr.sysenter_cs = vmcs_.get(F::host_ia32_sysenter_cs);
    s.msr.sysenter_esp = vmcs_.get(F::host_ia32_sysenter_esp);
    s.msr.sysenter_eip = vmcs_.get(F::host_ia32_sysenter_eip);
    if (exit_controls() & exit_ctl::load_pat) s.msr.pat = vmcs_.get(F::host_ia32_pat);
    if (exit_controls() & exit_ctl::load_efer) {
        s.efer = vmcs_.get(F::host_ia32_efer);
    } else if (ia32e) {
        s.efer |= cpu::efer::lma | cpu::efer::lme;
    } else {
        s.efer &= ~(cpu::efer::lma | cpu::efer::lme);
    }
    for (unsigned k = 0; k < 6; ++k) {
        cpu::Segment& seg = s.seg[k];
        seg.selector = static_cast<uint16_t>(vmcs_.get(static_cast<F>(static_cast<uint32_t>(F::host_es_selector) + 2 * k)));
        seg.base = 0;
        seg.limit = 0xffffffff;
        if (k == cpu::cs) {
            seg.attributes = 0xb | 0x10 | 0x80 | 0x8000 | (ia32e ? 0x2000 : 0x4000);
        } else {
            seg.attributes = 0x3 | 0x10 | 0x80 | 0x4000 | 0x8000;
            if (seg.selector == 0 && k != cpu::ss) seg.attributes |= 0x10000;
        }
    }
    s.seg[cpu::fs].base = vmcs_.get(F::host_fs_base);
    s.seg[cpu::gs].base = vmcs_.get(F::host_gs_base);
    s.tr = {static_cast<uint16_t>(vmcs_.get(F::host_tr_selector)), vmcs_.get(F::host_tr_base), 0x67, 0x8b};
    s.ldtr = {0, 0, 0, 0x10000};
    s.gdtr = {vmcs_.get(F::host_gdtr_base), 0xffff};
    s.idtr = {vmcs_.get(F::host_idtr_base), 0xffff};
    s.regs[cpu::rsp] = vmcs_.get(F::host_rsp);
    s.rip() = vmcs_.get(F::host_rip);
    s.set_rflags(0x2);
    s.cpl = 0;
    s.pdpte_cr3 = ~0ull;  // PDPTEs reload from memory for a PAE host (28.5.4)
}

// 28.4 / 28.6: 16-byte entries {index, reserved, value}; the store list gets the guest's
// values before the host state loads, the load list loads after it. hvsim's MSR access is
// the one RDMSR/WRMSR use (cpu/msr.h), so an MSR that would #GP fails the list.
bool Vmx::store_exit_msrs(Core& c) {
    const uint64_t count = vmcs_.get(F::vm_exit_msr_store_count);
    const uint64_t base = vmcs_.get(F::vm_exit_msr_store_address);
    for (uint64_t k = 0; k < count; ++k) {
        uint32_t index = 0;
        uint64_t value = 0;
        if (!c.read_physical(base + 16 * k, &index, 4)) return false;
        if ((index >> 8) == 0x8 || !cpu::msr_read(c, index, value)) return false;
        if (!c.write_physical(base + 16 * k + 8, &value, 8)) return false;
    }
    return true;
}

bool Vmx::load_exit_msrs(Core& c) {
    const uint64_t count = vmcs_.get(F::vm_exit_msr_load_count);
    const uint64_t base = vmcs_.get(F::vm_exit_msr_load_address);
    for (uint64_t k = 0; k < count; ++k) {
        uint32_t index = 0;
        uint64_t value = 0;
        if (!c.read_physical(base + 16 * k, &index, 4) || !c.read_physical(base + 16 * k + 8, &value, 8)) return false;
        // 28.6: FS/GS base, SMM monitor control and the x2APIC range may not be loaded this way.
        if (index == 0xc0000100 || index == 0xc0000101 || index == 0x9b || (index >> 8) == 0x8) return false;
        if (!cpu::msr_write(c, index, value)) return false;
    }
    return true;
}

// 28.7: a failure while loading MSRs on exit is a VMX abort: the indicator is written to the
// VMCS region and the processor shuts down.
void Vmx::vmx_abort(Core& c, uint32_t indicator) {
    c.write_physical(vmcs_.address + vmcs_layout::abort_indicator, &indicator, 4);
    write_back_current(c);
    c.shutdown("VMX abort " + std::to_string(indicator) + " (SDM 28.7: VM-exit MSR list)");
}

void Vmx::record_idt_vectoring(Core& c) {
    const cpu::EventInfo* e = c.event_in_delivery();
    uint32_t info = 0, error = 0;
    if (e) {
        info = interruption::valid | e->vector | (static_cast<uint32_t>(e->type) << interruption::type_shift);
        if (e->has_error) info |= interruption::error_code_valid, error = e->error_code;
        // 28.2.4: a software interrupt or exception being delivered gives its instruction
        // length, for the VMM to re-inject it.
        if (e->type >= cpu::EventType::software_interrupt) vmcs_.set(F::vm_exit_instruction_length, e->instruction_length);
    }
    vmcs_.set(F::idt_vectoring_information, info);
    vmcs_.set(F::idt_vectoring_error_code, error);
}

void Vmx::vm_exit(Core& c, const ExitInfo& info) {
    const uint32_t basic = info.reason & 0xffff;
    if (basic < exits_.size()) ++exits_[basic];
    guest_cycles_ += c.now() - entry_cycle_;
    save_guest_state(c);
    vmcs_.set(F::vm_exit_reason, info.reason);
    vmcs_.set(F::exit_qualification, info.qualification);
    vmcs_.set(F::vm_exit_instruction_length, info.instruction_length);
    if (info.has_instruction_info) vmcs_.set(F::vm_exit_instruction_information, info.instruction_info);
    if (info.has_guest_linear) vmcs_.set(F::guest_linear_address, info.guest_linear);
    if (info.has_guest_physical) vmcs_.set(F::guest_physical_address, info.guest_physical);
    vmcs_.set(F::vm_exit_interruption_information, info.interruption_info);
    vmcs_.set(F::vm_exit_interruption_error_code, info.interruption_error);
    record_idt_vectoring(c);
    // 28.2.3 ... 27.6: the VM-entry interruption information's valid bit clears on every exit.
    vmcs_.set(F::vm_entry_interruption_information,
              vmcs_.get(F::vm_entry_interruption_information) & ~uint64_t{interruption::valid});
    if (c.apic().waiting_for_sipi()) c.apic().take_sipi();  // the host is not waiting for SIPI
    const bool msrs_stored = store_exit_msrs(c);
    const bool nmi_exit = basic == 0 && (info.interruption_info & 0x7ff) == (0x200 | 2);
    load_host_state(c);
    c.set_shadow(Core::Shadow::none);
    preemption_deadline_ = mtf_at_ = ~0ull;
    nested_paging_ = false;
    attention_ = false;
    c.vm_transition(false, host_tlb_key());
    // NMI blocking: set by an NMI exit; with "virtual NMIs" the guest's blocking was virtual
    // and the host's own returns (28.5 / 27.3.2).
    c.set_nmi_blocked(nmi_exit || ((pin() & pin::virtual_nmis) ? host_nmi_blocked_ : c.nmi_blocked()));
    c.emit(sim::EventKind::vm_exit, info.reason, info.qualification, info.instruction_length);
    if (!msrs_stored) return vmx_abort(c, 2);  // 28.7: MSR-store failure
    if (!load_exit_msrs(c)) return vmx_abort(c, 4);  // 28.7: MSR-load failure
    c.refresh_mode();
}

// 27.8: the processor loads the host state as for a VM exit, with exit reason bit 31 set;
// the guest state is not saved and the VMCS stays unlaunched.
void Vmx::entry_failure(Core& c, uint32_t reason, uint64_t qualification) {
    ++entry_failures_;
    if (reason < exits_.size()) ++exits_[reason];
    vmcs_.set(F::vm_exit_reason, reason | kEntryFailure);
    vmcs_.set(F::exit_qualification, qualification);
    load_host_state(c);
    c.set_shadow(Core::Shadow::none);
    attention_ = false;
    nested_paging_ = false;
    c.vm_transition(false, host_tlb_key());
    c.emit(sim::EventKind::vm_exit, reason | kEntryFailure, qualification, 0);
    if (!load_exit_msrs(c)) vmx_abort(c, 4);
    c.refresh_mode();
}

}  // namespace vmx
