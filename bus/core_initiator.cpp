// Issuing accesses and DMI requests. Context: SystemBus's slow paths (device accesses, the
// first touch of RAM), inside the machine's SystemC context.
#include "bus/core_initiator.h"

#include "bus/payload.h"
#include "sim/kernel/bus.h"

namespace bus {

CoreInitiator::CoreInitiator(sc_core::sc_module_name name)
    : sc_core::sc_module(name), memory("memory"), io("io") {
    // Only memory can be granted DMI; the I/O space has no backward traffic.
    memory.register_invalidate_direct_mem_ptr(this, &CoreInitiator::invalidate_direct_mem_ptr);
}

// A payload on the stack without a memory manager is enough for b_transport: nothing keeps a
// reference to it after the call returns (TLM-2.0, blocking transport).
tlm::tlm_response_status CoreInitiator::access(Space space, tlm::tlm_command command,
                                               uint64_t address, unsigned size,
                                               uint64_t& value) {
    tlm::tlm_generic_payload gp;
    gp.set_command(command);
    gp.set_address(address);
    gp.set_data_ptr(reinterpret_cast<unsigned char*>(&value));
    gp.set_data_length(size);
    gp.set_streaming_width(size);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    (space == Space::memory ? memory : io)->b_transport(gp, delay);
    return gp.get_response_status();
}

uint8_t* CoreInitiator::request_ram_page(uint64_t paddr) {
    tlm::tlm_generic_payload gp;
    gp.set_command(tlm::TLM_READ_COMMAND);
    gp.set_address(paddr & sim::kPageMask);
    tlm::tlm_dmi dmi;
    if (!memory->get_direct_mem_ptr(gp, dmi) || !dmi.is_read_write_allowed()) return nullptr;
    // A grant that does not cover the whole page cannot serve ram_page; not caching it keeps
    // the cache from growing with repeated requests.
    const uint64_t first = paddr & sim::kPageMask;
    if (dmi.get_start_address() > first || dmi.get_end_address() < first + (sim::kPageSize - 1)) {
        return nullptr;
    }
    dmi_.add(dmi.get_start_address(), dmi.get_end_address(), dmi.get_dmi_ptr());
    return dmi_.page(paddr);
}

void CoreInitiator::invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) {
    dmi_.invalidate(start, end);
}

}  // namespace bus
