// Which instructions exit in VMX non-root operation (SDM Vol. 3C 26.1.2 unconditional, 26.1.3
// by the VM-execution controls) and how the others see the virtualized state (26.3: CR read
// shadows, guest/host masks, TSC offsetting). The exit qualifications are 28.2.1's.
// Context: guest-mode instruction handlers (rare).
#include "vmx/controls.h"
#include "vmx/instruction_info.h"
#include "vmx/vmx.h"

namespace vmx {

using cpu::Core;
using cpu::Intercept;
using cpu::InterceptInfo;
using F = VmcsField;
namespace flag = cpu::intercept_flag;

bool Vmx::instruction_exit(Core& c, const cpu::Insn& i, ExitReason r, uint64_t qualification) {
    ExitInfo e;
    e.reason = static_cast<uint32_t>(r);
    e.qualification = qualification;
    e.instruction_length = i.length;
    const bool mem = vmx_memory_operand(i);
    switch (r) {
        case ExitReason::vmclear: case ExitReason::vmptrld: case ExitReason::vmptrst: case ExitReason::vmxon:
            e.instruction_info = operand_information(i, mem, 0, 0);
            e.has_instruction_info = true;
            break;
        case ExitReason::vmread:  // reg1: the r/m register operand; reg2: the field encoding
            e.instruction_info = operand_information(i, mem, i.reg, (i.aux & 1) ? i.reg : i.rm);
            e.has_instruction_info = true;
            break;
        case ExitReason::vmwrite:
            e.instruction_info = operand_information(i, mem, i.rm, i.reg);
            e.has_instruction_info = true;
            break;
        case ExitReason::invept: case ExitReason::invvpid:
            e.instruction_info = operand_information(i, mem, 0, i.reg);
            e.has_instruction_info = true;
            break;
        default: break;
    }
    vm_exit(c, e);
    return true;
}

// 26.1.3 "MOV to CR0/CR4": exits when a bit set in the guest/host mask would get a value
// different from the read shadow; otherwise the host-owned bits keep their value (26.3).
// CLTS exits when TS is host-owned and the shadow has TS = 1; LMSW when a host-owned bit of
// PE/MP/EM/TS would differ from the shadow (PE only if it is set). MOV from CR0/CR4 reads the
// shadow for host-owned bits. CR3: the CR3-load exiting with its target values, CR3-store
// exiting; CR8: CR8-load/-store exiting (qualification: Table 28-3).
bool Vmx::cr_access_exits(Core& c, const cpu::Insn& i, InterceptInfo& x) {
    const cpu::State& s = c.state();
    const unsigned cr = x.index;
    const uint64_t mask = cr == 4 ? vmcs_.get(F::cr4_guest_host_mask) : vmcs_.get(F::cr0_guest_host_mask);
    const uint64_t shadow = cr == 4 ? vmcs_.get(F::cr4_read_shadow) : vmcs_.get(F::cr0_read_shadow);
    const uint64_t current = cr == 4 ? s.cr4 : s.cr0;
    auto exit = [&](unsigned access, unsigned gpr, uint64_t extra) {
        vm_exit(c, {static_cast<uint32_t>(ExitReason::control_register_access),
                    cr | (access << 4) | (uint64_t{gpr} << 8) | extra, i.length});
        return true;
    };
    switch (x.kind) {
        case Intercept::cr_write:
            if (cr == 0 || cr == 4) {
                if ((x.value ^ shadow) & mask) return exit(0, i.rm, 0);
                x.value = (x.value & ~mask) | (current & mask);
                return false;
            }
            if (cr == 3 && (proc() & proc::cr3_load_exiting)) {
                const uint64_t n = vmcs_.get(F::cr3_target_count);
                for (unsigned k = 0; k < n && k < 4; ++k)
                    if (vmcs_.get(field_at(F::cr3_target_value_0, k)) == x.value) return false;
                return exit(0, i.rm, 0);
            }
            if (cr == 8 && (proc() & proc::cr8_load_exiting)) return exit(0, i.rm, 0);
            if (cr == 8 && (proc() & proc::use_tpr_shadow)) return write_virtual_tpr(c, i, x.value);
            return false;
        case Intercept::cr_read:
            if (cr == 0 || cr == 4) {
                x.value = (x.value & ~mask) | (shadow & mask);
                return false;
            }
            if (cr == 3 && (proc() & proc::cr3_store_exiting)) return exit(1, i.reg, 0);
            if (cr == 8 && (proc() & proc::cr8_store_exiting)) return exit(1, i.reg, 0);
            if (cr == 8 && (proc() & proc::use_tpr_shadow)) {
                // 30.3 "Virtualizing MOV from CR8": bits 3:0 get VTPR[7:4].
                uint8_t vtpr = 0;
                c.read_physical(vmcs_.get(F::virtual_apic_address) + 0x80, &vtpr, 1);
                x.value = vtpr >> 4;
            }
            return false;
        case Intercept::clts:
            if ((mask & cpu::cr0::ts) && (shadow & cpu::cr0::ts)) return exit(2, 0, 0);
            x.value = (x.value & ~mask) | (current & mask);
            return false;
        case Intercept::lmsw: {
            const uint64_t src = x.value & 0xf;
            const bool pe_exit = (mask & 1) && !(shadow & 1) && (src & 1);
            if (pe_exit || ((src ^ shadow) & mask & 0xe)) {
                const bool memory = x.flags & flag::memory_operand;
                return exit(3, 0, (memory ? 1u << 6 : 0) | ((x.value & 0xffff) << 16));
            }
            x.value = (x.value & ~(mask & 0xf)) | (current & mask & 0xf);
            return false;
        }
        case Intercept::smsw:
            x.value = (x.value & ~mask) | (shadow & mask);
            return false;
        default: return false;
    }
}

// 30.3 "Virtualizing MOV to CR8" (with "use TPR shadow" and no CR8-load exiting): VTPR (offset
// 80H of the virtual-APIC page) gets the source's bits 3:0 in 7:4, the rest of its 32 bits 0;
// the APIC's TPR is untouched. Then 30.1.2 "TPR Virtualization": VTPR[7:4] below the TPR
// threshold[3:0] is a trap-like VM exit (reason 43) with RIP after the instruction. The
// instruction completes here (RIP advanced), so the handler returns Outcome::exit.
bool Vmx::write_virtual_tpr(Core& c, const cpu::Insn& i, uint64_t value) {
    const uint32_t vtpr = static_cast<uint32_t>(value & 0xf) << 4;
    c.write_physical(vmcs_.get(F::virtual_apic_address) + 0x80, &vtpr, 4);
    c.state().rip() += i.length;
    if ((vtpr >> 4) < (vmcs_.get(F::tpr_threshold) & 0xf))
        vm_exit(c, {static_cast<uint32_t>(ExitReason::tpr_below_threshold), 0, 0});
    return true;
}

// 26.1.3 "I/O instructions": with "use I/O bitmaps" the bitmaps decide (A: ports 0-7FFFh,
// B: 8000h-FFFFh; an access that wraps past FFFFh exits), else "unconditional I/O exiting".
bool Vmx::io_exits(Core& c, const InterceptInfo& x) const {
    if (!(proc() & proc::use_io_bitmaps)) return proc() & proc::unconditional_io_exiting;
    for (unsigned k = 0; k < x.size; ++k) {
        const uint32_t port = x.index + k;
        if (port > 0xffff) return true;
        const uint64_t bitmap = vmcs_.get(port < 0x8000 ? F::io_bitmap_a_address : F::io_bitmap_b_address);
        uint8_t byte = 0;
        c.read_physical(bitmap + ((port & 0x7fff) >> 3), &byte, 1);
        if (byte & (1u << (port & 7))) return true;
    }
    return false;
}

// 26.1.3 "RDMSR"/"WRMSR": without MSR bitmaps every access exits; with them, the read-low,
// read-high, write-low and write-high kilobytes of the bitmap page (25.6.9); indices outside
// 0-1FFFh and C0000000h-C0001FFFh always exit.
bool Vmx::msr_exits(Core& c, const InterceptInfo& x) const {
    if (!(proc() & proc::use_msr_bitmaps)) return true;
    const uint32_t msr = x.index;
    uint64_t offset;
    if (msr <= 0x1fff) offset = 0;
    else if (msr >= 0xc0000000 && msr <= 0xc0001fff) offset = 1024;
    else return true;
    if (x.kind == Intercept::wrmsr) offset += 2048;
    uint8_t byte = 0;
    c.read_physical(vmcs_.get(F::msr_bitmaps_address) + offset + ((msr & 0x1fff) >> 3), &byte, 1);
    return byte & (1u << (msr & 7));
}

bool Vmx::intercept(Core& c, const cpu::Insn& i, InterceptInfo& x) {
    const uint32_t p = proc(), p2 = proc2();
    auto plain = [&](ExitReason r, uint64_t q = 0) { return instruction_exit(c, i, r, q); };
    switch (x.kind) {
        case Intercept::cpuid: return plain(ExitReason::cpuid);
        case Intercept::invd: return plain(ExitReason::invd);
        case Intercept::xsetbv: return plain(ExitReason::xsetbv);
        case Intercept::hlt: return (p & proc::hlt_exiting) && plain(ExitReason::hlt);
        case Intercept::wbinvd: return (p2 & proc2::wbinvd_exiting) && plain(ExitReason::wbinvd_or_wbnoinvd);
        case Intercept::invlpg: return (p & proc::invlpg_exiting) && plain(ExitReason::invlpg, x.address);
        case Intercept::pause: return (p & proc::pause_exiting) && plain(ExitReason::pause);
        case Intercept::rdpmc: return (p & proc::rdpmc_exiting) && plain(ExitReason::rdpmc);
        case Intercept::rdtscp:
        case Intercept::invpcid:
            // 26.3 / 25.6.2 Table 25-7: with "enable RDTSCP" / "enable INVPCID" 0 the
            // instruction is #UD in VMX non-root operation, before any exit (26.1.1). The
            // #UD is left pending and the handler stops (Outcome::exit leaves RIP alone); the
            // run loop delivers it, through the exception bitmap.
            if (x.kind == Intercept::invpcid || !(p2 & proc2::enable_rdtscp)) {
                c.raise_ud();
                return true;
            }
            [[fallthrough]];
        case Intercept::rdtsc:
            if (p & proc::rdtsc_exiting) return plain(x.kind == Intercept::rdtsc ? ExitReason::rdtsc : ExitReason::rdtscp);
            if (p & proc::use_tsc_offsetting) x.value += vmcs_.get(F::tsc_offset);  // 26.3 (25.6.5)
            return false;
        case Intercept::cr_read: case Intercept::cr_write: case Intercept::clts: case Intercept::lmsw:
        case Intercept::smsw:
            return cr_access_exits(c, i, x);
        case Intercept::dr_read: case Intercept::dr_write: {
            if (!(p & proc::mov_dr_exiting)) return false;
            // Table 28-4: DR number 2:0, direction 4 (1 = MOV from DR), register 11:8.
            const bool from = x.kind == Intercept::dr_read;
            const unsigned gpr = from ? i.reg : i.rm;
            return plain(ExitReason::mov_dr, x.index | (from ? 1u << 4 : 0) | (uint64_t{gpr} << 8));
        }
        case Intercept::io: {
            if (!io_exits(c, x)) return false;
            // Table 28-5: size-1 in 2:0, direction 3 (1 = IN), string 4, REP 5, immediate 6, port 31:16.
            const bool in = x.flags & flag::io_in, string = x.flags & flag::io_string;
            ExitInfo e{static_cast<uint32_t>(ExitReason::io_instruction),
                       (x.size - 1u) | (in ? 8u : 0) | (string ? 16u : 0) | ((x.flags & flag::io_rep) ? 32u : 0) |
                           ((x.flags & flag::io_immediate) ? 64u : 0) | (uint64_t{x.index} << 16),
                       i.length};
            if (string) {
                e.guest_linear = x.address;
                e.has_guest_linear = true;
                if (ins_outs_information(caps_)) {
                    e.instruction_info = string_io_information(i, in);
                    e.has_instruction_info = true;
                }
            }
            vm_exit(c, e);
            return true;
        }
        case Intercept::rdmsr: return msr_exits(c, x) && plain(ExitReason::rdmsr);
        case Intercept::wrmsr: return msr_exits(c, x) && plain(ExitReason::wrmsr);
        case Intercept::sgdt: case Intercept::sidt: case Intercept::lgdt: case Intercept::lidt: {
            if (!(p2 & proc2::descriptor_table_exiting)) return false;
            // Table 28-10: operand size 11 (1 = 32-bit), identity 29:28 (SGDT, SIDT, LGDT, LIDT).
            const unsigned identity = x.kind == Intercept::sgdt ? 0 : x.kind == Intercept::sidt ? 1
                                      : x.kind == Intercept::lgdt ? 2 : 3;
            ExitInfo e{static_cast<uint32_t>(ExitReason::gdtr_idtr_access), memory_operand_displacement(i, true), i.length};
            e.instruction_info = (operand_information(i, true, 0, 0) & 0x0fffffff) | (i.opsize == 2 ? 0 : 1u << 11) |
                                 (identity << 28);
            e.has_instruction_info = true;
            vm_exit(c, e);
            return true;
        }
        case Intercept::sldt: case Intercept::str: case Intercept::lldt: case Intercept::ltr: {
            if (!(p2 & proc2::descriptor_table_exiting)) return false;
            // Table 28-11: reg1 6:3 (register form), identity 29:28 (SLDT, STR, LLDT, LTR).
            const unsigned identity = x.kind == Intercept::sldt ? 0 : x.kind == Intercept::str ? 1
                                      : x.kind == Intercept::lldt ? 2 : 3;
            const bool memory = x.flags & flag::memory_operand;
            ExitInfo e{static_cast<uint32_t>(ExitReason::ldtr_tr_access), memory_operand_displacement(i, memory), i.length};
            e.instruction_info = (operand_information(i, memory, i.reg, 0) & 0x0fffffff) | (identity << 28);
            e.has_instruction_info = true;
            vm_exit(c, e);
            return true;
        }
        case Intercept::iret:
            // 26.3: with "virtual NMIs", IRET ends virtual-NMI blocking (the core's NMI
            // blocking stands for it in non-root operation): nothing to do here.
            return false;
        default:
            // MONITOR/MWAIT/RDRAND/RDSEED (the core lacks them),
            // RSM, task switches (the core does not perform them), PUSHF/POPF/INT n (no VMX exit).
            return false;
    }
}

}  // namespace vmx
