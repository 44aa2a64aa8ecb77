// Checks on the guest control registers, debug registers and MSRs (Intel SDM Vol. 3C
// 27.3.1.1), descriptor-table registers (27.3.1.3), RIP and RFLAGS (27.3.1.4).
// Failure: VM-entry failure, exit reason 33, qualification 0. Context: vmx/ VM entry.
#include "vmx/entry_checks_internal.h"

namespace vmx::entry {

namespace {
constexpr uint64_t kCr0Pe = 1ull << 0, kCr0Wp = 1ull << 16, kCr0Pg = 1ull << 31;
constexpr uint64_t kCr4Pae = 1ull << 5, kCr4Pcide = 1ull << 17, kCr4Cet = 1ull << 23;
constexpr uint64_t kEferLme = 1ull << 8, kEferLma = 1ull << 10;
constexpr uint64_t kEferDefined = (1ull << 0) | kEferLme | kEferLma | (1ull << 11);
// IA32_DEBUGCTL: bits 5:2 and 63:16 are reserved (SDM Vol. 3B 18.4.1).
constexpr uint64_t kDebugctlReserved = 0x3cull | ~0xffffull;
// IA32_BNDCFGS: bits 4:2 reserved, bits 63:12 a linear address (SDM Vol. 1 17.3.3).
constexpr uint64_t kBndcfgsReserved = 0x1cull;
}  // namespace


EntryCheckResult check_guest_registers(const Context& c) {
    const uint64_t cr0 = c.read(VmcsField::guest_cr0), cr4 = c.read(VmcsField::guest_cr4);
    // With "unrestricted guest", PE and PG are exempt from IA32_VMX_CR0_FIXED0 (A.7).
    uint64_t fixed0 = c.caps.cr0_fixed0;
    if (c.proc2(VmxControl::proc2_unrestricted_guest)) fixed0 &= ~(kCr0Pe | kCr0Pg);
    if ((cr0 & fixed0) != fixed0 || (cr0 & ~c.caps.cr0_fixed1)) return guest_failure("guest_cr0_fixed");
    if ((cr0 & kCr0Pg) && !(cr0 & kCr0Pe)) return guest_failure("guest_cr0_pg_without_pe");
    if ((cr4 & c.caps.cr4_fixed0) != c.caps.cr4_fixed0 || (cr4 & ~c.caps.cr4_fixed1))
        return guest_failure("guest_cr4_fixed");
    if ((cr4 & kCr4Cet) && !(cr0 & kCr0Wp)) return guest_failure("guest_cr4_cet_without_wp");
    if (c.entry(VmxControl::entry_load_debug_controls) && (c.read(VmcsField::guest_ia32_debugctl) & kDebugctlReserved))
        return guest_failure("guest_debugctl_reserved");
    if (ia32e_guest(c) && (!(cr0 & kCr0Pg) || !(cr4 & kCr4Pae))) return guest_failure("guest_ia32e_without_pg_pae");
    if (!ia32e_guest(c) && (cr4 & kCr4Pcide)) return guest_failure("guest_pcide_outside_ia32e");
    if (!c.fits_width(c.read(VmcsField::guest_cr3))) return guest_failure("guest_cr3_width");
    if (c.entry(VmxControl::entry_load_debug_controls) && (c.read(VmcsField::guest_dr7) >> 32))
        return guest_failure("guest_dr7_high");
    if (!canonical(c.read(VmcsField::guest_ia32_sysenter_esp)) || !canonical(c.read(VmcsField::guest_ia32_sysenter_eip)))
        return guest_failure("guest_sysenter_canonical");
    if (c.entry(VmxControl::entry_load_ia32_perf_global_ctrl) &&
        (c.read(VmcsField::guest_ia32_perf_global_ctrl) & ~c.cpu.perf_global_ctrl_valid))
        return guest_failure("guest_perf_global_ctrl_reserved");
    if (c.entry(VmxControl::entry_load_ia32_pat) && !pat_valid(c.read(VmcsField::guest_ia32_pat)))
        return guest_failure("guest_pat");
    if (c.entry(VmxControl::entry_load_ia32_efer)) {
        const uint64_t efer = c.read(VmcsField::guest_ia32_efer);
        if (efer & ~kEferDefined) return guest_failure("guest_efer_reserved");
        if (((efer & kEferLma) != 0) != ia32e_guest(c)) return guest_failure("guest_efer_lma");
        if ((cr0 & kCr0Pg) && ((efer & kEferLme) != 0) != ia32e_guest(c)) return guest_failure("guest_efer_lme");
    }
    if (c.entry(VmxControl::entry_load_ia32_bndcfgs)) {
        const uint64_t bndcfgs = c.read(VmcsField::guest_ia32_bndcfgs);
        if ((bndcfgs & kBndcfgsReserved) || !canonical(bndcfgs & ~0xfffull)) return guest_failure("guest_bndcfgs");
    }
    if (c.entry(VmxControl::entry_load_pkrs) && (c.read(VmcsField::guest_ia32_pkrs) >> 32))
        return guest_failure("guest_pkrs_reserved");
    return passed();
}

// 27.3.1.3 "Checks on Guest Descriptor-Table Registers" and 27.3.1.4 "Checks on Guest RIP,
// RFLAGS, and SSP".
EntryCheckResult check_guest_rip_tables_flags(const Context& c) {
    if (!canonical(c.read(VmcsField::guest_gdtr_base)) || !canonical(c.read(VmcsField::guest_idtr_base)))
        return guest_failure("guest_gdtr_idtr_base_canonical");
    if ((c.read(VmcsField::guest_gdtr_limit) >> 16) || (c.read(VmcsField::guest_idtr_limit) >> 16))
        return guest_failure("guest_gdtr_idtr_limit");
    const uint64_t rip = c.read(VmcsField::guest_rip);
    const bool cs_l = (c.read(VmcsField::guest_cs_access_rights) >> 13) & 1;
    if (!(ia32e_guest(c) && cs_l) && (rip >> 32)) return guest_failure("guest_rip_high");
    if (ia32e_guest(c) && cs_l && !canonical(rip)) return guest_failure("guest_rip_canonical");
    // RFLAGS: bits 63:22, 15, 5 and 3 are 0, bit 1 is 1.
    const uint64_t rflags = c.read(VmcsField::guest_rflags);
    if ((rflags & (~0x3fffffull | (1u << 15) | (1u << 5) | (1u << 3))) || !(rflags & 2))
        return guest_failure("guest_rflags_reserved");
    const bool vm = (rflags >> 17) & 1;
    if (vm && (ia32e_guest(c) || !(c.read(VmcsField::guest_cr0) & kCr0Pe))) return guest_failure("guest_rflags_vm");
    // Injecting an external interrupt requires RFLAGS.IF = 1.
    const auto info = static_cast<uint32_t>(c.read(VmcsField::vm_entry_interruption_information));
    if ((info >> 31) && ((info >> 8) & 7) == 0 && !((rflags >> 9) & 1))
        return guest_failure("guest_rflags_if_for_external_interrupt");
    return passed();
}

}  // namespace vmx::entry
