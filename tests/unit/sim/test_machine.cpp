// sim/machine: configuration parsing, loaders on good and malformed images, the run loop.
#include <elf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "sim/machine/config.h"
#include "sim/machine/machine.h"

namespace {

std::string temp_file(const std::string& name, const std::vector<uint8_t>& bytes) {
    const auto path = std::filesystem::temp_directory_path() / ("hvsim_test_" + name);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return path.string();
}

// A minimal ELF64 executable: one PT_LOAD of `code` at `addr`.
std::vector<uint8_t> elf64(const std::vector<uint8_t>& code, uint64_t addr) {
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_entry = addr;
    eh.e_phoff = sizeof eh;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_offset = sizeof eh + sizeof ph;
    ph.p_vaddr = ph.p_paddr = addr;
    ph.p_filesz = ph.p_memsz = code.size();
    ph.p_flags = PF_R | PF_X;
    std::vector<uint8_t> out(sizeof eh + sizeof ph + code.size());
    std::memcpy(out.data(), &eh, sizeof eh);
    std::memcpy(out.data() + sizeof eh, &ph, sizeof ph);
    std::copy(code.begin(), code.end(), out.begin() + sizeof eh + sizeof ph);
    return out;
}

sim::MachineConfig quiet() {
    sim::MachineConfig c;
    c.serial = "none";
    return c;
}

// mov eax, 7; out 0xf4, eax
const std::vector<uint8_t> kExit7 = {0xb8, 0x07, 0, 0, 0, 0xe7, 0xf4};

}  // namespace

TEST(Config, SizesAcceptSuffixesAndRejectNonsense) {
    EXPECT_EQ(sim::parse_size("64M"), 64ull << 20);
    EXPECT_EQ(sim::parse_size("1G"), 1ull << 30);
    EXPECT_EQ(sim::parse_size("4096"), 4096u);
    EXPECT_THROW(sim::parse_size("lots"), sim::ConfigError);
    EXPECT_THROW(sim::parse_size("12X"), sim::ConfigError);
}

TEST(Config, VendorsAreIntelOrAmd) {
    EXPECT_EQ(sim::parse_vendor("amd"), cpu::Vendor::amd);
    EXPECT_THROW(sim::parse_vendor("via"), sim::ConfigError);
}

TEST(Machine, RejectsMemorySizesItCannotModel) {
    sim::MachineConfig c = quiet();
    c.memory_bytes = 1000;
    EXPECT_THROW(sim::Machine m(c), sim::ConfigError);
}

TEST(Machine, RunsAnElf64ToItsDebugExit) {
    sim::Machine m(quiet());
    m.load_kernel(temp_file("exit7.elf", elf64(kExit7, 0x100000)));
    const sim::RunResult r = m.run();
    EXPECT_EQ(r.reason, sim::StopReason::exit);
    EXPECT_EQ(r.exit_status, (7 << 1) | 1);
    EXPECT_EQ(r.instructions, 2u);
}

TEST(Machine, StopsAtTheInstructionLimitAndContinues) {
    // L: jmp L
    sim::Machine m(quiet());
    m.load_kernel(temp_file("spin.elf", elf64({0xeb, 0xfe}, 0x100000)));
    sim::RunResult r = m.run(1000);
    EXPECT_EQ(r.reason, sim::StopReason::instruction_limit);
    EXPECT_EQ(r.instructions, 1000u);
    r = m.run(500);
    EXPECT_EQ(r.instructions, 500u);
    EXPECT_EQ(m.cpu().retired(), 1500u);
}

TEST(Machine, TwoMachinesOneAfterTheOtherAreIndependent) {
    for (int k = 0; k < 3; ++k) {
        sim::Machine m(quiet());
        m.load_kernel(temp_file("exit7b.elf", elf64(kExit7, 0x100000)));
        EXPECT_EQ(m.run().exit_status, 15);
    }
}

TEST(Loaders, RejectATruncatedElf) {
    auto image = elf64(kExit7, 0x100000);
    image.resize(40);
    sim::Machine m(quiet());
    try {
        m.load_kernel(temp_file("truncated.elf", image));
        FAIL() << "no error";
    } catch (const sim::ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
    }
}

TEST(Loaders, RejectASegmentBeyondTheFile) {
    auto image = elf64(kExit7, 0x100000);
    Elf64_Phdr ph;
    std::memcpy(&ph, image.data() + sizeof(Elf64_Ehdr), sizeof ph);
    ph.p_filesz = ph.p_memsz = 1 << 20;
    std::memcpy(image.data() + sizeof(Elf64_Ehdr), &ph, sizeof ph);
    sim::Machine m(quiet());
    EXPECT_THROW(m.load_kernel(temp_file("outside.elf", image)), sim::ConfigError);
}

TEST(Loaders, RejectASegmentOutsideRam) {
    sim::Machine m(quiet());
    EXPECT_THROW(m.load_kernel(temp_file("high.elf", elf64(kExit7, 0x100000000ull))), sim::ConfigError);
}

TEST(Loaders, RejectASegmentOverTheLoadersArea) {
    sim::Machine m(quiet());
    EXPECT_THROW(m.load_kernel(temp_file("low.elf", elf64(kExit7, 0x1000))), sim::ConfigError);
}

TEST(Loaders, RejectAMultibootHeaderAskingForVideo) {
    std::vector<uint8_t> image(64, 0);
    const uint32_t magic = 0x1badb002, flags = 0x4, checksum = -(magic + flags);
    std::memcpy(image.data(), &magic, 4);
    std::memcpy(image.data() + 4, &flags, 4);
    std::memcpy(image.data() + 8, &checksum, 4);
    sim::Machine m(quiet());
    try {
        m.load_kernel(temp_file("video.mb", image));
        FAIL() << "no error";
    } catch (const sim::ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("video"), std::string::npos) << e.what();
    }
}

TEST(Loaders, FlatImagesMustStayBelowOneMegabyte) {
    sim::Machine m(quiet());
    EXPECT_THROW(m.load_flat(temp_file("flat.bin", {0xf4}), 0x100000), sim::ConfigError);
    EXPECT_THROW(sim::parse_flat_spec("image.bin"), sim::ConfigError);
    EXPECT_EQ(sim::parse_flat_spec("a@b.bin@0x7c00").second, 0x7c00u);
}

TEST(Machine, ATripleFaultStopsWithShutdownAndTheEventsBeforeIt) {
    sim::Machine m(quiet());
    m.load_kernel(temp_file("ud2.elf", elf64({0x0f, 0x0b}, 0x100000)));  // ud2, no IDT
    const sim::RunResult r = m.run();
    EXPECT_EQ(r.reason, sim::StopReason::shutdown);
    EXPECT_NE(r.message.find("triple fault"), std::string::npos);
    ASSERT_FALSE(m.recent_events().events().empty());
    EXPECT_EQ(m.recent_events().events().back().kind, sim::EventKind::shutdown);
}
