// Decode-cache bookkeeping: insertion, per-page lists, invalidation on writes.
#include "cpu/blocks.h"

#include <algorithm>

#include "sim/kernel/bus.h"

namespace cpu {

Block* BlockCache::insert(std::unique_ptr<Block> b) {
    Block* raw = b.get();
    for (uint64_t page = raw->phys_begin & sim::kPageMask; page < raw->phys_end; page += sim::kPageSize)
        pages_[page].push_back(raw);
    map_[raw->key] = std::move(b);
    return raw;
}

unsigned BlockCache::invalidate(uint64_t phys, unsigned size) {
    const uint64_t end = phys + size;
    std::vector<Block*> dropped;
    for (uint64_t page = phys & sim::kPageMask; page < end; page += sim::kPageSize) {
        auto it = pages_.find(page);
        if (it == pages_.end()) continue;
        auto& list = it->second;
        for (Block* b : list) {
            if (!b->valid || b->phys_end <= phys || b->phys_begin >= end) continue;
            b->valid = false;
            dropped.push_back(b);
        }
        std::erase_if(list, [](Block* b) { return !b->valid; });
        if (list.empty()) pages_.erase(it);
    }
    if (dropped.empty()) return 0;
    // Unlink the dropped blocks; keep them alive until the run loop is between blocks, since
    // the one being executed may be among them. A block spanning two pages sits in both lists.
    for (Block* b : dropped) {
        for (uint64_t page = b->phys_begin & sim::kPageMask; page < b->phys_end; page += sim::kPageSize) {
            auto pit = pages_.find(page);
            if (pit == pages_.end()) continue;
            std::erase_if(pit->second, [](Block* x) { return !x->valid; });
            if (pit->second.empty()) pages_.erase(pit);
        }
        auto it = map_.find(b->key);
        if (it == map_.end() || it->second.get() != b) continue;
        graveyard_.push_back(std::move(it->second));
        map_.erase(it);
    }
    for (Slot& s : recent_) s = Slot{};
    ++epoch_;
    return static_cast<unsigned>(dropped.size());
}

void BlockCache::clear() {
    for (auto& [key, b] : map_) {
        b->valid = false;
        graveyard_.push_back(std::move(b));
    }
    map_.clear();
    pages_.clear();
    for (Slot& s : recent_) s = Slot{};
    ++epoch_;
}

}  // namespace cpu
