// Register accesses in generic payloads. Context: device b_transport, not on the RAM path.
#include "bus/payload.h"

#include <bit>
#include <cstring>

namespace bus {

bool is_register_access(tlm::tlm_generic_payload& gp) {
    const unsigned length = gp.get_data_length();
    if (length == 0 || length > 8 || gp.get_streaming_width() < length) {
        gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return false;
    }
    if (gp.get_byte_enable_ptr() != nullptr) {
        gp.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        return false;
    }
    return true;
}

// The host is little-endian like the guest (x86-64 on x86-64), so bytes copy straight.
static_assert(std::endian::native == std::endian::little, "hvsim assumes a little-endian host");
uint64_t payload_value(const tlm::tlm_generic_payload& gp) {
    uint64_t value = 0;
    std::memcpy(&value, gp.get_data_ptr(), gp.get_data_length());
    return value;
}

void set_payload_value(tlm::tlm_generic_payload& gp, uint64_t value) {
    std::memcpy(gp.get_data_ptr(), &value, gp.get_data_length());
}

}  // namespace bus
