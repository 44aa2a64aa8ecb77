// The 8259A command words, priority resolution and the cascaded acknowledge. Context: port I/O
// from the guest, input changes from the IRQ router (b_transport or device processes), and the
// processor's interrupt acknowledge.
#include "bus/pic8259.h"

#include <map>
#include <string>

#include "bus/payload.h"

namespace bus {

// ELCR bits that must stay 0: IRQ 0, 1, 2 (master) and 8, 13 (slave) are edge-triggered.
constexpr uint8_t kElcrMasterMask = 0xf8, kElcrSlaveMask = 0xde;

// --- One 8259A --------------------------------------------------------------------------

// Scans from the highest priority (the IR after the lowest) down.
int Pic8259::Chip::highest(uint8_t bits) const {
    for (unsigned i = 1; i <= 8; ++i) {
        const unsigned ir = (lowest_ + i) & 7;
        if (bits >> ir & 1) return static_cast<int>(ir);
    }
    return -1;
}

// Fully nested mode: a request goes out only if it outranks every level in service. Special
// mask mode: in-service levels that are masked stop blocking. Special fully nested mode: the
// master lets a cascade input through while that input is in service, so a slave can nest
// its own priorities.
int Pic8259::Chip::pending() const {
    const int ir = highest(irr_ & ~imr_);
    if (ir < 0) return -1;
    uint8_t blocking = special_mask_ ? isr_ & ~imr_ : isr_;
    if (sfnm_ && is_cascade(static_cast<unsigned>(ir))) blocking &= ~(1u << ir);
    const int in_service = highest(blocking);
    if (in_service < 0) return ir;
    const auto rank = [this](int level) { return (level - static_cast<int>(lowest_) - 1) & 7; };
    return rank(ir) < rank(in_service) ? ir : -1;
}

// A level-triggered request stays in IRR while its line is high, so an IS bit cleared while
// the device still asserts it brings the interrupt back.
void Pic8259::Chip::acknowledge(unsigned ir) {
    const auto bit = static_cast<uint8_t>(1u << ir);
    if (!is_level(ir)) irr_ &= static_cast<uint8_t>(~bit);
    if (!aeoi_) {
        isr_ |= bit;
    } else if (rotate_on_aeoi_) {
        lowest_ = ir;
    }
}

// "Edge and Level Triggered Modes": an edge request is latched by a rising edge, a level
// request follows the line; in both, the line must still be high at acknowledge time.
void Pic8259::Chip::set_input(unsigned ir, bool level) {
    const auto bit = static_cast<uint8_t>(1u << ir);
    const bool was = (lines_ & bit) != 0;
    lines_ = level ? (lines_ | bit) : (lines_ & static_cast<uint8_t>(~bit));
    if (!level) {
        irr_ &= static_cast<uint8_t>(~bit);
    } else if (!was || is_level(ir)) {
        irr_ |= bit;
    }
}

void Pic8259::Chip::set_elcr(uint8_t value) {
    elcr_ = value & (slave_ ? kElcrSlaveMask : kElcrMasterMask);
    const uint8_t level = ltim_ ? 0xff : elcr_;
    irr_ = static_cast<uint8_t>((irr_ & ~level) | (lines_ & level));
}

// A0 = 0: ICW1 if D4, else OCW3 if D3, else OCW2. A0 = 1: the next expected ICW, else OCW1.
void Pic8259::Chip::write(unsigned a0, uint8_t value) {
    if (a0 == 0) {
        if (value & 0x10) {
            icw1(value);
        } else if (value & 0x08) {
            ocw3(value);
        } else {
            ocw2(value);
        }
        return;
    }
    switch (expect_) {
        case Expect::icw2:
            icw2_ = value;
            expect_ = !single_ ? Expect::icw3 : need_icw4_ ? Expect::icw4 : Expect::ocw;
            break;
        case Expect::icw3:
            icw3_ = value;  // master: inputs with a slave; slave: its ID (unused on the PC)
            expect_ = need_icw4_ ? Expect::icw4 : Expect::ocw;
            break;
        case Expect::icw4:
            aeoi_ = (value & 0x02) != 0;
            sfnm_ = (value & 0x10) != 0;  // bit 0 (8086 mode) is assumed; buffering is moot
            expect_ = Expect::ocw;
            break;
        case Expect::ocw: imr_ = value; break;
    }
}

// ICW1 resets: edge sense (an edge input must rise again), IMR cleared, IR7 lowest priority,
// special mask off, status read = IRR, ICW4 functions cleared without IC4. The data sheet
// names no IS or IR bits: they are cleared too, so a re-initialised chip has nothing in
// service; level inputs still high request again at once.
void Pic8259::Chip::icw1(uint8_t value) {
    ++inits_;
    ltim_ = (value & 0x08) != 0;
    single_ = (value & 0x02) != 0;
    need_icw4_ = (value & 0x01) != 0;
    imr_ = isr_ = 0;
    irr_ = lines_ & (ltim_ ? 0xff : elcr_);
    lowest_ = 7;
    special_mask_ = read_isr_ = poll_ = rotate_on_aeoi_ = false;
    if (!need_icw4_) aeoi_ = sfnm_ = false;
    expect_ = Expect::icw2;
}

// OCW2 R/SL/EOI: 001 non-specific EOI, 011 specific EOI, 101 rotate on non-specific EOI,
// 111 rotate on specific EOI, 100/000 set/clear rotate in auto-EOI, 110 set priority, 010 nop.
// A non-specific EOI in special mask mode leaves masked IS bits alone ("End of Interrupt").
void Pic8259::Chip::ocw2(uint8_t value) {
    const unsigned level = value & 7;
    const unsigned command = value >> 5;
    switch (command) {
        case 1:
        case 5: {
            ++eois_;
            const int ir = highest(special_mask_ ? isr_ & ~imr_ : isr_);
            if (ir < 0) break;
            isr_ &= static_cast<uint8_t>(~(1u << ir));
            if (command == 5) lowest_ = static_cast<unsigned>(ir);
            break;
        }
        case 3:
        case 7:
            ++eois_;
            isr_ &= static_cast<uint8_t>(~(1u << level));
            if (command == 7) lowest_ = level;
            break;
        case 4: rotate_on_aeoi_ = true; break;
        case 0: rotate_on_aeoi_ = false; break;
        case 6: lowest_ = level; break;
        default: break;
    }
}

// OCW3: ESMM/SMM (6:5), P (2), RR/RIS (1:0).
void Pic8259::Chip::ocw3(uint8_t value) {
    if (value & 0x40) special_mask_ = (value & 0x20) != 0;
    if (value & 0x02) read_isr_ = (value & 0x01) != 0;
    poll_ = (value & 0x04) != 0;
}

// Poll: the read is the acknowledge; the word is I (bit 7) and the level (2:0).
uint8_t Pic8259::Chip::read(unsigned a0) {
    if (poll_) {
        poll_ = false;
        const int ir = pending();
        if (ir < 0) return 0;
        acknowledge(static_cast<unsigned>(ir));
        return static_cast<uint8_t>(0x80 | ir);
    }
    if (a0) return imr_;
    return read_isr_ ? isr_ : irr_;
}

// --- The pair -------------------------------------------------------------------------------

Pic8259::Pic8259(sc_core::sc_module_name name)
    : sc_core::sc_module(name),
      master_socket("master_socket"),
      slave_socket("slave_socket"),
      elcr_socket("elcr_socket") {
    master_socket.register_b_transport(this, &Pic8259::master_transport);
    slave_socket.register_b_transport(this, &Pic8259::slave_transport);
    elcr_socket.register_b_transport(this, &Pic8259::elcr_transport);
}

void Pic8259::set_irq(unsigned irq, bool level) {
    if (irq >= 16 || irq == kCascadeIr) return;
    const auto bit = static_cast<uint16_t>(1u << irq);
    if (level && !(lines_ & bit)) ++counts_.raised[irq];
    lines_ = level ? (lines_ | bit) : (lines_ & static_cast<uint16_t>(~bit));
    (irq < 8 ? master_ : slave_).set_input(irq & 7, level);
    update();
}

void Pic8259::connect_intr(IrqLine line) {
    intr_line_ = std::move(line);
    if (intr_line_) intr_line_(intr_);
}

void Pic8259::update() {
    master_.set_input(kCascadeIr, slave_.pending() >= 0);
    const bool level = master_.pending() >= 0;
    if (level == intr_) return;
    intr_ = level;
    if (intr_line_) intr_line_(level);
}

// "Interrupt Sequence" (8086 mode). INT falls during the sequence (the new IS bit blocks what
// is left) and rises again after it if a request still outranks everything in service, so
// the slave's INT gives master IR2 a fresh edge for its next request.
int Pic8259::acknowledge() {
    const int ir = master_.pending();
    if (ir < 0) {
        ++counts_.spurious_master;
        return master_.vector(7);
    }
    master_.acknowledge(static_cast<unsigned>(ir));
    int vector = master_.vector(static_cast<unsigned>(ir));
    if (master_.is_cascade(static_cast<unsigned>(ir))) {
        const int slave_ir = slave_.pending();
        if (slave_ir < 0) {
            ++counts_.spurious_slave;
            vector = slave_.vector(7);
        } else {
            slave_.acknowledge(static_cast<unsigned>(slave_ir));
            ++counts_.acknowledged[8 + slave_ir];
            vector = slave_.vector(static_cast<unsigned>(slave_ir));
        }
        master_.set_input(kCascadeIr, false);
    } else {
        ++counts_.acknowledged[ir];
    }
    update();
    return vector;
}

void Pic8259::master_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time&) {
    chip_transport(master_, gp);
}

void Pic8259::slave_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time&) {
    chip_transport(slave_, gp);
}

// Two ports per chip (A0); a word access touches both, lowest port first.
void Pic8259::chip_transport(Chip& chip, tlm::tlm_generic_payload& gp) {
    if (!is_register_access(gp)) return;
    const auto offset = static_cast<unsigned>(gp.get_address());
    const unsigned length = gp.get_data_length();
    if (gp.is_read()) {
        uint64_t value = 0;
        for (unsigned i = 0; i < length; ++i) {
            value |= uint64_t{chip.read((offset + i) & 1)} << (8 * i);
        }
        set_payload_value(gp, value);
    } else if (gp.is_write()) {
        const uint64_t value = payload_value(gp);
        for (unsigned i = 0; i < length; ++i) {
            chip.write((offset + i) & 1, static_cast<uint8_t>(value >> (8 * i)));
        }
    }
    update();
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

void Pic8259::elcr_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time&) {
    if (!is_register_access(gp)) return;
    const auto offset = static_cast<unsigned>(gp.get_address());
    const unsigned length = gp.get_data_length();
    if (gp.is_read()) {
        uint64_t value = 0;
        for (unsigned i = 0; i < length; ++i) {
            value |= uint64_t{(offset + i) & 1 ? slave_.elcr() : master_.elcr()} << (8 * i);
        }
        set_payload_value(gp, value);
    } else if (gp.is_write()) {
        const uint64_t value = payload_value(gp);
        for (unsigned i = 0; i < length; ++i) {
            ((offset + i) & 1 ? slave_ : master_).set_elcr(static_cast<uint8_t>(value >> (8 * i)));
        }
        update();
    }
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

namespace {
std::map<std::string, uint64_t> by_irq(const uint64_t (&counts)[16]) {
    std::map<std::string, uint64_t> bins;
    for (unsigned irq = 0; irq < 16; ++irq) {
        if (counts[irq]) bins[std::to_string(irq)] = counts[irq];
    }
    return bins;
}
}  // namespace

void Pic8259::report(sim::StatsWriter& out) const {
    const std::string prefix = name();
    out.histogram(prefix + ".raised", by_irq(counts_.raised), "edges",
                  "rising edges of each IRQ input");
    out.histogram(prefix + ".acknowledged", by_irq(counts_.acknowledged), "interrupts",
                  "vectors delivered by interrupt acknowledge, by IRQ");
    out.histogram(prefix + ".spurious",
                  {{"7", counts_.spurious_master}, {"15", counts_.spurious_slave}}, "interrupts",
                  "acknowledges that found no request (IR7 of the master or slave)");
    out.scalar(prefix + ".eois", static_cast<double>(master_.eois() + slave_.eois()), "commands",
               "EOI commands (OCW2), both chips");
    out.scalar(prefix + ".initialisations",
               static_cast<double>(master_.initialisations() + slave_.initialisations()),
               "commands", "ICW1 writes, both chips");
}

}  // namespace bus
