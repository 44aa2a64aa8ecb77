// The generated SVM tables agree with the APM: VMCB offsets (Vol. 2 Appendix B, Tables B-1 and
// B-2), intercept bits (Table B-1, offsets 000h-014h) and exit codes (Appendix C, Table C-1).
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "svm_exit_codes_table.h"
#include "svm_intercepts_table.h"
#include "vmcb_table.h"

namespace {

using svm::ExitCode;
using svm::Intercept;
using svm::VmcbField;

constexpr unsigned kSaveArea = 0x400;  // Table B-2 offsets are relative to the state save area

int64_t raw(ExitCode c) { return static_cast<int64_t>(c); }
unsigned raw(VmcbField f) { return static_cast<unsigned>(f); }

TEST(VmcbLayout, ControlAreaFieldsSitAtTheirTableB1Offsets) {
    EXPECT_EQ(raw(VmcbField::intercept_cr), 0x000u);
    EXPECT_EQ(raw(VmcbField::intercept_misc1), 0x00cu);
    EXPECT_EQ(raw(VmcbField::intercept_misc2), 0x010u);
    EXPECT_EQ(raw(VmcbField::iopm_base_pa), 0x040u);
    EXPECT_EQ(raw(VmcbField::msrpm_base_pa), 0x048u);
    EXPECT_EQ(raw(VmcbField::guest_asid), 0x058u);
    EXPECT_EQ(raw(VmcbField::tlb_control), 0x05cu);
    EXPECT_EQ(raw(VmcbField::exitcode), 0x070u);
    EXPECT_EQ(raw(VmcbField::exitinfo1), 0x078u);
    EXPECT_EQ(raw(VmcbField::exitinfo2), 0x080u);
    EXPECT_EQ(raw(VmcbField::exitintinfo), 0x088u);
    EXPECT_EQ(raw(VmcbField::eventinj), 0x0a8u);
    EXPECT_EQ(raw(VmcbField::n_cr3), 0x0b0u);
    EXPECT_EQ(raw(VmcbField::vmcb_clean), 0x0c0u);
    EXPECT_EQ(raw(VmcbField::nrip), 0x0c8u);
    EXPECT_EQ(raw(VmcbField::guest_instruction_bytes), 0x0d1u);
}

TEST(VmcbLayout, StateSaveFieldsSitAt400hPlusTheirTableB2Offsets) {
    EXPECT_EQ(raw(VmcbField::es_selector), kSaveArea + 0x000);
    EXPECT_EQ(raw(VmcbField::cs_base), kSaveArea + 0x018);
    EXPECT_EQ(raw(VmcbField::gdtr_limit), kSaveArea + 0x064);
    EXPECT_EQ(raw(VmcbField::tr_base), kSaveArea + 0x098);
    EXPECT_EQ(raw(VmcbField::cpl), kSaveArea + 0x0cb);
    EXPECT_EQ(raw(VmcbField::efer), kSaveArea + 0x0d0);
    EXPECT_EQ(raw(VmcbField::cr4), kSaveArea + 0x148);
    EXPECT_EQ(raw(VmcbField::cr0), kSaveArea + 0x158);
    EXPECT_EQ(raw(VmcbField::rflags), kSaveArea + 0x170);
    EXPECT_EQ(raw(VmcbField::rip), 0x578u);
    EXPECT_EQ(raw(VmcbField::rsp), kSaveArea + 0x1d8);
    EXPECT_EQ(raw(VmcbField::rax), kSaveArea + 0x1f8);
    EXPECT_EQ(raw(VmcbField::cr2), kSaveArea + 0x240);
    EXPECT_EQ(raw(VmcbField::g_pat), kSaveArea + 0x268);
    EXPECT_EQ(raw(VmcbField::spec_ctrl), kSaveArea + 0x2e0);
}

TEST(VmcbLayout, FieldsDoNotOverlapAndStayInTheirAreaOfTheOnePage) {
    unsigned end_of_previous = 0;
    for (const auto& row : svm::kVmcbFieldTable) {
        SCOPED_TRACE(row.name);
        const unsigned offset = raw(row.value);
        EXPECT_GE(offset, end_of_previous) << "rows are in offset order and do not overlap";
        end_of_previous = offset + static_cast<unsigned>(row.size);
        const bool control = std::string_view(row.area) == "control";
        EXPECT_TRUE(control || std::string_view(row.area) == "save");
        EXPECT_LE(end_of_previous, control ? kSaveArea : 0x1000u);
        EXPECT_GE(offset, control ? 0u : kSaveArea);
    }
}

TEST(VmcbLayout, SegmentRegistersAreSixteenByteSelectorAttribLimitBase) {
    for (const char* seg : {"es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr"}) {
        SCOPED_TRACE(seg);
        const std::string s(seg);
        const auto sel = svm::vmcbField_from_name(s + "_selector");
        ASSERT_TRUE(sel.has_value());
        EXPECT_EQ(raw(*svm::vmcbField_from_name(s + "_attrib")), raw(*sel) + 2);
        EXPECT_EQ(raw(*svm::vmcbField_from_name(s + "_limit")), raw(*sel) + 4);
        EXPECT_EQ(raw(*svm::vmcbField_from_name(s + "_base")), raw(*sel) + 8);
    }
}

TEST(SvmIntercepts, ValueIsTheBitNumberFromTheStartOfTheVmcb) {
    for (const auto& row : svm::kInterceptTable) {
        SCOPED_TRACE(row.name);
        EXPECT_EQ(static_cast<unsigned>(row.value), row.offset * 8 + row.bit);
        EXPECT_LT(row.bit, 32u);
        EXPECT_LE(row.offset, 0x014u) << "intercept vectors 0-5 are 000h-014h";
        EXPECT_EQ(row.offset % 4, 0u);
    }
    const auto* cpuid = svm::info(Intercept::cpuid);
    ASSERT_NE(cpuid, nullptr);
    EXPECT_EQ(cpuid->offset, 0x00cu);
    EXPECT_EQ(cpuid->bit, 18u);
    EXPECT_EQ(svm::info(Intercept::vmrun)->offset, 0x010u);
    EXPECT_EQ(svm::info(Intercept::vmrun)->bit, 0u);
    EXPECT_EQ(svm::info(Intercept::vmmcall)->bit, 1u);
    EXPECT_EQ(svm::info(Intercept::hlt)->bit, 24u);
    EXPECT_EQ(svm::info(Intercept::msr_prot)->bit, 28u);
    EXPECT_EQ(svm::info(Intercept::shutdown)->bit, 31u);
    EXPECT_EQ(svm::info(Intercept::exception14)->offset, 0x008u);
}

// For vectors 0-4 the intercept's bit number equals the exit code it causes (the APM numbers
// both the same way); exceptions and the named intercepts are checked by name.
TEST(SvmIntercepts, NamedInterceptsExitWithTheSameNumber) {
    for (const char* name : {"cr3_read", "cr8_write", "dr7_write", "intr", "cpuid", "hlt", "ioio_prot",
                             "vmrun", "vmmcall", "xsetbv", "efer_write_trap", "cr4_write_trap"}) {
        SCOPED_TRACE(name);
        const auto i = svm::intercept_from_name(name);
        ASSERT_TRUE(i.has_value());
        std::string_view n(name);
        std::string exit_name(n.ends_with("_prot") ? n.substr(0, n.size() - 5) : n);
        const auto e = svm::exitCode_from_name(exit_name);
        ASSERT_TRUE(e.has_value()) << exit_name;
        EXPECT_EQ(static_cast<int64_t>(*i), raw(*e));
    }
}

TEST(SvmExitCodes, SpotValuesAgreeWithTableC1) {
    EXPECT_EQ(raw(ExitCode::cr0_read), 0x000);
    EXPECT_EQ(raw(ExitCode::cr15_write), 0x01f);
    EXPECT_EQ(raw(ExitCode::dr0_read), 0x020);
    EXPECT_EQ(raw(ExitCode::excp0), 0x040);
    EXPECT_EQ(raw(ExitCode::excp14), 0x04e);
    EXPECT_EQ(raw(ExitCode::excp31), 0x05f);
    EXPECT_EQ(raw(ExitCode::intr), 0x060);
    EXPECT_EQ(raw(ExitCode::cpuid), 0x072);
    EXPECT_EQ(raw(ExitCode::hlt), 0x078);
    EXPECT_EQ(raw(ExitCode::ioio), 0x07b);
    EXPECT_EQ(raw(ExitCode::msr), 0x07c);
    EXPECT_EQ(raw(ExitCode::shutdown), 0x07f);
    EXPECT_EQ(raw(ExitCode::vmrun), 0x080);
    EXPECT_EQ(raw(ExitCode::vmmcall), 0x081);
    EXPECT_EQ(raw(ExitCode::xsetbv), 0x08d);
    EXPECT_EQ(raw(ExitCode::efer_write_trap), 0x08f);
    EXPECT_EQ(raw(ExitCode::cr0_write_trap), 0x090);
    EXPECT_EQ(raw(ExitCode::npf), 0x400);
    EXPECT_EQ(raw(ExitCode::vmgexit), 0x403);
    EXPECT_EQ(raw(ExitCode::invalid), -1);
    EXPECT_EQ(static_cast<uint64_t>(raw(ExitCode::invalid)), 0xffffffffffffffffull);
}

TEST(SvmExitCodes, RangesAreOneRowPerCodeAndValuesAreUnique) {
    std::set<int64_t> values;
    for (const auto& row : svm::kExitCodeTable) EXPECT_TRUE(values.insert(raw(row.value)).second) << row.name;
    for (int64_t v = 0; v <= 0x5f; ++v) EXPECT_TRUE(values.count(v)) << "CR/DR/exception code " << v;
    for (int64_t v = 0x90; v <= 0x9f; ++v) EXPECT_TRUE(values.count(v)) << "CR write trap " << v;
    EXPECT_EQ(svm::name(static_cast<ExitCode>(0x3ff)), "unknown");
}

}  // namespace
