// Reads and writes VMCB fields (and the host save area, which hvsim lays out like the VMCB
// state save area) in physical memory, by the field names and sizes of sim/tables/vmcb.toml.
// A Vmcb reads its 4 KiB page once and writes the bytes it changed back when it goes out of
// scope (a VMRUN/#VMEXIT touches ~70 fields): keep one Vmcb per page alive at a time when
// writing. Context: VMRUN, #VMEXIT, VMLOAD, VMSAVE.
#pragma once
#include <array>
#include <cstdint>

#include "cpu/core.h"
#include "cpu/state.h"
#include "vmcb_table.h"

namespace svm {

class Vmcb {
public:
    Vmcb(cpu::Core& core, uint64_t physical);
    ~Vmcb();
    Vmcb(const Vmcb&) = delete;
    Vmcb& operator=(const Vmcb&) = delete;

    uint64_t get(VmcbField f) const;            // zero-extended to 64 bits
    void set(VmcbField f, uint64_t value) const;  // truncated to the field's size
    uint64_t address() const { return pa_; }

    // A segment register by its selector field (es_selector, cs_selector ...): selector,
    // attributes, limit and base follow it in that order (Table B-2). The VMCB's attributes
    // pack descriptor bits 47:40 in 7:0 and 55:52 in 11:8 (15.5.1 "Segment State in the VMCB").
    cpu::Segment segment(VmcbField selector) const;
    void set_segment(VmcbField selector, const cpu::Segment& s) const;

private:
    cpu::Core& core_;
    uint64_t pa_;
    mutable std::array<uint8_t, 4096> bytes_;
    mutable unsigned dirty_begin_ = 4096, dirty_end_ = 0;
};

// The VMCB selector fields of the four segments VMRUN switches, in cpu::SegReg order.
inline constexpr VmcbField kSwitchedSegments[] = {VmcbField::es_selector, VmcbField::cs_selector,
                                                 VmcbField::ss_selector, VmcbField::ds_selector};

}  // namespace svm
