// svm::Svm's presets, CPUID leaves and MSRs (AMD APM Vol. 2 15.4, 15.30; Vol. 3 Appendix E.4.9),
// on an AMD core of the flat-bus fixture.
#include <gtest/gtest.h>

#include "svm/svm.h"
#include "svm_msrs_table.h"
#include "tests/support/core_fixture.h"

namespace {

using test::CoreFixture;

constexpr uint32_t kVmCr = static_cast<uint32_t>(svm::SvmMsr::vm_cr);
constexpr uint32_t kHsave = static_cast<uint32_t>(svm::SvmMsr::vm_hsave_pa);

struct SvmCore {
    explicit SvmCore(const char* preset) {
        auto v = std::make_unique<svm::Svm>(*svm::preset(preset));
        svm = v.get();
        f.core.attach_virtualization(std::move(v));
    }
    CoreFixture f{cpu::Vendor::amd};
    svm::Svm* svm = nullptr;
};

std::array<uint32_t, 4> leaf(const svm::Svm& s, uint32_t l) {
    std::array<uint32_t, 4> r{};
    s.adjust_cpuid(l, 0, r.data());
    return r;
}

TEST(SvmPresets, ModernAdvertisesNestedPagingNripCleanBitsFlushByAsidDecodeAssistsAndPauseFilter) {
    const auto f = svm::preset("modern");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->cpuid_edx(), (1u << 0) | (1u << 3) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 10) | (1u << 12));
}

TEST(SvmPresets, BasicAdvertisesNoOptionalFeature) {
    const auto f = svm::preset("basic");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->cpuid_edx(), 0u);
    EXPECT_FALSE(f->nested_paging);
    EXPECT_FALSE(f->nrip_save);
}

TEST(SvmPresets, AnUnknownNameIsNoPreset) {
    EXPECT_FALSE(svm::preset("turbo"));
    EXPECT_EQ(svm::preset_names().size(), 2u);
}

TEST(SvmCpuid, SvmBitAndLeaf8000000AAreReported) {
    SvmCore s("modern");
    EXPECT_EQ(leaf(*s.svm, 0x80000001)[2] & 4u, 4u);
    EXPECT_GE(leaf(*s.svm, 0x80000000)[0], 0x8000000au);
    const auto a = leaf(*s.svm, 0x8000000a);
    EXPECT_EQ(a[0], 1u);   // revision
    EXPECT_EQ(a[1], 64u);  // NASID
    EXPECT_EQ(a[3], svm::preset("modern")->cpuid_edx());
}

TEST(SvmMsrs, HostSaveAreaMustBePageAlignedAndBelowMaxPhysAddr) {
    SvmCore s("basic");
    uint64_t v = 1;
    EXPECT_EQ(s.svm->read_msr(s.f.core, kHsave, v), cpu::MsrResult::ok);
    EXPECT_EQ(v, 0u);
    EXPECT_EQ(s.svm->write_msr(s.f.core, kHsave, 0x123000), cpu::MsrResult::ok);
    EXPECT_EQ(s.svm->read_msr(s.f.core, kHsave, v), cpu::MsrResult::ok);
    EXPECT_EQ(v, 0x123000u);
    EXPECT_EQ(s.svm->write_msr(s.f.core, kHsave, 0x123800), cpu::MsrResult::gp);
    EXPECT_EQ(s.svm->write_msr(s.f.core, kHsave, uint64_t{1} << 60), cpu::MsrResult::gp);
}

TEST(SvmMsrs, SvmdisMakesEferSvmeReservedAndLockFreezesIt) {
    SvmCore s("basic");
    EXPECT_EQ(s.svm->efer_bits(), cpu::efer::svme);
    EXPECT_EQ(s.svm->write_msr(s.f.core, kVmCr, 1u << 4), cpu::MsrResult::ok);  // SVMDIS
    EXPECT_EQ(s.svm->efer_bits(), 0u);
    EXPECT_EQ(s.svm->write_msr(s.f.core, kVmCr, (1u << 4) | (1u << 3)), cpu::MsrResult::ok);  // + LOCK
    EXPECT_EQ(s.svm->write_msr(s.f.core, kVmCr, 0), cpu::MsrResult::ok);  // ignored while locked
    uint64_t v = 0;
    s.svm->read_msr(s.f.core, kVmCr, v);
    EXPECT_EQ(v, (1u << 4) | (1u << 3));
    EXPECT_EQ(s.svm->efer_bits(), 0u);
}

TEST(SvmMsrs, UnmodelledVmCrBitsAreReserved) {
    SvmCore s("modern");
    EXPECT_EQ(s.svm->write_msr(s.f.core, kVmCr, 1u << 1), cpu::MsrResult::gp);  // R_INIT
}

TEST(SvmMsrs, OtherMsrsAreNotSvms) {
    SvmCore s("modern");
    uint64_t v = 0;
    EXPECT_EQ(s.svm->read_msr(s.f.core, 0xc0000080, v), cpu::MsrResult::not_mine);
}

TEST(SvmCore, ResetSetsGif) {
    SvmCore s("modern");
    EXPECT_TRUE(s.svm->gif());
    EXPECT_FALSE(s.svm->holds_interrupts());
}

}  // namespace
