// VMLAUNCH and VMRESUME (SDM Vol. 3C 31.3, 27 "VM Entries"): the instruction's own checks,
// the checks of vmx/entry_checks.h (27.2, 27.3.1), guest-state loading (27.3.2), the VM-entry
// MSR-load list (27.4), then event injection (27.6). Context: VM entry (rare path).
#include "cpu/msr.h"
#include "vmx/controls.h"
#include "vmx/vmx.h"

namespace vmx {

using cpu::Core;
using cpu::Outcome;
using F = VmcsField;

namespace vm_error {  // Table 31-1
inline constexpr uint32_t vmlaunch_not_clear = 4, vmresume_not_launched = 5, invalid_controls = 7,
                          invalid_host_state = 8, blocked_by_mov_ss = 26;
}

Outcome Vmx::vm_entry(Core& c, const cpu::Insn& i, bool resume) {
    Outcome o;
    if (!common_checks(c, i, resume ? ExitReason::vmresume : ExitReason::vmlaunch, o)) return o;
    if (!current_valid()) return fail_invalid(c);
    if (c.shadow_kind() == Core::Shadow::mov_ss) return fail(c, vm_error::blocked_by_mov_ss);
    if (!resume && vmcs_.launched) return fail(c, vm_error::vmlaunch_not_clear);
    if (resume && !vmcs_.launched) return fail(c, vm_error::vmresume_not_launched);
    const ProcessorContext context{(c.state().efer & cpu::efer::lma) != 0, resume};
    const PhysicalReader memory = [&c](uint64_t address, void* out, unsigned size) {
        return c.read_physical(address, out, size);
    };
    const EntryCheckResult check = check_vm_entry(vmcs_.reader(), caps_, context, memory);
    switch (check.kind) {
        case EntryCheckResult::Kind::ok: break;
        case EntryCheckResult::Kind::vmfail_controls: return fail(c, vm_error::invalid_controls);
        case EntryCheckResult::Kind::vmfail_host_state: return fail(c, vm_error::invalid_host_state);
        case EntryCheckResult::Kind::guest_state_failure:
            entry_failure(c, static_cast<uint32_t>(ExitReason::entry_failure_guest_state),
                          check.error_or_qualification);
            return Outcome::exit;
    }
    host_nmi_blocked_ = c.nmi_blocked();
    // 27.3.2 and 27.4: guest state, then the MSR-load list; a failing entry loads the host state.
    load_guest_state(c);
    uint32_t failed = 0;
    if (!load_entry_msrs(c, failed)) {
        entry_failure(c, static_cast<uint32_t>(ExitReason::entry_failure_msr_loading), failed);
        return Outcome::exit;
    }
    vmcs_.launched = true;
    ++entries_;
    entry_cycle_ = c.now();
    nested_paging_ = proc2() & proc2::enable_ept;
    c.vm_transition(true, guest_tlb_key());
    // 27.3.2.5 / 27.7: activity and interruptibility state take effect in the guest.
    const auto activity = static_cast<Activity>(vmcs_.get(F::guest_activity_state));
    const auto blocking = static_cast<uint32_t>(vmcs_.get(F::guest_interruptibility_state));
    // The blocking covers the first guest instruction (this one, VMLAUNCH, is still running).
    if (blocking & interruptibility::sti) c.inhibit_interrupts(Core::Shadow::sti);
    if (blocking & interruptibility::mov_ss) c.inhibit_interrupts(Core::Shadow::mov_ss);
    c.set_nmi_blocked(blocking & interruptibility::nmi);
    c.emit(sim::EventKind::vm_entry, resume ? 1 : 0);
    start_guest_timers(c);
    if (vmcs_.get(F::vm_entry_interruption_information) & interruption::valid) {
        inject_event(c);
    } else if (activity == Activity::hlt || activity == Activity::shutdown) {
        c.set_halted(true);  // 27.7.4: an injected event would have woken it
    } else if (activity == Activity::wait_for_sipi) {
        c.apic().enter_wait_for_sipi();  // only a SIPI (exit 4) or INIT (exit 3) ends it
        c.set_halted(true);
    }
    set_attention(c);
    return Outcome::branch;
}

// 27.3.2.1-27.3.2.4: control registers, debug registers, MSRs, segments, descriptor tables,
// RIP, RSP, RFLAGS. CR0/CR4 keep the bits the processor reserves; EFER.LMA/LME follow
// "IA-32e mode guest" unless EFER is loaded.
void Vmx::load_guest_state(Core& c) {
    cpu::State& s = c.state();
    const uint32_t entry = entry_controls();
    const bool ia32e = entry & entry_ctl::ia32e_mode_guest;
    s.cr0 = vmcs_.get(F::guest_cr0) | cpu::cr0::et;
    s.cr3 = vmcs_.get(F::guest_cr3);
    s.cr4 = vmcs_.get(F::guest_cr4);
    if (entry & entry_ctl::load_debug_controls) s.dr[7] = vmcs_.get(F::guest_dr7) | 0x400;
    s.msr.sysenter_cs = vmcs_.get(F::guest_ia32_sysenter_cs);
    s.msr.sysenter_esp = vmcs_.get(F::guest_ia32_sysenter_esp);
    s.msr.sysenter_eip = vmcs_.get(F::guest_ia32_sysenter_eip);
    if (entry & entry_ctl::load_pat) s.msr.pat = vmcs_.get(F::guest_ia32_pat);
    if (entry & entry_ctl::load_efer) s.efer = vmcs_.get(F::guest_ia32_efer);
    constexpr uint64_t long_bits = cpu::efer::lma | cpu::efer::lme;
    if (!(entry & entry_ctl::load_efer)) s.efer = (s.efer & ~long_bits) | (ia32e ? long_bits : 0);
    for (unsigned k = 0; k < 8; ++k) {
        cpu::Segment seg{static_cast<uint16_t>(vmcs_.get(field_at(F::guest_es_selector, k))),
                         vmcs_.get(field_at(F::guest_es_base, k)),
                         static_cast<uint32_t>(vmcs_.get(field_at(F::guest_es_limit, k))),
                         static_cast<uint32_t>(vmcs_.get(field_at(F::guest_es_access_rights, k))) & 0x1f0ff};
        (k < 6 ? s.seg[k] : k == 6 ? s.ldtr : s.tr) = seg;
    }
    s.gdtr = {vmcs_.get(F::guest_gdtr_base), static_cast<uint32_t>(vmcs_.get(F::guest_gdtr_limit))};
    s.idtr = {vmcs_.get(F::guest_idtr_base), static_cast<uint32_t>(vmcs_.get(F::guest_idtr_limit))};
    s.regs[cpu::rsp] = vmcs_.get(F::guest_rsp);
    s.rip() = vmcs_.get(F::guest_rip);
    s.set_rflags(vmcs_.get(F::guest_rflags));
    s.cpl = static_cast<uint8_t>(s.seg[cpu::ss].dpl());  // 27.3.2.2: CPL is SS.DPL
    // 27.3.2.4: PAE paging without EPT loads the PDPTEs from CR3 (the core reads them from
    // memory while pdpte_cr3 differs); with EPT they come from the VMCS.
    const bool pae = (s.cr0 & cpu::cr0::pg) && (s.cr4 & cpu::cr4::pae) && !ia32e;
    if (pae && (proc2() & proc2::enable_ept)) {
        for (unsigned k = 0; k < 4; ++k) s.pdpte[k] = vmcs_.get(field_at(F::guest_pdpte0, k));
        s.pdpte_cr3 = s.cr3;
    } else if (pae) {
        for (unsigned k = 0; k < 4; ++k) c.read_physical((s.cr3 & ~0x1full) + 8 * k, &s.pdpte[k], 8);
        s.pdpte_cr3 = s.cr3;
    } else {
        s.pdpte_cr3 = ~0ull;
    }
    c.refresh_mode();
}

// 27.4: the VM-entry MSR-load list, 16-byte entries; a failure names the entry (from 1).
bool Vmx::load_entry_msrs(Core& c, uint32_t& failed_index) {
    const uint64_t count = vmcs_.get(F::vm_entry_msr_load_count);
    const uint64_t base = vmcs_.get(F::vm_entry_msr_load_address);
    for (uint64_t k = 0; k < count; ++k) {
        failed_index = static_cast<uint32_t>(k + 1);
        uint32_t header[2] = {};
        uint64_t value = 0;
        if (!c.read_physical(base + 16 * k, header, 8) || !c.read_physical(base + 16 * k + 8, &value, 8)) return false;
        // Reserved bits, FS/GS base, SMM monitor control, the x2APIC range (27.4).
        if (header[1] != 0 || header[0] == 0xc0000100 || header[0] == 0xc0000101 || header[0] == 0x9b ||
            (header[0] >> 8) == 0x8)
            return false;
        if (!cpu::msr_write(c, header[0], value)) return false;
    }
    return true;
}

}  // namespace vmx
