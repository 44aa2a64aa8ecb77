// bus::CoreInitiator: the processor's side of the bus as a SystemC module, with one initiator
// socket per address space (physical memory, I/O ports) and the cache of DMI grants.
// Context: owned by SystemBus, which calls it inside its SystemC context.
//
// Why a socket per space rather than one socket and a payload extension: the two spaces are
// decoded by two routers, so a device stays a plain base-protocol target that never looks at
// which space it is in, and an access needs no extension object set and cleared per call.
#pragma once

#include <cstdint>

#include <tlm_utils/simple_initiator_socket.h>

#include "bus/dmi_cache.h"
#include "bus/tlm_types.h"

namespace bus {

enum class Space : uint8_t { memory, io };

class CoreInitiator final : public sc_core::sc_module {
public:
    tlm_utils::simple_initiator_socket<CoreInitiator, kBusWidth> memory;
    tlm_utils::simple_initiator_socket<CoreInitiator, kBusWidth> io;

    explicit CoreInitiator(sc_core::sc_module_name name);

    // One access of 1..8 bytes through b_transport, at the current SystemC time. `value` is
    // read into or written from. Returns the target's (or the router's) response status.
    tlm::tlm_response_status access(Space space, tlm::tlm_command command, uint64_t address,
                                    unsigned size, uint64_t& value);

    // Cached DMI pointer to the RAM page holding `paddr`, or nullptr (not cached yet, or no RAM).
    uint8_t* cached_ram_page(uint64_t paddr) const { return dmi_.page(paddr); }
    // Asks the memory space for a DMI grant covering the page of `paddr` (read and write) and
    // caches it. Needs an elaborated context (ports are bound then).
    uint8_t* request_ram_page(uint64_t paddr);

private:
    void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end);

    DmiCache dmi_;
};

}  // namespace bus
