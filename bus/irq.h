// Interrupt request lines between devices and interrupt controllers: a sink that takes lines
// by number, and the one-wire form a device holds. Context: device models and composition;
// called from b_transport and SystemC processes, with the machine's SystemC context held.
//
// A level is the wire as the device drives it: true while the device requests an interrupt
// (ISA devices drive their IRQ lines active high). Edge or level sensing is the controller's
// business, not the device's.
#pragma once

#include <functional>

namespace bus {

class IrqSink {
public:
    virtual ~IrqSink() = default;
    // Line numbering is the sink's: the PC router (bus/irq_router.h) takes ISA IRQs 0-15 and
    // I/O APIC inputs 16-23; a PIC pair takes its inputs 0-15; an I/O APIC its pins 0-23.
    virtual void set_irq(unsigned gsi, bool level) = 0;
};

// One line as a device sees it (the same type as Uart16550::IrqLine).
using IrqLine = std::function<void(bool level)>;

// The device end of line `gsi` of `sink`; the sink must outlive the line.
inline IrqLine irq_line(IrqSink& sink, unsigned gsi) {
    return [&sink, gsi](bool level) { sink.set_irq(gsi, level); };
}

}  // namespace bus
