// bus::Uart16550: the PC serial port (National Semiconductor PC16550D, "16550A" to Linux), as
// a TLM-2.0 target of eight byte registers. Context: an I/O-port device (COM1 at 0x3f8); the
// router hands it offsets 0..7. Register names and bits follow the PC16550D data sheet.
//
// Transmission is instantaneous: a byte written to THR goes to the output sink at once, so LSR
// always shows THR empty and polling drivers never wait. Received bytes come from an input
// queue filled by the embedder (push_input). The interrupt output is a level, reported through
// a callback when it changes; as on a PC, it reaches the interrupt controller only while MCR
// OUT2 is set and the port is not in loopback.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string_view>

#include "bus/char_sink.h"
#include "bus/tlm_types.h"

namespace bus {

class Uart16550 final : public sc_core::sc_module {
public:
    // Register offsets; two registers share an offset, selected by direction or LCR.DLAB.
    enum Reg : uint8_t {
        rbr_thr = 0,  // DLAB=1: divisor latch low (DLL)
        ier = 1,      // DLAB=1: divisor latch high (DLM)
        iir_fcr = 2,
        lcr = 3,
        mcr = 4,
        lsr = 5,
        msr = 6,
        scr = 7,
    };
    static constexpr uint8_t kIerReceivedData = 0x01, kIerThrEmpty = 0x02,
                             kIerLineStatus = 0x04, kIerModemStatus = 0x08;
    static constexpr uint8_t kIirNoInterrupt = 0x01, kIirModemStatus = 0x00,
                             kIirThrEmpty = 0x02, kIirReceivedData = 0x04,
                             kIirFifosEnabled = 0xc0;
    static constexpr uint8_t kFcrEnable = 0x01, kFcrClearReceive = 0x02;
    static constexpr uint8_t kLcrDlab = 0x80;
    static constexpr uint8_t kMcrDtr = 0x01, kMcrRts = 0x02, kMcrOut1 = 0x04, kMcrOut2 = 0x08,
                             kMcrLoop = 0x10;
    static constexpr uint8_t kLsrDataReady = 0x01, kLsrThrEmpty = 0x20,
                             kLsrTransmitterEmpty = 0x40;
    static constexpr uint8_t kMsrCts = 0x10, kMsrDsr = 0x20, kMsrRi = 0x40, kMsrDcd = 0x80;

    using IrqLine = std::function<void(bool level)>;

    SimpleTargetSocket<Uart16550> socket;

    Uart16550(sc_core::sc_module_name name, CharSink output);

    // Bytes the guest will read from RBR, in order.
    void push_input(std::string_view bytes);
    // Called with the new level whenever the interrupt output changes.
    void connect_irq(IrqLine line);

    bool irq_level() const { return irq_level_; }
    uint64_t transmitted() const { return transmitted_; }
    uint16_t divisor() const { return divisor_; }
    // Power-on state (data sheet "Reset" table); the input queue and counters survive.
    void reset();

private:
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    uint8_t read(unsigned offset);
    void write(unsigned offset, uint8_t value);
    void transmit(uint8_t byte);
    void write_mcr(uint8_t value);
    uint8_t modem_inputs() const;
    uint8_t pending_interrupt() const;
    void update_irq();

    CharSink output_;
    IrqLine irq_;
    std::deque<uint8_t> input_;
    uint16_t divisor_;
    uint8_t ier_, lcr_, mcr_, scr_;
    uint8_t msr_deltas_;  // MSR bits 0..3, cleared by reading MSR
    bool fifo_enabled_;
    bool thr_empty_pending_;  // the THR-empty interrupt condition (cleared by IIR read, THR write)
    bool irq_level_ = false;
    uint64_t transmitted_ = 0;
};

}  // namespace bus
