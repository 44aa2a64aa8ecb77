// The Linux/x86 boot protocol, 64-bit entry (Linux Documentation/arch/x86/boot.rst: "The Real-
// Mode Kernel Header", "64-bit Boot Protocol"; zero-page layout from zero-page.rst): the
// protected-mode kernel of a bzImage is loaded at its preferred address, a zero page (struct
// boot_params) carries the setup header, the e820 map, the command line and the initrd, and the
// processor enters startup_64 (load address + 0x200) in 64-bit mode with RSI -> zero page.
#include <cstring>

#include "cpu/boot_state.h"
#include "mmu/identity_map.h"
#include "sim/machine/config.h"
#include "sim/machine/loaders.h"

namespace sim {
namespace {

// Where the loader puts its structures (all below 1 MiB, outside the kernel).
constexpr uint64_t kGdtBase = 0x500;
constexpr uint64_t kPageTables = 0x10000;
constexpr uint64_t kZeroPage = 0x30000;
constexpr uint64_t kCmdline = 0x31000;
constexpr uint64_t kStackTop = 0x80000;

// Offsets in the setup header / boot_params (boot.rst "The Real-Mode Kernel Header").
constexpr uint64_t kSetupSects = 0x1f1, kBootFlag = 0x1fe, kHeaderMagic = 0x202, kVersion = 0x206,
                   kTypeOfLoader = 0x210, kLoadflags = 0x211, kRamdiskImage = 0x218,
                   kRamdiskSize = 0x21c, kCmdLinePtr = 0x228, kInitrdAddrMax = 0x22c,
                   kKernelAlignment = 0x230, kRelocatable = 0x234, kXloadflags = 0x236,
                   kCmdlineSize = 0x238, kPrefAddress = 0x258, kInitSize = 0x260;
constexpr uint64_t kExtRamdiskImage = 0x0c0, kExtRamdiskSize = 0x0c4, kExtCmdLinePtr = 0x0c8,
                   kE820Entries = 0x1e8, kE820Table = 0x2d0;
constexpr uint16_t kXlfKernel64 = 1u << 0;
constexpr unsigned kE820Ram = 1, kE820Reserved = 2;

template <class T>
T field(const std::vector<uint8_t>& image, uint64_t offset) {
    T v;
    std::memcpy(&v, image.data() + offset, sizeof v);
    return v;
}
template <class T>
void put(std::vector<uint8_t>& page, uint64_t offset, T v) {
    std::memcpy(page.data() + offset, &v, sizeof v);
}

struct E820 {
    uint64_t base, size;
    uint32_t type;
} __attribute__((packed));

}  // namespace

LoadedImage load_linux(cpu::Core& core, uint64_t memory_bytes, const std::string& path,
                       const std::string& initrd_path, const std::string& cmdline) {
    const std::vector<uint8_t> image = read_file(path);
    if (image.size() < 0x300 || field<uint16_t>(image, kBootFlag) != 0xaa55 ||
        std::memcmp(image.data() + kHeaderMagic, "HdrS", 4) != 0)
        throw ConfigError(path + ": not a Linux bzImage (no boot sector signature or \"HdrS\" header)");
    const uint16_t version = field<uint16_t>(image, kVersion);
    if (version < 0x20c || !(field<uint16_t>(image, kXloadflags) & kXlfKernel64))
        throw ConfigError(path + ": boot protocol " + cpu::hex(version) +
                          " without a 64-bit entry (needs 2.12+ with XLF_KERNEL_64)");
    unsigned setup_sects = image[kSetupSects];
    if (setup_sects == 0) setup_sects = 4;  // boot.rst: "if this field is 0, the real value is 4"
    const uint64_t kernel_offset = (setup_sects + 1) * 512ull;
    if (kernel_offset >= image.size()) throw ConfigError(path + ": truncated bzImage");

    const uint64_t load = field<uint64_t>(image, kPrefAddress);
    const uint64_t init_size = field<uint32_t>(image, kInitSize);
    if (load + std::max<uint64_t>(init_size, image.size() - kernel_offset) > memory_bytes)
        throw ConfigError(path + ": the kernel needs memory up to 0x" + cpu::hex(load + init_size) +
                          " (its init_size); give the machine more (--mem 256M)");
    write_guest(core, load, image.data() + kernel_offset, image.size() - kernel_offset, "the kernel");

    // The zero page starts as zeros with the setup header copied in (0x1f1 to its end, whose
    // offset is 0x202 + the byte at 0x201).
    std::vector<uint8_t> zp(4096, 0);
    const uint64_t header_end = 0x202 + image[0x201];
    std::memcpy(zp.data() + kSetupSects, image.data() + kSetupSects, header_end - kSetupSects);
    put<uint8_t>(zp, kTypeOfLoader, 0xff);  // "undefined" boot loader
    put<uint8_t>(zp, kLoadflags, static_cast<uint8_t>(image[kLoadflags] | 0x01));  // LOADED_HIGH

    const uint32_t cmdline_max = field<uint32_t>(image, kCmdlineSize);
    if (cmdline.size() > cmdline_max) throw ConfigError("kernel command line longer than the kernel accepts (" + std::to_string(cmdline_max) + ")");
    write_guest(core, kCmdline, cmdline.c_str(), cmdline.size() + 1, "the command line");
    put<uint32_t>(zp, kCmdLinePtr, static_cast<uint32_t>(kCmdline));
    put<uint32_t>(zp, kExtCmdLinePtr, 0);

    LoadedImage result{"linux", load + 0x200, load, load + init_size};
    if (!initrd_path.empty()) {
        const std::vector<uint8_t> initrd = read_file(initrd_path);
        const uint64_t max_addr = std::min<uint64_t>(field<uint32_t>(image, kInitrdAddrMax), memory_bytes - 1);
        const uint64_t at = ((max_addr + 1 - initrd.size()) & ~0xfffull);
        if (initrd.size() > max_addr || at < load + init_size)
            throw ConfigError(initrd_path + ": the initrd does not fit between the kernel and the end of RAM");
        write_guest(core, at, initrd.data(), initrd.size(), "the initrd");
        put<uint32_t>(zp, kRamdiskImage, static_cast<uint32_t>(at));
        put<uint32_t>(zp, kRamdiskSize, static_cast<uint32_t>(initrd.size()));
        put<uint32_t>(zp, kExtRamdiskImage, static_cast<uint32_t>(at >> 32));
        put<uint32_t>(zp, kExtRamdiskSize, 0);
    }

    // A PC memory map: conventional memory, the EBDA/ROM hole, then everything above 1 MiB.
    const E820 map[] = {{0, 0x9fc00, kE820Ram},
                        {0x9fc00, 0x400, kE820Reserved},
                        {0xf0000, 0x10000, kE820Reserved},
                        {0x100000, memory_bytes - 0x100000, kE820Ram}};
    put<uint8_t>(zp, kE820Entries, static_cast<uint8_t>(std::size(map)));
    std::memcpy(zp.data() + kE820Table, map, sizeof map);
    write_guest(core, kZeroPage, zp.data(), zp.size(), "the zero page");

    // 64-bit boot protocol: paging on with an identity map covering the kernel, the zero page
    // and the command line; a GDT with __BOOT_CS = 0x10 and __BOOT_DS = 0x18; interrupts off.
    const auto writer = [&core](uint64_t pa, const void* d, size_t n) { return core.write_physical(pa, d, n); };
    const uint64_t cr3 = mmu::build_identity_map(writer, kPageTables, memory_bytes);
    cpu::enter_long_mode(core, result.entry, cr3, kStackTop, kGdtBase, cpu::FlatSelectors{0x10, 0x18});
    core.state().regs[cpu::rsi] = kZeroPage;
    (void)field<uint32_t>(image, kKernelAlignment);
    (void)image[kRelocatable];
    return result;
}

}  // namespace sim
