// bus::Ioapic: the Intel 82093AA I/O APIC (version 0x11, 24 inputs) at its PC address,
// 0xfec00000, as a TLM-2.0 memory-mapped target. Context: MMIO device; inputs from the IRQ
// router, interrupt messages to the local APICs through an ApicMessageSink the machine gives,
// EOIs back from them.
//
// Reference: Intel 82093AA I/O Advanced Programmable Interrupt Controller data sheet
// (290566): "Register Description" (IOREGSEL, IOWIN, IOAPICID, IOAPICVER, IOAPICARB,
// IOREDTBL[23:0]) and "Interrupt Delivery"/"Remote IRR".
//
// Inputs are wires: set_irq passes the electrical level and each entry's polarity bit decides
// whether it is asserted (ISA sources drive active high, so the PC router passes their level
// as it is). An edge-triggered entry sends one message per assertion; a level-triggered entry
// sends one and sets remote IRR until a local APIC's EOI for its vector, then sends again if
// the input is still asserted. Messages are delivered at once: delivery status always reads 0.
#pragma once

#include <array>
#include <cstdint>

#include "bus/apic_message.h"
#include "bus/irq.h"
#include "bus/tlm_types.h"
#include "sim/kernel/stats.h"

namespace bus {

class Ioapic final : public sc_core::sc_module, public IrqSink {
public:
    static constexpr uint64_t kBase = 0xfec00000;
    static constexpr uint64_t kSize = 0x1000;
    static constexpr unsigned kPins = 24;
    static constexpr uint8_t kVersion = 0x11;
    // Direct registers (offsets in the window) and indirect register indices.
    static constexpr unsigned kIoRegSel = 0x00, kIoWin = 0x10;
    static constexpr uint8_t kRegId = 0x00, kRegVersion = 0x01, kRegArbitration = 0x02,
                             kRegRedirection = 0x10;  // entry n: 0x10 + 2n (low), 0x11 + 2n
    // Redirection entry bits.
    static constexpr uint64_t kVectorMask = 0xff, kDestinationLogical = 1u << 11,
                              kDeliveryStatus = 1u << 12, kPolarityLow = 1u << 13,
                              kRemoteIrr = 1u << 14, kTriggerLevel = 1u << 15,
                              kMasked = 1u << 16;
    static constexpr uint64_t kWritableLow = 0x1afff;  // all but delivery status, remote IRR

    SimpleTargetSocket<Ioapic> socket;

    explicit Ioapic(sc_core::sc_module_name name, uint8_t id = 0);

    void connect(ApicMessageSink& sink) { sink_ = &sink; }
    // IrqSink: the level of input pin `gsi` (0-23; others are ignored).
    void set_irq(unsigned gsi, bool level) override;
    // A local APIC's EOI broadcast for `vector`: clears remote IRR of the level-triggered
    // entries with that vector and re-sends those still asserted.
    void eoi(uint8_t vector);

    uint8_t id() const { return id_; }
    uint64_t entry(unsigned pin) const;  // as software reads it
    bool remote_irr(unsigned pin) const { return remote_irr_.at(pin); }
    bool asserted(unsigned pin) const;
    uint32_t read_register(uint8_t index) const;
    void write_register(uint8_t index, uint32_t value);

    void report(sim::StatsWriter& out) const;

private:
    void transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    uint32_t read_dword(uint64_t offset) const;
    void write_dword(uint64_t offset, uint32_t value, uint32_t byte_mask);
    void service(unsigned pin);  // sends what a level entry owes
    void send(unsigned pin);

    uint8_t id_;
    uint8_t arbitration_;
    uint8_t select_ = 0;
    std::array<uint64_t, kPins> entries_{};  // writable bits only
    std::array<bool, kPins> wires_{};
    std::array<bool, kPins> remote_irr_{};
    ApicMessageSink* sink_ = nullptr;

    struct Counts {
        std::array<uint64_t, kPins> sent{};  // messages per pin
        uint64_t masked = 0;                 // assertions that found the entry masked
        uint64_t undelivered = 0;            // messages with no sink connected
        uint64_t eois = 0;
        uint64_t remote_irr_cleared = 0;
    } counts_;
};

}  // namespace bus
