// The decode cache: straight-line blocks of decoded instructions, keyed by the physical
// address of their first byte and the code size they were decoded for, and dropped when a
// write touches their bytes (self-modifying code stays correct). Context: core slow paths.
#pragma once
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "cpu/insn.h"

namespace cpu {

struct Block {
    uint64_t key = 0;         // physical address of the first byte | code size
    uint64_t phys_begin = 0;  // physical bytes [phys_begin, phys_end) the block was decoded from
    uint64_t phys_end = 0;
    bool valid = true;
    bool cacheable = true;    // false for a block whose last instruction crosses a page
    std::vector<Insn> insns;
    // Successor cache: the block last reached from here at linear RIP `rip`, while `epoch` holds.
    struct Link {
        uint64_t rip = ~0ull;
        uint64_t epoch = 0;
        Block* target = nullptr;
    } links[2];
};

class BlockCache {
public:
    static uint64_t make_key(uint64_t phys, unsigned code_bits) {
        return phys | (static_cast<uint64_t>(code_bits) << 56);
    }
    Block* find(uint64_t key) {
        Slot& s = recent_[(key ^ (key >> 12)) & (kRecent - 1)];
        if (s.key == key) return s.block;
        auto it = map_.find(key);
        if (it == map_.end()) return nullptr;
        s = {key, it->second.get()};
        return it->second.get();
    }
    Block* insert(std::unique_ptr<Block> b);
    // Drops every block overlapping [phys, phys + size). Returns how many were dropped.
    unsigned invalidate(uint64_t phys, unsigned size);
    bool page_has_code(uint64_t phys_page) const { return pages_.count(phys_page) != 0; }
    void clear();
    void collect_garbage() { graveyard_.clear(); }  // only between blocks
    uint64_t epoch() const { return epoch_; }
    void bump_epoch() { ++epoch_; }
    size_t size() const { return map_.size(); }

private:
    static constexpr unsigned kRecent = 4096;
    struct Slot {
        uint64_t key = ~0ull;
        Block* block = nullptr;
    };
    std::unordered_map<uint64_t, std::unique_ptr<Block>> map_;
    std::unordered_map<uint64_t, std::vector<Block*>> pages_;  // physical page -> its blocks
    std::vector<std::unique_ptr<Block>> graveyard_;  // dropped while perhaps still executing
    Slot recent_[kRecent];
    uint64_t epoch_ = 1;
};

}  // namespace cpu
