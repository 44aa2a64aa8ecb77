// bus::RtcCmos: the PC's Motorola MC146818A real-time clock and its CMOS RAM behind the index
// and data ports 0x70/0x71, as a TLM-2.0 target. Context: I/O-port device; IRQ8 (the RTC
// interrupt), NMI enable bit for the machine.
//
// Reference: MC146818A data sheet: "Address Map", "Time, Calendar and Alarm Locations",
// "Register A" (UIP, DV2-0, RS3-0 with Table 5, periodic rates for a 32.768 kHz base),
// "Register B" (SET, PIE, AIE, UIE, SQWE, DM, 24/12, DSE), "Register C" (IRQF, PF, AF, UF),
// "Register D" (VRT), "Update Cycle". The CMOS layout above register D follows the IBM PC/AT
// BIOS: memory sizes at 0x15-0x18, 0x30-0x31, 0x34-0x35, checksum at 0x2e-0x2f, century at 0x32.
//
// The clock is the configured start time plus simulated time, so a run is reproducible. The
// 32.768 kHz divider chain is counted from SystemC time; updates (once a second), periodic
// taps and flags are computed from it when read, and one SystemC event wakes the device only
// when IRQ8 must rise (an enabled flag about to be set), at the exact time of that edge.
// Updates are instantaneous at the second boundary; UIP reads 1 for the 244 us + 1984 us
// before it, so software that waits for UIP to clear has the data sheet's margin.
// Simplifications: dates are held as a calendar time while the clock runs (a register write
// normalises, e.g. day 31 of a 30-day month rolls over), the leap-year rule is Gregorian, DSE
// does nothing, and only the 32.768 kHz time base (DV = 010) runs the clock.
#pragma once

#include <array>
#include <cstdint>

#include "bus/device_clock.h"
#include "bus/irq.h"
#include "bus/tlm_types.h"
#include "sim/kernel/stats.h"

namespace bus {

struct RtcDateTime {
    int year = 2024;
    unsigned month = 1, day = 1, hour = 0, minute = 0, second = 0;
    unsigned day_of_week = 0;  // 1 = Sunday; ignored as a start time (derived from the date)
};

struct RtcConfig {
    RtcDateTime start;      // what the clock shows at simulated time zero
    uint64_t ram_size = 0;  // for the BIOS memory-size bytes; 0 leaves them zero
};

class RtcCmos final : public sc_core::sc_module {
public:
    enum Reg : uint8_t {
        seconds = 0x00, seconds_alarm = 0x01, minutes = 0x02, minutes_alarm = 0x03,
        hours = 0x04, hours_alarm = 0x05, day_of_week = 0x06, day_of_month = 0x07,
        month = 0x08, year = 0x09, reg_a = 0x0a, reg_b = 0x0b, reg_c = 0x0c, reg_d = 0x0d,
        checksum_high = 0x2e, checksum_low = 0x2f, century = 0x32,
    };
    static constexpr uint8_t kAUip = 0x80, kADividerMask = 0x70, kADivider32k = 0x20,
                             kARateMask = 0x0f;
    static constexpr uint8_t kBSet = 0x80, kBPie = 0x40, kBAie = 0x20, kBUie = 0x10,
                             kBSqwe = 0x08, kBBinary = 0x04, kB24Hour = 0x02, kBDse = 0x01;
    static constexpr uint8_t kCIrqf = 0x80, kCPf = 0x40, kCAf = 0x20, kCUf = 0x10;
    static constexpr uint8_t kDVrt = 0x80;
    static constexpr uint8_t kNmiDisable = 0x80;  // port 0x70 bit 7
    static constexpr uint8_t kAlarmDontCare = 0xc0;
    static constexpr DeviceClock kClock{32'768};
    static constexpr uint64_t kTicksPerSecond = 32'768;
    static constexpr uint64_t kUipTicks = 8 + 65;  // 244 us before + 1984 us of update cycle
    static constexpr unsigned kBytes = 128;

    SimpleTargetSocket<RtcCmos> socket;  // 0x70-0x71

    explicit RtcCmos(sc_core::sc_module_name name, const RtcConfig& config = {});

    // IRQ8: high while register C's IRQF is set; called with the current level at once.
    void connect_irq(IrqLine line);
    bool irq_level() const { return irq_level_; }
    bool nmi_disabled() const { return nmi_disabled_; }
    uint8_t index() const { return index_; }

    // What the clock shows at this machine's current SystemC time.
    RtcDateTime now();
    // The byte at `index` as the guest reads it, without side effects on register C.
    uint8_t peek(unsigned index);
    // CMOS RAM outside the clock registers (the embedder's firmware settings).
    void set_ram(unsigned index, uint8_t value) { ram_.at(index) = value; }
    // The BIOS's memory-size fields and checksum for `ram_size` bytes of RAM from address 0.
    static void fill_memory_size(std::array<uint8_t, kBytes>& cmos, uint64_t ram_size);

    void report(sim::StatsWriter& out) const;

private:
    SC_HAS_PROCESS(RtcCmos);
    void transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    uint8_t read_data(uint64_t ps);
    void write_data(uint8_t value, uint64_t ps);
    uint64_t now_ps() const;

    // Time.
    bool divider_running() const { return (ram_[reg_a] & kADividerMask) == kADivider32k; }
    bool updating() const { return divider_running() && !(ram_[reg_b] & kBSet); }
    uint64_t divider_ticks(uint64_t ps) const;
    uint64_t time_of_divider_tick(uint64_t tick) const;
    uint64_t periodic_ticks() const;
    RtcDateTime shown(uint64_t ps) const;
    void set_shown(const RtcDateTime& time, uint64_t ps);
    uint8_t time_register(unsigned index, uint64_t ps) const;
    void write_time_register(unsigned index, uint8_t value, uint64_t ps);
    void write_control(unsigned index, uint8_t value, uint64_t ps);
    uint8_t encode(unsigned value) const;
    unsigned decode(uint8_t raw) const;
    uint8_t encode_hour(unsigned hour24) const;
    unsigned decode_hour(uint8_t raw) const;
    bool alarm_matches(int64_t calendar_seconds) const;

    // Flags and IRQ8.
    uint8_t flags_between(uint64_t from_ps, uint64_t to_ps) const;
    uint8_t flags(uint64_t ps) const { return flags_ | flags_between(flags_since_ps_, ps); }
    void settle_flags(uint64_t ps);
    void update_irq(uint64_t ps);
    void schedule(uint64_t ps);
    void on_event();  // SC_METHOD

    std::array<uint8_t, kBytes> ram_{};  // clock registers 0x00-0x09 and 0x0c-0x0d unused
    uint8_t index_ = 0;
    bool nmi_disabled_ = false;
    // The divider shows `divider_base_ticks_` at `divider_base_ps_`; while updating, the clock
    // shows seconds_at_tick0_ + (divider ticks / 32768) seconds, else `held_`.
    uint64_t divider_base_ps_ = 0;
    uint64_t divider_base_ticks_ = 0;
    int64_t seconds_at_tick0_ = 0;
    int dow_offset_ = 0;  // a day of week the guest set, against the one the date implies
    RtcDateTime held_;
    uint8_t flags_ = 0;  // PF, AF, UF settled at flags_since_ps_
    uint64_t flags_since_ps_ = 0;
    bool irq_level_ = false;
    IrqLine irq_;
    sc_core::sc_event event_;

    struct Counts {
        uint64_t irqs = 0;      // rising edges of IRQ8
        uint64_t c_reads = 0;
        uint64_t time_writes = 0;
        uint64_t wakeups = 0;
    } counts_;
};

}  // namespace bus
