// The SVM instructions other than VMRUN (AMD APM Vol. 3 "VMLOAD", "VMSAVE", "VMMCALL", "STGI",
// "CLGI", "INVLPGA", "SKINIT") and their dispatch. Check order (APM Vol. 2 15.7 "Intercept
// Operation"): #UD, then #GP for CPL, then the intercept, then the operand's #GP.
// Context: instruction handlers (rare).
#include <Zydis/Zydis.h>

#include "svm/svm.h"
#include "svm/vmcb.h"

namespace svm {

using cpu::Core;
using cpu::Insn;
using cpu::Outcome;

bool Svm::privileged_checks(Core& c) const {
    const cpu::State& s = c.state();
    // EFER.SVME = 0, or real / virtual-8086 mode (no SVM there): #UD.
    if (!(s.efer & cpu::efer::svme) || s.mode == cpu::Mode::real || s.mode == cpu::Mode::v8086)
        return c.raise_ud(), false;
    if (s.cpl != 0) return c.raise_gp(0), false;
    return true;
}

// rAX by the address size (APM Vol. 3 "VMRUN": "rAX"): 4 KiB aligned, below MAXPHYADDR.
bool Svm::rax_address(Core& c, const Insn& i, uint64_t& pa) const {
    pa = c.state().regs[cpu::rax] & cpu::kAddressMask[i.adsize & 15];
    if ((pa & 0xfff) || (pa >> cpu::kMaxPhysAddrBits)) return c.raise_gp(0), false;
    return true;
}

bool Svm::instruction_exit(Core& c, const Insn& i, Intercept bit, ExitCode code, uint64_t info1,
                           uint64_t info2) {
    if (!c.guest_mode() || !intercepted(bit)) return false;
    vmexit(c, code, info1, info2, c.rip() + i.length);
    return true;
}

Outcome Svm::execute(Core& c, const Insn& i) {
    switch (i.mnemonic) {
        case ZYDIS_MNEMONIC_VMRUN: return vmrun(c, i);
        case ZYDIS_MNEMONIC_VMLOAD: return vmload_vmsave(c, i, true);
        case ZYDIS_MNEMONIC_VMSAVE: return vmload_vmsave(c, i, false);
        case ZYDIS_MNEMONIC_STGI: return stgi_clgi(c, i, true);
        case ZYDIS_MNEMONIC_CLGI: return stgi_clgi(c, i, false);
        case ZYDIS_MNEMONIC_INVLPGA: return invlpga(c, i);
        case ZYDIS_MNEMONIC_VMMCALL:
            // Not intercepted: #UD, at any CPL (APM Vol. 3 "VMMCALL").
            return instruction_exit(c, i, Intercept::vmmcall, ExitCode::vmmcall) ? Outcome::exit : c.raise_ud();
        case ZYDIS_MNEMONIC_SKINIT:
            // Secure init (15.27) is not modelled: CPUID 8000_0001h:ECX.SKINIT is 0, so #UD,
            // which precedes the SKINIT intercept (the intercept is never produced).
            return c.unimplemented(i, "SKINIT (secure init and jump with attestation) is not modelled");
        default:
            return c.raise_ud();  // VMX instructions on an AMD processor
    }
}

// VMLOAD/VMSAVE (15.5.2): FS, GS, TR, LDTR with their hidden state, KernelGsBase, STAR, LSTAR,
// CSTAR, SFMASK, SYSENTER_CS/ESP/EIP.
Outcome Svm::vmload_vmsave(Core& c, const Insn& i, bool load) {
    if (!privileged_checks(c)) return Outcome::fault;
    if (instruction_exit(c, i, load ? Intercept::vmload : Intercept::vmsave, load ? ExitCode::vmload : ExitCode::vmsave))
        return Outcome::exit;
    uint64_t pa;
    if (!rax_address(c, i, pa)) return Outcome::fault;
    const Vmcb v(c, pa);
    cpu::State& s = c.state();
    cpu::Msrs& m = s.msr;
    struct Pair { VmcbField field; uint64_t* value; };
    const Pair msrs[] = {{VmcbField::kernel_gs_base, &m.kernel_gs_base}, {VmcbField::star, &m.star},
                         {VmcbField::lstar, &m.lstar}, {VmcbField::cstar, &m.cstar},
                         {VmcbField::sfmask, &m.fmask}, {VmcbField::sysenter_cs, &m.sysenter_cs},
                         {VmcbField::sysenter_esp, &m.sysenter_esp}, {VmcbField::sysenter_eip, &m.sysenter_eip}};
    if (load) {
        s.seg[cpu::fs] = v.segment(VmcbField::fs_selector);
        s.seg[cpu::gs] = v.segment(VmcbField::gs_selector);
        s.tr = v.segment(VmcbField::tr_selector);
        s.ldtr = v.segment(VmcbField::ldtr_selector);
        for (const Pair& p : msrs) *p.value = v.get(p.field);
        c.refresh_mode();
    } else {
        v.set_segment(VmcbField::fs_selector, s.seg[cpu::fs]);
        v.set_segment(VmcbField::gs_selector, s.seg[cpu::gs]);
        v.set_segment(VmcbField::tr_selector, s.tr);
        v.set_segment(VmcbField::ldtr_selector, s.ldtr);
        for (const Pair& p : msrs) v.set(p.field, *p.value);
    }
    return Outcome::next;
}

// STGI/CLGI (15.17 "Global Interrupt Flag"): with GIF = 0 INTR, NMI, INIT and SMI stay pending.
Outcome Svm::stgi_clgi(Core& c, const Insn& i, bool set) {
    if (!privileged_checks(c)) return Outcome::fault;
    if (instruction_exit(c, i, set ? Intercept::stgi : Intercept::clgi, set ? ExitCode::stgi : ExitCode::clgi))
        return Outcome::exit;
    gif_ = set;
    update_attention(c);
    c.request_end_of_block();  // a pending interrupt is taken after STGI
    return Outcome::next;
}

// INVLPGA (APM Vol. 3): invalidates the mapping of rAX in the ASID of ECX. hvsim's TLB has no
// ASID tags: it flushes everything (invalidating more is always allowed, 15.16).
Outcome Svm::invlpga(Core& c, const Insn& i) {
    if (!privileged_checks(c)) return Outcome::fault;
    if (instruction_exit(c, i, Intercept::invlpga, ExitCode::invlpga)) return Outcome::exit;
    c.flush_tlb();
    return Outcome::next;
}

}  // namespace svm
