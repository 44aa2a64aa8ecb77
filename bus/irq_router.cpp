// PC interrupt wiring. Context: called by devices whenever an IRQ line changes.
#include "bus/irq_router.h"

#include <map>
#include <string>

namespace bus {

IrqRouter::IrqRouter(sc_core::sc_module_name name, Pic8259& pic, Ioapic* ioapic)
    : sc_core::sc_module(name), pic_(pic), ioapic_(ioapic) {}

void IrqRouter::set_irq(unsigned gsi, bool level) {
    if (gsi >= kLines || gsi == Pic8259::kCascadeIr) {
        ++dropped_;
        return;
    }
    if (levels_[gsi] == level) return;
    levels_[gsi] = level;
    if (level) ++raised_[gsi];
    if (gsi < kIsaIrqs) pic_.set_irq(gsi, level);
    if (ioapic_) ioapic_->set_irq(gsi < kIsaIrqs ? ioapic_pin(gsi) : gsi, level);
}

void IrqRouter::report(sim::StatsWriter& out) const {
    const std::string prefix = name();
    std::map<std::string, uint64_t> raised;
    for (unsigned line = 0; line < kLines; ++line) {
        if (raised_[line]) raised[std::to_string(line)] = raised_[line];
    }
    out.histogram(prefix + ".raised", raised, "edges", "rising edges of each interrupt line");
    out.scalar(prefix + ".dropped", static_cast<double>(dropped_), "calls",
               "changes of lines that do not exist (IRQ 2, above 23)");
}

}  // namespace bus
