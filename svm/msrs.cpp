// What SVM adds to the processor's registers: CPUID 8000_0001h:ECX.SVM and leaf 8000_000Ah
// (APM Vol. 3 Appendix E.4.9), the SVM MSRs of sim/tables/svm_msrs.toml (APM Vol. 2 15.30) and
// EFER.SVME (15.4 "Enabling SVM"). Context: CPUID, RDMSR, WRMSR.
#include "cpu/msr.h"
#include "svm/svm.h"
#include "msrs_table.h"
#include "svm_msrs_table.h"

namespace svm {
namespace {

constexpr uint64_t kVmCrLock = 1u << 3, kVmCrSvmdis = 1u << 4;  // 15.30.1
constexpr uint64_t kPhysMask = (uint64_t{1} << cpu::kMaxPhysAddrBits) - 1;

const SvmMsrInfo* row_of(uint32_t index) {
    for (const auto& r : kSvmMsrTable)
        if (static_cast<uint32_t>(r.value) == index) return &r;
    return nullptr;
}

}  // namespace

void Svm::adjust_cpuid(uint32_t leaf, uint32_t, uint32_t regs[4]) const {
    if (leaf == 0x80000000u && regs[0] < 0x8000000au) regs[0] = 0x8000000au;  // reach 8000_000Ah
    if (leaf == 0x80000001u) regs[2] |= 1u << 2;                              // ECX[2] SVM
    if (leaf == 0x80000009u) regs[0] = regs[1] = regs[2] = regs[3] = 0;       // reserved
    if (leaf == 0x8000000au) {
        regs[0] = f_.revision;
        regs[1] = f_.asids;
        regs[2] = 0;
        regs[3] = f_.cpuid_edx();
    }
}

// 15.30.1: with VM_CR.SVMDIS set, EFER.SVME is MBZ.
uint64_t Svm::efer_bits() const { return (vm_cr_ & kVmCrSvmdis) ? 0 : cpu::efer::svme; }

cpu::MsrResult Svm::read_msr(cpu::Core& c, uint32_t index, uint64_t& value) {
    // A guest reads the TSC with TSC_OFFSET added, by RDTSC(P) and by RDMSR alike (15.30.5).
    if (in_guest_ && index == static_cast<uint32_t>(cpu::Msr::tsc)) return value = c.tsc() + tsc_offset_, cpu::MsrResult::ok;
    if (index == static_cast<uint32_t>(SvmMsr::vm_cr)) return value = vm_cr_, cpu::MsrResult::ok;
    if (index == static_cast<uint32_t>(SvmMsr::vm_hsave_pa)) return value = hsave_pa_, cpu::MsrResult::ok;
    return cpu::MsrResult::not_mine;
}

cpu::MsrResult Svm::write_msr(cpu::Core&, uint32_t index, uint64_t value) {
    const SvmMsrInfo* row = row_of(index);
    if (!row) return cpu::MsrResult::not_mine;
    if (value & ~row->writable) return cpu::MsrResult::gp;  // reserved bits, unaligned or beyond MAXPHYADDR
    if (row->value == SvmMsr::vm_cr) {
        if (!(vm_cr_ & kVmCrLock)) vm_cr_ = value;  // LOCK: writes to LOCK and SVMDIS are ignored
        return cpu::MsrResult::ok;
    }
    if (value & ~kPhysMask) return cpu::MsrResult::gp;  // 15.30.4
    hsave_pa_ = value;
    return cpu::MsrResult::ok;
}

void Svm::reset(cpu::Core& c) {
    for (const auto& r : kSvmMsrTable) (r.value == SvmMsr::vm_cr ? vm_cr_ : hsave_pa_) = r.reset;
    gif_ = true;  // RESET sets GIF (15.17)
    nested_paging_ = false;
    injecting_ = 0;
    injection_unchecked_ = false;
    update_attention(c);
}

}  // namespace svm
