// The generated VMX tables agree with the SDM's own structure: every VMCS field encoding
// (Vol. 3C Appendix B) carries its width and type in its bits, and the basic exit reasons
// (Appendix C) keep their architectural numbers.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "vmcs_fields_table.h"
#include "vmx_controls_table.h"
#include "vmx_exit_reasons_table.h"

namespace {

using vmx::ExitReason;
using vmx::VmcsField;

// SDM B.1: bits 14:13 width (0 16-bit, 1 64-bit, 2 32-bit, 3 natural).
uint32_t width_code(std::string_view width) {
    if (width == "16") return 0;
    if (width == "64") return 1;
    if (width == "32") return 2;
    if (width == "natural") return 3;
    ADD_FAILURE() << "unknown width " << width;
    return ~0u;
}

// SDM B.1: bits 11:10 type (0 control, 1 VM-exit information, 2 guest state, 3 host state).
uint32_t type_code(std::string_view type) {
    if (type == "control") return 0;
    if (type == "read_only") return 1;
    if (type == "guest") return 2;
    if (type == "host") return 3;
    ADD_FAILURE() << "unknown type " << type;
    return ~0u;
}

uint32_t raw(VmcsField f) { return static_cast<uint32_t>(f); }

const vmx::VmcsFieldInfo* by_encoding(uint32_t encoding) {
    return vmx::info(static_cast<VmcsField>(encoding));
}

TEST(VmcsFields, EncodingBitsAgreeWithWidthAndType) {
    for (const auto& row : vmx::kVmcsFieldTable) {
        SCOPED_TRACE(row.name);
        const uint32_t e = raw(row.value);
        EXPECT_EQ((e >> 13) & 3, width_code(row.width));
        EXPECT_EQ((e >> 10) & 3, type_code(row.type));
        EXPECT_EQ(e & ~0x6fffu, 0u) << "bits 12 and 31:15 are reserved (0)";
        const bool high = e & 1;
        if (std::string_view(row.width) != "64") {
            EXPECT_FALSE(high) << "only 64-bit fields have a high part";
        }
        // Name and access type agree: the high row names the upper half of its full row.
        const std::string_view name(row.name);
        EXPECT_EQ(high, name.ends_with("_high"));
    }
}

TEST(VmcsFields, SixtyFourBitFieldsComeInFullHighPairs) {
    for (const auto& row : vmx::kVmcsFieldTable) {
        if (std::string_view(row.width) != "64") continue;
        SCOPED_TRACE(row.name);
        const uint32_t e = raw(row.value);
        const auto* partner = by_encoding(e ^ 1);
        ASSERT_NE(partner, nullptr) << "64-bit field without its " << ((e & 1) ? "full" : "high") << " row";
        const auto* full = (e & 1) ? partner : &row;
        const auto* high = (e & 1) ? &row : partner;
        EXPECT_EQ(std::string(high->name), std::string(full->name) + "_high");
        EXPECT_STREQ(high->type, full->type);
        EXPECT_STREQ(high->gate, full->gate);
    }
}

TEST(VmcsFields, EncodingsAndNamesAreUnique) {
    std::set<uint32_t> encodings;
    std::set<std::string_view> names;
    for (const auto& row : vmx::kVmcsFieldTable) {
        EXPECT_TRUE(encodings.insert(raw(row.value)).second) << "duplicate encoding of " << row.name;
        EXPECT_TRUE(names.insert(row.name).second) << "duplicate name " << row.name;
        EXPECT_EQ(vmx::vmcsField_from_name(row.name), row.value);
    }
}

TEST(VmcsFields, KnownEncodings) {
    EXPECT_EQ(raw(VmcsField::virtual_processor_id), 0x0000u);
    EXPECT_EQ(raw(VmcsField::guest_es_selector), 0x0800u);
    EXPECT_EQ(raw(VmcsField::host_es_selector), 0x0c00u);
    EXPECT_EQ(raw(VmcsField::io_bitmap_a_address), 0x2000u);
    EXPECT_EQ(raw(VmcsField::io_bitmap_a_address_high), 0x2001u);
    EXPECT_EQ(raw(VmcsField::ept_pointer), 0x201au);
    EXPECT_EQ(raw(VmcsField::guest_physical_address), 0x2400u);
    EXPECT_EQ(raw(VmcsField::msr_bitmaps_address), 0x2004u);
    EXPECT_EQ(raw(VmcsField::posted_interrupt_descriptor_address), 0x2016u);
    EXPECT_EQ(raw(VmcsField::vmcs_link_pointer), 0x2800u);
    EXPECT_EQ(raw(VmcsField::guest_ia32_efer), 0x2806u);
    EXPECT_EQ(raw(VmcsField::host_ia32_efer), 0x2c02u);
    EXPECT_EQ(raw(VmcsField::pin_based_vm_execution_controls), 0x4000u);
    EXPECT_EQ(raw(VmcsField::secondary_processor_based_vm_execution_controls), 0x401eu);
    EXPECT_EQ(raw(VmcsField::primary_vm_exit_controls), 0x400cu);
    EXPECT_EQ(raw(VmcsField::vm_entry_controls), 0x4012u);
    EXPECT_EQ(raw(VmcsField::vm_instruction_error), 0x4400u);
    EXPECT_EQ(raw(VmcsField::guest_interruptibility_state), 0x4824u);
    EXPECT_EQ(raw(VmcsField::vm_exit_reason), 0x4402u);
    EXPECT_EQ(raw(VmcsField::vmx_preemption_timer_value), 0x482eu);
    EXPECT_EQ(raw(VmcsField::host_ia32_sysenter_cs), 0x4c00u);
    EXPECT_EQ(raw(VmcsField::exit_qualification), 0x6400u);
    EXPECT_EQ(raw(VmcsField::guest_rip), 0x681eu);
    EXPECT_EQ(raw(VmcsField::guest_rflags), 0x6820u);
    EXPECT_EQ(raw(VmcsField::host_rip), 0x6c16u);
    EXPECT_STREQ(vmx::info(VmcsField::ept_pointer)->gate, "ept");
    EXPECT_STREQ(vmx::info(VmcsField::virtual_processor_id)->gate, "vpid");
    EXPECT_STREQ(vmx::info(VmcsField::guest_rip)->gate, "");
    EXPECT_EQ(vmx::info(static_cast<VmcsField>(0x482c)), nullptr);  // 32-bit guest index 22: unused
}

TEST(ExitReasons, ValuesAndNamesAreUnique) {
    std::set<uint16_t> values;
    std::set<std::string_view> names;
    for (const auto& row : vmx::kExitReasonTable) {
        EXPECT_TRUE(values.insert(static_cast<uint16_t>(row.value)).second) << "duplicate value of " << row.name;
        EXPECT_TRUE(names.insert(row.name).second) << "duplicate name " << row.name;
        EXPECT_NE(std::string_view(row.description), "") << row.name;
    }
}

TEST(ExitReasons, ArchitecturalAnchors) {
    EXPECT_EQ(static_cast<unsigned>(ExitReason::exception_or_nmi), 0u);
    EXPECT_EQ(static_cast<unsigned>(ExitReason::triple_fault), 2u);
    EXPECT_EQ(static_cast<unsigned>(ExitReason::cpuid), 10u);
    EXPECT_EQ(static_cast<unsigned>(ExitReason::hlt), 12u);
    EXPECT_EQ(static_cast<unsigned>(ExitReason::vmcall), 18u);
    EXPECT_EQ(static_cast<unsigned>(ExitReason::control_register_access), 28u);
    EXPECT_EQ(static_cast<unsigned>(ExitReason::io_instruction), 30u);
    EXPECT_EQ(static_cast<unsigned>(ExitReason::rdmsr), 31u);
    EXPECT_EQ(static_cast<unsigned>(ExitReason::wrmsr), 32u);
    EXPECT_EQ(static_cast<unsigned>(ExitReason::entry_failure_guest_state), 33u);
    EXPECT_EQ(static_cast<unsigned>(ExitReason::ept_violation), 48u);
    EXPECT_EQ(static_cast<unsigned>(ExitReason::ept_misconfiguration), 49u);
    EXPECT_EQ(static_cast<unsigned>(ExitReason::vmx_preemption_timer_expired), 52u);
    EXPECT_EQ(static_cast<unsigned>(ExitReason::xsetbv), 55u);
    EXPECT_EQ(static_cast<unsigned>(ExitReason::bus_lock), 74u);
    EXPECT_EQ(vmx::name(ExitReason::vmcall), "vmcall");
    EXPECT_EQ(vmx::exitReason_from_name("ept_violation"), ExitReason::ept_violation);
    for (unsigned unused : {35u, 38u, 42u, 71u})
        EXPECT_EQ(vmx::info(static_cast<ExitReason>(unused)), nullptr) << unused;
}

TEST(VmxControls, EachMaskIsItsBitInANamedControlField) {
    const std::set<std::string_view> prefixes{"pin_", "proc_", "proc2_", "proc3_", "exit_", "entry_"};
    for (const auto& row : vmx::kVmxControlTable) {
        SCOPED_TRACE(row.name);
        EXPECT_EQ(static_cast<uint64_t>(row.value), uint64_t{1} << row.bit);
        EXPECT_TRUE(vmx::vmcsField_from_name(row.field).has_value()) << "no VMCS field " << row.field;
        const std::string_view name(row.name);
        EXPECT_TRUE(prefixes.contains(name.substr(0, name.find('_') + 1)));
        EXPECT_TRUE(std::string_view(row.sdm).starts_with("Table 25-"));
    }
}

TEST(VmxControls, ArchitecturalAnchors) {
    using vmx::VmxControl;
    EXPECT_EQ(static_cast<uint32_t>(VmxControl::proc_hlt_exiting), 1u << 7);
    EXPECT_EQ(static_cast<uint32_t>(VmxControl::proc_activate_secondary_controls), 1u << 31);
    EXPECT_EQ(static_cast<uint32_t>(VmxControl::proc2_enable_ept), 1u << 1);
    EXPECT_EQ(static_cast<uint32_t>(VmxControl::proc2_unrestricted_guest), 1u << 7);
    EXPECT_EQ(static_cast<uint32_t>(VmxControl::pin_virtual_nmis), 1u << 5);
    EXPECT_EQ(static_cast<uint32_t>(VmxControl::exit_host_address_space_size), 1u << 9);
    EXPECT_EQ(static_cast<uint32_t>(VmxControl::entry_ia32e_mode_guest), 1u << 9);
}

}  // namespace
