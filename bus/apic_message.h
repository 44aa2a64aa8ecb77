// Interrupt messages from the I/O APIC to the processors' local APICs (the APIC bus of the
// 82093AA, the system bus on later parts). Context: the I/O APIC sends; the machine implements
// the sink by handing the message to the local APICs of cpu/.
#pragma once

#include <cstdint>

namespace bus {

// Delivery modes of a redirection entry (82093AA data sheet, "I/O Redirection Table
// Registers", bits 10:8). An open enum: the reserved encodings 3 and 6 pass through as data.
enum class ApicDelivery : uint8_t {
    fixed = 0,
    lowest_priority = 1,
    smi = 2,
    nmi = 4,
    init = 5,
    extint = 7,  // the local APIC fetches the vector from the 8259A (an INTA cycle)
};

struct ApicMessage {
    uint8_t vector;              // meaningless for SMI, NMI, INIT and ExtINT
    ApicDelivery delivery_mode;
    bool logical;                // destination mode: false = physical APIC ID
    uint32_t destination;        // an APIC ID, or a logical set (bits 63:56 of the entry)
    bool level;                  // assert (true) or deassert; the I/O APIC only asserts
    bool trigger_level;          // level-triggered: the local APIC must broadcast an EOI
    unsigned source = 0;         // the I/O APIC pin that sent it, for traces and tests
};

class ApicMessageSink {
public:
    virtual ~ApicMessageSink() = default;
    virtual void deliver(const ApicMessage& message) = 0;
};

}  // namespace bus
