// 16550A register behaviour. Context: port I/O from the guest through the I/O router; one
// b_transport per IN/OUT, byte registers only.
#include "bus/uart16550.h"

#include "bus/payload.h"

namespace bus {

Uart16550::Uart16550(sc_core::sc_module_name name, CharSink output)
    : sc_core::sc_module(name), socket("socket"), output_(std::move(output)) {
    socket.register_b_transport(this, &Uart16550::b_transport);
    reset();
}

void Uart16550::reset() {
    // The data sheet leaves the divisor undefined at reset; 12 (9600 baud from the PC's
    // 1.8432 MHz clock) is what firmware usually leaves there.
    divisor_ = 12;
    ier_ = lcr_ = mcr_ = scr_ = 0;
    msr_deltas_ = 0;
    fifo_enabled_ = false;
    thr_empty_pending_ = false;
    update_irq();
}

void Uart16550::push_input(std::string_view bytes) {
    input_.insert(input_.end(), bytes.begin(), bytes.end());
    update_irq();
}

void Uart16550::connect_irq(IrqLine line) {
    irq_ = std::move(line);
    if (irq_) irq_(irq_level_);
}

// A wider access touches consecutive registers, lowest address in the lowest byte, as an
// 8-bit device on the ISA bus sees a 16-bit IN/OUT.
void Uart16550::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time&) {
    byte_register_transport(
        gp, [this](unsigned o) { return read(o); }, [this](unsigned o, uint8_t v) { write(o, v); });
}

uint8_t Uart16550::read(unsigned offset) {
    const bool dlab = (lcr_ & kLcrDlab) != 0;
    switch (offset) {
        case rbr_thr: {
            if (dlab) return static_cast<uint8_t>(divisor_);
            if (input_.empty()) return 0;
            const uint8_t byte = input_.front();
            input_.pop_front();
            update_irq();
            return byte;
        }
        case ier: return dlab ? static_cast<uint8_t>(divisor_ >> 8) : ier_;
        case iir_fcr: {
            const uint8_t pending = pending_interrupt();
            // Reading IIR acknowledges a THR-empty interrupt (data sheet, Table IV).
            if (pending == kIirThrEmpty) {
                thr_empty_pending_ = false;
                update_irq();
            }
            return pending | (fifo_enabled_ ? kIirFifosEnabled : 0);
        }
        case lcr: return lcr_;
        case mcr: return mcr_;
        case lsr:
            return kLsrThrEmpty | kLsrTransmitterEmpty | (input_.empty() ? 0 : kLsrDataReady);
        case msr: {
            const uint8_t value = modem_inputs() | msr_deltas_;
            msr_deltas_ = 0;
            update_irq();
            return value;
        }
        default: return scr_;
    }
}

void Uart16550::write(unsigned offset, uint8_t value) {
    const bool dlab = (lcr_ & kLcrDlab) != 0;
    switch (offset) {
        case rbr_thr:
            if (dlab) {
                divisor_ = static_cast<uint16_t>((divisor_ & 0xff00) | value);
            } else {
                transmit(value);
            }
            break;
        case ier:
            if (dlab) {
                divisor_ = static_cast<uint16_t>((divisor_ & 0x00ff) | (value << 8));
            } else {
                // Enabling the THR-empty interrupt while THR is empty raises it at once; Linux's
                // 8250 driver relies on this to start transmission.
                if ((value & kIerThrEmpty) && !(ier_ & kIerThrEmpty)) thr_empty_pending_ = true;
                ier_ = value & 0x0f;
                update_irq();
            }
            break;
        case iir_fcr:
            // Only the enable bit is kept: received bytes wait in one queue either way, and
            // transmission never waits, so trigger levels have nothing to act on.
        {
            const bool enable = (value & kFcrEnable) != 0;
            if (enable != fifo_enabled_ || (value & kFcrClearReceive)) input_.clear();
            fifo_enabled_ = enable;
            update_irq();
            break;
        }
        case lcr: lcr_ = value; break;
        case mcr: write_mcr(value & 0x1f); break;
        case lsr: break;  // factory test register on real parts; writes have no defined effect
        case msr: break;  // read-only
        default: scr_ = value; break;
    }
}

void Uart16550::transmit(uint8_t byte) {
    ++transmitted_;
    if (mcr_ & kMcrLoop) {
        input_.push_back(byte);  // loopback: the serial output is wired to the input
    } else if (output_) {
        output_(static_cast<char>(byte));
    }
    thr_empty_pending_ = true;  // transmission is instantaneous: THR is empty again
    update_irq();
}

// In loopback the modem inputs are the modem outputs (DTR->DSR, RTS->CTS, OUT1->RI,
// OUT2->DCD); otherwise a terminal that is present and ready: CTS, DSR and DCD asserted.
uint8_t Uart16550::modem_inputs() const {
    if (!(mcr_ & kMcrLoop)) return kMsrCts | kMsrDsr | kMsrDcd;
    return static_cast<uint8_t>(((mcr_ & kMcrRts) ? kMsrCts : 0) |
                                ((mcr_ & kMcrDtr) ? kMsrDsr : 0) |
                                ((mcr_ & kMcrOut1) ? kMsrRi : 0) |
                                ((mcr_ & kMcrOut2) ? kMsrDcd : 0));
}

void Uart16550::write_mcr(uint8_t value) {
    const uint8_t before = modem_inputs();
    mcr_ = value;
    const uint8_t after = modem_inputs();
    const uint8_t changed = before ^ after;
    // Delta bits: DCTS, DDSR, DDCD on any change; TERI only when RI goes from on to off.
    msr_deltas_ |= static_cast<uint8_t>(((changed & kMsrCts) ? 0x01 : 0) |
                                        ((changed & kMsrDsr) ? 0x02 : 0) |
                                        ((before & kMsrRi) && !(after & kMsrRi) ? 0x04 : 0) |
                                        ((changed & kMsrDcd) ? 0x08 : 0));
    update_irq();
}

// IIR identification, highest priority first. Receiver line status (errors, priority 1) never
// occurs: the model has no overruns, parity or framing errors.
uint8_t Uart16550::pending_interrupt() const {
    if ((ier_ & kIerReceivedData) && !input_.empty()) return kIirReceivedData;
    if ((ier_ & kIerThrEmpty) && thr_empty_pending_) return kIirThrEmpty;
    if ((ier_ & kIerModemStatus) && msr_deltas_ != 0) return kIirModemStatus;
    return kIirNoInterrupt;
}

void Uart16550::update_irq() {
    const bool level = pending_interrupt() != kIirNoInterrupt && (mcr_ & kMcrOut2) &&
                       !(mcr_ & kMcrLoop);
    if (level == irq_level_) return;
    irq_level_ = level;
    if (irq_) irq_(level);
}

}  // namespace bus
