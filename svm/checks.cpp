// VMRUN consistency checks (AMD APM Vol. 2 15.5.1), one line per check in the APM's order.
// Context: VMRUN.
#include "svm/checks.h"

#include "cpu/state.h"
#include "svm/svm.h"

namespace svm {
namespace {

constexpr uint64_t kAbovePhys = ~((uint64_t{1} << cpu::kMaxPhysAddrBits) - 1);
constexpr uint64_t kIopmSize = 12 * 1024, kMsrpmSize = 8 * 1024;  // 15.10.1, 15.11
constexpr uint32_t kAttribL = 1u << 9, kAttribD = 1u << 10;       // descriptor bits 53, 54

bool bit(Intercept b, const Vmcb& v) {
    const auto n = static_cast<unsigned>(b);
    return (v.get(static_cast<VmcbField>(n / 32 * 4)) >> (n % 32)) & 1;
}

// TLB_CONTROL (15.16.1): 0 nothing, 1 flush all; 3 and 7 need FlushByAsid; others reserved.
bool tlb_control_legal(uint64_t t, const Features& f) {
    return t == 0 || t == 1 || (f.flush_by_asid && (t == 3 || t == 7));
}

}  // namespace

bool event_injection_legal(uint64_t e) {
    if (!(e & event_field::valid)) return true;
    const unsigned type = (e >> event_field::type_shift) & 7, vector = e & 0xff;
    if (type != event_field::intr && type != event_field::nmi && type != event_field::exception &&
        type != event_field::software_interrupt)
        return false;
    return !(type == event_field::exception && vector == 2);  // an NMI is injected as type NMI
}

const char* vmrun_check_failure(const Vmcb& v, const Features& f, uint64_t efer_allowed, uint64_t cr4_allowed) {
    using namespace cpu;
    const uint64_t efer_v = v.get(VmcbField::efer), cr0_v = v.get(VmcbField::cr0);
    const uint64_t cr3_v = v.get(VmcbField::cr3), cr4_v = v.get(VmcbField::cr4);
    const bool long_paging = (efer_v & efer::lme) && (cr0_v & cr0::pg);
    const uint32_t cs_attrib = static_cast<uint32_t>(v.get(VmcbField::cs_attrib));
    if (!(efer_v & efer::svme)) return "EFER.SVME is zero";
    if (!(cr0_v & cr0::cd) && (cr0_v & cr0::nw)) return "CR0.CD is zero and CR0.NW is set";
    if (cr0_v >> 32) return "CR0[63:32] are not zero";
    if (long_paging ? (cr3_v & kAbovePhys) : (cr3_v >> 32)) return "CR3 MBZ bits are set";
    if (cr4_v & ~cr4_allowed) return "CR4 reserved bits are set";
    if (v.get(VmcbField::dr6) >> 32) return "DR6[63:32] are not zero";
    if (v.get(VmcbField::dr7) >> 32) return "DR7[63:32] are not zero";
    if (efer_v & ~(efer_allowed | efer::lma)) return "EFER MBZ bits are set";
    if (long_paging && !(cr4_v & cr4::pae)) return "EFER.LME and CR0.PG are set and CR4.PAE is zero";
    if (long_paging && !(cr0_v & cr0::pe)) return "EFER.LME and CR0.PG are set and CR0.PE is zero";
    if (long_paging && (cr4_v & cr4::pae) && (cs_attrib & kAttribL) && (cs_attrib & kAttribD))
        return "EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D are all set";
    if (!bit(Intercept::vmrun, v)) return "the VMRUN intercept bit is clear";
    if ((v.get(VmcbField::msrpm_base_pa) & ~0xfffull) + kMsrpmSize - 1 > ~kAbovePhys)
        return "the MSR permission map extends beyond MAXPHYADDR";
    if ((v.get(VmcbField::iopm_base_pa) & ~0xfffull) + kIopmSize - 1 > ~kAbovePhys)
        return "the I/O permission map extends beyond MAXPHYADDR";
    if (!event_injection_legal(v.get(VmcbField::eventinj))) return "illegal event injection";
    if (v.get(VmcbField::guest_asid) == 0) return "ASID is zero";
    if (!tlb_control_legal(v.get(VmcbField::tlb_control), f)) return "TLB_CONTROL holds a reserved value";
    if (f.nested_paging && (v.get(VmcbField::np_control) & 1) && (v.get(VmcbField::n_cr3) & kAbovePhys))
        return "nCR3 MBZ bits are set";
    return nullptr;
}

}  // namespace svm
