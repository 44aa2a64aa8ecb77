// A minimal VMM over /dev/kvm that boots a multiboot v1 image in the entry state the Multiboot
// Specification 0.6.96 3.2 defines (the same state QEMU's and hvsim's multiboot loaders give),
// forwards COM1 output to stdout and stops at the debug-exit port. Context: host process, the
// KVM half of the system-level differential test (tests/diff_system).
//
//   kvm_runner IMAGE [--mem MiB] [--append CMDLINE] [--timeout SECONDS] [--cpuid]
//   kvm_runner --probe        exit 0 if a VM with one vCPU can be made, else 77 with the reason
//
// Exit status: as QEMU's isa-debug-exit, (value << 1) | 1 when the guest writes port 0xf4;
// 4 shutdown (triple fault), 5 HLT, 6 KVM internal error or other stop, 7 timeout, 2 usage or
// image error, 77 /dev/kvm missing or unusable (meson's SKIP). The reason for any exit other
// than the debug port goes to stderr as one line starting "kvm_runner:".
#include <elf.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr int kExitUsage = 2, kExitShutdown = 4, kExitHlt = 5, kExitOther = 6, kExitTimeout = 7,
              kExitSkip = 77;
constexpr uint32_t kMultibootMagic = 0x1badb002, kMultibootEax = 0x2badb002;
constexpr uint64_t kGdtBase = 0x500, kInfoBase = 0x9000;
constexpr uint16_t kCom1 = 0x3f8, kDebugExit = 0xf4;

// struct kvm_cpuid2 ends in a zero-length array; g++ places it at offset 12 (size 12) where the
// kernel's C has 8, so the header, the entries' offset and the ioctl numbers that encode the
// size are spelled out with the C layout.
struct CpuidHeader {
    uint32_t nent, padding;
};
constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, CpuidHeader);
constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, CpuidHeader);

struct Usage : std::runtime_error {
    using std::runtime_error::runtime_error;
};

volatile sig_atomic_t g_timed_out = 0;
void on_alarm(int) { g_timed_out = 1; }

[[noreturn]] void skip(const std::string& why) {
    std::fprintf(stderr, "kvm_runner: SKIP: %s\n", why.c_str());
    std::exit(kExitSkip);
}

struct Guest {
    uint8_t* ram = nullptr;
    uint64_t size = 0;
    void put(uint64_t pa, const void* data, size_t n) {
        if (pa > size || size - pa < n) throw Usage("image does not fit in guest RAM");
        std::memcpy(ram + pa, data, n);
    }
};

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Usage(path + ": cannot open");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

uint32_t le32(const std::vector<uint8_t>& f, size_t off) {
    uint32_t v;
    std::memcpy(&v, f.data() + off, 4);
    return v;
}

// Multiboot 3.1: the header lies 4-aligned in the first 8 KiB. With flag 16 (a.out kludge) the
// header's address fields place the file; otherwise the file must be ELF32.
uint32_t load_image(Guest& g, const std::vector<uint8_t>& f) {
    for (size_t off = 0; off + 32 <= f.size() && off < 8192; off += 4) {
        const uint32_t magic = le32(f, off), flags = le32(f, off + 4), sum = le32(f, off + 8);
        if (magic != kMultibootMagic || magic + flags + sum != 0) continue;
        if (flags & 0xfffc) throw Usage("multiboot header requires unsupported features");
        if (flags & (1u << 16)) {
            const uint32_t header_addr = le32(f, off + 12), load_addr = le32(f, off + 16);
            const uint32_t load_end = le32(f, off + 20), bss_end = le32(f, off + 24), entry = le32(f, off + 28);
            const uint64_t start = off - (header_addr - load_addr);
            const uint64_t end = load_end ? load_end : load_addr + (f.size() - start);
            if (start > f.size() || end - load_addr > f.size() - start) throw Usage("bad multiboot addresses");
            g.put(load_addr, f.data() + start, end - load_addr);
            if (bss_end > end) std::memset(g.ram + end, 0, bss_end - end);
            return entry;
        }
        Elf32_Ehdr eh;
        if (f.size() < sizeof eh) throw Usage("truncated ELF");
        std::memcpy(&eh, f.data(), sizeof eh);
        if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS32)
            throw Usage("multiboot image is neither ELF32 nor a.out-kludge");
        for (unsigned k = 0; k < eh.e_phnum; ++k) {
            Elf32_Phdr ph;
            const size_t at = eh.e_phoff + k * sizeof ph;
            if (at + sizeof ph > f.size()) throw Usage("truncated ELF");
            std::memcpy(&ph, f.data() + at, sizeof ph);
            if (ph.p_type != PT_LOAD) continue;
            if (ph.p_offset + ph.p_filesz > f.size()) throw Usage("ELF segment outside the file");
            g.put(ph.p_paddr, f.data() + ph.p_offset, ph.p_filesz);
            if (ph.p_memsz > ph.p_filesz) std::memset(g.ram + ph.p_paddr + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
        }
        return eh.e_entry;
    }
    throw Usage("no multiboot header in the first 8 KiB");
}

// Multiboot 3.3: flags bit 0 (mem_lower/mem_upper) and bit 2 (cmdline).
void write_info(Guest& g, const std::string& cmdline) {
    uint32_t info[16] = {};
    info[0] = (1u << 0) | (1u << 2);
    info[1] = 639;
    info[2] = static_cast<uint32_t>((g.size - 0x100000) / 1024);
    info[4] = kInfoBase + 0x200;
    g.put(kInfoBase, info, sizeof info);
    g.put(kInfoBase + 0x200, cmdline.c_str(), cmdline.size() + 1);
}

kvm_segment flat_segment(uint16_t selector, uint8_t type) {
    kvm_segment s{};
    s.base = 0;
    s.limit = 0xffffffff;
    s.selector = selector;
    s.type = type;
    s.present = 1;
    s.s = 1;
    s.db = 1;
    s.g = 1;
    return s;
}

// Multiboot 3.2: CS 32-bit read/execute flat, data segments flat, CR0.PE=1 and PG=0, IF=0,
// EAX magic, EBX the info address. GDTR/IDTR are undefined there; we give a flat GDT as hvsim.
void enter_multiboot(int vcpu, Guest& g, uint32_t entry) {
    const uint64_t gdt[3] = {0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull};
    g.put(kGdtBase, gdt, sizeof gdt);
    kvm_sregs sr;
    if (ioctl(vcpu, KVM_GET_SREGS, &sr) < 0) throw std::runtime_error("KVM_GET_SREGS failed");
    sr.cs = flat_segment(0x08, 0xb);
    sr.ds = sr.es = sr.fs = sr.gs = sr.ss = flat_segment(0x10, 0x3);
    sr.gdt.base = kGdtBase;
    sr.gdt.limit = sizeof gdt - 1;
    sr.idt.base = 0;
    sr.idt.limit = 0;
    sr.tr = kvm_segment{};
    sr.tr.limit = 0x67;
    sr.tr.type = 0xb;
    sr.tr.present = 1;
    sr.ldt = kvm_segment{};
    sr.ldt.type = 2;
    sr.ldt.unusable = 1;
    sr.cr0 = 0x11;  // PE, ET
    sr.cr3 = sr.cr4 = 0;
    sr.efer = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sr) < 0) throw std::runtime_error("KVM_SET_SREGS failed");
    kvm_regs r{};
    r.rax = kMultibootEax;
    r.rbx = kInfoBase;
    r.rip = entry;
    r.rflags = 2;
    if (ioctl(vcpu, KVM_SET_REGS, &r) < 0) throw std::runtime_error("KVM_SET_REGS failed");
}

// The host's CPUID as KVM supports it (FACTS.md: without this 1 GiB pages, POPCNT ... are off).
void set_cpuid(int kvm, int vcpu, bool print) {
    for (unsigned n = 64; n <= 4096; n *= 2) {
        std::vector<uint8_t> buf(sizeof(CpuidHeader) + n * sizeof(kvm_cpuid_entry2));
        auto* c = reinterpret_cast<CpuidHeader*>(buf.data());
        const auto* entries = reinterpret_cast<const kvm_cpuid_entry2*>(buf.data() + sizeof(CpuidHeader));
        c->nent = n;
        if (ioctl(kvm, kGetSupportedCpuid, c) < 0) {
            if (errno == E2BIG) continue;
            throw std::runtime_error(std::string("KVM_GET_SUPPORTED_CPUID: ") + std::strerror(errno));
        }
        if (print)
            for (unsigned k = 0; k < c->nent; ++k) {
                const auto& e = entries[k];
                std::fprintf(stderr, "cpuid %08x.%u: %08x %08x %08x %08x\n", e.function, e.index, e.eax, e.ebx,
                             e.ecx, e.edx);
            }
        if (ioctl(vcpu, kSetCpuid2, c) < 0) throw std::runtime_error("KVM_SET_CPUID2 failed");
        return;
    }
    throw std::runtime_error("KVM_GET_SUPPORTED_CPUID: too many entries");
}

void dump_state(int vcpu) {
    kvm_regs r;
    kvm_sregs s;
    if (ioctl(vcpu, KVM_GET_REGS, &r) < 0 || ioctl(vcpu, KVM_GET_SREGS, &s) < 0) return;
    std::fprintf(stderr, "kvm_runner: rip=%llx rsp=%llx rflags=%llx cs=%x cr0=%llx cr2=%llx cr3=%llx cr4=%llx efer=%llx\n",
                 r.rip, r.rsp, r.rflags, s.cs.selector, s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
}

struct Options {
    std::string image, append;
    uint64_t mem_mib = 64;
    unsigned timeout = 60;
    bool cpuid = false, probe = false;
};

Options parse(int argc, char** argv) {
    Options o;
    for (int k = 1; k < argc; ++k) {
        const std::string a = argv[k];
        auto value = [&]() -> std::string {
            if (k + 1 >= argc) throw Usage(a + " needs a value");
            return argv[++k];
        };
        if (a == "--mem") o.mem_mib = std::stoull(value());
        else if (a == "--append") o.append = value();
        else if (a == "--timeout") o.timeout = static_cast<unsigned>(std::stoul(value()));
        else if (a == "--cpuid") o.cpuid = true;
        else if (a == "--probe") o.probe = true;
        else if (!a.empty() && a[0] == '-') throw Usage("unknown option " + a);
        else o.image = a;
    }
    if (o.image.empty() && !o.probe) throw Usage("usage: kvm_runner IMAGE [--mem MiB] [--append CMDLINE] [--timeout S] [--cpuid]");
    return o;
}

// Port I/O: COM1 transmit goes to stdout, its line status reads "transmitter empty"; the
// debug-exit port ends the run. Other ports read as all ones and ignore writes.
bool handle_io(kvm_run* run, int& status) {
    uint8_t* data = reinterpret_cast<uint8_t*>(run) + run->io.data_offset;
    const unsigned bytes = run->io.size * run->io.count;
    if (run->io.direction == KVM_EXIT_IO_OUT) {
        if (run->io.port == kCom1) {
            for (unsigned i = 0; i < run->io.count; ++i) std::fputc(data[i * run->io.size], stdout);
            std::fflush(stdout);  // the test driver watches the output grow to detect hangs
        } else if (run->io.port == kDebugExit) {
            uint32_t v = 0;
            std::memcpy(&v, data, run->io.size < 4 ? run->io.size : 4);
            status = static_cast<int>(((v << 1) | 1) & 0xff);
            return false;
        }
    } else {
        std::memset(data, 0xff, bytes);
        if (run->io.port == kCom1 + 5)
            for (unsigned i = 0; i < run->io.count; ++i) data[i * run->io.size] = 0x60;
    }
    return true;
}

int run_vm(const Options& o) {
    const int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) skip(std::string("/dev/kvm: ") + std::strerror(errno));
    if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) skip("unexpected KVM API version");
    const int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) skip(std::string("KVM_CREATE_VM: ") + std::strerror(errno));

    Guest g;
    g.size = o.mem_mib << 20;
    void* mem = mmap(nullptr, g.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) throw std::runtime_error("cannot map guest RAM");
    g.ram = static_cast<uint8_t*>(mem);
    kvm_userspace_memory_region region{};
    region.slot = 0;
    region.guest_phys_addr = 0;
    region.memory_size = g.size;
    region.userspace_addr = reinterpret_cast<uint64_t>(mem);
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) skip("KVM_SET_USER_MEMORY_REGION failed");

    const int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) skip(std::string("KVM_CREATE_VCPU: ") + std::strerror(errno));
    const int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    auto* run = static_cast<kvm_run*>(mmap(nullptr, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0));
    if (run == MAP_FAILED) throw std::runtime_error("cannot map kvm_run");
    set_cpuid(kvm, vcpu, o.cpuid);
    if (o.probe) return 0;

    const uint32_t entry = load_image(g, read_file(o.image));
    write_info(g, o.append);
    enter_multiboot(vcpu, g, entry);

    struct sigaction sa {};
    sa.sa_handler = on_alarm;  // no SA_RESTART: KVM_RUN returns EINTR
    sigaction(SIGALRM, &sa, nullptr);
    alarm(o.timeout);
    int status = 0;
    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR && g_timed_out) {
                std::fflush(stdout);
                std::fprintf(stderr, "kvm_runner: timeout after %u s\n", o.timeout);
                dump_state(vcpu);
                return kExitTimeout;
            }
            if (errno == EINTR || errno == EAGAIN) continue;
            throw std::runtime_error(std::string("KVM_RUN: ") + std::strerror(errno));
        }
        switch (run->exit_reason) {
            case KVM_EXIT_IO:
                if (!handle_io(run, status)) {
                    std::fflush(stdout);
                    return status;
                }
                break;
            case KVM_EXIT_HLT:
                std::fflush(stdout);
                std::fprintf(stderr, "kvm_runner: hlt\n");
                dump_state(vcpu);
                return kExitHlt;
            case KVM_EXIT_SHUTDOWN:
                std::fflush(stdout);
                std::fprintf(stderr, "kvm_runner: shutdown (triple fault)\n");
                dump_state(vcpu);
                return kExitShutdown;
            case KVM_EXIT_INTERNAL_ERROR:
                std::fflush(stdout);
                std::fprintf(stderr, "kvm_runner: internal error, suberror %u\n", run->internal.suberror);
                dump_state(vcpu);
                return kExitOther;
            case KVM_EXIT_MMIO:
                break;  // no MMIO devices: reads return what KVM left in the buffer, writes vanish
            default:
                std::fflush(stdout);
                std::fprintf(stderr, "kvm_runner: exit reason %u\n", run->exit_reason);
                dump_state(vcpu);
                return kExitOther;
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run_vm(parse(argc, argv));
    } catch (const Usage& e) {
        std::fprintf(stderr, "kvm_runner: %s\n", e.what());
        return kExitUsage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kvm_runner: %s\n", e.what());
        return kExitOther;
    }
}
