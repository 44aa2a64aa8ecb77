// vmx/'s VMCS cache and capability presets: every field of sim/tables/vmcs_fields.toml is
// reachable by its encoding with the widths of SDM Vol. 3C Appendix B; the presets' capability
// MSRs follow Appendix A and advertise exactly what vmx/ implements.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "vmx/capabilities.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"

namespace {

using vmx::VmcsField;

vmx::CapabilityMsrs preset(std::string_view name) {
    const auto c = vmx::capability_preset(name);
    EXPECT_TRUE(c.has_value()) << name;
    return c.value_or(vmx::CapabilityMsrs{});
}

TEST(VmcsFields, EveryTableEncodingIsFoundAndHighHalvesShareTheFullSlot) {
    for (const auto& row : vmx::kVmcsFieldTable) {
        const auto enc = static_cast<uint32_t>(row.value);
        const vmx::FieldRef f = vmx::find_field(enc);
        ASSERT_NE(f.info, nullptr) << row.name;
        EXPECT_EQ(f.info, &row);
        if (f.high) {
            EXPECT_EQ(f.slot, vmx::find_field(enc & ~1u).slot) << row.name;
        }
    }
}

TEST(VmcsFields, UnknownEncodingsAndUpperBitsNameNoField) {
    EXPECT_EQ(vmx::find_field(0x6ffe).info, nullptr);
    EXPECT_EQ(vmx::find_field(0x100000000ull).info, nullptr);
    EXPECT_EQ(vmx::find_field(0x1000).info, nullptr);  // bit 12 is never set (B.1)
}

TEST(VmcsFields, WritesKeepTheFieldWidth) {
    vmx::Vmcs v;
    const auto write = [&](VmcsField f, uint64_t value) { v.write(vmx::find_field(static_cast<uint32_t>(f)), value); };
    const auto read = [&](VmcsField f) { return v.read(vmx::find_field(static_cast<uint32_t>(f))); };
    write(VmcsField::guest_es_selector, 0x12345);
    EXPECT_EQ(read(VmcsField::guest_es_selector), 0x2345u);
    write(VmcsField::guest_es_limit, 0x1ffffffffull);
    EXPECT_EQ(read(VmcsField::guest_es_limit), 0xffffffffu);
    write(VmcsField::guest_rip, ~0ull);
    EXPECT_EQ(read(VmcsField::guest_rip), ~0ull);
    write(VmcsField::tsc_offset, 0x1122334455667788ull);
    EXPECT_EQ(read(VmcsField::tsc_offset_high), 0x11223344u);
    write(VmcsField::tsc_offset_high, 0xaabbccddeeull);  // the low 32 bits of the source
    EXPECT_EQ(read(VmcsField::tsc_offset), 0xbbccddee55667788ull);
}

TEST(VmcsRegion, SerializeAndDeserializeKeepFieldsAndLaunchState) {
    vmx::Vmcs a;
    a.set(VmcsField::guest_rip, 0xfeedull);
    a.set(VmcsField::exception_bitmap, 0x4000);
    a.launched = true;
    const auto region = a.serialize(0x1234);
    EXPECT_EQ(region.size(), vmx::vmcs_region_bytes());
    EXPECT_LE(region.size(), 4096u);
    uint32_t revision;
    std::memcpy(&revision, region.data(), 4);
    EXPECT_EQ(revision, 0x1234u);
    vmx::Vmcs b;
    b.deserialize(region.data());
    EXPECT_TRUE(b.launched);
    EXPECT_EQ(b.get(VmcsField::guest_rip), 0xfeedu);
    EXPECT_EQ(b.get(VmcsField::exception_bitmap), 0x4000u);
}

TEST(Capabilities, PresetNamesAreKnownAndOthersAreNot) {
    for (const auto& n : vmx::capability_preset_names()) EXPECT_TRUE(vmx::capability_preset(n).has_value()) << n;
    EXPECT_FALSE(vmx::capability_preset("skylake").has_value());
}

TEST(Capabilities, BasicReportsRevisionSizeWritebackAndTrueControls) {
    for (const char* name : {"modern", "nehalem"}) {
        const auto c = preset(name);
        EXPECT_EQ(c.basic >> 31 & 1, 0u) << name;           // bit 31 is 0 (A.1)
        EXPECT_EQ(vmx::vmcs_size(c), 4096u) << name;
        EXPECT_GE(vmx::vmcs_size(c), vmx::vmcs_region_bytes()) << name;
        EXPECT_EQ((c.basic >> 50) & 0xf, 6u) << name;       // write-back
        EXPECT_EQ((c.basic >> 48) & 1, 0u) << name;         // 64-bit physical addresses
        EXPECT_TRUE(vmx::true_controls(c)) << name;
    }
    EXPECT_TRUE(vmx::ins_outs_information(preset("modern")));
    EXPECT_FALSE(vmx::ins_outs_information(preset("nehalem")));
}

TEST(Capabilities, AllowedZeroSettingsAreAllowedOneSettings) {
    for (const char* name : {"modern", "nehalem"}) {
        const auto c = preset(name);
        for (uint64_t msr : {c.pinbased, c.procbased, c.exit, c.entry, c.true_pinbased, c.true_procbased,
                             c.true_exit, c.true_entry, c.procbased2}) {
            const auto allowed0 = static_cast<uint32_t>(msr), allowed1 = static_cast<uint32_t>(msr >> 32);
            EXPECT_EQ(allowed0 & ~allowed1, 0u) << name << " " << std::hex << msr;
        }
        // The TRUE MSRs may only relax default-1 bits (A.3.1).
        EXPECT_EQ(static_cast<uint32_t>(c.true_procbased) & ~static_cast<uint32_t>(c.procbased), 0u);
        EXPECT_EQ(static_cast<uint32_t>(c.true_exit) & ~static_cast<uint32_t>(c.exit), 0u);
    }
}

TEST(Capabilities, ModernHasEptVpidUnrestrictedGuestAndNehalemDoesNot) {
    using vmx::ControlField;
    const uint32_t wanted = vmx::proc2::enable_ept | vmx::proc2::enable_vpid | vmx::proc2::unrestricted_guest;
    EXPECT_TRUE(vmx::supports(preset("modern"), ControlField::proc2, wanted));
    EXPECT_EQ(vmx::allowed1(preset("nehalem"), ControlField::proc2) & wanted, 0u);
    EXPECT_TRUE(vmx::read_capability_msr(preset("modern"), 0x48c).has_value());
    EXPECT_FALSE(vmx::read_capability_msr(preset("nehalem"), 0x48c).has_value());  // A.10: #GP
    EXPECT_FALSE(vmx::read_capability_msr(preset("modern"), 0x491).has_value());   // no VM functions
    EXPECT_TRUE(vmx::gate_supported(preset("modern"), "ept"));
    EXPECT_FALSE(vmx::gate_supported(preset("nehalem"), "ept"));
    EXPECT_FALSE(vmx::gate_supported(preset("modern"), "pml"));  // not implemented, not advertised
}

TEST(Capabilities, NothingUnimplementedIsAdvertised) {
    // MONITOR, MWAIT (the core lacks them), RDRAND/RDSEED, INVPCID, VMCS
    // shadowing, posted interrupts, entry to SMM.
    for (const char* name : {"modern", "nehalem"}) {
        const auto c = preset(name);
        EXPECT_EQ(vmx::allowed1(c, vmx::ControlField::proc) &
                      (vmx::proc::monitor_exiting | vmx::proc::mwait_exiting |
                       vmx::proc::tertiary_controls),
                  0u);
        EXPECT_EQ(vmx::allowed1(c, vmx::ControlField::proc2) &
                      (vmx::proc2::rdrand_exiting | vmx::proc2::rdseed_exiting | vmx::proc2::enable_invpcid |
                       vmx::proc2::enable_vm_functions | vmx::proc2::virtualize_apic_accesses),
                  0u);
        EXPECT_EQ(vmx::allowed1(c, vmx::ControlField::pin) & vmx::pin::posted_interrupts, 0u);
        EXPECT_EQ(vmx::allowed1(c, vmx::ControlField::entry) & vmx::entry_ctl::entry_to_smm, 0u);
    }
}

TEST(Capabilities, MiscReportsTimerRateActivityStatesCr3TargetsAndListLimit) {
    const auto c = preset("modern");
    EXPECT_EQ(vmx::preemption_timer_rate(c), 5u);
    EXPECT_EQ((c.misc >> 6) & 7, 7u);  // HLT, shutdown, wait-for-SIPI
    EXPECT_EQ(vmx::cr3_target_count(c), 4u);
    EXPECT_EQ(vmx::msr_list_limit(c), 512u);
    EXPECT_FALSE(vmx::vmwrite_any_field(c));
}

TEST(Capabilities, VmcsEnumIsTheHighestSupportedIndex) {
    const auto c = preset("modern");
    uint64_t highest = 0;
    for (const auto& row : vmx::kVmcsFieldTable)
        if (vmx::gate_supported(c, row.gate))
            highest = std::max<uint64_t>(highest, (static_cast<uint32_t>(row.value) >> 1) & 0x1ff);
    EXPECT_EQ(c.vmcs_enum, highest << 1);
    EXPECT_EQ(*vmx::read_capability_msr(c, 0x48a), c.vmcs_enum);
}

TEST(Capabilities, FixedBitsRequirePeNePgAndVmxe) {
    const auto c = preset("modern");
    EXPECT_EQ(c.cr0_fixed0, 0x80000021u);
    EXPECT_EQ(c.cr4_fixed0, 1u << 13);
    EXPECT_TRUE(vmx::cr_fixed_ok(0x80000031, c.cr0_fixed0, c.cr0_fixed1));
    EXPECT_FALSE(vmx::cr_fixed_ok(0x80000011, c.cr0_fixed0, c.cr0_fixed1));  // NE clear
}

}  // namespace
