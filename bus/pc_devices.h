// The devices every hvsim PC has, built, mapped and wired in one call: COM1, the debug-exit
// port, the 8259A pair, the 8254 PIT, the MC146818 RTC/CMOS, the I/O APIC and the IRQ router
// between them. Context: machine composition (sim/machine), before the bus is elaborated.
//
// What the machine wires afterwards (the processor side is not bus/'s to know):
//   - PcDevices::pic.connect_intr(line): the 8259A's INTR to the boot processor's LINT0
//     (ExtINT); the processor calls pic.acknowledge() for the vector when it takes it;
//   - PcDevices::ioapic->connect(sink): interrupt messages to the local APICs; each local APIC
//     EOI of a level-triggered vector must call ioapic->eoi(vector);
//   - PcDevices::rtc.nmi_disabled(): port 0x70 bit 7, for an NMI source that honours it.
#pragma once

#include <cstdint>

#include "bus/char_sink.h"
#include "bus/debug_exit.h"
#include "bus/ioapic.h"
#include "bus/irq_router.h"
#include "bus/pic8259.h"
#include "bus/pit8254.h"
#include "bus/rtc_cmos.h"
#include "bus/system_bus.h"
#include "bus/uart16550.h"
#include "sim/kernel/bus.h"

namespace bus {

inline constexpr uint16_t kCom1Port = 0x3f8;       // 8 registers
inline constexpr uint16_t kDebugExitPort = 0xf4;   // 4 ports, so OUT of a dword lands too
inline constexpr uint16_t kPicMasterPort = 0x20;   // 2 ports
inline constexpr uint16_t kPicSlavePort = 0xa0;    // 2 ports
inline constexpr uint16_t kElcrPort = 0x4d0;       // 2 ports: master, slave
inline constexpr uint16_t kPitPort = 0x40;         // 4 ports: counters 0-2, control word
inline constexpr uint16_t kSystemControlPortB = 0x61;
inline constexpr uint16_t kRtcPort = 0x70;         // 2 ports: index, data
inline constexpr unsigned kPitIrq = 0, kCom1Irq = 4, kRtcIrq = 8;

struct PcDeviceConfig {
    RtcDateTime rtc_start;  // the RTC's time at simulated time zero (default 2024-01-01 00:00)
    // The I/O APIC is fitted when asked for and its window (bus/ioapic.h) is not RAM: a
    // machine whose single RAM range covers 0xfec00000 (about 4 GiB and more) has none.
    bool ioapic = true;
};

struct PcDevices {
    Uart16550& com1;
    DebugExit& debug_exit;
    Pic8259& pic;
    Pit8254& pit;
    RtcCmos& rtc;
    Ioapic* ioapic;  // null when not fitted
    IrqRouter& irq;  // COM1 (IRQ 4), the PIT (IRQ 0) and the RTC (IRQ 8) are connected to it
};

// Also registers each device's counters with bus.report().
PcDevices attach_pc_devices(SystemBus& bus, sim::RunControl& run_control, CharSink com1_output,
                            const PcDeviceConfig& config = {});

}  // namespace bus
