// Instructions on single flags and the interrupt flag: CLC STC CMC CLD STD CLI STI, and HLT.
// CLI/STI follow SDM Vol. 2 "CLI"/"STI" (IOPL-sensitive in protected mode; VME/PVI not
// modelled: with CR4.VME or PVI set they fault loudly rather than behave differently).
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

Outcome clc(Core& c, const Insn&) { c.state().flags.set_cf(false); return Outcome::next; }
Outcome stc(Core& c, const Insn&) { c.state().flags.set_cf(true); return Outcome::next; }
Outcome cmc(Core& c, const Insn&) { c.state().flags.set_cf(!c.state().flags.cf()); return Outcome::next; }
Outcome cld(Core& c, const Insn&) { c.state().rflags_other &= ~rf::df; return Outcome::next; }
Outcome std_(Core& c, const Insn&) { c.state().rflags_other |= rf::df; return Outcome::next; }

bool iopl_allows(const Core& c) {
    const State& s = c.state();
    if (s.mode == Mode::real) return true;
    return s.cpl <= ((s.rflags_other >> 12) & 3);
}

Outcome cli(Core& c, const Insn& i) {
    if (!iopl_allows(c)) {
        if (c.state().cr4 & (cr4::vme | cr4::pvi)) return c.unimplemented(i);
        return c.raise_gp(0);
    }
    c.state().rflags_other &= ~rf::if_;
    return Outcome::next;
}

// STI: when it sets IF, interrupts are recognised only after the next instruction (the STI
// shadow, SDM Vol. 2 "STI"): the block ends here and the run loop applies the shadow.
Outcome sti(Core& c, const Insn& i) {
    if (!iopl_allows(c)) {
        if (c.state().cr4 & (cr4::vme | cr4::pvi)) return c.unimplemented(i);
        return c.raise_gp(0);
    }
    if (c.state().interrupts_enabled()) return Outcome::next;  // IF already 1: no shadow
    c.state().rflags_other |= rf::if_;
    return c.inhibit_interrupts(Core::Shadow::sti);
}

// HLT is privileged (CPL 0) outside real mode (SDM Vol. 2 "HLT").
Outcome hlt(Core& c, const Insn& i) {
    if (c.state().mode != Mode::real && c.state().cpl != 0) return c.raise_gp(0);
    InterceptInfo x{Intercept::hlt};
    if (c.intercepted(i, x)) return Outcome::exit;
    return c.halt();
}

template <Handler H>
bool build(const DecodeContext&, Insn& i) {
    i.fn = H;
    return true;
}

}  // namespace

void register_flagops(Registry& r) {
    r.add(ZYDIS_MNEMONIC_CLC, &build<&clc>);
    r.add(ZYDIS_MNEMONIC_STC, &build<&stc>);
    r.add(ZYDIS_MNEMONIC_CMC, &build<&cmc>);
    r.add(ZYDIS_MNEMONIC_CLD, &build<&cld>);
    r.add(ZYDIS_MNEMONIC_STD, &build<&std_>);
    r.add(ZYDIS_MNEMONIC_CLI, &build<&cli>);
    r.add(ZYDIS_MNEMONIC_STI, &build<&sti>);
    r.add(ZYDIS_MNEMONIC_HLT, &build<&hlt>);
}

}  // namespace cpu
