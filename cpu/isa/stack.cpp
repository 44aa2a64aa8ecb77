// PUSH/POP (register, memory, immediate, segment register), PUSHF/POPF, PUSHA/POPA, ENTER and
// LEAVE (SDM Vol. 2 pages of each). Pushes and pops use the operand size; SP/ESP/RSP follows
// the stack-address size (Core::push/pop). A faulting instruction restores RSP.
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

template <Loc S, unsigned N>
Outcome push(Core& c, const Insn& i) {
    uint64_t v;
    if (!load<S, N>(c, i, ea_if_memory<S, S>(c, i), v)) return Outcome::fault;
    return c.push<N>(v) ? Outcome::next : Outcome::fault;
}

// PUSH imm8/imm16/imm32: Zydis has already sign-extended the immediate to 64 bits.
template <unsigned N>
Outcome push_imm(Core& c, const Insn& i) {
    return c.push<N>(i.imm) ? Outcome::next : Outcome::fault;
}

// POP ESP/RSP: the register ends up holding the popped value (SDM Vol. 2 "POP").
template <unsigned N>
Outcome pop_reg(Core& c, const Insn& i) {
    uint64_t v;
    if (!c.pop<N>(v)) return Outcome::fault;
    c.set_reg<N>(i.reg, v);
    return Outcome::next;
}

// POP m: the address is computed after RSP is incremented (SDM Vol. 2 "POP").
template <unsigned N>
Outcome pop_mem(Core& c, const Insn& i) {
    State& s = c.state();
    const uint64_t old_rsp = s.regs[rsp];
    uint64_t v;
    if (!c.pop<N>(v)) return Outcome::fault;
    if (!c.write<N>(i.seg, c.effective_address(i), v)) {
        s.regs[rsp] = old_rsp;
        return Outcome::fault;
    }
    return Outcome::next;
}

// PUSH Sreg with a 32/64-bit operand: Intel's recent processors write the 16-bit selector and
// leave the upper bytes of the slot unmodified (SDM Vol. 2 "PUSH"); AMD zero-extends it (APM
// Vol. 3 "PUSH").
template <unsigned N>
Outcome push_seg(Core& c, const Insn& i) {
    State& s = c.state();
    const uint16_t selector = s.seg[i.aux].selector;
    if (N == 2 || c.vendor() == Vendor::amd) return c.push<N>(selector) ? Outcome::next : Outcome::fault;
    const uint64_t mask = c.stack_mask();
    const uint64_t sp = (s.regs[rsp] - N) & mask;
    if (!c.write<2>(ss, sp, selector)) return Outcome::fault;
    s.regs[rsp] = (s.regs[rsp] & ~mask) | sp;
    return Outcome::next;
}

// POP Sreg loads through the mode's checks; POP SS blocks interrupts for one instruction
// (SDM Vol. 2 "POP"), so the block ends and the run loop sees the shadow.
template <unsigned N>
Outcome pop_seg(Core& c, const Insn& i) {
    State& s = c.state();
    const uint64_t mask = c.stack_mask();
    const uint64_t sp = s.regs[rsp] & mask;
    uint64_t v;
    if (!c.read<N>(ss, sp, v)) return Outcome::fault;
    const uint64_t new_rsp = (s.regs[rsp] & ~mask) | ((sp + N) & mask);
    if (!c.load_segment(i.aux, static_cast<uint16_t>(v))) return Outcome::fault;
    s.regs[rsp] = new_rsp;
    return i.aux == ss ? c.inhibit_interrupts(Core::Shadow::mov_ss) : Outcome::next;
}

// PUSHF: the image has VM and RF clear. In virtual-8086 mode it is IOPL-sensitive.
template <unsigned N>
Outcome pushf(Core& c, const Insn& i) {
    const State& s = c.state();
    if (s.mode == Mode::v8086 && ((s.rflags_other >> 12) & 3) < 3) {
        if (s.cr4 & cr4::vme) return c.unimplemented(i);
        return c.raise_gp(0);
    }
    InterceptInfo x{Intercept::pushf};
    if (c.intercepted(i, x)) return Outcome::exit;
    return c.push<N>(s.rflags() & ~(rf::vm | rf::rf)) ? Outcome::next : Outcome::fault;
}

// Which RFLAGS bits POPF may change (SDM Vol. 2 "POPF", Table "Effect of POPF on EFLAGS"):
// never VM, VIF, VIP (or reserved bits); IOPL only at CPL 0; IF only when CPL <= IOPL; the
// 32/64-bit forms clear RF; the 16-bit form touches bits 15:0 only.
template <unsigned N>
uint64_t popf_mask(const State& s) {
    const unsigned iopl = (s.rflags_other >> 12) & 3;
    const unsigned cpl = s.mode == Mode::real ? 0 : s.cpl;
    uint64_t m = rf::arith | rf::tf | rf::df | rf::nt | rf::if_ | rf::iopl;
    if (N > 2) m |= rf::ac | rf::id;
    if (cpl > 0) m &= ~rf::iopl;
    if (cpl > iopl) m &= ~rf::if_;
    return m;
}

template <unsigned N>
Outcome popf(Core& c, const Insn& i) {
    State& s = c.state();
    if (s.mode == Mode::v8086 && ((s.rflags_other >> 12) & 3) < 3) {
        if (s.cr4 & cr4::vme) return c.unimplemented(i);
        return c.raise_gp(0);
    }
    InterceptInfo x{Intercept::popf};
    if (c.intercepted(i, x)) return Outcome::exit;
    uint64_t v;
    if (!c.pop<N>(v)) return Outcome::fault;
    const uint64_t m = popf_mask<N>(s);
    uint64_t r = (s.rflags() & ~m) | (v & m);
    if (N > 2) r &= ~rf::rf;
    const bool ac_changed = (r ^ s.rflags()) & rf::ac;
    s.set_rflags(r);
    if (ac_changed) c.refresh_mode();  // alignment checking follows RFLAGS.AC
    // IF, TF and AC may have changed: leave the block so the run loop sees them.
    return Outcome::end_block;
}

// PUSHA/PUSHAD push AX CX DX BX, the original SP, BP SI DI; POPA/POPAD pop them back and
// discard the SP image. Both #UD in 64-bit mode (SDM Vol. 2 "PUSHA", "POPA").
template <unsigned N>
Outcome pusha(Core& c, const Insn&) {
    if (c.long64()) return c.raise_ud();
    State& s = c.state();
    const uint64_t old_rsp = s.regs[rsp];
    for (unsigned r : {rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi}) {
        const uint64_t v = r == rsp ? old_rsp : s.regs[r];
        if (!c.push<N>(v)) {
            s.regs[rsp] = old_rsp;
            return Outcome::fault;
        }
    }
    return Outcome::next;
}

template <unsigned N>
Outcome popa(Core& c, const Insn&) {
    if (c.long64()) return c.raise_ud();
    State& s = c.state();
    const uint64_t mask = c.stack_mask();
    const uint64_t sp = s.regs[rsp] & mask;
    uint64_t v[8];
    for (unsigned k = 0; k < 8; ++k)
        if (!c.read<N>(ss, (sp + k * N) & mask, v[k])) return Outcome::fault;
    const unsigned order[8] = {rdi, rsi, rbp, rsp, rbx, rdx, rcx, rax};
    for (unsigned k = 0; k < 8; ++k)
        if (order[k] != rsp) c.set_reg<N>(order[k], v[k]);
    s.regs[rsp] = (s.regs[rsp] & ~mask) | ((sp + 8 * N) & mask);
    return Outcome::next;
}

// ENTER imm16, imm8 (SDM Vol. 2 "ENTER"): push rBP; for nesting level L > 0 copy L-1 frame
// pointers from the old frame and push the new frame pointer; then rBP = frame and rSP -=
// imm16. BP/EBP/RBP and the frame walk use the stack-address size.
template <unsigned N>
Outcome enter(Core& c, const Insn& i) {
    State& s = c.state();
    const uint64_t mask = c.stack_mask();
    const uint64_t old_rsp = s.regs[rsp];
    const unsigned level = i.aux & 31;
    const auto fail = [&]() {
        s.regs[rsp] = old_rsp;
        return Outcome::fault;
    };
    if (!c.push<N>(s.regs[rbp])) return fail();
    const uint64_t frame = s.regs[rsp] & mask;
    uint64_t bp = s.regs[rbp] & mask;
    for (unsigned k = 1; k < level; ++k) {
        bp = (bp - N) & mask;
        uint64_t v;
        if (!c.read<N>(ss, bp, v) || !c.push<N>(v)) return fail();
    }
    if (level > 0 && !c.push<N>(frame)) return fail();
    s.regs[rbp] = (s.regs[rbp] & ~mask) | frame;
    s.regs[rsp] = (s.regs[rsp] & ~mask) | ((s.regs[rsp] - (i.imm & 0xffff)) & mask);
    return Outcome::next;
}

// LEAVE: rSP = rBP (stack-address size), then pop rBP (operand size).
template <unsigned N>
Outcome leave(Core& c, const Insn&) {
    State& s = c.state();
    const uint64_t mask = c.stack_mask();
    const uint64_t old_rsp = s.regs[rsp];
    s.regs[rsp] = (old_rsp & ~mask) | (s.regs[rbp] & mask);
    uint64_t v;
    if (!c.pop<N>(v)) {
        s.regs[rsp] = old_rsp;
        return Outcome::fault;
    }
    c.set_reg<N>(rbp, v);
    return Outcome::next;
}

bool segment_operand(const DecodeContext& c, Insn& i) {
    if (!c.is_reg(0) || c.is_gpr(0)) return false;
    const ZydisRegister r = c.op(0).reg.value;
    if (r < ZYDIS_REGISTER_ES || r > ZYDIS_REGISTER_GS) return false;
    i.aux = segment_index(r);
    return true;
}

bool build_push(const DecodeContext& c, Insn& i) {
    const unsigned n = i.opsize;
    if (c.is_gpr(0)) {
        i.rm = c.gpr(0);
        i.fn = by_width_no8(n, [](auto w) -> Handler { return &push<Loc::reg1, w.value>; });
    } else if (c.is_mem(0)) {
        i.fn = by_width_no8(n, [](auto w) -> Handler { return &push<Loc::mem, w.value>; });
    } else if (c.is_imm(0)) {
        i.imm = c.imm(0);
        i.fn = by_width_no8(n, [](auto w) -> Handler { return &push_imm<w.value>; });
    } else if (segment_operand(c, i)) {
        i.fn = by_width_no8(n, [](auto w) -> Handler { return &push_seg<w.value>; });
    }
    return i.fn != nullptr;
}

bool build_pop(const DecodeContext& c, Insn& i) {
    const unsigned n = i.opsize;
    if (c.is_gpr(0)) {
        i.reg = c.gpr(0);
        i.fn = by_width_no8(n, [](auto w) -> Handler { return &pop_reg<w.value>; });
    } else if (c.is_mem(0)) {
        i.fn = by_width_no8(n, [](auto w) -> Handler { return &pop_mem<w.value>; });
    } else if (segment_operand(c, i)) {
        if (i.aux == cs) return false;  // POP CS does not exist (0F is the escape byte)
        i.fn = by_width_no8(n, [](auto w) -> Handler { return &pop_seg<w.value>; });
    }
    return i.fn != nullptr;
}

// Forms whose only operand is the implicit stack: the operand size picks the instantiation.
template <Handler H2, Handler H4, Handler H8>
bool build_sized(const DecodeContext&, Insn& i) {
    i.fn = i.opsize == 2 ? H2 : i.opsize == 4 ? H4 : i.opsize == 8 ? H8 : nullptr;
    return i.fn != nullptr;
}

bool build_enter(const DecodeContext& c, Insn& i) {
    if (!c.is_imm(0) || !c.is_imm(1)) return false;
    i.imm = c.imm(0) & 0xffff;
    i.aux = static_cast<uint8_t>(c.imm(1));
    i.fn = by_width_no8(i.opsize, [](auto w) -> Handler { return &enter<w.value>; });
    return i.fn != nullptr;
}

}  // namespace

void register_stack(Registry& r) {
    r.add(ZYDIS_MNEMONIC_PUSH, &build_push);
    r.add(ZYDIS_MNEMONIC_POP, &build_pop);
    const Builder pushf_ = &build_sized<&pushf<2>, &pushf<4>, &pushf<8>>;
    const Builder popf_ = &build_sized<&popf<2>, &popf<4>, &popf<8>>;
    const Builder pusha_ = &build_sized<&pusha<2>, &pusha<4>, nullptr>;
    const Builder popa_ = &build_sized<&popa<2>, &popa<4>, nullptr>;
    for (auto m : {ZYDIS_MNEMONIC_PUSHF, ZYDIS_MNEMONIC_PUSHFD, ZYDIS_MNEMONIC_PUSHFQ}) r.add(m, pushf_);
    for (auto m : {ZYDIS_MNEMONIC_POPF, ZYDIS_MNEMONIC_POPFD, ZYDIS_MNEMONIC_POPFQ}) r.add(m, popf_);
    r.add(ZYDIS_MNEMONIC_PUSHA, pusha_);
    r.add(ZYDIS_MNEMONIC_PUSHAD, pusha_);
    r.add(ZYDIS_MNEMONIC_POPA, popa_);
    r.add(ZYDIS_MNEMONIC_POPAD, popa_);
    r.add(ZYDIS_MNEMONIC_ENTER, &build_enter);
    r.add(ZYDIS_MNEMONIC_LEAVE, &build_sized<&leave<2>, &leave<4>, &leave<8>>);
}

}  // namespace cpu
