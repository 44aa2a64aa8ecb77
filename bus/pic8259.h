// bus::Pic8259: the PC's two cascaded Intel 8259A interrupt controllers (master at 0x20/0x21,
// slave at 0xa0/0xa1 on master IR2) and their edge/level control registers (ELCR, 0x4d0/0x4d1),
// as TLM-2.0 targets. Context: I/O-port device; inputs from the IRQ router, INTR to the
// processor (LINT0 / ExtINT), which acknowledges through acknowledge().
//
// Reference: Intel 8259A Programmable Interrupt Controller data sheet (231468): ICW1-ICW4,
// OCW1-OCW3, "Interrupt Sequence", "The Special Fully Nested Mode", "End of Interrupt",
// "Automatic Rotation", "Special Mask Mode", "Poll Command", "Edge and Level Triggered Modes";
// ELCR as on Intel PIIX/ICH chipsets (IRQ 0, 1, 2, 8, 13 always edge-triggered).
//
// Only the 8086 mode is modelled: vectors are ICW2[7:3] | IR. An IR input that is edge-
// triggered requests on a rising edge and must stay high until acknowledged; a level-triggered
// one requests while high. A request that has gone by acknowledge time gives IR7 (spurious).
#pragma once

#include <cstdint>

#include "bus/irq.h"
#include "bus/tlm_types.h"
#include "sim/kernel/stats.h"

namespace bus {

class Pic8259 final : public sc_core::sc_module, public IrqSink {
public:
    // One 8259A. Plain state machine; the pair wires two of them.
    class Chip {
    public:
        explicit Chip(bool slave) : slave_(slave) {}
        void write(unsigned a0, uint8_t value);
        // Port read; a read after a poll command is itself the acknowledge (sets the IS bit).
        uint8_t read(unsigned a0);
        void set_input(unsigned ir, bool level);
        void set_elcr(uint8_t value);

        // The IR the chip would acknowledge now (the INT output is high), or -1.
        int pending() const;
        // The two INTA pulses for `ir` (from pending()): IS bit set, edge request cleared,
        // auto-EOI applied.
        void acknowledge(unsigned ir);
        uint8_t vector(unsigned ir) const { return static_cast<uint8_t>((icw2_ & 0xf8) | ir); }
        // A master input that a slave drives (ICW3), when initialised for cascade mode.
        bool is_cascade(unsigned ir) const { return !slave_ && !single_ && (icw3_ >> ir & 1); }

        uint8_t irr() const { return irr_; }
        uint8_t isr() const { return isr_; }
        uint8_t imr() const { return imr_; }
        uint8_t elcr() const { return elcr_; }
        bool auto_eoi() const { return aeoi_; }
        bool special_mask() const { return special_mask_; }
        unsigned lowest_priority() const { return lowest_; }
        uint64_t eois() const { return eois_; }
        uint64_t initialisations() const { return inits_; }

    private:
        enum class Expect : uint8_t { ocw, icw2, icw3, icw4 };
        void icw1(uint8_t value);
        void ocw2(uint8_t value);
        void ocw3(uint8_t value);
        int highest(uint8_t bits) const;
        bool is_level(unsigned ir) const { return ltim_ || (elcr_ >> ir & 1); }

        bool slave_;
        // Power-on state is undefined in the data sheet: every input starts masked, so a
        // controller nobody initialised raises nothing (ICW1 clears the mask).
        uint8_t irr_ = 0, isr_ = 0, imr_ = 0xff, elcr_ = 0;
        uint8_t lines_ = 0;  // input levels
        uint8_t icw2_ = 0, icw3_ = 0;
        unsigned lowest_ = 7;  // the IR with the lowest priority; the next one has the highest
        Expect expect_ = Expect::ocw;
        bool need_icw4_ = false, single_ = false, ltim_ = false;
        bool aeoi_ = false, sfnm_ = false, rotate_on_aeoi_ = false;
        bool special_mask_ = false, read_isr_ = false, poll_ = false;
        uint64_t eois_ = 0, inits_ = 0;
    };

    static constexpr unsigned kCascadeIr = 2;  // the master input the slave's INT drives

    SimpleTargetSocket<Pic8259> master_socket;  // 0x20-0x21
    SimpleTargetSocket<Pic8259> slave_socket;   // 0xa0-0xa1
    SimpleTargetSocket<Pic8259> elcr_socket;    // 0x4d0-0x4d1

    explicit Pic8259(sc_core::sc_module_name name);

    // IrqSink: ISA IRQ 0-7 on the master, 8-15 on the slave. IRQ 2 is the cascade (the slave's
    // INT, wired inside the pair): set_irq(2) and numbers above 15 are ignored.
    void set_irq(unsigned irq, bool level) override;
    // The master's INT output (the processor's INTR / LINT0); called with the level at once.
    void connect_intr(IrqLine line);
    bool intr() const { return intr_; }
    // The processor's interrupt-acknowledge cycle: the vector of the highest-priority request,
    // from the slave when the master picks the cascade input. With no request left: the
    // master's IR7 vector, or the slave's IR7 vector (master IS2 set) if the slave's went away.
    int acknowledge();

    const Chip& master() const { return master_; }
    const Chip& slave() const { return slave_; }
    // The sixteen lines as one word, IRQ 8-15 in the high byte.
    uint16_t irr() const { return static_cast<uint16_t>(slave_.irr() << 8 | master_.irr()); }
    uint16_t isr() const { return static_cast<uint16_t>(slave_.isr() << 8 | master_.isr()); }
    uint16_t imr() const { return static_cast<uint16_t>(slave_.imr() << 8 | master_.imr()); }

    void report(sim::StatsWriter& out) const;

private:
    void master_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    void slave_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    void elcr_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    void chip_transport(Chip& chip, tlm::tlm_generic_payload& gp);
    void update();  // the slave's INT into master IR2, the master's INT out to INTR

    Chip master_{false};
    Chip slave_{true};
    IrqLine intr_line_;
    bool intr_ = false;
    uint16_t lines_ = 0;

    struct Counts {
        uint64_t raised[16] = {};        // rising edges per input
        uint64_t acknowledged[16] = {};  // vectors delivered per IRQ
        uint64_t spurious_master = 0;    // IRQ7 vectors with nothing in service
        uint64_t spurious_slave = 0;     // IRQ15 likewise
    } counts_;
};

}  // namespace bus
