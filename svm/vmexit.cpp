// #VMEXIT (AMD APM Vol. 2 15.6): the guest state back into the VMCB with EXITCODE, EXITINFO1/2,
// EXITINTINFO, NRIP (15.7.1) and the interrupt state, then the host from the host save area,
// GIF = 0. Context: inside an intercept, an event, a nested-page fault or event recognition.
#include <algorithm>

#include "svm/svm.h"
#include "svm/vmcb.h"

namespace svm {

using cpu::Core;

// 15.33.4: on #NPF and #PF intercepts the processor stores the bytes of the guest instruction
// at CS:RIP that it could fetch (fewer when a fetch would fault), and their number.
void Svm::save_instruction_bytes(Core& c) {
    const cpu::State& s = c.state();
    uint64_t linear = s.seg[cpu::cs].base + s.rip();
    if (!c.long64()) linear &= 0xffffffffull;
    uint8_t bytes[15] = {};
    unsigned fetched = 0, limit = sizeof bytes;
    // The fetch that faulted ends the bytes: none if it was at RIP's page, else up to its page.
    if (fetch_fault_linear_ != ~0ull) {
        const uint64_t page = fetch_fault_linear_ & ~0xfffull;
        limit = page <= linear ? 0 : static_cast<unsigned>(std::min<uint64_t>(limit, page - linear));
        fetch_fault_linear_ = ~0ull;
    }
    fetching_bytes_ = true;
    while (fetched < limit) {
        const uint64_t at = linear + fetched;
        const unsigned chunk = std::min<unsigned>(limit - fetched, 4096 - static_cast<unsigned>(at & 0xfff));
        if (!c.read_linear(at, bytes + fetched, chunk)) break;
        fetched += chunk;
    }
    fetching_bytes_ = false;
    const Vmcb v(c, vmcb_pa_);
    v.set(VmcbField::guest_instruction_bytes_fetched, fetched);
    c.write_physical(vmcb_pa_ + static_cast<unsigned>(VmcbField::guest_instruction_bytes), bytes, sizeof bytes);
}

void Svm::vmexit(Core& c, ExitCode code, uint64_t info1, uint64_t info2, uint64_t next_rip,
                 uint64_t exitintinfo) {
    const bool with_bytes = f_.decode_assists && (code == ExitCode::npf || code == ExitCode::excp14);
    if (with_bytes) save_instruction_bytes(c);
    const Vmcb v(c, vmcb_pa_);
    if (f_.decode_assists && !with_bytes) v.set(VmcbField::guest_instruction_bytes_fetched, 0);  // none for this exit
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
    if (!exitintinfo && c.event_in_delivery()) exitintinfo = event_field::encode(*c.event_in_delivery());  // e.g. #NPF on the IDT
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
