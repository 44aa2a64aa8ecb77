// VMCB field access by name (sim/tables/vmcb.toml). Context: VMRUN, #VMEXIT, VMLOAD, VMSAVE.
#include "svm/vmcb.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace svm {
namespace {

// Field sizes by offset, from the table once (a VMRUN/#VMEXIT touches ~70 fields: a search of
// the table per access was half of the round trip's time).
struct SizeByOffset {
    std::array<uint16_t, 4096> size{};
    SizeByOffset() {
        for (const auto& row : kVmcbFieldTable) size[static_cast<unsigned>(row.value) & 0xfff] = static_cast<uint16_t>(row.size);
    }
};

unsigned size_of(VmcbField f) {
    static const SizeByOffset table;
    return table.size[static_cast<unsigned>(f) & 0xfff];
}

VmcbField next(VmcbField f, unsigned bytes) { return static_cast<VmcbField>(static_cast<unsigned>(f) + bytes); }

}  // namespace

// A page outside RAM reads as zeros and takes no writes (the VMCB address was checked against
// MAXPHYADDR only, as the APM does).
Vmcb::Vmcb(cpu::Core& core, uint64_t physical) : core_(core), pa_(physical & ~0xfffull) {
    if (!core_.read_physical(pa_, bytes_.data(), bytes_.size())) bytes_.fill(0);
}

Vmcb::~Vmcb() {
    if (dirty_begin_ < dirty_end_)
        core_.write_physical(pa_ + dirty_begin_, bytes_.data() + dirty_begin_, dirty_end_ - dirty_begin_);
}

uint64_t Vmcb::get(VmcbField f) const {
    uint64_t v = 0;
    const unsigned n = size_of(f), at = static_cast<unsigned>(f);
    if (n && n <= 8) std::memcpy(&v, bytes_.data() + at, n);  // little-endian
    return v;
}

void Vmcb::set(VmcbField f, uint64_t value) const {
    const unsigned n = size_of(f), at = static_cast<unsigned>(f);
    if (!n || n > 8) return;
    std::memcpy(bytes_.data() + at, &value, n);
    dirty_begin_ = std::min(dirty_begin_, at);
    dirty_end_ = std::max(dirty_end_, at + n);
}

cpu::Segment Vmcb::segment(VmcbField selector) const {
    const VmcbField attrib = next(selector, size_of(selector));
    const VmcbField limit = next(attrib, size_of(attrib));
    const VmcbField base = next(limit, size_of(limit));
    cpu::Segment s;
    s.selector = static_cast<uint16_t>(get(selector));
    const uint32_t a = static_cast<uint32_t>(get(attrib));
    s.attributes = (a & 0xff) | ((a & 0xf00) << 4);
    if (!s.present()) s.attributes |= 0x10000;  // not present: unusable for the core's checks
    s.limit = static_cast<uint32_t>(get(limit));
    s.base = get(base);
    return s;
}

void Vmcb::set_segment(VmcbField selector, const cpu::Segment& s) const {
    const VmcbField attrib = next(selector, size_of(selector));
    const VmcbField limit = next(attrib, size_of(attrib));
    const VmcbField base = next(limit, size_of(limit));
    set(selector, s.selector);
    set(attrib, s.unusable() && !s.present() ? 0 : ((s.attributes & 0xff) | ((s.attributes >> 4) & 0xf00)));
    set(limit, s.limit);
    set(base, s.base);
}

}  // namespace svm
