// Reading and answering register accesses carried by a TLM-2.0 generic payload.
// Context: device targets' b_transport (UART, debug exit, future platform devices).
#pragma once

#include <cstdint>
#include <tlm>

namespace bus {

// A register access as the processor makes it: 1 to 8 bytes, contiguous, no byte enables.
// Devices answer anything else with TLM_BURST_ERROR_RESPONSE / TLM_BYTE_ENABLE_ERROR_RESPONSE.
bool is_register_access(tlm::tlm_generic_payload& gp);

// The data of a register access as a little-endian number (x86 byte order).
uint64_t payload_value(const tlm::tlm_generic_payload& gp);
void set_payload_value(tlm::tlm_generic_payload& gp, uint64_t value);

// A device of 8-bit registers: a wider access touches consecutive registers, the lowest
// address in the lowest byte, as an 8-bit device on the ISA bus sees a 16- or 32-bit IN/OUT.
// `read(offset) -> uint8_t` and `write(offset, uint8_t)` are the device's register accessors.
template <class Read, class Write>
void byte_register_transport(tlm::tlm_generic_payload& gp, Read read, Write write) {
    if (!is_register_access(gp)) return;
    const auto offset = static_cast<unsigned>(gp.get_address());
    const unsigned length = gp.get_data_length();
    if (gp.is_read()) {
        uint64_t value = 0;
        for (unsigned i = 0; i < length; ++i) value |= uint64_t{read(offset + i)} << (8 * i);
        set_payload_value(gp, value);
    } else if (gp.is_write()) {
        const uint64_t value = payload_value(gp);
        for (unsigned i = 0; i < length; ++i) write(offset + i, static_cast<uint8_t>(value >> (8 * i)));
    }
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

// All ones of an access of `size` bytes: what a PC reads where nothing answers.
constexpr uint64_t all_ones(unsigned size) {
    return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
}

}  // namespace bus
