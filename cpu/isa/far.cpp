// Far JMP, CALL and RET (SDM Vol. 2 "JMP", "CALL", "RET" Operation sections; Vol. 3A 5.8
// "Privilege Level Checking When Transferring Program Control Between Code Segments"):
// real and virtual-8086 mode, direct transfers to conforming and non-conforming code, call
// gates (to the same privilege, and for CALL to an inner privilege with the TSS stack switch
// and parameter copy), and far returns to the same or an outer privilege. Targets that would
// start a hardware task switch (TSS or task gate) are reported as not modelled.
// Context: instruction handlers (slow paths: far transfers are rare).
#include "cpu/isa/operands.h"
#include "cpu/isa/system_descriptors.h"
#include "cpu/isa/transfer.h"

namespace cpu {
namespace {

struct FarPointer {
    uint16_t selector = 0;
    uint64_t offset = 0;
};

enum class Kind : uint8_t { jmp, call };

inline uint64_t mask_of_bytes(unsigned n) { return n >= 8 ? ~0ull : (uint64_t{1} << (8 * n)) - 1; }

// The far-pointer operand width: the operand size, except that AMD ignores REX.W on the
// memory forms of far JMP/CALL (m16:32; APM Vol. 3 "JMP (Far)", "CALL (Far)" list no m16:64).
unsigned pointer_width(const Core& c, const Insn& i) {
    return (i.opsize == 8 && c.vendor() == Vendor::amd) ? 4 : i.opsize;
}

// ptr16:16 / ptr16:32 (packed by the builder: selector in imm bits 47:32) or m16:16/32/64.
bool far_pointer(Core& c, const Insn& i, bool memory, unsigned n, FarPointer& p) {
    if (!memory) {
        p.offset = i.imm & 0xffffffffu;
        p.selector = static_cast<uint16_t>(i.imm >> 32);
        return true;
    }
    const uint64_t ea = c.effective_address(i);
    const uint64_t mask = kAddressMask[i.adsize & 15];
    uint64_t off = 0, sel = 0;
    const bool ok = n == 2 ? c.read<2>(i.seg, ea, off) : n == 4 ? c.read<4>(i.seg, ea, off) : c.read<8>(i.seg, ea, off);
    if (!ok || !c.read<2>(i.seg, (ea + n) & mask, sel)) return false;
    p.offset = off;
    p.selector = static_cast<uint16_t>(sel);
    return true;
}

bool push_sized(Core& c, unsigned n, uint64_t v) {
    return n == 2 ? c.push<2>(v) : n == 4 ? c.push<4>(v) : c.push<8>(v);
}

bool read_stack(Core& c, unsigned n, uint64_t offset, uint64_t& v) {
    const uint64_t sp = (c.state().regs[rsp] + offset) & c.stack_mask();
    return n == 2 ? c.read<2>(ss, sp, v) : n == 4 ? c.read<4>(ss, sp, v) : c.read<8>(ss, sp, v);
}

void add_to_sp(Core& c, uint64_t bytes) {
    State& s = c.state();
    const uint64_t m = c.stack_mask();
    s.regs[rsp] = (s.regs[rsp] & ~m) | ((s.regs[rsp] + bytes) & m);
}

// The new RIP must be canonical for a 64-bit target and within the CS limit otherwise.
bool target_ok(const State& s, const Segment& code, uint64_t ip) {
    if ((s.efer & efer::lma) && code.long_mode()) return canonical(s, ip);
    return ip <= code.limit;
}

// ---- real-address and virtual-8086 mode ----

Outcome far_real(Core& c, Kind k, unsigned n, FarPointer p, uint64_t return_ip) {
    State& s = c.state();
    const uint64_t ip = p.offset & mask_of_bytes(n);
    if (ip > s.seg[cs].limit) return c.raise_gp(0);  // "tempEIP beyond the code segment limit"
    if (k == Kind::call) {
        const uint64_t old_rsp = s.regs[rsp];
        if (!push_sized(c, n, s.seg[cs].selector) || !push_sized(c, n, return_ip)) {
            s.regs[rsp] = old_rsp;
            return Outcome::fault;
        }
    }
    c.load_segment(cs, p.selector);  // cannot fault in these modes
    s.rip() = ip;
    return Outcome::branch;
}

// ---- protected and IA-32e mode ----

// CALL pushes the return CS:rIP in the operand size (CS zero-extended) before CS changes
// (SDM Vol. 2 "CALL": "Push(CS) (* Padded with 16 high-order bits *); Push(EIP)"). A push
// fault restores rSP; the stack bytes already written lie below it.
bool push_return(Core& c, unsigned n, uint16_t old_cs, uint64_t return_ip) {
    State& s = c.state();
    const uint64_t old_rsp = s.regs[rsp];
    if (push_sized(c, n, old_cs) && push_sized(c, n, return_ip)) return true;
    s.regs[rsp] = old_rsp;
    return false;
}

// CONFORMING-CODE-SEGMENT / NONCONFORMING-CODE-SEGMENT of "JMP" and "CALL".
Outcome to_code_segment(Core& c, Kind k, unsigned n, FarPointer p, uint64_t d, uint64_t return_ip) {
    State& s = c.state();
    const uint32_t err = p.selector & ~3u;
    const Segment code = segment_from_descriptor(p.selector, d);
    if ((s.efer & efer::lma) && code.long_mode() && code.big()) return c.raise_gp(err);
    if (conforming_code(code) ? code.dpl() > s.cpl : ((p.selector & 3u) > s.cpl || code.dpl() != s.cpl))
        return c.raise_gp(err);
    if (!code.present()) return c.raise(sim::Vector::segment_not_present, err);
    const uint64_t ip = p.offset & mask_of_bytes(n);
    const uint64_t old_rsp = s.regs[rsp];
    if (k == Kind::call && !push_return(c, n, s.seg[cs].selector, return_ip)) return Outcome::fault;
    if (!target_ok(s, code, ip)) {
        s.regs[rsp] = old_rsp;
        return c.raise_gp(0);
    }
    if (!load_code_segment(c, p.selector, d, s.cpl)) {
        s.regs[rsp] = old_rsp;
        return Outcome::fault;
    }
    s.rip() = ip;
    return Outcome::branch;
}

// The code segment a call gate names, checked as "JMP"/"CALL" CALL-GATE do: #GP(0) for a null
// selector, #GP(code selector) beyond the table, for a non-code segment, a privilege mismatch
// (JMP: conforming DPL <= CPL or non-conforming DPL = CPL; CALL: DPL <= CPL), or in IA-32e mode
// anything but 64-bit code; #NP(code selector) if not present.
Outcome gate_target(Core& c, Kind k, uint16_t selector, uint64_t& d) {
    const State& s = c.state();
    const uint32_t err = selector & ~3u;
    if (err == 0) return c.raise_gp(0);
    if (!c.read_descriptor(selector, d, err)) return Outcome::fault;
    const Segment code = segment_from_descriptor(selector, d);
    if (is_system(code) || !code.code()) return c.raise_gp(err);
    bool privilege_ok;
    if (k == Kind::call) privilege_ok = code.dpl() <= s.cpl;  // "DPL > CPL → #GP(code selector)"
    else privilege_ok = conforming_code(code) ? code.dpl() <= s.cpl : code.dpl() == s.cpl;
    if (!privilege_ok) return c.raise_gp(err);
    if ((s.efer & efer::lma) && (!code.long_mode() || code.big())) return c.raise_gp(err);
    if (!code.present()) return c.raise(sim::Vector::segment_not_present, err);
    return Outcome::next;
}

// The new stack of a CALL to an inner privilege, from the current TSS (SDM Vol. 2 "CALL"
// MORE-PRIVILEGE): SSn:ESPn of a 32-bit TSS, SSn:SPn of a 16-bit one, RSPn of a 64-bit one
// (then SS is a null selector with RPL = n). #TS(TSS selector) if the slot lies beyond the
// TSS limit.
Outcome tss_stack(Core& c, unsigned dpl, uint16_t& new_ss, uint64_t& new_sp) {
    const State& s = c.state();
    const uint32_t tss_err = s.tr.selector & ~3u;
    const auto invalid_tss = [&]() { return c.raise(sim::Vector::invalid_tss, tss_err); };
    if (s.efer & efer::lma) {
        const uint32_t at = (dpl << 3) + 4;
        if (at + 7 > s.tr.limit) return invalid_tss();
        if (!c.read_system(s.tr.base + at, &new_sp, 8)) return Outcome::fault;
        new_ss = static_cast<uint16_t>(dpl);
        return Outcome::next;
    }
    const bool tss32 = type_of(s.tr) == sys::tss_available || type_of(s.tr) == sys::tss_busy;
    const uint32_t at = tss32 ? (dpl << 3) + 4 : (dpl << 2) + 2;
    if (at + (tss32 ? 5 : 3) > s.tr.limit) return invalid_tss();
    uint32_t sp = 0;
    if (!c.read_system(s.tr.base + at, &sp, tss32 ? 4 : 2) || !c.read_system(s.tr.base + at + (tss32 ? 4 : 2), &new_ss, 2))
        return Outcome::fault;
    new_sp = sp;
    return Outcome::next;
}

// Room for `bytes` below `sp` in a stack segment (limit checks of SDM Vol. 3A 5.3).
bool stack_room(const Segment& st, uint64_t sp, unsigned bytes) {
    const uint64_t low = sp - bytes, high = sp - 1;
    if (st.expand_down()) return low > st.limit && high <= (st.big() ? 0xffffffffull : 0xffffull) && sp >= bytes;
    return sp >= bytes && high <= st.limit;
}

// The legacy-mode new SS: #TS(SS selector) for a null selector, one beyond its table, RPL or
// DPL other than the new CPL, or not writable data; #SS(SS selector) if not present.
Outcome inner_stack_segment(Core& c, uint16_t sel, unsigned cpl, uint64_t& d) {
    const uint32_t err = sel & ~3u;
    const auto invalid = [&]() { return c.raise(sim::Vector::invalid_tss, err); };
    uint64_t at;
    if (err == 0 || !descriptor_address(c.state(), sel, 8, at)) return invalid();
    if (!c.read_system(at, &d, 8)) return Outcome::fault;
    const Segment st = segment_from_descriptor(sel, d);
    const bool writable_data = !is_system(st) && !st.code() && (st.attributes & 2);
    if ((sel & 3u) != cpl || st.dpl() != cpl || !writable_data) return invalid();
    if (!st.present()) return c.raise(sim::Vector::stack_fault, err);
    return Outcome::next;
}

// CALL through a call gate to a non-conforming segment of higher privilege (MORE-PRIVILEGE):
// switch to the TSS stack, push the old SS:rSP, copy the gate's parameters (legacy gates
// only), push the old CS:rIP. The gate size (16, 32, 64) is the push size.
Outcome call_inner(Core& c, const Gate& g, unsigned gate_bytes, unsigned param_count, uint64_t code_d,
                   uint64_t return_ip) {
    State& s = c.state();
    const State saved = s;
    const auto undo = [&](Outcome o) {
        s = saved;
        c.refresh_mode();
        return o;
    };
    const Segment code = segment_from_descriptor(g.selector, code_d);
    const unsigned new_cpl = code.dpl();
    const bool ia32e = s.efer & efer::lma;
    uint16_t new_ss;
    uint64_t new_sp, ss_d = 0;
    if (Outcome o = tss_stack(c, new_cpl, new_ss, new_sp); o != Outcome::next) return o;
    const unsigned params = ia32e ? 0 : param_count;
    if (!ia32e) {
        if (Outcome o = inner_stack_segment(c, new_ss, new_cpl, ss_d); o != Outcome::next) return o;
        const Segment st = segment_from_descriptor(new_ss, ss_d);
        if (!stack_room(st, st.big() ? new_sp & 0xffffffff : new_sp & 0xffff, gate_bytes * (4 + params)))
            return c.raise(sim::Vector::stack_fault, new_ss & ~3u);
        if (!target_ok(s, code, g.offset)) return c.raise_gp(0);
    } else {
        // "IF pushing 32 bytes on the stack would use a non-canonical address → #SS(NewSS)".
        if (!canonical(s, new_sp - 32) || !canonical(s, new_sp - 1)) return c.raise(sim::Vector::stack_fault, 0);
        if (!canonical(s, g.offset)) return c.raise_gp(0);
    }
    // The parameters come from the caller's stack, read before anything changes.
    uint64_t param[31];
    for (unsigned k = 0; k < params; ++k)
        if (!read_stack(c, gate_bytes, uint64_t{k} * gate_bytes, param[k])) return Outcome::fault;
    const uint16_t old_ss = s.seg[ss].selector, old_cs = s.seg[cs].selector;
    const uint64_t old_sp = s.regs[rsp];
    s.cpl = static_cast<uint8_t>(new_cpl);
    if (ia32e) {
        s.seg[ss] = Segment{new_ss, 0, 0, 0x10000 | (new_cpl << 5)};
        s.regs[rsp] = new_sp;
    } else {
        c.refresh_mode();
        if (!c.load_segment(ss, new_ss)) return undo(Outcome::fault);  // sets the accessed bit
        s.regs[rsp] = new_sp;
    }
    c.refresh_mode();
    bool ok = push_sized(c, gate_bytes, old_ss) && push_sized(c, gate_bytes, old_sp);
    for (unsigned k = params; ok && k-- > 0;) ok = push_sized(c, gate_bytes, param[k]);
    ok = ok && push_sized(c, gate_bytes, old_cs) && push_sized(c, gate_bytes, return_ip);
    if (!ok) return undo(Outcome::fault);
    if (!load_code_segment(c, g.selector, code_d, new_cpl)) return undo(Outcome::fault);
    s.rip() = g.offset;
    return Outcome::branch;
}

// CALL-GATE of "JMP" and "CALL": gate checks, then its code segment; CALL to a non-conforming
// segment with DPL < CPL goes to the inner privilege, everything else stays at CPL.
Outcome through_call_gate(Core& c, Kind k, FarPointer p, uint64_t low, uint64_t high, uint64_t return_ip) {
    State& s = c.state();
    const bool ia32e = s.efer & efer::lma;
    const uint32_t gate_err = p.selector & ~3u;
    const Gate g = gate_from_descriptor(low, high, ia32e);
    if (g.dpl < s.cpl || g.dpl < (p.selector & 3u)) return c.raise_gp(gate_err);
    if (!g.present) return c.raise(sim::Vector::segment_not_present, gate_err);
    if (ia32e && !upper_type_clear(high)) return c.raise_gp(gate_err);  // 5.8.3.1: upper type 0
    uint64_t code_d;
    if (Outcome o = gate_target(c, k, g.selector, code_d); o != Outcome::next) return o;
    const Segment code = segment_from_descriptor(g.selector, code_d);
    const unsigned gate_bytes = ia32e ? 8 : (type_of(segment_from_descriptor(0, low)) == sys::call_gate16 ? 2 : 4);
    Gate target = g;
    if (gate_bytes == 2) target.offset &= 0xffff;
    if (k == Kind::call && !conforming_code(code) && code.dpl() < s.cpl)
        return call_inner(c, target, gate_bytes, (low >> 32) & 31, code_d, return_ip);
    const uint64_t old_rsp = s.regs[rsp];
    if (k == Kind::call && !push_return(c, gate_bytes, s.seg[cs].selector, return_ip)) return Outcome::fault;
    if (!target_ok(s, code, target.offset)) {
        s.regs[rsp] = old_rsp;
        return c.raise_gp(0);
    }
    if (!load_code_segment(c, g.selector, code_d, s.cpl)) {
        s.regs[rsp] = old_rsp;
        return Outcome::fault;
    }
    s.rip() = target.offset;
    return Outcome::branch;
}

// Protected and IA-32e mode: the target descriptor decides (SDM Vol. 2 "JMP"/"CALL": #GP(0)
// for a null selector, #GP(selector) beyond the table or for a type the mode does not allow).
Outcome far_protected(Core& c, const Insn& i, Kind k, unsigned n, FarPointer p) {
    const State& s = c.state();
    const bool ia32e = s.efer & efer::lma;
    const uint32_t err = p.selector & ~3u;
    const uint64_t return_ip = c.rip() + i.length;
    if (err == 0) return c.raise_gp(0);
    uint64_t low, high;
    if (!read_descriptor_long(c, p.selector, low, high)) return Outcome::fault;
    const Segment t = segment_from_descriptor(p.selector, low);
    if (!is_system(t)) {
        if (!t.code()) return c.raise_gp(err);
        return to_code_segment(c, k, n, p, low, return_ip);
    }
    const unsigned type = type_of(t);
    if (type == sys::call_gate || (!ia32e && type == sys::call_gate16))
        return through_call_gate(c, k, p, low, high, return_ip);
    if (!ia32e && (type == sys::task_gate || type == sys::tss16_available || type == sys::tss_available))
        return c.unimplemented(i, "far " + std::string(k == Kind::jmp ? "JMP" : "CALL") + " to selector 0x" +
                                      hex(p.selector) + " (a task gate or TSS): hardware task switching is not modelled");
    return c.raise_gp(err);  // other system types (a busy TSS included) are #GP(selector)
}

template <Kind K, bool Memory>
Outcome far_transfer(Core& c, const Insn& i) {
    const unsigned n = Memory ? pointer_width(c, i) : i.opsize;
    FarPointer p;
    if (!far_pointer(c, i, Memory, n, p)) return Outcome::fault;
    const Mode m = c.state().mode;
    if (m == Mode::real || m == Mode::v8086) return far_real(c, K, n, p, c.rip() + i.length);
    return far_protected(c, i, K, n, p);
}

// ---- RETF ----

// RETURN-TO-OUTER-PRIVILEGE-LEVEL of "RET": the caller's SS:rSP lie above the return address
// and the released bytes. The SS checks (#GP(SS selector), #SS(SS selector) if not present;
// IA-32e admits a null SS only for a return to 64-bit code below CPL 3), the rIP check, then
// CPL, CS, SS and rSP change together; data segments the new CPL may not use become null.
template <unsigned N>
Outcome return_outer(Core& c, const Insn& i, uint16_t selector, uint64_t d, uint64_t ip) {
    State& s = c.state();
    const Segment code = segment_from_descriptor(selector, d);
    const unsigned rpl = selector & 3u;
    uint64_t new_sp, raw_ss;
    if (!read_stack(c, N, 2 * N + i.imm, new_sp) || !read_stack(c, N, 3 * N + i.imm, raw_ss)) return Outcome::fault;
    const auto ss_sel = static_cast<uint16_t>(raw_ss);
    const uint32_t ss_err = ss_sel & ~3u;
    if (ss_err == 0) {
        if (!(s.efer & efer::lma) || !code.long_mode() || (ss_sel & 3u) == 3) return c.raise_gp(0);
    } else {
        uint64_t ss_d;
        if (!c.read_descriptor(ss_sel, ss_d, ss_err)) return Outcome::fault;
        const Segment st = segment_from_descriptor(ss_sel, ss_d);
        const bool writable_data = !is_system(st) && !st.code() && (st.attributes & 2);
        if ((ss_sel & 3u) != rpl || !writable_data || st.dpl() != rpl) return c.raise_gp(ss_err);
        if (!st.present()) return c.raise(sim::Vector::stack_fault, ss_err);
    }
    if (!target_ok(s, code, ip)) return c.raise_gp(0);
    const State saved = s;
    s.cpl = static_cast<uint8_t>(rpl);
    bool loaded = load_code_segment(c, selector, d, rpl);
    if (loaded && ss_err == 0) s.seg[ss] = Segment{ss_sel, 0, 0, 0x10000 | (rpl << 5)};
    else if (loaded) loaded = c.load_segment(ss, ss_sel);  // checked above; sets the accessed bit
    if (!loaded) {
        s = saved;
        c.refresh_mode();
        return Outcome::fault;
    }
    c.refresh_mode();
    s.regs[rsp] = N == 2 ? (s.regs[rsp] & ~0xffffull) | (new_sp & 0xffff) : N == 4 ? (new_sp & 0xffffffff) : new_sp;
    add_to_sp(c, i.imm);
    for (unsigned r : {es, ds, fs, gs}) {
        Segment& sg = s.seg[r];
        if (!sg.unusable() && !conforming_code(sg) && s.cpl > sg.dpl()) sg = Segment{0, 0, 0, 0x10000};
    }
    c.refresh_mode();
    s.rip() = ip;
    return Outcome::branch;
}

// Far return (SDM Vol. 2 "RET"): real and virtual-8086 mode, then the checks of the return
// CS in the manual's order (#GP(0) null; #GP(selector) beyond the table, not code, L and D
// both set in IA-32e mode, RPL < CPL, conforming DPL > RPL, non-conforming DPL != RPL;
// #NP(selector) not present), then RETURN-TO-SAME-PRIVILEGE-LEVEL or the outer return. imm16
// is released from the old stack and, on an outer return, from the new one too.
template <unsigned N>
Outcome retf(Core& c, const Insn& i) {
    State& s = c.state();
    uint64_t ip, raw_cs;
    if (!read_stack(c, N, 0, ip) || !read_stack(c, N, N, raw_cs)) return Outcome::fault;
    ip &= mask_of<N>();
    const auto selector = static_cast<uint16_t>(raw_cs);
    if (s.mode == Mode::real || s.mode == Mode::v8086) {
        if (ip > s.seg[cs].limit) return c.raise_gp(0);
        c.load_segment(cs, selector);
        s.rip() = ip;
        add_to_sp(c, 2 * N + i.imm);
        return Outcome::branch;
    }
    const uint32_t err = selector & ~3u;
    const unsigned rpl = selector & 3u;
    if (err == 0) return c.raise_gp(0);
    uint64_t d;
    if (!c.read_descriptor(selector, d, err)) return Outcome::fault;
    const Segment code = segment_from_descriptor(selector, d);
    if (is_system(code) || !code.code()) return c.raise_gp(err);
    if ((s.efer & efer::lma) && code.long_mode() && code.big()) return c.raise_gp(err);
    if (rpl < s.cpl) return c.raise_gp(err);
    if (conforming_code(code) ? code.dpl() > rpl : code.dpl() != rpl) return c.raise_gp(err);
    if (!code.present()) return c.raise(sim::Vector::segment_not_present, err);
    if (rpl > s.cpl) return return_outer<N>(c, i, selector, d, ip);
    if (!target_ok(s, code, ip)) return c.raise_gp(0);
    if (!load_code_segment(c, selector, d, s.cpl)) return Outcome::fault;
    s.rip() = ip;
    add_to_sp(c, 2 * N + i.imm);
    return Outcome::branch;
}

// ---- builders ----

bool is_far(const DecodeContext& c) { return c.zi.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR; }

template <Kind K>
bool build_far(const DecodeContext& c, Insn& i) {
    if (!is_far(c) || c.count() < 1) return false;
    if (c.op(0).type == ZYDIS_OPERAND_TYPE_POINTER) {
        i.imm = (uint64_t{c.op(0).ptr.segment} << 32) | c.op(0).ptr.offset;
        i.fn = &far_transfer<K, false>;
    } else if (c.is_mem(0)) {
        i.fn = &far_transfer<K, true>;
    }
    return i.fn != nullptr;
}

bool build_retf(const DecodeContext& c, Insn& i) {
    if (!is_far(c)) return false;
    i.imm = c.is_imm(0) ? (c.imm(0) & 0xffff) : 0;
    i.fn = by_width_no8(i.opsize, [](auto w) -> Handler { return &retf<w.value>; });
    return i.fn != nullptr;
}

}  // namespace

void register_far(Registry& r) {
    r.add(ZYDIS_MNEMONIC_JMP, &build_far<Kind::jmp>);
    r.add(ZYDIS_MNEMONIC_CALL, &build_far<Kind::call>);
    r.add(ZYDIS_MNEMONIC_RET, &build_retf);
}

}  // namespace cpu
