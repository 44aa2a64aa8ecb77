// The local APIC register file as software sees it: 32-bit registers at 16-byte strides in
// the xAPIC page (SDM Vol. 3A 11.4.1 Table 11-1), the same registers as MSRs 800h + offset/16
// in x2APIC mode (11.12.1.2 Table 11-6), and IA32_APIC_BASE with its mode transitions (11.4.4,
// 11.12.5). Context: the owning core's APIC page and MSR slow paths.
#include "cpu/apic/local_apic.h"

#include <algorithm>

namespace cpu {
namespace {

// Register indices (offset >> 4).
enum : unsigned {
    r_id = 0x02, r_version = 0x03, r_tpr = 0x08, r_apr = 0x09, r_ppr = 0x0a, r_eoi = 0x0b,
    r_rrd = 0x0c, r_ldr = 0x0d, r_dfr = 0x0e, r_svr = 0x0f, r_isr = 0x10, r_tmr = 0x18,
    r_irr = 0x20, r_esr = 0x28, r_lvt_cmci = 0x2f, r_icr = 0x30, r_icr_high = 0x31,
    r_lvt_timer = 0x32, r_lvt_error = 0x37, r_initial_count = 0x38, r_current_count = 0x39,
    r_divide = 0x3e, r_self_ipi = 0x3f,
};

// Writable bits of each LVT entry (Figure 11-8): vector, delivery mode, polarity, trigger mode,
// mask, timer mode. Delivery status (12) and remote IRR (14) are read-only.
constexpr uint32_t kLvtWritable[7] = {0x107ff, 0x700ff, 0x107ff, 0x107ff, 0x1a7ff, 0x1a7ff, 0x100ff};
constexpr uint32_t kSvrWritable = 0x3ff;  // vector, enable, focus checking (no EOI suppression)
constexpr uint64_t kIcrWritable = 0xffffffff000ccfffull;  // x2APIC layout (11.12.9)

}  // namespace

// Reads of the APIC's registers by index; `value` is the 32-bit register (64 for the x2APIC
// ICR). In xAPIC mode a register that does not exist is an "illegal register address" (ESR
// bit 7, SDM 11.5.3); in x2APIC mode it and write-only registers #GP (11.12.1.2).
LocalApic::Access LocalApic::read_register(unsigned index, uint64_t now, uint64_t& value) const {
    const bool x2 = x2apic();
    value = 0;
    if (index >= r_isr && index < r_isr + 8) return value = isr_[index - r_isr], Access::ok;
    if (index >= r_tmr && index < r_tmr + 8) return value = tmr_[index - r_tmr], Access::ok;
    if (index >= r_irr && index < r_irr + 8) return value = irr_[index - r_irr], Access::ok;
    if (index >= r_lvt_timer && index <= r_lvt_error) return value = lvt_[lvt_timer + index - r_lvt_timer], Access::ok;
    switch (index) {
        case r_id: value = x2 ? config_.id : xapic_id_; return Access::ok;
        case r_version: value = kVersion; return Access::ok;
        case r_tpr: value = tpr_; return Access::ok;
        case r_apr: {
            // Arbitration priority (SDM 11.8.3 Figure 11-16); absent in x2APIC mode.
            if (x2) return Access::gp;
            const int irrv = highest(irr_), isrv = highest(isr_);
            const uint32_t tc = tpr_ & 0xf0, ic = irrv < 0 ? 0 : irrv & 0xf0, sc = isrv < 0 ? 0 : isrv & 0xf0;
            value = (tc >= ic && tc > sc) ? tpr_ : std::max({tc, ic, sc});
            return Access::ok;
        }
        case r_ppr: value = ppr(); return Access::ok;
        case r_eoi: return x2 ? Access::gp : Access::ok;  // write-only
        case r_rrd: return x2 ? Access::gp : Access::ok;  // remote read: not supported, reads 0
        case r_ldr: value = logical_id(); return Access::ok;
        case r_dfr: if (x2) return Access::gp; value = dfr_; return Access::ok;
        case r_svr: value = svr_; return Access::ok;
        case r_esr: value = esr_; return Access::ok;
        case r_lvt_cmci: value = lvt_[lvt_cmci]; return Access::ok;
        case r_icr: value = x2 ? icr_ : static_cast<uint32_t>(icr_); return Access::ok;  // idle
        case r_icr_high: if (x2) return Access::gp; value = icr_ >> 32; return Access::ok;
        case r_initial_count: value = initial_count_; return Access::ok;
        case r_current_count: value = current_count(now); return Access::ok;
        case r_divide: value = divide_config_; return Access::ok;
        default: return x2 ? Access::gp : Access::illegal;  // includes SELF IPI (write-only)
    }
}

// Without TSC-deadline support, timer mode bit 18 is reserved (11.5.4.1).
uint32_t LocalApic::lvt_writable(Lvt which) const {
    return which == lvt_timer && !config_.tsc_deadline ? kLvtWritable[which] & ~(1u << 18) : kLvtWritable[which];
}

void LocalApic::write_lvt(Lvt which, uint32_t value, uint64_t now) {
    uint32_t v = value & lvt_writable(which);
    if (!software_enabled()) v |= kLvtMask;  // SDM 11.4.7.2: masks stay set while disabled
    const uint32_t old = lvt_[which];
    lvt_[which] = v | (old & (1u << 14));  // remote IRR survives
    if (which == lvt_timer && ((old ^ v) >> 17 & 3)) {
        // 11.5.4.1: a write that changes the timer mode disarms the timer.
        timer_deadline_ = ~0ull;
        tsc_deadline_ = 0;
    }
    (void)now;
}

LocalApic::Access LocalApic::write_register(unsigned index, uint64_t value, uint64_t now) {
    const bool x2 = x2apic();
    // 11.12.1.2: in x2APIC mode WRMSR of a read-only register, or with reserved bits set, #GPs.
    const auto fits = [&](uint64_t writable) { return !x2 || (value & ~writable) == 0; };
    const auto v32 = static_cast<uint32_t>(value);
    if ((index >= r_isr && index < r_irr + 8) || index == r_version || index == r_apr ||
        index == r_ppr || index == r_rrd || index == r_current_count)
        return x2 ? Access::gp : Access::ok;  // read-only: xAPIC ignores the write
    if (index >= r_lvt_timer && index <= r_lvt_error) {
        const auto which = static_cast<Lvt>(lvt_timer + index - r_lvt_timer);
        if (!fits(lvt_writable(which))) return Access::gp;
        write_lvt(which, v32, now);
        return Access::ok;
    }
    switch (index) {
        case r_id:
            if (x2) return Access::gp;
            xapic_id_ = v32 & 0xff000000u;
            return Access::ok;
        case r_tpr:
            if (!fits(0xff)) return Access::gp;
            tpr_ = v32 & 0xff;
            return Access::ok;
        case r_eoi:
            if (x2 && value != 0) return Access::gp;
            eoi();
            return Access::ok;
        case r_ldr:
            if (x2) return Access::gp;
            ldr_ = v32 & 0xff000000u;
            return Access::ok;
        case r_dfr:
            if (x2) return Access::gp;
            dfr_ = v32 | 0x0fffffffu;
            return Access::ok;
        case r_svr:
            if (!fits(kSvrWritable)) return Access::gp;
            svr_ = v32 & kSvrWritable;
            if (!software_enabled())
                for (uint32_t& l : lvt_) l |= kLvtMask;  // 11.4.7.2
            return Access::ok;
        case r_esr:
            if (x2 && value != 0) return Access::gp;
            esr_ = esr_pending_;  // 11.5.3: a write makes the collected errors readable
            esr_pending_ = 0;
            return Access::ok;
        case r_lvt_cmci:
            if (!fits(kLvtWritable[lvt_cmci])) return Access::gp;
            write_lvt(lvt_cmci, v32, now);
            return Access::ok;
        case r_icr:
            if (x2) {
                if (!fits(kIcrWritable)) return Access::gp;
                icr_ = value;
            } else {
                icr_ = (icr_ & ~0xffffffffull) | (v32 & 0x000ccfffu);
            }
            send_icr(icr_);
            return Access::ok;
        case r_icr_high:
            if (x2) return Access::gp;
            icr_ = (icr_ & 0xffffffffull) | (static_cast<uint64_t>(v32 & 0xff000000u) << 32);
            return Access::ok;
        case r_initial_count:
            if (!fits(0xffffffffull)) return Access::gp;
            initial_count_ = v32;
            if (timer_mode() != 2) arm_timer(now);  // ignored in TSC-deadline mode (11.5.4.1)
            return Access::ok;
        case r_divide:
            if (!fits(0xb)) return Access::gp;
            write_divide(v32 & 0xb, now);
            return Access::ok;
        case r_self_ipi: {
            // x2APIC only (11.12.11 "SELF IPI Register"): a fixed, edge IPI to oneself.
            if (!x2) return Access::illegal;
            if (!fits(0xff)) return Access::gp;
            Ipi m;
            m.vector = static_cast<uint8_t>(value);
            m.shorthand = Shorthand::self;
            if (m.vector < 16) signal_error(1u << 6);
            else receive(m);
            return Access::ok;
        }
        default:
            return x2 ? Access::gp : Access::illegal;
    }
}

// xAPIC MMIO: 32-bit registers on 16-byte boundaries; other bytes of a slot read 0 and
// writes to them are dropped (the SDM asks for aligned 32-bit accesses; others are undefined).
uint32_t LocalApic::read_mmio(uint32_t offset, uint64_t now) {
    if ((offset & 0xf) > 3) return 0;
    uint64_t v = 0;
    if (read_register((offset >> 4) & 0xff, now, v) == Access::illegal) signal_error(1u << 7);
    return static_cast<uint32_t>(v >> (8 * (offset & 3)));
}

void LocalApic::write_mmio(uint32_t offset, uint32_t value, uint64_t now) {
    if ((offset & 0xf) != 0) return;
    if (write_register((offset >> 4) & 0xff, value, now) == Access::illegal) signal_error(1u << 7);
    notify();
}

void LocalApic::update_mmio_page() {
    mmio_page_ = (hardware_enabled() && !x2apic()) ? (base_ & 0x0000fffffffff000ull) : ~0ull;
}

// IA32_APIC_BASE (SDM 11.4.4 Figure 11-5; 11.12.5 "x2APIC State Transitions" Figure 11-30):
// bits 0-7 and 9 and those above MAXPHYADDR are reserved; BSP is read-only. Legal moves:
// disabled <-> xAPIC, xAPIC -> x2APIC, x2APIC -> disabled. EXTD without EN, x2APIC -> xAPIC
// and disabled -> x2APIC #GP. Disabling resets the APIC to its power-up state (11.4.3).
MsrResult LocalApic::write_base(uint64_t value) {
    const uint64_t reserved = 0x2ffull | ~0x0000ffffffffffffull | (config_.x2apic ? 0 : kBaseExtd);
    if (value & reserved) return MsrResult::gp;
    const bool en = value & kBaseEnable, extd = value & kBaseExtd;
    const bool was_enabled = hardware_enabled(), was_x2 = x2apic();
    if (extd && !en) return MsrResult::gp;
    if (was_x2 && en && !extd) return MsrResult::gp;
    if (!was_enabled && en && extd) return MsrResult::gp;
    base_ = (value & ~kBaseBsp) | (base_ & kBaseBsp);
    if (!en && was_enabled) reset_registers();
    update_mmio_page();
    notify();
    return MsrResult::ok;
}

MsrResult LocalApic::read_msr(uint32_t msr, uint64_t now, uint64_t& value) {
    if (msr == apic_msr::base) return value = base_, MsrResult::ok;
    if (msr == apic_msr::tsc_deadline) {
        if (!config_.tsc_deadline) return MsrResult::not_mine;
        value = timer_mode() == 2 ? tsc_deadline_ : 0;
        return MsrResult::ok;
    }
    if (msr < apic_msr::x2apic_first || msr > apic_msr::x2apic_last) return MsrResult::not_mine;
    if (!x2apic()) return MsrResult::gp;  // 11.12.1.2: x2APIC MSRs outside x2APIC mode
    return read_register(msr - apic_msr::x2apic_first, now, value) == Access::ok ? MsrResult::ok
                                                                                  : MsrResult::gp;
}

MsrResult LocalApic::write_msr(uint32_t msr, uint64_t value, uint64_t now, uint64_t tsc_offset) {
    if (msr == apic_msr::base) return write_base(value);
    if (msr == apic_msr::tsc_deadline) {
        if (!config_.tsc_deadline) return MsrResult::not_mine;
        write_tsc_deadline(value, tsc_offset);
        notify();
        return MsrResult::ok;
    }
    if (msr < apic_msr::x2apic_first || msr > apic_msr::x2apic_last) return MsrResult::not_mine;
    if (!x2apic()) return MsrResult::gp;
    const Access a = write_register(msr - apic_msr::x2apic_first, value, now);
    notify();
    return a == Access::ok ? MsrResult::ok : MsrResult::gp;
}

}  // namespace cpu
