// bus::PitCounter: one counter of the Intel 8254 programmable interval timer as a function of
// its input clock, without SystemC. Context: three per Pit8254, which turns SystemC time into
// pulse numbers; unit-testable on its own.
//
// Reference: Intel 8254 Programmable Interval Timer data sheet (231164), "Operational
// Description": modes 0-5, the GATE table, counter latch and read-back commands.
//
// Time is the number of the last CLK pulse that has happened (`now`). The counter is not
// stepped pulse by pulse: a counting sequence is remembered as the pulse at which the counting
// element (CE) was loaded plus the pulses counted since, and CE and OUT are computed from it for
// any later pulse, so a counter costs nothing while it runs and reads back exact values.
// Calls must come with non-decreasing `now`.
#pragma once

#include <cstdint>
#include <optional>

namespace bus {

class PitCounter {
public:
    // Read/write formats (control word bits 5:4).
    enum Access : uint8_t { latch_command = 0, lsb_only = 1, msb_only = 2, lsb_then_msb = 3 };

    explicit PitCounter(bool gate = true) : gate_(gate) {}

    // A control word addressed to this counter with RW != 0 (port 0x43): mode, format, BCD.
    // Resets the control logic; OUT goes to the mode's initial state; the count must be
    // written again.
    void write_control(uint8_t control_word, uint64_t now);
    // Counter latch command (RW = 0) and the read-back command's two latches. A second latch
    // before the value is read is ignored, as the data sheet specifies.
    void latch_count(uint64_t now);
    void latch_status(uint64_t now);

    // A byte written to or read from the counter's port (0x40 + n).
    void write(uint8_t byte, uint64_t now);
    uint8_t read(uint64_t now);

    void set_gate(bool level, uint64_t now);
    bool gate() const { return gate_; }

    // OUT and the counting element at pulse `now`. CE is in binary, 0 .. 65535 (or 0 .. 9999
    // for a BCD counter, before BCD encoding).
    bool out(uint64_t now);
    uint32_t counting_element(uint64_t now);
    // The read-back status byte: OUT, NULL COUNT, then control word bits 5:0.
    uint8_t status(uint64_t now);

    // The first pulse after `now` at which OUT may change (or the counter must look at itself
    // again, for a count that takes effect later); none while OUT stays as it is.
    std::optional<uint64_t> next_change(uint64_t now);

    unsigned mode() const { return mode_; }
    bool bcd() const { return bcd_; }
    // The count in use (N: 1 .. 65536, or 1 .. 10000 in BCD); 0 before any count was loaded.
    uint32_t initial_count() const { return loaded_ ? n_ : 0; }

private:
    uint32_t range() const { return bcd_ ? 10000 : 65536; }
    uint32_t decode(uint16_t raw) const;
    uint16_t encode(uint32_t value) const;
    bool initial_out() const { return mode_ != 0; }
    bool gate_enables_counting() const { return mode_ != 1 && mode_ != 5; }
    uint64_t phase(uint64_t now) const;
    void apply_pending(uint64_t now);
    void count_written(uint64_t now);
    void start(uint32_t n, uint64_t load_tick, uint64_t now, bool counting);
    void defer_to_boundary(uint64_t now);
    bool loaded_at(uint64_t now) const { return loaded_ && now >= load_tick_; }

    // Programming.
    uint8_t control_ = 0;  // control word bits 5:0 (RW, mode as written, BCD)
    unsigned mode_ = 0;    // 0 .. 5 (modes 6 and 7 are 2 and 3)
    bool bcd_ = false;
    uint8_t access_ = lsb_then_msb;
    bool gate_;
    bool armed_ = false;        // a whole count was written since the control word
    uint32_t written_n_ = 0;    // N of the count register (CR)
    uint8_t write_lsb_ = 0;
    bool write_msb_next_ = false;

    // The counting sequence: CE loaded with n_ at load_tick_; from seg_tick_ on, the sequence
    // is at seg_phase_ pulses and advances one per pulse while counting_.
    bool loaded_ = false;
    uint32_t n_ = 0;
    uint64_t load_tick_ = 0;
    uint64_t seg_tick_ = 0;
    uint64_t seg_phase_ = 0;
    bool counting_ = false;
    uint32_t stale_ce_ = 0;     // what CE shows before the next load
    bool stale_out_ = false;    // and OUT, in modes 1-5
    // Modes 2 and 3: a new count waits for the end of the period (half-cycle in mode 3).
    bool pending_ = false;
    uint32_t pending_n_ = 0;
    uint64_t pending_tick_ = 0;
    uint64_t pending_phase_ = 0;
    uint64_t null_count_until_ = ~uint64_t{0};  // NULL COUNT reads 1 before this pulse

    // Reading.
    bool count_latched_ = false;
    bool status_latched_ = false;
    bool read_msb_next_ = false;
    uint16_t latched_count_ = 0;
    uint8_t latched_status_ = 0;
};

}  // namespace bus
