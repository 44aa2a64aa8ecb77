// The local APIC timer (SDM Vol. 3A 11.5.4 "APIC Timer"): one-shot and periodic modes count
// down from the initial count at the core clock / bus divisor / divide configuration;
// TSC-deadline mode (11.5.4.1) fires when the TSC reaches IA32_TSC_DEADLINE. Time is the
// owning core's cycle count, so expiries are exact and deterministic: the core stops its
// blocks at next_timer_event() and calls advance(). Context: the core's slow paths.
#include "cpu/apic/local_apic.h"

namespace cpu {
namespace {
constexpr unsigned kPeriodic = 1, kTscDeadline = 2;
}

// Divide configuration (Figure 11-10): bits 3,1:0 = 000 -> 2, 001 -> 4, ... 110 -> 128, 111 -> 1.
uint64_t LocalApic::timer_period() const {
    const uint32_t code = (divide_config_ & 3) | ((divide_config_ >> 1) & 4);
    return uint64_t{config_.bus_divisor} << ((code + 1) & 7);
}

// A write of the initial count (re)starts counting from it; 0 stops the timer (11.5.4).
void LocalApic::arm_timer(uint64_t now) {
    timer_deadline_ = initial_count_ ? now + initial_count_ * timer_period() : ~0ull;
}

uint32_t LocalApic::current_count(uint64_t now) const {
    if (timer_mode() == kTscDeadline || timer_deadline_ == ~0ull) return 0;
    const uint64_t period = timer_period();
    uint64_t remaining;
    if (now < timer_deadline_) {
        remaining = timer_deadline_ - now;
    } else if (timer_mode() == kPeriodic) {
        const uint64_t full = uint64_t{initial_count_} * period;  // expired, not yet advanced
        remaining = full - (now - timer_deadline_) % full;
    } else {
        return 0;
    }
    return static_cast<uint32_t>((remaining + period - 1) / period);
}

// A new divide value applies from now on: the count reached so far keeps counting.
void LocalApic::write_divide(uint32_t value, uint64_t now) {
    const uint32_t count = current_count(now);
    const bool running = timer_mode() != kTscDeadline && timer_deadline_ != ~0ull;
    divide_config_ = value;
    if (running) timer_deadline_ = count ? now + count * timer_period() : now;
}

// 11.5.4.1: in TSC-deadline mode a non-zero value arms the timer and 0 disarms it; in the
// other modes writes are ignored.
void LocalApic::write_tsc_deadline(uint64_t value, uint64_t tsc_offset) {
    if (timer_mode() != kTscDeadline) return;
    tsc_deadline_ = value;
    timer_deadline_ = !value ? ~0ull : value > tsc_offset ? value - tsc_offset : 0;
}

bool LocalApic::timer_can_interrupt() const {
    return timer_deadline_ != ~0ull && !(lvt_[lvt_timer] & kLvtMask) && hardware_enabled();
}

// Expiries up to `now`: one-shot stops at 0, periodic reloads (several periods elapsed while
// nobody looked still make one interrupt: the IRR holds one bit per vector), TSC-deadline
// disarms and clears the MSR. A masked timer counts without interrupting.
void LocalApic::advance(uint64_t now) {
    if (timer_deadline_ > now) return;
    switch (timer_mode()) {
        case kPeriodic: {
            const uint64_t full = uint64_t{initial_count_} * timer_period();
            timer_deadline_ += full * ((now - timer_deadline_) / full + 1);
            break;
        }
        case kTscDeadline:
            tsc_deadline_ = 0;
            timer_deadline_ = ~0ull;
            break;
        default:
            timer_deadline_ = ~0ull;
            break;
    }
    lvt_fire(lvt_timer);
}

}  // namespace cpu
