// One 8254 counter computed from its load pulse. Context: port I/O on 0x40-0x43 and 0x61, and
// the PIT's SystemC process at OUT edges; every call comes with the current pulse number.
#include "bus/pit_counter.h"

namespace bus {

namespace {
constexpr uint64_t kNever = ~uint64_t{0};
}

// Counts are 16-bit binary or four BCD digits; 0 is the largest count (2^16, or 10^4 in BCD).
uint32_t PitCounter::decode(uint16_t raw) const {
    uint32_t value = raw;
    if (bcd_) {
        value = ((raw >> 12) & 0xf) * 1000u + ((raw >> 8) & 0xf) * 100u + ((raw >> 4) & 0xf) * 10u +
                (raw & 0xf);
    }
    value %= range();  // digits above 9 are undefined on the part; keep the count in range
    return value == 0 ? range() : value;
}

uint16_t PitCounter::encode(uint32_t value) const {
    value %= range();
    if (!bcd_) return static_cast<uint16_t>(value);
    return static_cast<uint16_t>((value / 1000) << 12 | (value / 100 % 10) << 8 |
                                 (value / 10 % 10) << 4 | value % 10);
}

uint64_t PitCounter::phase(uint64_t now) const {
    if (!counting_ || now < seg_tick_) return seg_phase_;
    return seg_phase_ + (now - seg_tick_);
}

// A count deferred to the end of a period (mode 2) or half-cycle (mode 3) takes over there.
void PitCounter::apply_pending(uint64_t now) {
    if (!pending_ || now < pending_tick_) return;
    pending_ = false;
    n_ = pending_n_;
    load_tick_ = seg_tick_ = pending_tick_;
    seg_phase_ = pending_phase_;
}

// "When a Control Word is written to a Counter, all Control Logic is immediately reset and OUT
// goes to a known initial state" (low in mode 0, high otherwise). Counting stops until a count
// is written; CE keeps the value it had.
void PitCounter::write_control(uint8_t control_word, uint64_t now) {
    apply_pending(now);
    stale_ce_ = counting_element(now);
    control_ = control_word & 0x3f;
    access_ = (control_word >> 4) & 3;
    mode_ = (control_word >> 1) & 7;
    if (mode_ > 5) mode_ -= 4;  // "X10" and "X11"
    bcd_ = (control_word & 1) != 0;
    armed_ = loaded_ = pending_ = counting_ = false;
    write_msb_next_ = read_msb_next_ = false;
    count_latched_ = status_latched_ = false;
    null_count_until_ = kNever;
}

void PitCounter::write(uint8_t byte, uint64_t now) {
    apply_pending(now);
    uint16_t raw = 0;
    switch (access_) {
        case lsb_only: raw = byte; break;
        case msb_only: raw = static_cast<uint16_t>(byte << 8); break;
        default:
            if (!write_msb_next_) {
                write_lsb_ = byte;
                write_msb_next_ = true;
                // Mode 0: "Writing the first byte disables counting. OUT is set low immediately."
                if (mode_ == 0) {
                    stale_ce_ = counting_element(now);
                    loaded_ = pending_ = counting_ = false;
                }
                return;
            }
            write_msb_next_ = false;
            raw = static_cast<uint16_t>(write_lsb_ | byte << 8);
            break;
    }
    written_n_ = decode(raw);
    count_written(now);
}

// Where a new count goes, by mode: loaded on the next pulse (0, 4, and 2/3 when not yet
// counting), at the next trigger (1, 5), or at the end of the current period or half-cycle
// (2, 3). With GATE low in modes 2 and 3 the rising edge of GATE loads it.
void PitCounter::count_written(uint64_t now) {
    armed_ = true;
    switch (mode_) {
        case 0:
        case 4: start(written_n_, now + 1, now, gate_); break;
        case 1:
        case 5: null_count_until_ = kNever; break;
        default:
            if (!gate_) {
                null_count_until_ = kNever;
            } else if (!loaded_ || now < load_tick_) {
                start(written_n_, now + 1, now, true);
            } else {
                defer_to_boundary(now);
            }
            break;
    }
}

// Loads N into CE at pulse `load_tick`; until then CE and OUT show what they show now (mode 0
// excepted: a new count sets OUT low at once).
void PitCounter::start(uint32_t n, uint64_t load_tick, uint64_t now, bool counting) {
    stale_ce_ = counting_element(now);
    stale_out_ = out(now);
    loaded_ = true;
    n_ = n;
    load_tick_ = seg_tick_ = load_tick;
    seg_phase_ = 0;
    counting_ = counting;
    pending_ = false;
    null_count_until_ = load_tick;
}

// The phase where the new count starts matters in mode 3: at the end of the high half-cycle
// the new count begins with its own low half.
void PitCounter::defer_to_boundary(uint64_t now) {
    const uint64_t p = phase(now) % n_;
    pending_phase_ = 0;
    if (mode_ == 2) {
        pending_tick_ = now + (n_ - p);
    } else if (const uint64_t high = (n_ + 1) / 2; p < high) {
        pending_tick_ = now + (high - p);
        pending_phase_ = (written_n_ + 1) / 2;
    } else {
        pending_tick_ = now + (n_ - p);
    }
    pending_n_ = written_n_;
    pending_ = true;
    null_count_until_ = pending_tick_;
}

// The data sheet's GATE table: modes 0, 2, 3, 4 count only while GATE is high; a rising edge
// triggers modes 1 and 5 and reloads modes 2 and 3; GATE low forces OUT high in 2 and 3.
void PitCounter::set_gate(bool level, uint64_t now) {
    apply_pending(now);
    if (level == gate_) return;
    if (mode_ == 1 || mode_ == 5) {
        gate_ = level;
        if (level && armed_) start(written_n_, now + 1, now, true);
        return;
    }
    if (!level) {
        if (loaded_at(now) && counting_) {
            seg_phase_ = phase(now);
            seg_tick_ = now;
        }
        counting_ = false;
        pending_ = false;  // modes 2 and 3 reload from CR when GATE rises
        gate_ = false;
        return;
    }
    if (mode_ == 2 || mode_ == 3) {
        if (armed_) start(written_n_, now + 1, now, true);  // OUT still high: GATE was low
        gate_ = true;
        return;
    }
    gate_ = true;
    if (loaded_at(now)) seg_tick_ = now;
    counting_ = loaded_;
}

bool PitCounter::out(uint64_t now) {
    apply_pending(now);
    if ((mode_ == 2 || mode_ == 3) && !gate_) return true;
    if (!loaded_) return initial_out();
    if (now < load_tick_) return mode_ == 0 ? false : stale_out_;
    const uint64_t k = phase(now);
    switch (mode_) {
        case 0:
        case 1: return k >= n_;                    // low until terminal count, then high
        case 2: return k % n_ != n_ - 1;           // low for the one pulse at count 1
        case 3: return k % n_ < (n_ + 1) / 2;      // high for (N+1)/2 pulses, low for N/2
        default: return k != n_;                   // 4, 5: a strobe at terminal count
    }
}

// Mode 3 counts down by two: an even N shows N, N-2, ... 2 in each half; an odd N shows
// N-1, N-3, ... 0 in the high half and N-1, ... 2 in the low half (the data sheet's "Mode 3
// is implemented as follows").
uint32_t PitCounter::counting_element(uint64_t now) {
    apply_pending(now);
    if (!loaded_at(now)) return stale_ce_;
    const uint64_t k = phase(now);
    const uint32_t r = range();
    switch (mode_) {
        case 2: return static_cast<uint32_t>((n_ - k % n_) % r);
        case 3: {
            const uint64_t p = k % n_;
            if (n_ % 2 == 0) return static_cast<uint32_t>((n_ - 2 * (p % (n_ / 2))) % r);
            const uint64_t high = (n_ + 1) / 2;
            return static_cast<uint32_t>(n_ - 1 - 2 * (p < high ? p : p - high));
        }
        default: return static_cast<uint32_t>((n_ + r - k % r) % r);  // wraps past zero
    }
}

uint8_t PitCounter::status(uint64_t now) {
    return static_cast<uint8_t>((out(now) ? 0x80 : 0) | (now < null_count_until_ ? 0x40 : 0) |
                                control_);
}

void PitCounter::latch_count(uint64_t now) {
    if (count_latched_) return;
    latched_count_ = encode(counting_element(now));
    count_latched_ = true;
}

void PitCounter::latch_status(uint64_t now) {
    if (status_latched_) return;
    latched_status_ = status(now);
    status_latched_ = true;
}

// A latched status is read first, then a latched count; without latches CE is read live, so the
// two bytes of an unlatched count may come from different pulses, as on the part.
uint8_t PitCounter::read(uint64_t now) {
    if (status_latched_) {
        status_latched_ = false;
        return latched_status_;
    }
    const bool latched = count_latched_;
    const uint16_t value = latched ? latched_count_ : encode(counting_element(now));
    bool last = true;
    uint8_t byte = static_cast<uint8_t>(value);
    if (access_ == msb_only) {
        byte = static_cast<uint8_t>(value >> 8);
    } else if (access_ == lsb_then_msb) {
        if (read_msb_next_) byte = static_cast<uint8_t>(value >> 8);
        last = read_msb_next_;
        read_msb_next_ = !read_msb_next_;
    }
    if (latched && last) count_latched_ = false;
    return byte;
}

std::optional<uint64_t> PitCounter::next_change(uint64_t now) {
    apply_pending(now);
    std::optional<uint64_t> next;
    auto consider = [&next](uint64_t tick) {
        if (!next || tick < *next) next = tick;
    };
    if (pending_) consider(pending_tick_);
    if (!loaded_) return next;
    if (now < load_tick_) {
        consider(load_tick_);
        return next;
    }
    if (!counting_) return next;
    const uint64_t k = phase(now);
    switch (mode_) {
        case 0:
        case 1:
            if (k < n_) consider(now + (n_ - k));
            break;
        case 2:
            if (n_ >= 2) {
                const uint64_t p = k % n_;
                consider(now + (p < n_ - 1 ? n_ - 1 - p : 1));
            }
            break;
        case 3: {
            const uint64_t p = k % n_, high = (n_ + 1) / 2;
            if (p >= high) {
                consider(now + (n_ - p));
            } else if (high < n_) {
                consider(now + (high - p));
            }
            break;
        }
        default:
            if (k < n_) {
                consider(now + (n_ - k));
            } else if (k == n_) {
                consider(now + 1);
            }
            break;
    }
    return next;
}

}  // namespace bus
