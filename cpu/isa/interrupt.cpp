// INT n, INT3, INTO, INT1 (ICEBP) and IRET/IRETD/IRETQ: real mode, and protected/IA-32e mode
// returns to the same or an outer privilege level (SDM Vol. 2 "INT n/INTO/INT3/INT1",
// "IRET/IRETD/IRETQ"; Vol. 3A 6.14.3 "IRET in IA-32e Mode"). Returns to virtual-8086 mode and
// nested-task returns are not modelled and say so (Core::unimplemented).
#include "cpu/descriptors.h"
#include "cpu/isa/operands.h"
#include "cpu/isa/system_descriptors.h"
#include "cpu/isa/transfer.h"

namespace cpu {
namespace {

inline uint64_t next_rip(const Core& c, const Insn& i) { return c.rip() + i.length; }

// INT n and INT3 check the gate's DPL against CPL (software = true); virtual-8086 mode is
// refused by the delivery itself (not modelled).
// In guest mode, SVM's INTn intercept comes first; #BP, #OF and #DB from these instructions go
// through the exception bitmap / exception intercepts (Core::software_interrupt).
Outcome int_n(Core& c, const Insn& i) {
    InterceptInfo x{Intercept::intn, static_cast<uint32_t>(i.imm & 0xff)};
    if (c.intercepted(i, x)) return Outcome::exit;
    return c.software_interrupt(static_cast<uint8_t>(i.imm), EventType::software_interrupt, next_rip(c, i));
}

Outcome int3(Core& c, const Insn& i) { return c.software_interrupt(3, EventType::software_exception, next_rip(c, i)); }

// INTO: #OF (vector 4) as a trap when OF = 1; #UD in 64-bit mode.
Outcome into(Core& c, const Insn& i) {
    if (c.long64()) return c.raise_ud();
    if (!c.state().flags.of()) return Outcome::next;
    return c.software_interrupt(4, EventType::software_exception, next_rip(c, i));
}

// INT1 (F1) raises #DB like a hardware debug trap: no gate DPL check.
Outcome int1(Core& c, const Insn& i) {
    InterceptInfo x{Intercept::int1};  // SVM's ICEBP intercept
    if (c.intercepted(i, x)) return Outcome::exit;
    return c.software_interrupt(1, EventType::privileged_software_exception, next_rip(c, i));
}

// ---- IRET ----

// The return frame as read from the stack, before anything is committed.
struct Frame {
    uint64_t ip = 0, flags = 0, sp = 0;
    uint16_t cs = 0, ss = 0;
    uint64_t size = 0;  // bytes popped
};

template <unsigned N>
bool read_frame(Core& c, unsigned slots, Frame& f) {
    const uint64_t mask = c.stack_mask();
    const uint64_t sp = c.state().regs[rsp] & mask;
    uint64_t v[5] = {};
    for (unsigned k = 0; k < slots; ++k)
        if (!c.read<N>(ss, (sp + k * N) & mask, v[k])) return false;
    f.ip = v[0];
    f.cs = static_cast<uint16_t>(v[1]);
    f.flags = v[2];
    f.sp = v[3];
    f.ss = static_cast<uint16_t>(v[4]);
    f.size = slots * N;
    return true;
}

inline unsigned iopl_of(uint64_t flags) { return (flags >> 12) & 3; }

// Real-address mode: FLAGS[15:0] all load; IRETD keeps VM, VIF and VIP
// (EFLAGS = tempEFLAGS AND 257FD5H OR EFLAGS AND 1A0000H).
template <unsigned N>
Outcome iret_real(Core& c) {
    State& s = c.state();
    Frame f;
    if (!read_frame<N>(c, 3, f)) return Outcome::fault;
    if (f.ip > s.seg[cs].limit) return c.raise_gp(0);
    const uint64_t m = N == 2 ? 0x7fd5 : 0x257fd5;
    s.set_rflags((s.rflags() & ~m) | (f.flags & m));
    c.load_segment(cs, f.cs);  // real mode: cannot fault
    s.rip() = f.ip;
    s.regs[rsp] = (s.regs[rsp] & ~c.stack_mask()) | ((s.regs[rsp] + f.size) & c.stack_mask());
    return Outcome::branch;
}

// The return CS checks of PROTECTED-MODE-RETURN / IA-32e-MODE-RETURN, in the SDM's order.
Outcome check_return_cs(Core& c, uint16_t sel) {
    const State& s = c.state();
    const uint32_t err = sel & ~3u;
    if (err == 0) return c.raise_gp(0);
    uint64_t d;
    if (!c.read_descriptor(sel, d, err)) return Outcome::fault;
    const Segment code = segment_from_descriptor(sel, d);
    const unsigned rpl = sel & 3;
    const bool conforming = code.attributes & 4;
    if (!(code.attributes & 0x10) || !code.code()) return c.raise_gp(err);
    if ((s.efer & efer::lma) && code.long_mode() && code.big()) return c.raise_gp(err);
    if (rpl < s.cpl) return c.raise_gp(err);
    if (conforming ? code.dpl() > rpl : code.dpl() != rpl) return c.raise_gp(err);
    if (!code.present()) return c.raise(sim::Vector::segment_not_present, err);
    return Outcome::next;
}

// After a return to an outer level, data segments the new CPL may not use become null
// (SDM "IRET": RETURN-TO-OUTER-PRIVILEGE-LEVEL, last step).
void invalidate_data_segments(State& s) {
    for (unsigned r : {es, ds, fs, gs}) {
        Segment& sg = s.seg[r];
        const bool conforming_code = sg.code() && (sg.attributes & 4);
        if (!sg.unusable() && !conforming_code && s.cpl > sg.dpl()) sg = Segment{0, 0, 0, 0x10000};
    }
}

// Flags an IRET loads, by the CPL and IOPL before the return (SDM "IRET" flag updates).
template <unsigned N>
uint64_t iret_flags_mask(const State& s) {
    uint64_t m = rf::arith | rf::tf | rf::df | rf::nt;
    if (N > 2) m |= rf::rf | rf::ac | rf::id;
    if (s.cpl <= iopl_of(s.rflags_other)) m |= rf::if_;
    if (s.cpl == 0) {
        m |= rf::iopl;
        if (N > 2) m |= rf::vif | rf::vip;
    }
    return m;
}

// Loads CS, RIP, RFLAGS and (when popped) SS:RSP from a checked frame. Faults part-way
// (CS accessed-bit write, RIP limit or canonical check, SS checks) restore the whole state.
template <unsigned N>
Outcome commit_return(Core& c, const Frame& f, bool outer, bool pops_stack) {
    State& s = c.state();
    const State saved = s;
    // The accessed bits load_segment sets belong to a completed return: a fault part-way leaves
    // the CS and SS descriptors as they were (faults restore the state before the instruction,
    // SDM Vol. 3A 6.5; the descriptor is "loaded" only by CS <- tempCS / SS <- tempSS, which
    // follow every check in "IRET").
    struct Kept {
        uint64_t at = 0, d = 0;
        bool valid = false;
    } kept[2];
    const auto keep = [&](Kept& k, uint16_t sel) {
        k.valid = (sel & ~3u) != 0 && descriptor_address(s, sel, 8, k.at) && c.read_system(k.at, &k.d, 8);
    };
    keep(kept[0], f.cs);
    if (pops_stack) keep(kept[1], f.ss);
    const auto undo = [&]() {
        s = saved;
        c.refresh_mode();
        for (const Kept& k : kept) {
            uint64_t now = 0;
            if (k.valid && c.read_system(k.at, &now, 8) && now != k.d) c.write_system(k.at, &k.d, 8);
        }
        return Outcome::fault;
    };
    const unsigned new_cpl = f.cs & 3;
    const uint64_t flags_mask = iret_flags_mask<N>(s);  // by the CPL and IOPL before the return
    s.cpl = static_cast<uint8_t>(new_cpl);  // load_segment keeps it: CPL = RPL of the new CS
    if (!c.load_segment(cs, f.cs)) return undo();  // also sets the accessed bit
    // RETURN-TO-OUTER-PRIVILEGE-LEVEL / IA-32e-MODE-RETURN: SS RPL = DPL = new CPL, writable
    // data, present; a null SS only for 64-bit code below CPL 3 (load_segment). On a return to
    // an outer level these SS checks come before the EIP limit / RIP canonical check (SDM Vol. 2
    // "IRET" RETURN-TO-OUTER-PRIVILEGE-LEVEL: the #GP(SS selector) / #SS(SS selector) steps
    // precede "IF tempEIP is not within code segment limits THEN #GP(0)").
    const auto load_stack = [&]() {
        if (!c.load_segment(ss, f.ss)) return false;
        if ((f.ss & ~3u) == 0) s.seg[ss].attributes = 0x10000 | (new_cpl << 5);
        return true;
    };
    if (outer && pops_stack && !load_stack()) return undo();
    if (s.mode == Mode::long64 ? !canonical(s, f.ip) : f.ip > s.seg[cs].limit) {
        undo();
        return c.raise_gp(0);
    }
    if (pops_stack) {
        if (!outer && !load_stack()) return undo();
        c.set_reg<N>(rsp, f.sp);
    } else {
        const uint64_t mask = c.stack_mask();
        s.regs[rsp] = (s.regs[rsp] & ~mask) | ((s.regs[rsp] + f.size) & mask);
    }
    s.set_rflags((s.rflags() & ~flags_mask) | (f.flags & flags_mask));
    if (outer) invalidate_data_segments(s);
    s.rip() = f.ip;
    c.refresh_mode();
    return Outcome::branch;
}

template <unsigned N>
Outcome iret_protected(Core& c, const Insn& i) {
    const State& s = c.state();
    const bool ia32e = s.efer & efer::lma;
    if (s.mode == Mode::v8086) return c.unimplemented(i);  // RETURN-FROM-VIRTUAL-8086-MODE
    if (s.rflags_other & rf::nt) {
        if (ia32e) return c.raise_gp(0);  // no task switches in IA-32e mode
        return c.unimplemented(i, "IRET with EFLAGS.NT = 1 (a task return): hardware task switching is not modelled");
    }
    Frame f;
    if (!read_frame<N>(c, 3, f)) return Outcome::fault;
    if (N == 4 && !ia32e && (f.flags & rf::vm) && s.cpl == 0)
        return c.unimplemented(i);  // RETURN-TO-VIRTUAL-8086-MODE
    // IA-32e-MODE-RETURN opens with one #GP(0) check that includes a non-canonical return RIP,
    // before the return CS descriptor is read (SDM Vol. 2 "IRET": IF ((return code segment
    // selector is NULL) or (return RIP is non-canonical) or ...) THEN #GP(0)).
    if (ia32e && !canonical(s, f.ip)) return c.raise_gp(0);
    if (Outcome o = check_return_cs(c, f.cs); o != Outcome::next) return o;
    const bool outer = (f.cs & 3u) > s.cpl;
    // 64-bit mode always pops SS:RSP; elsewhere only on a return to an outer level (6.14.3).
    const bool pops_stack = s.mode == Mode::long64 || outer;
    if (pops_stack && !read_frame<N>(c, 5, f)) return Outcome::fault;
    return commit_return<N>(c, f, outer, pops_stack);
}

template <unsigned N>
Outcome iret(Core& c, const Insn& i) {
    InterceptInfo x{Intercept::iret};
    if (c.intercepted(i, x)) return Outcome::exit;
    c.iret_unblocks_nmi();
    if (c.state().mode == Mode::real) return iret_real<N>(c);
    return iret_protected<N>(c, i);
}

template <Handler H>
bool build(const DecodeContext&, Insn& i) {
    i.fn = H;
    return true;
}

bool build_int(const DecodeContext& c, Insn& i) {
    if (!c.is_imm(0)) return false;
    i.imm = c.imm(0) & 0xff;
    i.fn = &int_n;
    return true;
}

bool build_iret(const DecodeContext&, Insn& i) {
    i.fn = by_width_no8(i.opsize, [](auto w) -> Handler { return &iret<w.value>; });
    return i.fn != nullptr;
}

}  // namespace

void register_interrupt(Registry& r) {
    r.add(ZYDIS_MNEMONIC_INT, &build_int);
    r.add(ZYDIS_MNEMONIC_INT3, &build<&int3>);
    r.add(ZYDIS_MNEMONIC_INTO, &build<&into>);
    r.add(ZYDIS_MNEMONIC_INT1, &build<&int1>);
    r.add(ZYDIS_MNEMONIC_IRET, &build_iret);
    r.add(ZYDIS_MNEMONIC_IRETD, &build_iret);
    r.add(ZYDIS_MNEMONIC_IRETQ, &build_iret);
}

}  // namespace cpu
