// MC146818A registers, the clock derived from simulated time, and IRQ8. Context: port I/O from
// the guest (index then data) and the SystemC process that raises IRQ8 at flag edges.
#include "bus/rtc_cmos.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "bus/payload.h"

namespace bus {

namespace {

constexpr int64_t kSecondsPerDay = 86'400;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Calendar seconds (since 1970-01-01, proleptic Gregorian) of a date and time. Out-of-range
// fields carry: month 13 is January of the next year, day 32 the next month's first.
int64_t calendar_seconds(const RtcDateTime& t) {
    using namespace std::chrono;
    const int64_t m0 = static_cast<int64_t>(t.month) - 1;
    const int y = static_cast<int>(t.year + floor_div(m0, 12));
    const auto m = static_cast<unsigned>(m0 - floor_div(m0, 12) * 12 + 1);
    const sys_days first{year{y} / month{m} / day{1}};
    const int64_t days_since_epoch = first.time_since_epoch().count() + int64_t{t.day} - 1;
    return days_since_epoch * kSecondsPerDay + int64_t{t.hour} * 3600 + int64_t{t.minute} * 60 +
           t.second;
}

RtcDateTime date_time(int64_t seconds) {
    using namespace std::chrono;
    const int64_t day_number = floor_div(seconds, kSecondsPerDay);
    const int64_t in_day = seconds - day_number * kSecondsPerDay;
    const sys_days day_point{days{day_number}};
    const year_month_day ymd{day_point};
    RtcDateTime t;
    t.year = static_cast<int>(ymd.year());
    t.month = static_cast<unsigned>(ymd.month());
    t.day = static_cast<unsigned>(ymd.day());
    t.hour = static_cast<unsigned>(in_day / 3600);
    t.minute = static_cast<unsigned>(in_day / 60 % 60);
    t.second = static_cast<unsigned>(in_day % 60);
    t.day_of_week = weekday{day_point}.c_encoding() + 1;
    return t;
}

uint8_t to_bcd(unsigned value) { return static_cast<uint8_t>((value / 10 % 10) << 4 | value % 10); }

}  // namespace

// Power-on as firmware leaves the chip: 32.768 kHz divider running (A = 0x26: 1024 Hz
// periodic rate), 24-hour BCD (B = 0x02), valid RAM and time (D = 0x80).
RtcCmos::RtcCmos(sc_core::sc_module_name name, const RtcConfig& config)
    : sc_core::sc_module(name), socket("socket") {
    socket.register_b_transport(this, &RtcCmos::transport);
    SC_METHOD(on_event);
    sensitive << event_;
    dont_initialize();
    ram_[reg_a] = kADivider32k | 0x06;
    ram_[reg_b] = kB24Hour;
    ram_[reg_d] = kDVrt;
    ram_[century] = to_bcd(static_cast<unsigned>(config.start.year / 100));
    if (config.ram_size) fill_memory_size(ram_, config.ram_size);
    seconds_at_tick0_ = calendar_seconds(config.start);
    held_ = date_time(seconds_at_tick0_);
}

// Base memory (KiB, 0x15-0x16), memory above 1 MiB (KiB, 0x17-0x18 and 0x30-0x31, at most
// 0xffff), memory above 16 MiB below 4 GiB (64 KiB units, 0x34-0x35), then the checksum of
// 0x10-0x2d, high byte first.
void RtcCmos::fill_memory_size(std::array<uint8_t, kBytes>& cmos, uint64_t ram_size) {
    constexpr uint64_t kKiB = 1024, kMiB = 1024 * kKiB, kGiB = 1024 * kMiB;
    const auto put16 = [&cmos](unsigned index, uint64_t value) {
        const uint64_t v = std::min<uint64_t>(value, 0xffff);
        cmos[index] = static_cast<uint8_t>(v);
        cmos[index + 1] = static_cast<uint8_t>(v >> 8);
    };
    put16(0x15, std::min<uint64_t>(ram_size, 640 * kKiB) / kKiB);
    const uint64_t extended = ram_size > kMiB ? (ram_size - kMiB) / kKiB : 0;
    put16(0x17, extended);
    put16(0x30, extended);
    const uint64_t below_4g = std::min(ram_size, 4 * kGiB);
    put16(0x34, below_4g > 16 * kMiB ? (below_4g - 16 * kMiB) / (64 * kKiB) : 0);
    unsigned sum = 0;
    for (unsigned i = 0x10; i <= 0x2d; ++i) sum += cmos[i];
    cmos[checksum_high] = static_cast<uint8_t>(sum >> 8);
    cmos[checksum_low] = static_cast<uint8_t>(sum);
}

void RtcCmos::connect_irq(IrqLine line) {
    irq_ = std::move(line);
    if (irq_) irq_(irq_level_);
}

uint64_t RtcCmos::now_ps() const { return simcontext()->time_stamp().value(); }

RtcDateTime RtcCmos::now() { return shown(now_ps()); }

uint8_t RtcCmos::peek(unsigned index) {
    const uint64_t ps = now_ps();
    if (index == reg_c) {
        const uint8_t f = flags(ps);
        return static_cast<uint8_t>(f | ((f & ram_[reg_b] & 0x70) ? kCIrqf : 0));
    }
    if (index == reg_a) {
        const bool uip = updating() &&
                         divider_ticks(ps) % kTicksPerSecond >= kTicksPerSecond - kUipTicks;
        return static_cast<uint8_t>((ram_[reg_a] & 0x7f) | (uip ? kAUip : 0));
    }
    if (index <= year && index != seconds_alarm && index != minutes_alarm && index != hours_alarm) {
        return time_register(index, ps);
    }
    return ram_.at(index);
}

// Port 0x70 is the index (bits 6:0) and the NMI mask (bit 7); reading it back returns what
// was written (the port is write-only on PC/AT boards; chipsets differ).
void RtcCmos::transport(tlm::tlm_generic_payload& gp, sc_core::sc_time&) {
    if (!is_register_access(gp)) return;
    const auto offset = static_cast<unsigned>(gp.get_address());
    const unsigned length = gp.get_data_length();
    const uint64_t ps = now_ps();
    if (gp.is_read()) {
        uint64_t value = 0;
        const auto index_port = static_cast<uint8_t>(index_ | (nmi_disabled_ ? kNmiDisable : 0));
        for (unsigned i = 0; i < length; ++i) {
            const uint8_t byte = (offset + i) & 1 ? read_data(ps) : index_port;
            value |= uint64_t{byte} << (8 * i);
        }
        set_payload_value(gp, value);
    } else if (gp.is_write()) {
        const uint64_t value = payload_value(gp);
        for (unsigned i = 0; i < length; ++i) {
            const auto byte = static_cast<uint8_t>(value >> (8 * i));
            if ((offset + i) & 1) {
                write_data(byte, ps);
            } else {
                index_ = byte & 0x7f;
                nmi_disabled_ = (byte & kNmiDisable) != 0;
            }
        }
    }
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

// Reading register C returns and clears the flags, which drops IRQ8.
uint8_t RtcCmos::read_data(uint64_t ps) {
    if (index_ != reg_c) return peek(index_);
    ++counts_.c_reads;
    const uint8_t value = peek(reg_c);
    flags_ = 0;
    flags_since_ps_ = ps;
    update_irq(ps);
    schedule(ps);
    return value;
}

void RtcCmos::write_data(uint8_t value, uint64_t ps) {
    switch (index_) {
        case reg_a:
        case reg_b: write_control(index_, value, ps); break;
        case reg_c:
        case reg_d: break;  // read-only
        case seconds_alarm:
        case minutes_alarm:
        case hours_alarm:
            settle_flags(ps);
            ram_[index_] = value;
            schedule(ps);
            break;
        default:
            if (index_ <= year) {
                write_time_register(index_, value, ps);
            } else {
                ram_[index_] = value;
            }
            break;
    }
}

// --- Time ------------------------------------------------------------------------------------

uint64_t RtcCmos::divider_ticks(uint64_t ps) const {
    return divider_base_ticks_ + kClock.ticks_at(ps - divider_base_ps_);
}

uint64_t RtcCmos::time_of_divider_tick(uint64_t tick) const {
    return divider_base_ps_ + kClock.time_of(tick - divider_base_ticks_);
}

// Register A's rate select, for a 32.768 kHz time base (data sheet Table 5): RS 3-15 tap
// the divider at 2^(RS-1) ticks (122.070 us .. 500 ms); RS 1 and 2 repeat RS 8 and 9.
uint64_t RtcCmos::periodic_ticks() const {
    const unsigned rs = ram_[reg_a] & kARateMask;
    if (rs == 0) return 0;
    return uint64_t{1} << (rs <= 2 ? rs + 6 : rs - 1);
}

RtcDateTime RtcCmos::shown(uint64_t ps) const {
    if (!updating()) return held_;
    RtcDateTime t = date_time(seconds_at_tick0_ +
                              static_cast<int64_t>(divider_ticks(ps) / kTicksPerSecond));
    t.day_of_week = static_cast<unsigned>((t.day_of_week - 1 + dow_offset_) % 7 + 1);
    return t;
}

void RtcCmos::set_shown(const RtcDateTime& time, uint64_t ps) {
    const int64_t s = calendar_seconds(time);
    seconds_at_tick0_ = s - static_cast<int64_t>(divider_ticks(ps) / kTicksPerSecond);
    const unsigned implied = date_time(s).day_of_week;
    dow_offset_ = static_cast<int>((time.day_of_week + 7 - implied) % 7);
}

// DM selects binary or BCD, 24/12 the hour format (bit 7 = PM in 12-hour mode).
uint8_t RtcCmos::encode(unsigned value) const {
    return (ram_[reg_b] & kBBinary) ? static_cast<uint8_t>(value) : to_bcd(value);
}

unsigned RtcCmos::decode(uint8_t raw) const {
    return (ram_[reg_b] & kBBinary) ? raw : (raw >> 4) * 10u + (raw & 0x0f);
}

uint8_t RtcCmos::encode_hour(unsigned hour24) const {
    if (ram_[reg_b] & kB24Hour) return encode(hour24);
    const unsigned hour12 = hour24 % 12 == 0 ? 12 : hour24 % 12;
    return static_cast<uint8_t>(encode(hour12) | (hour24 >= 12 ? 0x80 : 0));
}

unsigned RtcCmos::decode_hour(uint8_t raw) const {
    if (ram_[reg_b] & kB24Hour) return decode(raw);
    return decode(raw & 0x7f) % 12 + ((raw & 0x80) ? 12 : 0);
}

uint8_t RtcCmos::time_register(unsigned index, uint64_t ps) const {
    const RtcDateTime t = shown(ps);
    switch (index) {
        case seconds: return encode(t.second);
        case minutes: return encode(t.minute);
        case hours: return encode_hour(t.hour);
        case day_of_week: return encode(t.day_of_week);
        case day_of_month: return encode(t.day);
        case month: return encode(t.month);
        default: return encode(static_cast<unsigned>(((t.year % 100) + 100) % 100));
    }
}

// The year register holds two digits; the century stays the one the clock is in (the chip
// has no century: firmware keeps it at CMOS 0x32).
void RtcCmos::write_time_register(unsigned index, uint8_t value, uint64_t ps) {
    ++counts_.time_writes;
    settle_flags(ps);
    RtcDateTime t = shown(ps);
    switch (index) {
        case seconds: t.second = decode(value); break;
        case minutes: t.minute = decode(value); break;
        case hours: t.hour = decode_hour(value); break;
        case day_of_week: t.day_of_week = decode(value); break;
        case day_of_month: t.day = decode(value); break;
        case month: t.month = decode(value); break;
        default:
            t.year = t.year - ((t.year % 100) + 100) % 100 + static_cast<int>(decode(value));
            break;
    }
    if (updating()) {
        set_shown(t, ps);
    } else {
        held_ = t;
    }
    update_irq(ps);
    schedule(ps);
}

// Register A (DV, RS; UIP is read-only) and B. SET stops updates and clears UIE; the time
// set while it is on runs from the moment it is cleared. Leaving divider reset (or another
// time base) for 32.768 kHz puts the first update 500 ms later.
void RtcCmos::write_control(unsigned index, uint8_t value, uint64_t ps) {
    settle_flags(ps);
    const bool was_running = divider_running();
    if (updating()) held_ = shown(ps);
    ram_[index] = index == reg_a ? (value & 0x7f) : value;
    if (index == reg_b && (value & kBSet)) ram_[reg_b] &= static_cast<uint8_t>(~kBUie);
    if (!was_running && divider_running()) {
        divider_base_ps_ = ps;
        divider_base_ticks_ = kTicksPerSecond / 2;
    }
    if (updating()) set_shown(held_, ps);
    update_irq(ps);
    schedule(ps);
}

// Hours, minutes and seconds each match unless the alarm byte is "don't care" (11xxxxxx).
bool RtcCmos::alarm_matches(int64_t calendar_seconds_value) const {
    RtcDateTime t = date_time(calendar_seconds_value);
    const auto match = [](uint8_t alarm, uint8_t now) {
        return (alarm & kAlarmDontCare) == kAlarmDontCare || alarm == now;
    };
    return match(ram_[seconds_alarm], encode(t.second)) &&
           match(ram_[minutes_alarm], encode(t.minute)) &&
           match(ram_[hours_alarm], encode_hour(t.hour));
}

// --- Flags and IRQ8 --------------------------------------------------------------------------

// The flags set by divider edges in (from, to], with registers A and B as they are now (every
// change of them settles the flags first). PF is set at each periodic tap edge, UF at each
// update, AF at an update whose new time matches the alarm; with or without their enables.
uint8_t RtcCmos::flags_between(uint64_t from_ps, uint64_t to_ps) const {
    if (!divider_running() || to_ps <= from_ps) return 0;
    const uint64_t from = divider_ticks(from_ps), to = divider_ticks(to_ps);
    uint8_t f = 0;
    if (const uint64_t p = periodic_ticks(); p && to / p > from / p) f |= kCPf;
    const uint64_t first_update = from / kTicksPerSecond + 1, last_update = to / kTicksPerSecond;
    if (updating() && last_update >= first_update) {
        f |= kCUf;
        const uint64_t last = std::min(last_update, first_update + kSecondsPerDay - 1);
        for (uint64_t u = first_update; u <= last; ++u) {
            if (alarm_matches(seconds_at_tick0_ + static_cast<int64_t>(u))) {
                f |= kCAf;
                break;
            }
        }
    }
    return f;
}

void RtcCmos::settle_flags(uint64_t ps) {
    flags_ = flags(ps);
    flags_since_ps_ = ps;
}

// IRQF = (PF and PIE) or (AF and AIE) or (UF and UIE): flag and enable bits line up.
void RtcCmos::update_irq(uint64_t ps) {
    const bool level = (flags(ps) & ram_[reg_b] & 0x70) != 0;
    if (level == irq_level_) return;
    irq_level_ = level;
    if (level) ++counts_.irqs;
    if (irq_) irq_(level);
}

// Wakes at the next edge that could set IRQF: a periodic tap (PIE) or an update (UIE, or AIE,
// whose match is checked at each update). Nothing while IRQF is already set: only reading
// register C can lower it.
void RtcCmos::schedule(uint64_t ps) {
    event_.cancel();
    if (irq_level_ || !divider_running()) return;
    const uint8_t enables = ram_[reg_b];
    const uint64_t now = divider_ticks(ps);
    uint64_t next = ~uint64_t{0};
    if (const uint64_t p = periodic_ticks(); p && (enables & kBPie)) next = (now / p + 1) * p;
    if ((enables & (kBAie | kBUie)) && updating()) {
        next = std::min(next, (now / kTicksPerSecond + 1) * kTicksPerSecond);
    }
    if (next == ~uint64_t{0}) return;
    event_.notify(sc_core::sc_time::from_value(time_of_divider_tick(next) - ps));
}

void RtcCmos::on_event() {
    ++counts_.wakeups;
    const uint64_t ps = now_ps();
    update_irq(ps);
    schedule(ps);
}

void RtcCmos::report(sim::StatsWriter& out) const {
    const std::string prefix = name();
    out.scalar(prefix + ".irqs", static_cast<double>(counts_.irqs), "edges",
               "rising edges of IRQ8 (IRQF set)");
    out.scalar(prefix + ".c_reads", static_cast<double>(counts_.c_reads), "reads",
               "reads of register C (acknowledging the interrupt)");
    out.scalar(prefix + ".time_writes", static_cast<double>(counts_.time_writes), "writes",
               "writes to the time and date registers");
    out.scalar(prefix + ".wakeups", static_cast<double>(counts_.wakeups), "activations",
               "SystemC process activations");
}

}  // namespace bus
