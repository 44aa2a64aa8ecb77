// VMCB field access by name (sim/tables/vmcb.toml). Context: VMRUN, #VMEXIT, VMLOAD, VMSAVE.
#include "svm/vmcb.h"

namespace svm {
namespace {

unsigned size_of(VmcbField f) {
    const auto* row = info(f);
    return row ? static_cast<unsigned>(row->size) : 0;
}

VmcbField next(VmcbField f, unsigned bytes) { return static_cast<VmcbField>(static_cast<unsigned>(f) + bytes); }

}  // namespace

uint64_t Vmcb::get(VmcbField f) const {
    uint64_t v = 0;
    const unsigned n = size_of(f);
    if (n && n <= 8) core_.read_physical(pa_ + static_cast<unsigned>(f), &v, n);  // little-endian
    return v;
}

void Vmcb::set(VmcbField f, uint64_t value) const {
    const unsigned n = size_of(f);
    if (n && n <= 8) core_.write_physical(pa_ + static_cast<unsigned>(f), &value, n);
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
