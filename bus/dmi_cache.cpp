// DMI invalidation. Context: called back by a target through the router; rare.
#include "bus/dmi_cache.h"

#include <algorithm>

namespace bus {

void DmiCache::invalidate(uint64_t start, uint64_t end) {
    std::erase_if(regions_, [&](const Region& r) { return r.start <= end && start <= r.end; });
}

}  // namespace bus
