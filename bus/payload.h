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

// All ones of an access of `size` bytes: what a PC reads where nothing answers.
constexpr uint64_t all_ones(unsigned size) {
    return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
}

}  // namespace bus
