// Nested paging (AMD APM Vol. 2 15.25): guest-physical to host-physical through the nested page
// tables at nCR3, in the host's paging mode of the VMRUN; a failure is #VMEXIT(NPF) with
// EXITINFO1 = error code | bit 32 (final address) or bit 33 (guest table), EXITINFO2 = the
// guest-physical address (15.25.6). Context: the core's TLB-miss path in guest mode.
#include "mmu/npt.h"
#include "svm/svm.h"

namespace svm {

using cpu::Core;

namespace {

// The nested tables live in host-physical memory (RAM through the core).
class HostMemory final : public mmu::PhysicalAccess {
public:
    explicit HostMemory(Core& c) : c_(c) {}
    bool read64(uint64_t pa, uint64_t& v) override { return c_.read_physical(pa, &v, 8); }
    bool read32(uint64_t pa, uint32_t& v) override { return c_.read_physical(pa, &v, 4); }
    bool write64(uint64_t pa, uint64_t v) override { return c_.write_physical(pa, &v, 8); }
    bool write32(uint64_t pa, uint32_t v) override { return c_.write_physical(pa, &v, 4); }

private:
    Core& c_;
};

mmu::PagingMode host_mode(uint64_t cr0, uint64_t cr4, uint64_t efer) {
    if (!(cr0 & cpu::cr0::pg)) return mmu::PagingMode::none;
    if (efer & cpu::efer::lma) return (cr4 & cpu::cr4::la57) ? mmu::PagingMode::level5 : mmu::PagingMode::level4;
    return (cr4 & cpu::cr4::pae) ? mmu::PagingMode::pae : mmu::PagingMode::legacy32;
}

}  // namespace

bool Svm::translate(Core& c, const cpu::GuestPhysicalAccess& a, uint64_t& hpa) {
    mmu::NptWalkRequest rq;
    rq.guest_physical = a.gpa;
    rq.access = a.kind == cpu::AccessKind::write ? mmu::Access::write
              : a.kind == cpu::AccessKind::execute ? mmu::Access::execute : mmu::Access::read;
    rq.guest_paging_structure = a.paging_structure;
    rq.host_mode = host_mode(host_cr0_, host_cr4_, host_efer_);
    rq.ncr3 = ncr3_;
    rq.host_cr4_pse = host_cr4_ & cpu::cr4::pse;
    rq.host_efer_nxe = host_efer_ & cpu::efer::nxe;
    rq.maxphyaddr_mask = (uint64_t{1} << cpu::kMaxPhysAddrBits) - 1;
    HostMemory memory(c);
    const mmu::WalkResult r = mmu::npt_walk(rq, memory);
    if (r.ok) return hpa = r.physical, true;
    if (fetching_bytes_) return false;  // the instruction bytes stop short instead (15.33.4)
    // A nested table outside RAM reads as all ones on a PC: a reserved-bit #NPF like the
    // guest walk's (cpu/memory.cpp); the walk's error code then has RSVD set.
    ++npfs_;
    fetch_fault_linear_ = a.kind == cpu::AccessKind::execute && a.linear_valid ? a.linear : ~0ull;
    vmexit(c, ExitCode::npf, mmu::npf_exit_info1(r.error_code, a.paging_structure), a.gpa);
    return false;
}

}  // namespace svm
