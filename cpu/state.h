// Architectural state of one logical processor. Context: plain data, owned by cpu::Core.
#pragma once
#include <cstdint>
#include <cstring>

#include "cpu/flags.h"
#include "cpuid_table.h"

namespace cpu {

// General registers in x86 encoding order; two extra slots make effective-address arithmetic
// branch-free: `reg_none` always reads 0 and `reg_rip` holds RIP (RIP-relative operands).
enum Reg : uint8_t {
    rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15,
    reg_none = 16, reg_rip = 17, reg_count = 18,
};
// Byte registers AH, CH, DH, BH (legacy encodings 4..7 without REX) are numbered high8 | 0..3.
inline constexpr uint8_t high8 = 0x20;

enum SegReg : uint8_t { es, cs, ss, ds, fs, gs, seg_count };

// Hidden part of a segment register. `attributes` uses the VMX access-rights layout
// (SDM Vol. 3C 25.4.1 "Guest Register State"): type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13,
// D/B 14, G 15, unusable 16.
struct Segment {
    uint16_t selector = 0;
    uint64_t base = 0;
    uint32_t limit = 0xffff;
    uint32_t attributes = 0x93;  // present, read/write data, accessed

    unsigned dpl() const { return (attributes >> 5) & 3; }
    bool present() const { return attributes & 0x80; }
    bool code() const { return attributes & 0x8; }
    bool long_mode() const { return attributes & 0x2000; }
    bool big() const { return attributes & 0x4000; }
    bool unusable() const { return attributes & 0x10000; }
    bool expand_down() const { return (attributes & 0x1c) == 0x14; }
};

struct TableRegister {
    uint64_t base = 0;
    uint32_t limit = 0xffff;
};

// Physical-address width (MAXPHYADDR), as CPUID 80000008h:EAX[7:0] reports it in the one
// table (sim/tables/cpuid.toml; both vendors' rows agree, checked below). Paging-structure
// reserved bits start above it (SDM Vol. 3A 4.1.4).
constexpr unsigned max_phys_addr_bits(const char* vendor) {
    for (const auto& row : kCpuidLeafTable)
        if (row.leaf == 0x80000008u && row.vendor[0] == vendor[0]) return row.eax & 0xff;
    return 0;
}
inline constexpr unsigned kMaxPhysAddrBits = max_phys_addr_bits("intel");
static_assert(kMaxPhysAddrBits != 0 && kMaxPhysAddrBits == max_phys_addr_bits("amd"),
              "MAXPHYADDR differs between the vendors' CPUID rows: make it per vendor");

// Processor operating modes (SDM Vol. 3A 2.2 "Modes of Operation").
enum class Mode : uint8_t { real, v8086, protected16, protected32, compat16, compat32, long64 };

namespace cr0 {
inline constexpr uint64_t pe = 1u << 0, mp = 1u << 1, em = 1u << 2, ts = 1u << 3, et = 1u << 4,
                          ne = 1u << 5, wp = 1u << 16, am = 1u << 18, nw = 1u << 29, cd = 1u << 30,
                          pg = 1u << 31;
}
namespace cr4 {
inline constexpr uint64_t vme = 1u << 0, pvi = 1u << 1, tsd = 1u << 2, de = 1u << 3, pse = 1u << 4,
                          pae = 1u << 5, mce = 1u << 6, pge = 1u << 7, pce = 1u << 8,
                          osfxsr = 1u << 9, osxmmexcpt = 1u << 10, umip = 1u << 11, la57 = 1u << 12,
                          vmxe = 1u << 13, smxe = 1u << 14, fsgsbase = 1u << 16, pcide = 1u << 17,
                          osxsave = 1u << 18, smep = 1u << 20, smap = 1u << 21, pke = 1u << 22;
}
namespace efer {
inline constexpr uint64_t sce = 1u << 0, lme = 1u << 8, lma = 1u << 10, nxe = 1u << 11,
                          svme = 1u << 12, lmsle = 1u << 13, ffxsr = 1u << 14, tce = 1u << 15;
}

struct X87State {
    uint16_t fcw = 0x037f;
    uint16_t fsw = 0;
    uint16_t ftw = 0xffff;  // full tag word: all empty
    uint16_t fop = 0;
    uint64_t fip = 0, fdp = 0;
    uint16_t fcs = 0, fds = 0;  // selectors of the 32-bit FXSAVE/FSTENV formats (FXRSTOR32 loads them)
    uint8_t st[8][10] = {};  // 80-bit registers, physical order
};

// MSRs kept as plain values (RDMSR/WRMSR in cpu/isa/msr.cpp; indices, reset values and
// writable bits in sim/tables/msrs.toml, applied by cpu::reset_msrs). EFER, TSC_AUX and the
// FS/GS bases are State fields of their own.
struct Msrs {
    uint64_t star = 0, lstar = 0, cstar = 0, fmask = 0, kernel_gs_base = 0;
    uint64_t sysenter_cs = 0, sysenter_esp = 0, sysenter_eip = 0;
    uint64_t pat = 0, misc_enable = 0, hwcr = 0;
    uint64_t mtrr_def_type = 0, mtrr_fixed[11] = {}, mtrr_var[16] = {};  // var: base0, mask0, ...
    uint64_t tsc_offset = 0;  // Core::tsc() = simulated time + tsc_offset (WRMSR to the TSC)
};

struct State {
    uint64_t regs[reg_count] = {};
    ArithFlags flags;
    uint64_t rflags_other = rf::fixed1;  // every RFLAGS bit except the six arithmetic flags

    Segment seg[seg_count];
    Segment ldtr, tr;
    TableRegister gdtr, idtr;

    uint64_t cr0 = 0x60000010, cr2 = 0, cr3 = 0, cr4 = 0, cr8 = 0, efer = 0, xcr0 = 1;
    uint64_t tsc_aux = 0;  // IA32_TSC_AUX (MSR C000_0103h): RDTSCP's ECX
    uint64_t dr[8] = {0, 0, 0, 0, 0xffff0ff0, 0x400, 0xffff0ff0, 0x400};
    // PAE PDPTE registers (Intel SDM Vol. 3A 4.4.1: loaded by MOV to CR3, and by MOV to CR0/CR4
    // when they change paging bits). The page walk uses them while CR3 still equals pdpte_cr3
    // (they were loaded from it); otherwise (AMD, or CR3 set from outside) it reads memory.
    uint64_t pdpte[4] = {};
    uint64_t pdpte_cr3 = ~0ull;
    Msrs msr;

    alignas(16) uint8_t xmm[16][16] = {};
    uint32_t mxcsr = 0x1f80;
    X87State x87;

    // Derived, kept in step by Core::refresh_mode(): the mode, CPL, code and stack sizes.
    Mode mode = Mode::real;
    uint8_t cpl = 0;

    uint64_t& rip() { return regs[reg_rip]; }
    uint64_t rip() const { return regs[reg_rip]; }
    uint64_t rflags() const { return rflags_other | flags.get(); }
    // Reserved RFLAGS bits (3, 5, 15, 22-63) read as 0 and bit 1 as 1, whatever is loaded
    // (SDM Vol. 1 3.4.3): POPF, IRET, SYSRET and loaders all come through here.
    void set_rflags(uint64_t v) {
        v &= rf::defined;
        flags.set(v);
        rflags_other = (v & ~rf::arith) | rf::fixed1;
    }
    bool df() const { return rflags_other & rf::df; }
    bool interrupts_enabled() const { return rflags_other & rf::if_; }
};

}  // namespace cpu
