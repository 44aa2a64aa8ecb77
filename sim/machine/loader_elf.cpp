// ELF64 and multiboot v1 images (ELF: System V ABI gABI "ELF Header", "Program Header";
// Multiboot Specification 0.6.96 sections 3.1 "OS image format", 3.2 "Machine state",
// 3.3 "Boot information format").
#include <elf.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "cpu/boot_state.h"
#include "mmu/identity_map.h"
#include "sim/machine/config.h"
#include "sim/machine/loaders.h"

namespace sim {
namespace {

constexpr uint64_t kGdtBase = 0x500;
constexpr uint64_t kMultibootInfo = 0x9000;
constexpr uint64_t kPageTables = 0x10000;
constexpr uint64_t kStackTop = 0x80000;
constexpr uint64_t kLoaderAreaEnd = 0x80000;
constexpr uint32_t kMultibootMagic = 0x1badb002;

void zero_fill(cpu::Core& core, uint64_t paddr, size_t size, const std::string& what) {
    const std::vector<uint8_t> zeros(size, 0);
    write_guest(core, paddr, zeros.data(), size, what);
}

template <class T>
T header_at(const std::vector<uint8_t>& file, uint64_t offset, const std::string& path, const char* what) {
    if (offset > file.size() || file.size() - offset < sizeof(T))
        throw ConfigError(path + ": truncated ELF file (" + what + " beyond the end)");
    T t;
    std::memcpy(&t, file.data() + offset, sizeof(T));
    return t;
}

// Loads the PT_LOAD segments of an ELF file of either class; returns the range written.
template <class Ehdr, class Phdr>
LoadedImage load_segments(cpu::Core& core, const std::vector<uint8_t>& file, const std::string& path,
                          bool require_identity) {
    const auto eh = header_at<Ehdr>(file, 0, path, "ELF header");
    if (eh.e_phentsize != sizeof(Phdr)) throw ConfigError(path + ": unexpected program-header size");
    LoadedImage img;
    img.entry = eh.e_entry;
    img.lowest = ~0ull;
    unsigned loaded = 0;
    for (unsigned k = 0; k < eh.e_phnum; ++k) {
        const auto ph = header_at<Phdr>(file, eh.e_phoff + uint64_t{k} * sizeof(Phdr), path, "program header");
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
        if (ph.p_filesz > ph.p_memsz || ph.p_offset > file.size() || file.size() - ph.p_offset < ph.p_filesz)
            throw ConfigError(path + ": segment " + std::to_string(k) + " lies outside the file");
        if (require_identity && ph.p_vaddr != ph.p_paddr)
            throw ConfigError(path + ": segment " + std::to_string(k) + " has virtual address 0x" +
                              cpu::hex(ph.p_vaddr) + " != physical 0x" + cpu::hex(ph.p_paddr) +
                              "; hvsim's ELF64 entry state identity-maps memory");
        if (ph.p_paddr < kLoaderAreaEnd && ph.p_paddr + ph.p_memsz > kGdtBase)
            throw ConfigError(path + ": segment at 0x" + cpu::hex(ph.p_paddr) +
                              " overlaps the loader's area [0x500, 0x80000)");
        write_guest(core, ph.p_paddr, file.data() + ph.p_offset, ph.p_filesz, path);
        zero_fill(core, ph.p_paddr + ph.p_filesz, ph.p_memsz - ph.p_filesz, path);
        img.lowest = std::min<uint64_t>(img.lowest, ph.p_paddr);
        img.highest = std::max<uint64_t>(img.highest, ph.p_paddr + ph.p_memsz);
        ++loaded;
    }
    if (loaded == 0) throw ConfigError(path + ": no loadable segments");
    return img;
}

struct MultibootHeader {
    uint32_t magic, flags, checksum;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

bool find_multiboot(const std::vector<uint8_t>& file, MultibootHeader& h, uint64_t& offset) {
    const uint64_t limit = std::min<uint64_t>(file.size(), 8192);
    for (uint64_t off = 0; off + 12 <= limit; off += 4) {
        std::memset(&h, 0, sizeof h);
        std::memcpy(&h, file.data() + off, std::min<uint64_t>(sizeof h, file.size() - off));
        if (h.magic == kMultibootMagic && static_cast<uint32_t>(h.magic + h.flags + h.checksum) == 0) {
            offset = off;
            return true;
        }
    }
    return false;
}

void write_multiboot_info(cpu::Core& core, uint64_t memory_bytes, const std::string& cmdline) {
    // 3.3: flags bit 0 (mem_lower/upper), bit 2 (cmdline), bit 6 (mmap).
    struct Info {
        uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
        uint32_t syms[4];
        uint32_t mmap_length, mmap_addr;
    } info{};
    struct MmapEntry {
        uint32_t size;
        uint64_t base, length;
        uint32_t type;
    } __attribute__((packed));
    const uint64_t high = std::min<uint64_t>(memory_bytes, 0xffffffffull) - 0x100000;
    const MmapEntry map[2] = {{20, 0, 0x9fc00, 1}, {20, 0x100000, high, 1}};
    const uint64_t mmap_at = kMultibootInfo + 0x100, cmdline_at = kMultibootInfo + 0x200;
    info.flags = (1u << 0) | (1u << 2) | (1u << 6);
    info.mem_lower = 639;
    info.mem_upper = static_cast<uint32_t>(high / 1024);
    info.cmdline = static_cast<uint32_t>(cmdline_at);
    info.mmap_length = sizeof map;
    info.mmap_addr = static_cast<uint32_t>(mmap_at);
    write_guest(core, kMultibootInfo, &info, sizeof info, "multiboot info");
    write_guest(core, mmap_at, map, sizeof map, "multiboot memory map");
    const std::string line = cmdline.substr(0, 0xdff);
    write_guest(core, cmdline_at, line.c_str(), line.size() + 1, "multiboot command line");
}

LoadedImage load_multiboot(cpu::Core& core, uint64_t memory_bytes, const std::vector<uint8_t>& file,
                           const std::string& path, const MultibootHeader& h, uint64_t header_offset,
                           const std::string& cmdline) {
    // Bits 0-15 are requirements; a loader that cannot meet one must refuse (3.1.2).
    const uint32_t unsupported = h.flags & 0xffff & ~0x3u;
    if (unsupported)
        throw ConfigError(path + ": multiboot header requires features hvsim does not provide (flags 0x" +
                          cpu::hex(unsupported) + ", e.g. bit 2: video mode)");
    LoadedImage img;
    if (h.flags & (1u << 16)) {  // a.out kludge: the header's address fields place the image
        const uint64_t file_start = header_offset - (h.header_addr - h.load_addr);
        const uint64_t end = h.load_end_addr ? h.load_end_addr : h.load_addr + (file.size() - file_start);
        if (h.header_addr < h.load_addr || file_start > file.size() || end < h.load_addr ||
            end - h.load_addr > file.size() - file_start)
            throw ConfigError(path + ": inconsistent multiboot address fields");
        write_guest(core, h.load_addr, file.data() + file_start, end - h.load_addr, path);
        if (h.bss_end_addr > end) zero_fill(core, end, h.bss_end_addr - end, path);
        img.entry = h.entry_addr;
        img.lowest = h.load_addr;
        img.highest = std::max<uint64_t>(end, h.bss_end_addr);
    } else {
        if (file.size() < EI_NIDENT || std::memcmp(file.data(), ELFMAG, SELFMAG) != 0 || file[EI_CLASS] != ELFCLASS32)
            throw ConfigError(path + ": multiboot image is neither ELF32 nor uses the address fields (flag 16)");
        img = load_segments<Elf32_Ehdr, Elf32_Phdr>(core, file, path, false);
    }
    write_multiboot_info(core, memory_bytes, cmdline);
    cpu::enter_multiboot(core, static_cast<uint32_t>(img.entry), kMultibootInfo, kGdtBase);
    img.format = "multiboot";
    return img;
}

}  // namespace

void write_guest(cpu::Core& core, uint64_t paddr, const void* data, size_t size, const std::string& what) {
    if (!core.write_physical(paddr, data, size))
        throw ConfigError(what + ": does not fit in guest RAM (at 0x" + cpu::hex(paddr) + ", " +
                          std::to_string(size) + " bytes; --mem sets the RAM size)");
}

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot open (" + std::strerror(errno) + ")");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

LoadedImage load_kernel_image(cpu::Core& core, uint64_t memory_bytes, const std::string& path,
                              const std::string& cmdline) {
    const std::vector<uint8_t> file = read_file(path);
    MultibootHeader mb;
    uint64_t mb_offset;
    if (find_multiboot(file, mb, mb_offset)) return load_multiboot(core, memory_bytes, file, path, mb, mb_offset, cmdline);
    if (file.size() < EI_NIDENT || std::memcmp(file.data(), ELFMAG, SELFMAG) != 0)
        throw ConfigError(path + ": not an ELF file and no multiboot header (for a raw binary use --load-flat FILE@ADDR)");
    if (file[EI_CLASS] != ELFCLASS64)
        throw ConfigError(path + ": 32-bit ELF without a multiboot header (hvsim boots ELF64 or multiboot images)");
    const auto eh = header_at<Elf64_Ehdr>(file, 0, path, "ELF header");
    if (eh.e_machine != EM_X86_64) throw ConfigError(path + ": ELF64 for another machine (e_machine " + std::to_string(eh.e_machine) + ")");
    if (eh.e_type != ET_EXEC) throw ConfigError(path + ": not an executable ELF (relocatable or shared objects are not loaded)");
    LoadedImage img = load_segments<Elf64_Ehdr, Elf64_Phdr>(core, file, path, true);
    const auto writer = [&core](uint64_t pa, const void* d, size_t n) { return core.write_physical(pa, d, n); };
    uint64_t cr3;
    try {
        cr3 = mmu::build_identity_map(writer, kPageTables, memory_bytes);
    } catch (const std::exception& e) {
        throw ConfigError(std::string("identity map: ") + e.what());
    }
    cpu::enter_long_mode(core, img.entry, cr3, kStackTop, kGdtBase);
    img.format = "elf64";
    return img;
}

}  // namespace sim
