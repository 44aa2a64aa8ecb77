// bus::Ram: guest RAM as a TLM-2.0 target. b_transport and transport_dbg serve the slow paths
// (device-like accesses, loaders); DMI hands the processor a host pointer to the whole array.
// Context: built by SystemBus inside its SystemC context; addresses are offsets into the RAM.
#pragma once

#include <cstdint>

#include "bus/tlm_types.h"

namespace bus {

class Ram final : public sc_core::sc_module {
public:
    SimpleTargetSocket<Ram> socket;

    // `size` in bytes, a whole number of 4 KiB pages; the RAM reads as zero at first.
    Ram(sc_core::sc_module_name name, uint64_t size);
    ~Ram() override;
    Ram(const Ram&) = delete;
    Ram& operator=(const Ram&) = delete;

    uint64_t size() const { return size_; }
    uint8_t* data() { return data_; }
    const uint8_t* data() const { return data_; }

private:
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);
    unsigned transport_dbg(tlm::tlm_generic_payload& gp);
    bool in_range(const tlm::tlm_generic_payload& gp) const;

    uint8_t* data_;
    uint64_t size_;
};

}  // namespace bus
