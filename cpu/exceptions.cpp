// Exception and interrupt delivery: real mode through the IVT, protected and long mode through
// IDT gates with stack switching (SDM Vol. 3A 6.12 "Exception and Interrupt Handling",
// 6.14 "Exception and Interrupt Handling in 64-bit Mode"), and the double-fault / triple-fault
// escalation of 6.15 "Interrupt 8—Double Fault Exception" (Table 6-5).
// Context: the run loop, between instructions.
#include "cpu/core.h"
#include "cpu/descriptors.h"

namespace cpu {
namespace {

enum class FaultClass { benign, contributory, page_fault, double_fault };

FaultClass class_of(uint8_t vector) {
    const auto* row = sim::info(static_cast<sim::Vector>(vector));
    if (!row) return FaultClass::benign;
    const std::string_view k = row->klass;
    if (k == "contributory") return FaultClass::contributory;
    if (k == "page_fault") return FaultClass::page_fault;
    if (k == "double") return FaultClass::double_fault;
    return FaultClass::benign;
}

// Table 6-5: which second exception, raised while delivering the first, makes a #DF.
// Exceptions of the fault type (sim/tables/exceptions.toml, SDM Vol. 3A Table 6-1): reported
// before the instruction, which restarts after the handler.
bool is_fault_class(uint8_t vector) {
    const auto* row = sim::info(static_cast<sim::Vector>(vector));
    return row && std::string_view(row->type) == "fault";
}

bool makes_double_fault(uint8_t first, uint8_t second) {
    const FaultClass a = class_of(first), b = class_of(second);
    if (a == FaultClass::contributory) return b == FaultClass::contributory;
    if (a == FaultClass::page_fault) return b == FaultClass::contributory || b == FaultClass::page_fault;
    return false;
}

}  // namespace

void Core::deliver_pending() {
    const PendingException e = pending_;
    pending_ = {};
    if (e.valid && trap_exceptions_) {
        trapped_ = e;
        halted_ = true;
        check_at_ = 0;
        return;
    }
    if (e.valid) deliver_event(e.vector, e.has_error_code, e.error_code, false, s_.rip(), e.address);
}

void Core::deliver_event(uint8_t vector, bool has_error, uint32_t error_code, bool software,
                         uint64_t return_rip, uint64_t fault_address, unsigned external) {
    // Delivering any event ends an interrupt shadow (the shadowed instruction did not complete,
    // or the handler starts afresh).
    shadow_ = Shadow::none;
    bool nested = false;  // this event arose while delivering `previous`
    EventInfo previous;
    for (;;) {
        const EventInfo event{vector,
                              external == 1 ? EventType::external
                              : external == 2 ? EventType::nmi
                              : software ? EventType::software_interrupt : EventType::hardware_exception,
                              has_error, error_code, fault_address,
                              static_cast<uint8_t>(software ? return_rip - rip() : 0)};
        // Guest mode: the exception bitmap / exception intercepts decide first (SDM Vol. 3C
        // 26.2 "Other Causes of VM Exits"; APM Vol. 2 15.12); a #PF that exits leaves CR2 alone.
        if (guest_ && virt_->event(*this, event, nested ? &previous : nullptr)) {
            delivering_.vector_valid = false;
            return;
        }
        if (vector == static_cast<uint8_t>(sim::Vector::page_fault) && !software && !external) s_.cr2 = fault_address;
        delivering_ = {true, event};
        const bool ok = s_.mode == Mode::real ? deliver_real(vector, return_rip)
                        : deliver_protected(vector, has_error, error_code, software, return_rip);
        if (ok) {
            delivering_.vector_valid = false;
            if (external) {
                emit(sim::EventKind::interrupt, vector, external);  // b: 1 external, 2 NMI
            } else {
                if (!software) ++exceptions_[vector & 31];
                emit(software ? sim::EventKind::interrupt : sim::EventKind::exception, vector,
                     has_error ? error_code : 0, s_.cr2);
            }
            return;
        }
        if (shutdown_ || control_.stop_requested()) return (void)(delivering_.vector_valid = false);
        const PendingException second = pending_;
        pending_ = {};
        // Delivery stopped for a host-side reason (already reported), or a VM exit (an EPT
        // violation or #NPF on the way) took the processor to the host.
        if (!second.valid) return (void)(delivering_.vector_valid = false);
        nested = true;
        previous = event;
        if (vector == static_cast<uint8_t>(sim::Vector::double_fault)) {
            delivering_.vector_valid = false;
            // A triple fault in guest mode is a VM exit (SDM Vol. 3C 26.2; APM 15.12 SHUTDOWN).
            if (guest_ && virt_->triple_fault(*this)) return;
            emit(sim::EventKind::triple_fault, second.vector, second.error_code);
            enter_shutdown("triple fault: exception " + std::to_string(second.vector) +
                           " while delivering #DF");
            return;
        }
        // Table 6-5 classes the first event only when it is an exception: an external interrupt
        // or NMI whose delivery faults is benign, whatever its vector (SDM Vol. 3A 6.15
        // "Interrupt 8"), so the fault is delivered as it is.
        if (!external && !software && makes_double_fault(vector, second.vector)) {
            vector = static_cast<uint8_t>(sim::Vector::double_fault);
            has_error = true;
            error_code = 0;
        } else {
            vector = second.vector;
            has_error = second.has_error_code;
            error_code = second.error_code;
            fault_address = second.address;
        }
        software = false;
        external = 0;
        return_rip = s_.rip();
    }
}

// INT n / INT3 / INTO / INT1 (SDM Vol. 2 "INT n/INTO/INT3/INT1"). Unlike deliver_event, a
// failed delivery is the instruction's own fault: it is left pending for the run loop, which
// delivers it with RIP at the INT instruction (no double-fault escalation: INT n is not an
// exception).
Outcome Core::software_interrupt(uint8_t vector, EventType type, uint64_t return_rip) {
    const bool software = type != EventType::privileged_software_exception;
    const EventInfo e{vector, type, false, 0, 0, static_cast<uint8_t>(return_rip - rip())};
    if (guest_ && virt_->event(*this, e, nullptr)) return Outcome::exit;
    delivering_ = {true, e};
    const bool ok = s_.mode == Mode::real ? deliver_real(vector, return_rip)
                    : deliver_protected(vector, false, 0, software, return_rip);
    delivering_.vector_valid = false;
    if (!ok) return Outcome::fault;  // pending_ holds the exception, or a host error stops the run
    if (!software) ++exceptions_[vector & 31];
    emit(software ? sim::EventKind::interrupt : sim::EventKind::exception, vector, 0, s_.cr2);
    return Outcome::branch;
}

// Real-address mode: SDM Vol. 2 "INT n" pseudocode, REAL-ADDRESS-MODE branch.
bool Core::deliver_real(uint8_t vector, uint64_t return_rip) {
    const uint64_t entry = static_cast<uint64_t>(vector) * 4;
    if (entry + 3 > s_.idtr.limit) return raise_gp(0), false;
    uint32_t ivt = 0;
    if (!read_system(s_.idtr.base + entry, &ivt, 4)) return false;
    if (!push<2>(s_.rflags()) || !push<2>(s_.seg[cs].selector) || !push<2>(return_rip)) return false;
    s_.rflags_other &= ~(rf::if_ | rf::tf | rf::ac);
    s_.seg[cs].selector = static_cast<uint16_t>(ivt >> 16);
    s_.seg[cs].base = (ivt >> 16) << 4;
    s_.rip() = ivt & 0xffff;
    refresh_mode();
    return true;
}

bool Core::load_tss_stack(unsigned new_cpl, unsigned ist, uint64_t& new_rsp, uint16_t& new_ss) {
    // 64-bit TSS: RSP0-2 at 4 + 8n, IST1-7 at 36 + 8(n-1) (SDM 8.7 "Task Management in 64-bit
    // Mode"); 32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n (SDM 8.2.1).
    if (s_.mode == Mode::long64 || (s_.efer & efer::lma)) {
        const uint32_t off = ist ? 36 + 8 * (ist - 1) : 4 + 8 * new_cpl;
        if (off + 7 > s_.tr.limit) return raise(sim::Vector::invalid_tss, s_.tr.selector & ~3u), false;
        if (!read_system(s_.tr.base + off, &new_rsp, 8)) return false;
        new_ss = static_cast<uint16_t>(new_cpl);  // a null selector with RPL = new CPL
        return true;
    }
    const uint32_t off = 4 + 8 * new_cpl;
    if (off + 5 > s_.tr.limit) return raise(sim::Vector::invalid_tss, s_.tr.selector & ~3u), false;
    uint32_t esp = 0;
    uint16_t sel = 0;
    if (!read_system(s_.tr.base + off, &esp, 4) || !read_system(s_.tr.base + off + 4, &sel, 2)) return false;
    new_rsp = esp;
    new_ss = sel;
    return true;
}

bool Core::deliver_protected(uint8_t vector, bool has_error, uint32_t error_code, bool software,
                             uint64_t return_rip) {
    const bool lm = s_.efer & efer::lma;
    if (s_.mode == Mode::v8086) {
        last_error_ = "interrupt delivery from virtual-8086 mode is not modelled";
        control_.request_stop(sim::StopReason::host_error);
        return false;
    }
    const unsigned size = lm ? 16 : 8;
    const uint32_t idt_error = (static_cast<uint32_t>(vector) << 3) | 2 | (software ? 0 : 1);
    if (static_cast<uint64_t>(vector) * size + size - 1 > s_.idtr.limit) return raise_gp(idt_error), false;
    uint64_t raw[2] = {0, 0};
    if (!read_system(s_.idtr.base + vector * size, raw, size)) return false;
    const Gate g = gate_from_descriptor(raw[0], raw[1], lm);
    const bool interrupt_gate = g.type == 0xe || g.type == 0x6;
    const bool trap_gate = g.type == 0xf || g.type == 0x7;
    if (g.type == 0x5 && !lm) {
        last_error_ = "task gate in the IDT (vector " + std::to_string(vector) + "): hardware task switching is not modelled";
        control_.request_stop(sim::StopReason::host_error);
        return false;
    }
    if ((!interrupt_gate && !trap_gate) || (lm && (g.type & 8) == 0)) return raise_gp(idt_error), false;
    if (software && g.dpl < s_.cpl) return raise_gp(idt_error), false;  // INT n privilege check
    if (!g.present) return raise(sim::Vector::segment_not_present, idt_error), false;

    const uint32_t ext = software ? 0 : 1;
    if ((g.selector & ~3u) == 0) return raise_gp(ext), false;
    uint64_t d;
    if (!read_descriptor(g.selector, d, (g.selector & ~3u) | ext)) return false;
    Segment target = segment_from_descriptor(g.selector, d);
    if (!target.code() || !(target.attributes & 0x10) || target.dpl() > s_.cpl)
        return raise_gp((g.selector & ~3u) | ext), false;
    if (!target.present()) return raise(sim::Vector::segment_not_present, (g.selector & ~3u) | ext), false;
    if (lm && (!target.long_mode() || target.big())) return raise_gp((g.selector & ~3u) | ext), false;

    const bool conforming = target.attributes & 4;
    const unsigned new_cpl = conforming ? s_.cpl : target.dpl();
    const bool inner = new_cpl < s_.cpl;
    const Segment old_ss = s_.seg[ss];
    const uint64_t old_rsp = s_.regs[rsp];
    // Faults push RFLAGS with RF set, so that the restarted instruction does not take an
    // instruction breakpoint again (SDM Vol. 3A 18.3.1.1; AMD APM Vol. 2 13.1.1.x "RF").
    const uint64_t old_flags = s_.rflags() | (!software && is_fault_class(vector) ? rf::rf : 0);
    const Segment old_cs_segment = s_.seg[cs];
    const uint16_t old_cs = old_cs_segment.selector;
    const uint8_t old_cpl = s_.cpl;

    if (inner || (lm && g.ist)) {
        uint64_t new_rsp;
        uint16_t new_ss;
        if (!load_tss_stack(new_cpl, lm ? g.ist : 0, new_rsp, new_ss)) {
            // The #TS of a TSS too short for the new stack, raised while delivering an event
            // external to the program, carries EXT (SDM Vol. 3A 6.13 "Error Code").
            if (pending_.vector == static_cast<uint8_t>(sim::Vector::invalid_tss)) pending_.error_code |= ext;
            return false;
        }
        if (lm) {
            if (inner) s_.seg[ss] = Segment{new_ss, 0, 0, 0x10000 | (new_cpl << 5)};
            s_.regs[rsp] = new_rsp;
        } else {
            s_.cpl = static_cast<uint8_t>(new_cpl);
            refresh_mode();
            if (!load_segment(ss, new_ss)) {
                s_.cpl = old_cpl;
                refresh_mode();
                return false;
            }
            s_.regs[rsp] = new_rsp;
        }
    }
    // In 64-bit mode the stack is aligned to 16 bytes and SS:RSP is always pushed (6.14.2).
    if (lm) s_.regs[rsp] &= ~0xfull;
    // The frame is pushed by the handler's side: in IA-32e mode that is 64-bit mode, whatever
    // mode was interrupted (compatibility mode's 32-bit SS limits do not apply), SDM 6.14.2.
    target.selector = static_cast<uint16_t>((g.selector & ~3u) | new_cpl);
    s_.seg[cs] = target;
    s_.cpl = static_cast<uint8_t>(new_cpl);
    refresh_mode();
    const auto undo = [&]() {
        s_.seg[cs] = old_cs_segment;
        s_.seg[ss] = old_ss;
        s_.regs[rsp] = old_rsp;
        s_.cpl = old_cpl;
        refresh_mode();
        return false;
    };
    const bool gate32 = g.type & 8;
    bool ok;
    if (lm) {
        ok = push<8>(old_ss.selector) && push<8>(old_rsp) && push<8>(old_flags) && push<8>(old_cs) &&
             push<8>(return_rip) && (!has_error || push<8>(error_code));
    } else if (gate32) {
        ok = (!inner || (push<4>(old_ss.selector) && push<4>(old_rsp))) && push<4>(old_flags) &&
             push<4>(old_cs) && push<4>(return_rip) && (!has_error || push<4>(error_code));
    } else {
        ok = (!inner || (push<2>(old_ss.selector) && push<2>(old_rsp))) && push<2>(old_flags) &&
             push<2>(old_cs) && push<2>(return_rip) && (!has_error || push<2>(error_code));
    }
    if (!ok) return undo();
    s_.rip() = gate32 || lm ? g.offset : (g.offset & 0xffff);
    s_.rflags_other &= ~(rf::tf | rf::nt | rf::rf | rf::vm);
    if (interrupt_gate) s_.rflags_other &= ~rf::if_;
    refresh_mode();
    return true;
}

}  // namespace cpu
