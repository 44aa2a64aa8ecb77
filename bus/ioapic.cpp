// The I/O APIC's registers and message delivery. Context: MMIO from the guest, input changes
// from the IRQ router, EOIs from the local APICs.
#include "bus/ioapic.h"

#include <map>
#include <string>

#include "bus/payload.h"

namespace bus {

// Reset state: every entry masked, the rest zero ("undefined" in the data sheet).
Ioapic::Ioapic(sc_core::sc_module_name name, uint8_t id)
    : sc_core::sc_module(name), socket("socket"), id_(id & 0x0f), arbitration_(id & 0x0f) {
    socket.register_b_transport(this, &Ioapic::transport);
    entries_.fill(kMasked);
}

bool Ioapic::asserted(unsigned pin) const {
    return wires_.at(pin) != ((entries_[pin] & kPolarityLow) != 0);
}

uint64_t Ioapic::entry(unsigned pin) const {
    return entries_.at(pin) | (remote_irr_[pin] ? kRemoteIrr : 0);
}

void Ioapic::set_irq(unsigned gsi, bool level) {
    if (gsi >= kPins || wires_[gsi] == level) return;
    const bool was = asserted(gsi);
    wires_[gsi] = level;
    if (!asserted(gsi) || was) return;
    if (entries_[gsi] & kMasked) {
        ++counts_.masked;  // "ignored (i.e., not delivered or held pending)"
        return;
    }
    if (entries_[gsi] & kTriggerLevel) {
        service(gsi);
    } else {
        send(gsi);
    }
}

void Ioapic::service(unsigned pin) {
    const uint64_t e = entries_[pin];
    if (!(e & kTriggerLevel) || (e & kMasked) || remote_irr_[pin] || !asserted(pin)) return;
    remote_irr_[pin] = true;
    send(pin);
}

void Ioapic::send(unsigned pin) {
    const uint64_t e = entries_[pin];
    ++counts_.sent[pin];
    if (!sink_) {
        ++counts_.undelivered;
        return;
    }
    sink_->deliver(ApicMessage{
        .vector = static_cast<uint8_t>(e & kVectorMask),
        .delivery_mode = static_cast<ApicDelivery>(e >> 8 & 7),
        .logical = (e & kDestinationLogical) != 0,
        .destination = static_cast<uint32_t>(e >> 56),
        .level = true,
        .trigger_level = (e & kTriggerLevel) != 0,
        .source = pin,
    });
}

void Ioapic::eoi(uint8_t vector) {
    ++counts_.eois;
    for (unsigned pin = 0; pin < kPins; ++pin) {
        if (!remote_irr_[pin] || (entries_[pin] & kVectorMask) != vector) continue;
        remote_irr_[pin] = false;
        ++counts_.remote_irr_cleared;
        service(pin);
    }
}

// IOAPICID bits 27:24; IOAPICVER: version 7:0, maximum redirection entry 23:16;
// IOAPICARB bits 27:24 (read-only, loaded with the ID when the ID is written).
uint32_t Ioapic::read_register(uint8_t index) const {
    switch (index) {
        case kRegId: return uint32_t{id_} << 24;
        case kRegVersion: return uint32_t{kPins - 1} << 16 | kVersion;
        case kRegArbitration: return uint32_t{arbitration_} << 24;
        default: break;
    }
    if (index < kRegRedirection || index >= kRegRedirection + 2 * kPins) return 0;
    const unsigned pin = (index - kRegRedirection) / 2;
    const uint64_t e = entry(pin);
    return static_cast<uint32_t>(index & 1 ? e >> 32 : e);
}

// Switching an entry to edge clears its remote IRR (meaningful for level entries only); any
// write may leave a level entry owing a message (unmasked while asserted, vector changed ...).
void Ioapic::write_register(uint8_t index, uint32_t value) {
    if (index == kRegId) {
        id_ = arbitration_ = (value >> 24) & 0x0f;
        return;
    }
    if (index < kRegRedirection || index >= kRegRedirection + 2 * kPins) return;
    const unsigned pin = (index - kRegRedirection) / 2;
    uint64_t& e = entries_[pin];
    if (index & 1) {
        e = (e & 0xffffffffu) | uint64_t{value & 0xff000000u} << 32;
    } else {
        e = (e & ~uint64_t{0xffffffffu}) | (value & kWritableLow);
        if (!(e & kTriggerLevel)) remote_irr_[pin] = false;
    }
    service(pin);
}

uint32_t Ioapic::read_dword(uint64_t offset) const {
    if (offset == kIoRegSel) return select_;
    if (offset == kIoWin) return read_register(select_);
    return 0;
}

void Ioapic::write_dword(uint64_t offset, uint32_t value, uint32_t byte_mask) {
    if (offset == kIoRegSel) {
        if (byte_mask & 0xff) select_ = static_cast<uint8_t>(value);
    } else if (offset == kIoWin) {
        const uint32_t old = read_register(select_);
        write_register(select_, (old & ~byte_mask) | (value & byte_mask));
    }
}

// The data sheet wants dword accesses; narrower ones reach the bytes of the dword they fall
// in, an 8-byte access two dwords. Unused offsets read zero.
void Ioapic::transport(tlm::tlm_generic_payload& gp, sc_core::sc_time&) {
    if (!is_register_access(gp)) return;
    const uint64_t address = gp.get_address();
    const unsigned length = gp.get_data_length();
    const uint64_t first = address & ~uint64_t{3};
    const unsigned shift = static_cast<unsigned>(address - first) * 8;
    if (gp.is_read()) {
        uint64_t value = read_dword(first) | uint64_t{read_dword(first + 4)} << 32;
        set_payload_value(gp, value >> shift);
    } else if (gp.is_write()) {
        const unsigned bits = length * 8 + shift;
        const uint64_t mask = (bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1) &
                              ~((uint64_t{1} << shift) - 1);
        const uint64_t value = payload_value(gp) << shift;
        if (mask & 0xffffffffu) {
            write_dword(first, static_cast<uint32_t>(value), static_cast<uint32_t>(mask));
        }
        if (mask >> 32) {
            write_dword(first + 4, static_cast<uint32_t>(value >> 32),
                        static_cast<uint32_t>(mask >> 32));
        }
    }
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

void Ioapic::report(sim::StatsWriter& out) const {
    const std::string prefix = name();
    std::map<std::string, uint64_t> sent;
    for (unsigned pin = 0; pin < kPins; ++pin) {
        if (counts_.sent[pin]) sent[std::to_string(pin)] = counts_.sent[pin];
    }
    out.histogram(prefix + ".sent", sent, "messages", "interrupt messages sent, by input pin");
    out.scalar(prefix + ".masked", static_cast<double>(counts_.masked), "assertions",
               "assertions of a masked input (ignored)");
    out.scalar(prefix + ".undelivered", static_cast<double>(counts_.undelivered), "messages",
               "messages sent with no local APIC connected");
    out.scalar(prefix + ".eois", static_cast<double>(counts_.eois), "calls",
               "EOI broadcasts received");
    out.scalar(prefix + ".remote_irr_cleared", static_cast<double>(counts_.remote_irr_cleared),
               "entries", "remote IRR bits cleared by EOIs");
}

}  // namespace bus
