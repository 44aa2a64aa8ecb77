// bus::Router: decodes one address space into device targets. SystemBus has two, one for
// physical memory (RAM and MMIO) and one for the I/O-port space (address = port number).
// Context: built and mapped while a machine is composed; b_transport on every device access.
//
// A mapping [base, base + size) forwards to one target socket with the address made relative
// to base, so a device sees its own register offsets (the UART sees 0..7 whether it sits at
// 0x3f8 or 0x2f8). An access that is not wholly inside one mapping gets
// TLM_ADDRESS_ERROR_RESPONSE; the initiator turns that into the PC's open-bus behaviour.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tlm_utils/multi_passthrough_initiator_socket.h>

#include "bus/tlm_types.h"

namespace bus {

class Router final : public sc_core::sc_module {
public:
    struct Mapping {
        uint64_t base;
        uint64_t size;
        unsigned target;  // index into to_devices, in binding order
        std::string label;
    };

    SimpleTargetSocket<Router> from_initiator;
    // Zero bindings allowed: a machine without MMIO devices still has a memory router.
    tlm_utils::multi_passthrough_initiator_socket<Router, kBusWidth, tlm::tlm_base_protocol_types,
                                                  0, sc_core::SC_ZERO_OR_MORE_BOUND>
        to_devices;

    explicit Router(sc_core::sc_module_name name);

    // Binds `device` and routes [base, base + size) to it. Before elaboration only (SystemC
    // binds ports then). Throws std::invalid_argument on an empty or overlapping range.
    void map(uint64_t base, uint64_t size, TargetSocket& device, std::string label);

    // The mapping holding every byte of [address, address + length), or nullptr.
    const Mapping* find(uint64_t address, uint64_t length) const;
    const std::vector<Mapping>& mappings() const { return mappings_; }

private:
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);
    unsigned transport_dbg(tlm::tlm_generic_payload& gp);
    void invalidate_direct_mem_ptr(int target, sc_dt::uint64 start, sc_dt::uint64 end);

    std::vector<Mapping> mappings_;  // sorted by base, disjoint
    std::vector<uint64_t> base_of_target_;  // by target index, for DMI invalidations
};

}  // namespace bus
