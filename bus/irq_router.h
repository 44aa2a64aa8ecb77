// bus::IrqRouter: the PC's interrupt wiring. Devices raise ISA IRQs here; each goes to both
// interrupt controllers, as on a PC whose I/O APIC sits beside the 8259A pair. Context:
// machine composition connects devices to it; device processes and b_transport call it.
//
//   ISA IRQ n (0-15) ──► 8259A input n (IRQ 8-15 on the slave) and I/O APIC pin n,
//                        except IRQ 0 ──► I/O APIC pin 2
//   line 16-23 ────────► I/O APIC pin 16-23 only (PCI interrupts)
//
// IRQ 0 on pin 2 is what PC chipsets do and what firmware describes with an ACPI MADT
// "Interrupt Source Override" (bus 0, source 0, global system interrupt 2) or an MP-table I/O
// interrupt entry; pin 0 is where chipsets put the 8259A's INTR (ExtINT, virtual wire through
// the I/O APIC), which this router does not connect: virtual wire goes through the local
// APIC's LINT0. ISA IRQ 2 does not exist (the master's IR2 is the cascade): it is dropped.
// Each line has one source (no wired-OR of shared lines).
#pragma once

#include <array>
#include <cstdint>

#include "bus/ioapic.h"
#include "bus/irq.h"
#include "bus/pic8259.h"
#include "bus/tlm_types.h"
#include "sim/kernel/stats.h"

namespace bus {

// An sc_module only so that a SystemBus can own it; it has no sockets and no processes.
class IrqRouter final : public sc_core::sc_module, public IrqSink {
public:
    static constexpr unsigned kIsaIrqs = 16;
    static constexpr unsigned kLines = Ioapic::kPins;

    // `ioapic` may be null (a machine without one): then only the PIC pair is driven.
    IrqRouter(sc_core::sc_module_name name, Pic8259& pic, Ioapic* ioapic);

    void set_irq(unsigned gsi, bool level) override;
    bool level(unsigned line) const { return line < kLines && levels_[line]; }

    // The I/O APIC input an ISA IRQ arrives at (the global system interrupt).
    static constexpr unsigned ioapic_pin(unsigned isa_irq) { return isa_irq == 0 ? 2 : isa_irq; }

    void report(sim::StatsWriter& out) const;

private:
    Pic8259& pic_;
    Ioapic* ioapic_;
    std::array<bool, kLines> levels_{};
    std::array<uint64_t, kLines> raised_{};
    uint64_t dropped_ = 0;
};

}  // namespace bus
