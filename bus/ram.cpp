// Guest RAM: storage, b_transport, DMI. Context: built once per machine; b_transport runs on
// the processor's slow paths only, the fast path uses the DMI pointer handed out here.
#include "bus/ram.h"

#include <sys/mman.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "sim/kernel/bus.h"

namespace bus {

namespace {

// Anonymous mappings are page-aligned (so guest pages are host pages) and zero-filled lazily
// by the host kernel: a machine with 4 GiB of RAM costs only the pages the guest touches.
uint8_t* map_zeroed(uint64_t size) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        throw std::runtime_error("cannot reserve " + std::to_string(size >> 20) +
                                 " MiB of guest RAM");
    }
    return static_cast<uint8_t*>(p);
}

}  // namespace

Ram::Ram(sc_core::sc_module_name name, uint64_t size)
    : sc_core::sc_module(name), socket("socket"), data_(nullptr), size_(size) {
    if (size == 0 || size % sim::kPageSize != 0) {
        throw std::invalid_argument("RAM size must be a non-zero multiple of 4 KiB, got " +
                                    std::to_string(size));
    }
    data_ = map_zeroed(size);
    socket.register_b_transport(this, &Ram::b_transport);
    socket.register_get_direct_mem_ptr(this, &Ram::get_direct_mem_ptr);
    socket.register_transport_dbg(this, &Ram::transport_dbg);
}

Ram::~Ram() { munmap(data_, size_); }

bool Ram::in_range(const tlm::tlm_generic_payload& gp) const {
    const uint64_t address = gp.get_address();
    return address < size_ && gp.get_data_length() <= size_ - address;
}

void Ram::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time&) {
    if (!in_range(gp)) {
        gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    if (gp.get_byte_enable_ptr() != nullptr ||
        gp.get_streaming_width() < gp.get_data_length()) {
        // Nothing in hvsim issues these; refusing is clearer than half-supporting them.
        gp.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        return;
    }
    transport_dbg(gp);
    gp.set_dmi_allowed(true);  // tells the initiator the fast path exists
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned Ram::transport_dbg(tlm::tlm_generic_payload& gp) {
    if (!in_range(gp)) return 0;
    uint8_t* at = data_ + gp.get_address();
    const unsigned length = gp.get_data_length();
    if (gp.is_read()) {
        std::memcpy(gp.get_data_ptr(), at, length);
    } else if (gp.is_write()) {
        std::memcpy(at, gp.get_data_ptr(), length);
    }
    return length;
}

// Grants read and write over the whole array, whatever address was asked: one DMI region
// covers all of RAM, so the initiator asks once per machine.
bool Ram::get_direct_mem_ptr(tlm::tlm_generic_payload&, tlm::tlm_dmi& dmi) {
    dmi.set_dmi_ptr(data_);
    dmi.set_start_address(0);
    dmi.set_end_address(size_ - 1);
    dmi.allow_read_write();
    dmi.set_read_latency(sc_core::SC_ZERO_TIME);
    dmi.set_write_latency(sc_core::SC_ZERO_TIME);
    return true;
}

}  // namespace bus
