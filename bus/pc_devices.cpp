// Building the standard PC devices. Context: machine composition, once per machine.
#include "bus/pc_devices.h"

#include <utility>

namespace bus {

namespace {

bool ram_covers(const SystemBusConfig& config, uint64_t base, uint64_t size) {
    return config.ram_base < base + size && base < config.ram_base + config.ram_size;
}

}  // namespace

PcDevices attach_pc_devices(SystemBus& bus, sim::RunControl& run_control, CharSink com1_output,
                            const PcDeviceConfig& config) {
    auto& com1 = bus.add<Uart16550>("com1", std::move(com1_output));
    bus.map_ports(kCom1Port, 8, com1.socket, "com1");
    auto& debug_exit = bus.add<DebugExit>("debug_exit", run_control);
    bus.map_ports(kDebugExitPort, 4, debug_exit.socket, "debug_exit");

    auto& pic = bus.add<Pic8259>("pic");
    bus.map_ports(kPicMasterPort, 2, pic.master_socket, "pic_master");
    bus.map_ports(kPicSlavePort, 2, pic.slave_socket, "pic_slave");
    bus.map_ports(kElcrPort, 2, pic.elcr_socket, "elcr");

    Ioapic* ioapic = nullptr;
    if (config.ioapic && !ram_covers(bus.config(), Ioapic::kBase, Ioapic::kSize)) {
        ioapic = &bus.add<Ioapic>("ioapic");
        bus.map_mmio(Ioapic::kBase, Ioapic::kSize, ioapic->socket, "ioapic");
    }
    auto& irq = bus.add<IrqRouter>("irq", pic, ioapic);

    auto& pit = bus.add<Pit8254>("pit");
    bus.map_ports(kPitPort, 4, pit.socket, "pit");
    bus.map_ports(kSystemControlPortB, 1, pit.port_b, "port_b");

    RtcConfig rtc_config;
    rtc_config.start = config.rtc_start;
    rtc_config.ram_size = bus.config().ram_base == 0 ? bus.config().ram_size : 0;
    auto& rtc = bus.add<RtcCmos>("rtc", rtc_config);
    bus.map_ports(kRtcPort, 2, rtc.socket, "rtc");

    com1.connect_irq(irq_line(irq, kCom1Irq));
    pit.connect_irq(irq_line(irq, kPitIrq));
    rtc.connect_irq(irq_line(irq, kRtcIrq));

    bus.add_reporter([&pic](sim::StatsWriter& out) { pic.report(out); });
    bus.add_reporter([&pit](sim::StatsWriter& out) { pit.report(out); });
    bus.add_reporter([&rtc](sim::StatsWriter& out) { rtc.report(out); });
    if (ioapic) bus.add_reporter([ioapic](sim::StatsWriter& out) { ioapic->report(out); });
    bus.add_reporter([&irq](sim::StatsWriter& out) { irq.report(out); });
    return {com1, debug_exit, pic, pit, rtc, ioapic, irq};
}

}  // namespace bus
