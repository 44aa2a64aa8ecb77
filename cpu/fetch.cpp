// Building blocks: decode from the physical page the fetch translated to, up to a control
// transfer, a page end or kMaxBlock instructions. Context: core slow path.
#include <cstring>

#include "cpu/blocks.h"
#include "cpu/core.h"
#include "cpu/decoder.h"

namespace cpu {
namespace {
constexpr unsigned kMaxBlock = 64;
constexpr unsigned kMaxInsnLength = 15;  // SDM Vol. 2 2.3.11 "AVX Instruction Length"
}  // namespace

Block* Core::build_block(uint64_t phys, uint8_t* host_page, uint64_t linear) {
    auto block = std::make_unique<Block>();
    block->key = BlockCache::make_key(phys, code_bits_);
    block->phys_begin = phys;
    uint64_t offset = phys & 0xfff;
    while (block->insns.size() < kMaxBlock) {
        Insn insn;
        const size_t available = 4096 - offset;
        DecodeResult r = decode(host_page + offset, available, code_bits_, insn);
        if (r.status == DecodeStatus::need_more) {
            if (!block->insns.empty()) break;  // let the next block start at this instruction
            // The first instruction crosses into the next page: fetch that page too (its #PF
            // reports the next page's address in CR2) and do not cache the block.
            uint8_t bytes[kMaxInsnLength] = {};
            std::memcpy(bytes, host_page + offset, available);
            const uint64_t next_linear = ((linear & ~0xfffull) + 4096) & linear_mask_;
            uint64_t next_phys;
            uint8_t* next_host;
            if (!translate(next_linear, AccessKind::execute, s_.cpl == 3, next_phys, next_host)) {
                deliver_pending();
                return nullptr;
            }
            if (!next_host) {
                last_error_ = "instruction fetch from a non-RAM physical address 0x" + hex(next_phys);
                control_.request_stop(sim::StopReason::host_error);
                return nullptr;
            }
            std::memcpy(bytes + available, next_host, kMaxInsnLength - available);
            r = decode(bytes, kMaxInsnLength, code_bits_, insn);
            block->cacheable = false;
            block->insns.push_back(insn);
            block->phys_end = phys + available;
            break;
        }
        block->insns.push_back(insn);
        offset += insn.length;
        if (r.ends_block || offset >= 4096) break;
    }
    if (block->phys_end == 0) block->phys_end = (phys & sim::kPageMask) + offset;
    ++blocks_built_;
    if (!block->cacheable) {
        uncached_block_ = std::move(block);
        return uncached_block_.get();
    }
    remove_write_mappings(phys & sim::kPageMask);
    return blocks_->insert(std::move(block));
}

}  // namespace cpu
