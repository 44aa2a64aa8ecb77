// Test helpers for the second level (EPT, NPT): EPT entry bits and requests. EPT and NPT
// tables are built with PageTables (page_tables.h): EPT's 4- and 5-level shape is that of
// 4- and 5-level paging, bits 2:0 (R, W, X) sit where P, R/W, U/S do and bit 7 marks a page
// in both. Context: unit tests only.
#pragma once
#include <cstdint>

#include "mmu/ept.h"
#include "mmu/npt.h"
#include "page_tables.h"

namespace mmu_test {

// EPT entry bits (SDM Vol. 3C 29.3.2, Tables 29-1 to 29-6).
inline constexpr uint64_t ept_r = uint64_t{1} << 0;
inline constexpr uint64_t ept_w = uint64_t{1} << 1;
inline constexpr uint64_t ept_x = uint64_t{1} << 2;
inline constexpr uint64_t ept_rwx = ept_r | ept_w | ept_x;
inline constexpr uint64_t ept_ipat = uint64_t{1} << 6;
inline constexpr uint64_t ept_a = uint64_t{1} << 8;
inline constexpr uint64_t ept_d = uint64_t{1} << 9;
inline constexpr uint64_t ept_type(uint64_t type) { return type << 3; }
inline constexpr uint64_t ept_wb = ept_type(6);

// EPTP with memory type WB (SDM Vol. 3C 25.6.11).
inline uint64_t make_eptp(uint64_t root, int levels, bool accessed_dirty) {
    return root | (static_cast<uint64_t>(levels - 1) << 3) | (accessed_dirty ? uint64_t{1} << 6 : 0) | 6;
}

inline mmu::EptWalkRequest ept_request(uint64_t eptp, uint64_t gpa, mmu::Access access) {
    mmu::EptWalkRequest r;
    r.eptp = eptp;
    r.guest_physical = gpa;
    r.access = access;
    r.supported.walk_length_5 = true;
    return r;
}

inline mmu::NptWalkRequest npt_request(uint64_t ncr3, uint64_t gpa, mmu::Access access) {
    mmu::NptWalkRequest r;
    r.ncr3 = ncr3;
    r.guest_physical = gpa;
    r.access = access;
    r.host_mode = mmu::PagingMode::level4;
    r.host_efer_nxe = true;
    return r;
}

}  // namespace mmu_test
