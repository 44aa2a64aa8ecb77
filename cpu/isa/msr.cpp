// RDMSR/WRMSR (SDM Vol. 2 "RDMSR", "WRMSR"; Vol. 4 for each MSR) over the table of
// sim/tables/msrs.toml: the rows give index, vendor, reset value and writable bits; this file
// adds where each value lives and the checks a mask cannot express (EFER consistency,
// canonical addresses, memory types). Context: instruction handlers and cpu/msr.h callers.
#include "cpu/msr.h"

#include "cpu/isa/features.h"
#include "cpu/isa/operands.h"
#include "cpu/isa/transfer.h"
#include "msrs_table.h"

namespace cpu {
namespace {

// MSR indexes come from the one table (sim/tables/msrs.toml), by name.
constexpr uint32_t id(Msr m) { return static_cast<uint32_t>(m); }

const MsrInfo* find(Vendor v, uint32_t index) {
    const char* vendor = to_string(v);
    for (const MsrInfo& row : kMsrTable)
        if (static_cast<uint32_t>(row.value) == index &&
            (std::strcmp(row.vendor, "both") == 0 || std::strcmp(row.vendor, vendor) == 0))
            return &row;
    return nullptr;
}

// The State field of an MSR that is kept as a plain value, or nullptr.
uint64_t* stored(State& s, uint32_t index) {
    Msrs& m = s.msr;
    if (index >= id(Msr::mtrr_phys_base0) && index <= id(Msr::mtrr_phys_mask7)) return &m.mtrr_var[index - id(Msr::mtrr_phys_base0)];
    switch (index) {
        case id(Msr::sysenter_cs): return &m.sysenter_cs;
        case id(Msr::sysenter_esp): return &m.sysenter_esp;
        case id(Msr::sysenter_eip): return &m.sysenter_eip;
        case id(Msr::misc_enable): return &m.misc_enable;
        case id(Msr::mtrr_fix64k_00000): return &m.mtrr_fixed[0];
        case id(Msr::mtrr_fix16k_80000): return &m.mtrr_fixed[1];
        case id(Msr::mtrr_fix16k_a0000): return &m.mtrr_fixed[2];
        case id(Msr::pat): return &m.pat;
        case id(Msr::mtrr_def_type): return &m.mtrr_def_type;
        case id(Msr::star): return &m.star;
        case id(Msr::lstar): return &m.lstar;
        case id(Msr::cstar): return &m.cstar;
        case id(Msr::fmask): return &m.fmask;
        case id(Msr::kernel_gs_base): return &m.kernel_gs_base;
        case id(Msr::tsc_aux): return &s.tsc_aux;
        case id(Msr::hwcr): return &m.hwcr;
        default: break;
    }
    if (index >= id(Msr::mtrr_fix4k_c0000) && index <= id(Msr::mtrr_fix4k_f8000)) return &m.mtrr_fixed[3 + index - id(Msr::mtrr_fix4k_c0000)];
    return nullptr;
}

// Memory-type encodings (SDM Vol. 3A 12.11 "Memory Type Range Registers", Table 12-8; 12.12.2
// "IA32_PAT MSR", Table 12-10): UC 0, WC 1, WT 4, WP 5, WB 6; the PAT adds UC- 7.
bool mtrr_type(uint64_t t) { return t == 0 || t == 1 || t == 4 || t == 5 || t == 6; }
bool pat_type(uint64_t t) { return mtrr_type(t) || t == 7; }

bool each_byte(uint64_t v, bool (*valid)(uint64_t)) {
    for (unsigned b = 0; b < 8; ++b)
        if (!valid((v >> (8 * b)) & 0xff)) return false;
    return true;
}

// The value checks beyond the writable mask; false: #GP(0).
bool value_allowed(const State& s, uint32_t index, uint64_t v) {
    switch (index) {
        case id(Msr::sysenter_esp): case id(Msr::sysenter_eip):                          // SYSENTER_ESP/EIP (Vol. 4; 5.8.7)
        case id(Msr::lstar): case id(Msr::cstar):                // LSTAR, CSTAR: "checked by WRMSR" (5.8.8)
        case id(Msr::fs_base): case id(Msr::gs_base): case id(Msr::kernel_gs_base):  // FS, GS, KERNEL_GS base (3.4.4)
            return canonical(s, v);
        case id(Msr::pat): return each_byte(v, &pat_type);
        case id(Msr::mtrr_def_type): return mtrr_type(v & 0xff);
        default: break;
    }
    if (index >= id(Msr::mtrr_phys_base0) && index <= id(Msr::mtrr_phys_mask7) && !(index & 1)) return mtrr_type(v & 0xff);  // PHYSBASEn type
    if (index == id(Msr::mtrr_fix64k_00000) || index == id(Msr::mtrr_fix16k_80000) || index == id(Msr::mtrr_fix16k_a0000) || (index >= id(Msr::mtrr_fix4k_c0000) && index <= id(Msr::mtrr_fix4k_f8000)))
        return each_byte(v, &mtrr_type);
    return true;
}

// WRMSR to IA32_EFER (SDM Vol. 3A 2.2.1, 4.1.2, 10.8.5; APM Vol. 2 3.1.7): bits for features
// CPUID does not report are reserved; LME cannot change while CR0.PG = 1; LMA is read-only (the
// written value is ignored). A change of NXE changes what the TLB may hold.
bool write_efer(Core& c, uint64_t v) {
    State& s = c.state();
    const MsrInfo* row = find(c.vendor(), id(Msr::efer));
    const uint64_t allowed = c.efer_allowed() & row->writable;
    v &= ~efer::lma;
    if (v & ~allowed) return false;
    if ((s.cr0 & cr0::pg) && ((v ^ s.efer) & efer::lme)) return false;
    const uint64_t old = s.efer;
    s.efer = v | (old & efer::lma);
    if ((old ^ s.efer) & efer::nxe) c.flush_tlb();
    return true;
}

}  // namespace

void reset_msrs(State& s, Vendor vendor, unsigned processor) {
    const char* name = to_string(vendor);
    for (const MsrInfo& row : kMsrTable) {
        if (std::strcmp(row.vendor, "both") != 0 && std::strcmp(row.vendor, name) != 0) continue;
        if (uint64_t* field = stored(s, static_cast<uint32_t>(row.value))) *field = row.reset;
    }
    (void)processor;  // nothing per processor here: the APIC keeps IA32_APIC_BASE.BSP
    s.msr.tsc_offset = 0;
}

bool msr_read(Core& c, uint32_t index, uint64_t& value) {
    // The virtualization extension's MSRs (capabilities, VM_CR ...), then the local APIC's.
    const MsrResult own = c.virtualization() ? c.virtualization()->read_msr(c, index, value) : MsrResult::not_mine;
    if (own != MsrResult::not_mine) return own == MsrResult::ok;
    switch (c.apic_read_msr(index, value)) {
        case MsrResult::ok: return true;
        case MsrResult::gp: return false;
        case MsrResult::not_mine: break;
    }
    const MsrInfo* row = find(c.vendor(), index);
    if (!row) return false;
    State& s = c.state();
    switch (index) {
        case id(Msr::tsc): value = c.tsc(); return true;
        case id(Msr::efer): value = s.efer; return true;
        case id(Msr::fs_base): value = s.seg[fs].base; return true;
        case id(Msr::gs_base): value = s.seg[gs].base; return true;
        default: break;
    }
    const uint64_t* field = stored(s, index);
    value = field ? *field : row->reset;  // ro and wi rows read their fixed value
    return true;
}

bool msr_write(Core& c, uint32_t index, uint64_t value) {
    const MsrResult own = c.virtualization() ? c.virtualization()->write_msr(c, index, value) : MsrResult::not_mine;
    if (own != MsrResult::not_mine) return own == MsrResult::ok;
    switch (c.apic_write_msr(index, value)) {
        case MsrResult::ok: return true;
        case MsrResult::gp: return false;
        case MsrResult::not_mine: break;
    }
    const MsrInfo* row = find(c.vendor(), index);
    if (!row) return false;
    const std::string_view access = row->access;
    if (access == "ro") return false;
    if (access == "wi") return true;
    State& s = c.state();
    switch (index) {
        case id(Msr::tsc):  // the counter continues from `value` (SDM Vol. 3A 18.17 "Time-Stamp Counter")
            s.msr.tsc_offset = value - (c.tsc() - s.msr.tsc_offset);
            return true;
        case id(Msr::efer): return write_efer(c, value);
        case id(Msr::fs_base):
        case id(Msr::gs_base):
            if (!value_allowed(s, index, value)) return false;
            s.seg[index == id(Msr::fs_base) ? fs : gs].base = value;
            c.refresh_mode();
            return true;
        default: break;
    }
    uint64_t* field = stored(s, index);
    if (!field) return false;
    if ((value ^ *field) & ~row->writable) return false;  // reserved or read-only bits changed
    if (!value_allowed(s, index, value)) return false;
    *field = value;
    return true;
}

namespace {

// RDMSR/WRMSR: #GP(0) at CPL > 0 (and in virtual-8086 mode), then #GP(0) for an MSR the
// processor does not have or a value it refuses. ECX selects the MSR; EDX:EAX holds the value.
Outcome rdmsr(Core& c, const Insn& i) {
    const State& s = c.state();
    if (s.mode != Mode::real && s.cpl != 0) return c.raise_gp(0);
    const auto index = static_cast<uint32_t>(s.regs[rcx]);
    InterceptInfo intercept{Intercept::rdmsr, index};
    if (c.intercepted(i, intercept)) return Outcome::exit;
    uint64_t v = 0;
    const bool ok = msr_read(c, index, v);
    c.emit(sim::EventKind::msr_read, index, v, ok ? 0 : 1);
    if (!ok) return c.raise_gp(0);
    c.set_reg<4>(rax, v);
    c.set_reg<4>(rdx, v >> 32);
    return Outcome::next;
}

Outcome wrmsr(Core& c, const Insn& i) {
    const State& s = c.state();
    if (s.mode != Mode::real && s.cpl != 0) return c.raise_gp(0);
    const auto index = static_cast<uint32_t>(s.regs[rcx]);
    const uint64_t v = (s.regs[rdx] << 32) | (s.regs[rax] & 0xffffffff);
    InterceptInfo intercept{Intercept::wrmsr, index, v};
    if (c.intercepted(i, intercept)) return Outcome::exit;
    const bool ok = msr_write(c, index, v);
    c.emit(sim::EventKind::msr_write, index, v, ok ? 0 : 1);
    if (!ok) return c.raise_gp(0);
    return Outcome::end_block;  // EFER, the segment bases and the TSC may have changed
}

template <Handler H>
bool build(const DecodeContext&, Insn& i) {
    i.fn = H;
    return true;
}

}  // namespace

void register_msr(Registry& r) {
    r.add(ZYDIS_MNEMONIC_RDMSR, &build<&rdmsr>);
    r.add(ZYDIS_MNEMONIC_WRMSR, &build<&wrmsr>);
}

}  // namespace cpu
