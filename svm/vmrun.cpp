// VMRUN (AMD APM Vol. 2 15.5 "VMRUN Instruction"; Vol. 3 "VMRUN"): save the host to the host
// save area (VM_HSAVE_PA, laid out like a VMCB state save area), check and load the guest,
// set GIF, inject EVENTINJ (15.20). Context: instruction handler (rare).
#include "svm/checks.h"
#include "svm/svm.h"
#include "svm/vmcb.h"

namespace svm {

using cpu::Core;
using cpu::Insn;
using cpu::Outcome;

Outcome Svm::vmrun(Core& c, const Insn& i) {
    if (!privileged_checks(c)) return Outcome::fault;
    if (instruction_exit(c, i, Intercept::vmrun, ExitCode::vmrun)) return Outcome::exit;
    uint64_t pa;
    if (!rax_address(c, i, pa)) return Outcome::fault;
    ++vmruns_;
    vmcb_pa_ = pa;
    save_host(c, c.rip() + i.length);
    const Vmcb v(c, pa);
    c.emit(sim::EventKind::vm_entry, pa);
    if (const char* why = vmrun_check_failure(v, f_, c.efer_allowed(), c.cr4_allowed())) {
        ++invalid_vmruns_;
        c.emit(sim::EventKind::vm_exit, static_cast<uint64_t>(ExitCode::invalid), 0, 0);
        ++exits_[static_cast<int64_t>(ExitCode::invalid)];
        ++invalid_reasons_[why];  // which check failed: in the statistics
        v.set(VmcbField::exitcode, static_cast<uint64_t>(ExitCode::invalid));
        v.set(VmcbField::exitinfo1, 0);
        v.set(VmcbField::exitinfo2, 0);
        v.set(VmcbField::exitintinfo, 0);
        load_host(c);  // GIF stays 0 as after any #VMEXIT
        return Outcome::branch;
    }
    load_controls(c);
    load_guest(c);
    gif_ = true;
    c.vm_transition(true);
    update_attention(c);
    // INTERRUPT_SHADOW (15.21.5): the guest starts in an interrupt shadow.
    if (v.get(VmcbField::interrupt_shadow) & 1) c.set_shadow(Core::Shadow::sti);
    inject_event(c);
    return Outcome::branch;
}

// 15.5.1: "at least" ES CS SS DS, GDTR IDTR, EFER CR0 CR3 CR4, RFLAGS, RIP (next instruction),
// RSP, RAX. FS, GS, TR, LDTR and the SYSCALL MSRs are VMSAVE's business.
void Svm::save_host(Core& c, uint64_t next_rip) {
    const Vmcb h(c, hsave_pa_);
    const cpu::State& s = c.state();
    for (unsigned k = 0; k < 4; ++k) h.set_segment(kSwitchedSegments[k], s.seg[k]);
    h.set(VmcbField::gdtr_base, s.gdtr.base);
    h.set(VmcbField::gdtr_limit, s.gdtr.limit);
    h.set(VmcbField::idtr_base, s.idtr.base);
    h.set(VmcbField::idtr_limit, s.idtr.limit);
    h.set(VmcbField::efer, s.efer);
    h.set(VmcbField::cr0, s.cr0);
    h.set(VmcbField::cr3, s.cr3);
    h.set(VmcbField::cr4, s.cr4);
    h.set(VmcbField::rflags, s.rflags());
    h.set(VmcbField::rip, next_rip);
    h.set(VmcbField::rsp, s.regs[cpu::rsp]);
    h.set(VmcbField::rax, s.regs[cpu::rax]);
    host_cr0_ = s.cr0;
    host_cr4_ = s.cr4;
    host_efer_ = s.efer;
    host_if_ = s.interrupts_enabled();
}

// 15.6 "#VMEXIT": the host state from the host save area; DR7 disables every breakpoint, CPL 0.
void Svm::load_host(Core& c) {
    const Vmcb h(c, hsave_pa_);
    cpu::State& s = c.state();
    for (unsigned k = 0; k < 4; ++k) s.seg[k] = h.segment(kSwitchedSegments[k]);
    s.gdtr = {h.get(VmcbField::gdtr_base), static_cast<uint32_t>(h.get(VmcbField::gdtr_limit))};
    s.idtr = {h.get(VmcbField::idtr_base), static_cast<uint32_t>(h.get(VmcbField::idtr_limit))};
    s.efer = h.get(VmcbField::efer);
    s.cr0 = h.get(VmcbField::cr0) | cpu::cr0::pe;
    s.cr3 = h.get(VmcbField::cr3);
    s.cr4 = h.get(VmcbField::cr4);
    s.pdpte_cr3 = ~0ull;  // AMD reads the PAE PDPTEs from memory
    s.set_rflags(h.get(VmcbField::rflags));
    s.rip() = h.get(VmcbField::rip);
    s.regs[cpu::rsp] = h.get(VmcbField::rsp);
    s.regs[cpu::rax] = h.get(VmcbField::rax);
    s.dr[7] = 0x400;
    s.cpl = 0;
    gif_ = false;
    nested_paging_ = false;
    c.vm_transition(false);
    c.set_shadow(Core::Shadow::none);  // the guest's interrupt shadow went into the VMCB
    update_attention(c);
}

void Svm::load_controls(Core& c) {
    const Vmcb v(c, vmcb_pa_);
    for (unsigned k = 0; k < intercepts_.size(); ++k)
        intercepts_[k] = static_cast<uint32_t>(v.get(static_cast<VmcbField>(k * 4)));
    iopm_pa_ = v.get(VmcbField::iopm_base_pa) & ~0xfffull;
    msrpm_pa_ = v.get(VmcbField::msrpm_base_pa) & ~0xfffull;
    tsc_offset_ = v.get(VmcbField::tsc_offset);
    asid_ = static_cast<uint32_t>(v.get(VmcbField::guest_asid));
    vintr_ = v.get(VmcbField::vintr);
    nested_paging_ = f_.nested_paging && (v.get(VmcbField::np_control) & 1);
    ncr3_ = v.get(VmcbField::n_cr3);
    pause_count_reload_ = f_.pause_filter ? static_cast<uint16_t>(v.get(VmcbField::pause_filter_count)) : 0;
    pause_threshold_ = f_.pause_filter_threshold ? static_cast<uint16_t>(v.get(VmcbField::pause_filter_threshold)) : 0;
    pause_count_ = pause_count_reload_;
    last_pause_ = c.now();
    // TLB_CONTROL (15.16.1): every value is honoured by the full flush of vm_transition().
}

void Svm::load_guest(Core& c) {
    const Vmcb v(c, vmcb_pa_);
    cpu::State& s = c.state();
    for (unsigned k = 0; k < 4; ++k) s.seg[k] = v.segment(kSwitchedSegments[k]);
    s.gdtr = {v.get(VmcbField::gdtr_base), static_cast<uint32_t>(v.get(VmcbField::gdtr_limit))};
    s.idtr = {v.get(VmcbField::idtr_base), static_cast<uint32_t>(v.get(VmcbField::idtr_limit))};
    s.cr0 = v.get(VmcbField::cr0) | cpu::cr0::et;
    s.cr2 = v.get(VmcbField::cr2);
    s.cr3 = v.get(VmcbField::cr3);
    s.cr4 = v.get(VmcbField::cr4);
    s.pdpte_cr3 = ~0ull;
    // EFER.LMA follows LME and CR0.PG (the consistency checks made the pair legal).
    uint64_t efer_v = v.get(VmcbField::efer) & ~cpu::efer::lma;
    if ((efer_v & cpu::efer::lme) && (s.cr0 & cpu::cr0::pg)) efer_v |= cpu::efer::lma;
    s.efer = efer_v;
    s.dr[6] = v.get(VmcbField::dr6);
    s.dr[7] = v.get(VmcbField::dr7);
    s.set_rflags(v.get(VmcbField::rflags));
    s.rip() = v.get(VmcbField::rip);
    s.regs[cpu::rsp] = v.get(VmcbField::rsp);
    s.regs[cpu::rax] = v.get(VmcbField::rax);
    // CPL comes from the VMCB (15.5.1); real mode is CPL 0, virtual-8086 mode CPL 3.
    s.cpl = static_cast<uint8_t>(v.get(VmcbField::cpl) & 3);
    if (!(s.cr0 & cpu::cr0::pe)) s.cpl = 0;
}

// EVENTINJ (15.20): delivered through the guest IDT as if it had happened in the guest, after
// the guest state is loaded; the injected event itself is not intercepted, but an exception
// its delivery raises is (and EXITINTINFO then holds the injected event).
void Svm::inject_event(Core& c) {
    uint64_t e = 0, nrip = 0;
    {
        const Vmcb v(c, vmcb_pa_);  // written back before the delivery (which may #VMEXIT)
        e = v.get(VmcbField::eventinj);
        if (!(e & event_field::valid)) return;
        v.set(VmcbField::eventinj, e & ~event_field::valid);
        nrip = v.get(VmcbField::nrip);
    }
    ++injected_;
    const auto vector = static_cast<uint8_t>(e);
    const unsigned type = (e >> event_field::type_shift) & 7;
    const bool has_error = type == event_field::exception && (e & event_field::error_valid);
    const auto error = static_cast<uint32_t>(e >> 32);
    injecting_ = e;
    injection_unchecked_ = true;
    c.set_halted(false);
    const uint64_t rip = c.rip();
    switch (type) {
        case event_field::intr: c.deliver_event(vector, false, 0, false, rip, 0, 1); break;
        case event_field::nmi:
            c.set_nmi_blocked(true);
            c.deliver_event(vector, false, 0, false, rip, 0, 2);
            break;
        case event_field::exception:
            c.deliver_event(vector, has_error, error, false, rip, vector == 14 ? c.state().cr2 : 0);
            break;
        default: {
            // Software interrupts return after the INTn: NRIP when NRIP save is advertised
            // (the VMM stores the next RIP there), else the guest RIP.
            const uint64_t next = f_.nrip_save ? nrip : rip;
            c.deliver_event(vector, false, 0, true, next ? next : rip);
        }
    }
    injecting_ = 0;
    injection_unchecked_ = false;
}

}  // namespace svm
