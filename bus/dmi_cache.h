// bus::DmiCache: the DMI regions an initiator was granted, looked up by physical page.
// Context: the processor's RAM path (ram_page); a hit is a couple of compares, no SystemC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/kernel/bus.h"

namespace bus {

class DmiCache {
public:
    // Host pointer to the page holding `paddr` if a cached region covers all of that page.
    uint8_t* page(uint64_t paddr) const {
        const uint64_t first = paddr & sim::kPageMask;
        for (const Region& r : regions_) {
            if (first >= r.start && first + (sim::kPageSize - 1) <= r.end) {
                return r.ptr + (first - r.start);
            }
        }
        return nullptr;
    }

    // A granted region: [start, end] inclusive, as TLM-2.0 states it, `ptr` at `start`.
    void add(uint64_t start, uint64_t end, uint8_t* ptr) { regions_.push_back({start, end, ptr}); }
    // Forgets every region that overlaps [start, end] (a target revoked it).
    void invalidate(uint64_t start, uint64_t end);
    void clear() { regions_.clear(); }
    std::size_t size() const { return regions_.size(); }

private:
    struct Region {
        uint64_t start, end;
        uint8_t* ptr;
    };
    std::vector<Region> regions_;  // RAM is one or two regions: a linear scan is the fastest
};

}  // namespace bus
