// A VMCS, capability MSRs and RAM for the VM-entry check tests: a valid 64-bit guest and host
// that passes every check (SDM 27.2, 27.3.1), and helpers to reshape it.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "vmcs_fields_table.h"
#include "vmx/entry_checks.h"
#include "vmx_controls_table.h"

namespace vmx_test {

using F = vmx::VmcsField;
using Kind = vmx::EntryCheckResult::Kind;

constexpr uint32_t raw(F f) { return static_cast<uint32_t>(f); }

// The row of a control by name (names are unique; values repeat across fields).
inline const vmx::VmxControlInfo& control(std::string_view name) {
    for (const auto& row : vmx::kVmxControlTable)
        if (name == row.name) return row;
    throw std::invalid_argument(std::string(name));
}

// Every named bit of one control field: the allowed 1-settings of the test processor.
inline uint64_t named_bits(std::string_view field) {
    uint64_t bits = 0;
    for (const auto& row : vmx::kVmxControlTable)
        if (field == row.field) bits |= static_cast<uint64_t>(row.value);
    return bits;
}

struct Vm {
    std::map<uint32_t, uint64_t> fields;
    vmx::CapabilityMsrs caps;
    vmx::ProcessorContext cpu;
    std::map<uint64_t, std::array<uint8_t, 4096>> ram;

    uint64_t& operator[](F f) { return fields[raw(f)]; }
    uint64_t& field_of(const vmx::VmxControlInfo& row) { return fields[raw(*vmx::vmcsField_from_name(row.field))]; }
    void on(std::string_view name) { field_of(control(name)) |= static_cast<uint64_t>(control(name).value); }
    void off(std::string_view name) { field_of(control(name)) &= ~static_cast<uint64_t>(control(name).value); }
    void poke(uint64_t address, const void* data, size_t size) {
        std::memcpy(ram[address & ~0xfffull].data() + (address & 0xfff), data, size);
    }
    void poke32(uint64_t address, uint32_t v) { poke(address, &v, 4); }
    void poke64(uint64_t address, uint64_t v) { poke(address, &v, 8); }

    vmx::EntryCheckResult run() const {
        const auto reader = [this](uint32_t e) {
            const auto it = fields.find(e);
            return it == fields.end() ? uint64_t{0} : it->second;
        };
        const auto memory = [this](uint64_t address, void* out, unsigned size) {
            const auto it = ram.find(address & ~0xfffull);
            if (it == ram.end() || (address & 0xfff) + size > 4096) return false;
            std::memcpy(out, it->second.data() + (address & 0xfff), size);
            return true;
        };
        return vmx::check_vm_entry(reader, caps, cpu, memory);
    }
};

constexpr uint64_t kCr0Pe = 1, kCr0Et = 1 << 4, kCr0Ne = 1 << 5, kCr0Wp = 1 << 16, kCr0Pg = 1ull << 31;
constexpr uint64_t kCr4Pae = 1 << 5, kCr4Vmxe = 1 << 13, kCr4Pcide = 1 << 17, kCr4Cet = 1 << 23;
constexpr uint32_t kRevision = 1;
constexpr uint64_t kVirtualApic = 0x3000;

inline void capabilities(Vm& v) {
    auto& k = v.caps;
    k.basic = (1ull << 55) | kRevision;
    // Plain MSRs force the default1 class (A.2); the TRUE MSRs (BASIC[55]) allow 0 there.
    k.pinbased = named_bits("pin_based_vm_execution_controls") << 32 | 0x16;
    k.true_pinbased = named_bits("pin_based_vm_execution_controls") << 32;
    k.procbased = named_bits("primary_processor_based_vm_execution_controls") << 32 | 0x0401e172;
    k.true_procbased = named_bits("primary_processor_based_vm_execution_controls") << 32;
    k.procbased2 = named_bits("secondary_processor_based_vm_execution_controls") << 32;
    k.procbased3 = named_bits("tertiary_processor_based_vm_execution_controls");
    k.exit = named_bits("primary_vm_exit_controls") << 32 | 0x00036dff;
    k.true_exit = named_bits("primary_vm_exit_controls") << 32;
    k.entry = named_bits("vm_entry_controls") << 32 | 0x11ff;
    k.true_entry = named_bits("vm_entry_controls") << 32;
    k.exit2 = 0;
    k.misc = (4ull << 16) | (7ull << 6);  // 4 CR3 targets; HLT, shutdown, wait-for-SIPI
    k.cr0_fixed0 = kCr0Pe | kCr0Ne | kCr0Pg;
    k.cr0_fixed1 = 0xffffffff;
    k.cr4_fixed0 = kCr4Vmxe;
    k.cr4_fixed1 = 0x00ffffff;
    // Execute-only, 4-level walks, UC and WB, 2M and 1G pages, accessed/dirty.
    k.ept_vpid_cap = (1ull << 0) | (1ull << 6) | (1ull << 8) | (1ull << 14) | (1ull << 16) | (1ull << 17) | (1ull << 21);
    k.vmfunc = 1;
    k.maxphyaddr = 39;
    v.cpu.ia32e = true;
    v.cpu.perf_global_ctrl_valid = 0xff | (7ull << 32);
}

inline void host_64(Vm& v) {
    v[F::host_cr0] = kCr0Pe | kCr0Et | kCr0Ne | kCr0Pg;
    v[F::host_cr3] = 0x1000;
    v[F::host_cr4] = kCr4Pae | kCr4Vmxe;
    v[F::host_cs_selector] = 0x08;
    v[F::host_ss_selector] = 0x10;
    v[F::host_tr_selector] = 0x18;
    v[F::host_rip] = 0xffffffff80001000;
    v[F::host_gs_base] = 0xffff880000000000;
}

// A flat 64-bit guest: CS L=1, data segments 4 GB, TR a busy 64-bit TSS, LDTR unusable.
inline void guest_64(Vm& v) {
    v[F::guest_cr0] = kCr0Pe | kCr0Et | kCr0Ne | kCr0Pg;
    v[F::guest_cr3] = 0x2000;
    v[F::guest_cr4] = kCr4Pae | kCr4Vmxe;
    v[F::guest_dr7] = 0x400;
    v[F::guest_rflags] = 0x2;
    v[F::guest_rip] = 0xffffffff81000000;
    v[F::guest_cs_selector] = 0x08;
    v[F::guest_cs_limit] = 0xffffffff;
    v[F::guest_cs_access_rights] = 0xa09b;
    for (auto [sel, limit, ar] : {std::array{F::guest_ss_selector, F::guest_ss_limit, F::guest_ss_access_rights},
                                  std::array{F::guest_ds_selector, F::guest_ds_limit, F::guest_ds_access_rights},
                                  std::array{F::guest_es_selector, F::guest_es_limit, F::guest_es_access_rights},
                                  std::array{F::guest_fs_selector, F::guest_fs_limit, F::guest_fs_access_rights},
                                  std::array{F::guest_gs_selector, F::guest_gs_limit, F::guest_gs_access_rights}}) {
        v[sel] = 0x10;
        v[limit] = 0xffffffff;
        v[ar] = 0xc093;
    }
    v[F::guest_ldtr_access_rights] = 0x10000;
    v[F::guest_tr_selector] = 0x18;
    v[F::guest_tr_limit] = 0x67;
    v[F::guest_tr_access_rights] = 0x8b;
    v[F::guest_gdtr_limit] = 0x27;
    v[F::guest_idtr_limit] = 0xfff;
    v[F::vmcs_link_pointer] = ~0ull;
}

// The baseline: 64-bit host, 64-bit guest, EPT and VPID.
inline Vm baseline() {
    Vm v;
    capabilities(v);
    v.on("proc_hlt_exiting");
    v.on("proc_activate_secondary_controls");
    v.on("proc2_enable_ept");
    v.on("proc2_enable_vpid");
    v[F::virtual_processor_id] = 1;
    v[F::ept_pointer] = 0x5000 | (3 << 3) | 6;  // 4 levels, WB
    v.on("exit_host_address_space_size");
    v.on("entry_ia32e_mode_guest");
    host_64(v);
    guest_64(v);
    v.poke32(0x6000, kRevision);  // a VMCS for link-pointer tests
    v.poke(kVirtualApic + 0x80, "\xf0", 1);  // VTPR = 0xf0
    return v;
}

inline void set_segment(Vm& v, F sel, F base, F limit, F ar, uint64_t s, uint64_t b, uint64_t l, uint64_t a) {
    v[sel] = s; v[base] = b; v[limit] = l; v[ar] = a;
}

// Each data segment and SS, CS in one call.
inline void all_segments(Vm& v, uint64_t s, uint64_t b, uint64_t l, uint64_t a) {
    set_segment(v, F::guest_cs_selector, F::guest_cs_base, F::guest_cs_limit, F::guest_cs_access_rights, s, b, l, a);
    set_segment(v, F::guest_ss_selector, F::guest_ss_base, F::guest_ss_limit, F::guest_ss_access_rights, s, b, l, a);
    set_segment(v, F::guest_ds_selector, F::guest_ds_base, F::guest_ds_limit, F::guest_ds_access_rights, s, b, l, a);
    set_segment(v, F::guest_es_selector, F::guest_es_base, F::guest_es_limit, F::guest_es_access_rights, s, b, l, a);
    set_segment(v, F::guest_fs_selector, F::guest_fs_base, F::guest_fs_limit, F::guest_fs_access_rights, s, b, l, a);
    set_segment(v, F::guest_gs_selector, F::guest_gs_base, F::guest_gs_limit, F::guest_gs_access_rights, s, b, l, a);
}

// 32-bit protected mode with PAE paging (ia32e guest off, CS a 32-bit code segment).
inline void protected_pae(Vm& v) {
    v.off("entry_ia32e_mode_guest");
    v[F::guest_cs_access_rights] = 0xc09b;
    v[F::guest_rip] = 0x1000;
    v[F::guest_tr_access_rights] = 0x8b;
}

// Virtual-8086 mode under 32-bit PAE paging: every segment selector<<4 based, 64 KB, AR F3H.
inline void virtual_8086(Vm& v) {
    protected_pae(v);
    v[F::guest_rflags] = 0x20002;
    all_segments(v, 0x100, 0x1000, 0xffff, 0xf3);
}

// Unrestricted guest in real mode (CR0.PE = PG = 0), EPT on.
inline void real_mode(Vm& v) {
    v.on("proc2_unrestricted_guest");
    v.off("entry_ia32e_mode_guest");
    v[F::guest_cr0] = kCr0Et | kCr0Ne;
    v[F::guest_cr4] = kCr4Vmxe;
    v[F::guest_rip] = 0xfff0;
    all_segments(v, 0, 0, 0xffff, 0x93);
    set_segment(v, F::guest_cs_selector, F::guest_cs_base, F::guest_cs_limit, F::guest_cs_access_rights,
                0xf000, 0xf0000, 0xffff, 0x9b);
}

}  // namespace vmx_test
