// #VMEXIT (AMD APM Vol. 2 15.6): the guest state back into the VMCB with EXITCODE, EXITINFO1/2,
// EXITINTINFO, NRIP (15.7.1) and the interrupt state, then the host from the host save area,
// GIF = 0. Context: inside an intercept, an event, a nested-page fault or event recognition.
#include "svm/svm.h"
#include "svm/vmcb.h"

namespace svm {

using cpu::Core;

void Svm::vmexit(Core& c, ExitCode code, uint64_t info1, uint64_t info2, uint64_t next_rip,
                 uint64_t exitintinfo) {
    const Vmcb v(c, vmcb_pa_);
    const cpu::State& s = c.state();
    for (unsigned k = 0; k < 4; ++k) v.set_segment(kSwitchedSegments[k], s.seg[k]);
    v.set(VmcbField::gdtr_base, s.gdtr.base);
    v.set(VmcbField::gdtr_limit, s.gdtr.limit);
    v.set(VmcbField::idtr_base, s.idtr.base);
    v.set(VmcbField::idtr_limit, s.idtr.limit);
    v.set(VmcbField::efer, s.efer);
    v.set(VmcbField::cr0, s.cr0);
    v.set(VmcbField::cr2, s.cr2);
    v.set(VmcbField::cr3, s.cr3);
    v.set(VmcbField::cr4, s.cr4);
    v.set(VmcbField::dr6, s.dr[6]);
    v.set(VmcbField::dr7, s.dr[7]);
    v.set(VmcbField::rflags, s.rflags());
    v.set(VmcbField::rip, s.rip());
    v.set(VmcbField::rsp, s.regs[cpu::rsp]);
    v.set(VmcbField::rax, s.regs[cpu::rax]);
    v.set(VmcbField::cpl, s.cpl);
    // V_IRQ as it is now (a delivered virtual interrupt cleared it); V_TPR is CR8's (15.21.2).
    v.set(VmcbField::vintr, vintr_);
    v.set(VmcbField::interrupt_shadow, c.shadow_kind() != Core::Shadow::none ? 1 : 0);
    // An event whose delivery was interrupted is reported, not lost (15.7.2); EVENTINJ's valid
    // bit is clear after VMRUN (15.20).
    if (!exitintinfo && injecting_) exitintinfo = injecting_;
    v.set(VmcbField::exitcode, static_cast<uint64_t>(code));
    v.set(VmcbField::exitinfo1, info1);
    v.set(VmcbField::exitinfo2, info2);
    v.set(VmcbField::exitintinfo, exitintinfo);
    v.set(VmcbField::eventinj, v.get(VmcbField::eventinj) & ~event_field::valid);
    if (f_.nrip_save) v.set(VmcbField::nrip, next_rip);
    injecting_ = 0;
    injection_unchecked_ = false;
    ++exits_[static_cast<int64_t>(code)];
    c.emit(sim::EventKind::vm_exit, static_cast<uint64_t>(code), info1,
           next_rip > s.rip() ? next_rip - s.rip() : 0);
    load_host(c);
}

}  // namespace svm
