// The VMCS cache and region layout (vmx/vmcs.h). Context: vmx/ rare paths.
#include "vmx/vmcs.h"

#include <array>
#include <cstring>
#include <string_view>
#include <unordered_map>

namespace vmx {
namespace {

uint64_t width_mask(std::string_view width) {
    if (width == "16") return 0xffff;
    if (width == "32") return 0xffffffff;
    return ~0ull;
}

// Encodings are 15 bits with bit 12 zero (SDM Vol. 3C Table 25-21: access 0, index 9:1, type
// 11:10, width 14:13): VMREAD/VMWRITE find a field by a direct lookup, not a search.
constexpr uint32_t kEncodingLimit = 1u << 15;
bool well_formed(uint64_t encoding) { return encoding < kEncodingLimit && !(encoding & (1u << 12)); }

struct Index {
    std::vector<FieldRef> refs;                   // [0] is "no such field"
    std::array<uint16_t, kEncodingLimit> by_encoding{};  // encoding -> position in refs (0: none)
    unsigned slots = 0;
    Index() : refs(1) {
        std::unordered_map<uint32_t, unsigned> full_slot;
        for (unsigned k = 0; k < std::size(kVmcsFieldTable); ++k) {
            const auto& row = kVmcsFieldTable[k];
            const auto enc = static_cast<uint32_t>(row.value);
            const bool high = std::string_view(row.width) == "64" && (enc & 1);
            FieldRef ref{&row, 0, high, std::string_view(row.type) == "read_only", k, width_mask(row.width)};
            if (high) {
                ref.slot = full_slot.at(enc & ~1u);  // the table lists the full field first
            } else {
                ref.slot = slots++;
                full_slot[enc] = ref.slot;
            }
            by_encoding[enc] = static_cast<uint16_t>(refs.size());
            refs.push_back(ref);
        }
    }
};

const Index& index() {
    static const Index i;
    return i;
}

}  // namespace

FieldRef find_field(uint64_t encoding) {
    if (!well_formed(encoding)) return {};
    const Index& i = index();
    return i.refs[i.by_encoding[encoding]];
}

unsigned field_slot_count() { return index().slots; }
uint64_t vmcs_region_bytes() { return vmcs_layout::fields + 8ull * field_slot_count(); }

Vmcs::Vmcs() : values_(field_slot_count(), 0) {}

namespace {
// get/set by name run ~150 times per VM exit and entry: the FieldRef of a table name, found
// without the bounds checks of an arbitrary encoding.
const FieldRef& known_field(VmcsField f) {
    const Index& i = index();
    return i.refs[i.by_encoding[static_cast<uint32_t>(f) & (kEncodingLimit - 1)]];
}
}  // namespace

uint64_t Vmcs::get(VmcsField f) const {
    const FieldRef& r = known_field(f);
    return r.info ? values_[r.slot] : 0;
}

void Vmcs::set(VmcsField f, uint64_t value) {
    const FieldRef& r = known_field(f);
    if (r.info) values_[r.slot] = value & r.mask;
}

uint64_t Vmcs::read(const FieldRef& f) const {
    const uint64_t v = values_[f.slot];
    return f.high ? v >> 32 : v;
}

// SDM 31.3 "VMWRITE": a 16- or 32-bit field takes the low bits of the source; the high access
// of a 64-bit field writes bits 63:32 with the low 32 bits of the source.
void Vmcs::write(const FieldRef& f, uint64_t value) {
    uint64_t& slot = values_[f.slot];
    if (f.high) slot = (slot & 0xffffffffull) | (value << 32);
    else slot = value & f.mask;
}

FieldReader Vmcs::reader() const {
    return [this](uint32_t encoding) {
        const FieldRef r = find_field(encoding);
        return r.info ? read(r) : 0;
    };
}

std::vector<uint8_t> Vmcs::serialize(uint32_t revision) const {
    std::vector<uint8_t> region(vmcs_region_bytes(), 0);
    std::memcpy(&region[vmcs_layout::revision], &revision, 4);
    region[vmcs_layout::launch_state] = launched ? 1 : 0;
    std::memcpy(&region[vmcs_layout::fields], values_.data(), values_.size() * 8);
    return region;
}

void Vmcs::deserialize(const uint8_t* region) {
    launched = region[vmcs_layout::launch_state] == 1;
    std::memcpy(values_.data(), region + vmcs_layout::fields, values_.size() * 8);
}

}  // namespace vmx
