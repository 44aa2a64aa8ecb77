// Address decoding of one space. Context: composition (map), then every device access.
#include "bus/router.h"

#include <algorithm>
#include <stdexcept>

namespace bus {

Router::Router(sc_core::sc_module_name name)
    : sc_core::sc_module(name), from_initiator("from_initiator"), to_devices("to_devices") {
    from_initiator.register_b_transport(this, &Router::b_transport);
    from_initiator.register_get_direct_mem_ptr(this, &Router::get_direct_mem_ptr);
    from_initiator.register_transport_dbg(this, &Router::transport_dbg);
    to_devices.register_invalidate_direct_mem_ptr(this, &Router::invalidate_direct_mem_ptr);
}

void Router::map(uint64_t base, uint64_t size, TargetSocket& device, std::string label) {
    if (size == 0 || base + (size - 1) < base) {
        throw std::invalid_argument(label + ": empty or wrapping range");
    }
    auto next = std::upper_bound(mappings_.begin(), mappings_.end(), base,
                                 [](uint64_t b, const Mapping& m) { return b < m.base; });
    const bool overlaps_next = next != mappings_.end() && next->base - base < size;
    const bool overlaps_prev =
        next != mappings_.begin() && base - std::prev(next)->base < std::prev(next)->size;
    if (overlaps_next || overlaps_prev) {
        const Mapping& other = overlaps_next ? *next : *std::prev(next);
        throw std::invalid_argument(label + " overlaps " + other.label + " in " + name());
    }
    const auto target = static_cast<unsigned>(base_of_target_.size());
    to_devices.bind(device);
    base_of_target_.push_back(base);
    mappings_.insert(next, Mapping{base, size, target, std::move(label)});
}

const Router::Mapping* Router::find(uint64_t address, uint64_t length) const {
    auto next = std::upper_bound(mappings_.begin(), mappings_.end(), address,
                                 [](uint64_t a, const Mapping& m) { return a < m.base; });
    if (next == mappings_.begin()) return nullptr;
    const Mapping& m = *std::prev(next);
    const uint64_t offset = address - m.base;
    if (offset >= m.size || length > m.size - offset) return nullptr;
    return &m;
}

// TLM-2.0 lets an interconnect rewrite the address on the way in; it is put back on the way
// out so the initiator sees its payload as it sent it.
void Router::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    const uint64_t address = gp.get_address();
    const Mapping* m = find(address, gp.get_data_length());
    if (m == nullptr) {
        gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    gp.set_address(address - m->base);
    to_devices[m->target]->b_transport(gp, delay);
    gp.set_address(address);
}

unsigned Router::transport_dbg(tlm::tlm_generic_payload& gp) {
    const uint64_t address = gp.get_address();
    const Mapping* m = find(address, gp.get_data_length());
    if (m == nullptr) return 0;
    gp.set_address(address - m->base);
    const unsigned done = to_devices[m->target]->transport_dbg(gp);
    gp.set_address(address);
    return done;
}

// The target answers in its own offsets; the initiator needs global addresses, and must not be
// given more than this mapping (a target may grant beyond what the router routes to it).
bool Router::get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi) {
    const uint64_t address = gp.get_address();
    const Mapping* m = find(address, 1);
    if (m == nullptr) return false;
    gp.set_address(address - m->base);
    const bool granted = to_devices[m->target]->get_direct_mem_ptr(gp, dmi);
    gp.set_address(address);
    if (!granted) return false;

    // Target offsets start at 0, so the region cannot begin before the mapping; it can end
    // after it (offsets >= m->size are not routed here).
    const uint64_t end = std::min<uint64_t>(dmi.get_end_address(), m->size - 1);
    dmi.set_start_address(dmi.get_start_address() + m->base);
    dmi.set_end_address(end + m->base);
    return true;
}

void Router::invalidate_direct_mem_ptr(int target, sc_dt::uint64 start, sc_dt::uint64 end) {
    const uint64_t base = base_of_target_.at(static_cast<size_t>(target));
    const uint64_t global_end = end + base < end ? ~uint64_t{0} : end + base;
    from_initiator->invalidate_direct_mem_ptr(start + base, global_end);
}

}  // namespace bus
