// Guest-mode intercepts (AMD APM Vol. 2 15.7-15.14): instruction intercepts with their EXITCODE
// (Appendix C), EXITINFO1/2 and NRIP (15.7.1), the I/O and MSR permission maps (15.10, 15.11),
// CR/DR accesses with decode assists (15.33), exceptions (15.12) and shutdown.
// Context: the core's intercept points (cpu/virtualization.h), guest mode only.
#include "svm/svm.h"
#include "svm/vmcb.h"

namespace svm {

using cpu::Core;
using cpu::Insn;

namespace {

constexpr uint64_t kDecodeMovCr = 1ull << 63;  // EXITINFO1[63]: a MOV CRx (15.33.1)

// EXITINFO1 of IOIO (15.10.2, Figure 15-2).
uint64_t ioio_info1(const cpu::InterceptInfo& x, const Insn& i, bool decode_assists) {
    uint64_t v = uint64_t{x.index} << 16;
    if (x.flags & cpu::intercept_flag::io_in) v |= 1;
    if (x.flags & cpu::intercept_flag::io_string) v |= 1u << 2;
    if (x.flags & cpu::intercept_flag::io_rep) v |= 1u << 3;
    v |= (x.size == 1 ? 1u : x.size == 2 ? 2u : 4u) << 4;   // SZ8, SZ16, SZ32
    v |= (i.adsize == 2 ? 1u : i.adsize == 4 ? 2u : 4u) << 7;  // A16, A32, A64
    // Bits 12:10: the segment of a string OUTS (decode assists); INS always uses ES.
    if (decode_assists && (x.flags & cpu::intercept_flag::io_string))
        v |= uint64_t{(x.flags & cpu::intercept_flag::io_in) ? 0u : i.seg} << 10;
    return v;
}

// MSRPM (15.11): two bits per MSR (read, write) for three ranges of 8K MSRs; MSRs outside
// them always exit. Returns the bit offset or -1.
int64_t msrpm_bit(uint32_t msr) {
    const uint32_t base[3] = {0x00000000u, 0xc0000000u, 0xc0010000u};
    for (unsigned r = 0; r < 3; ++r)
        if (msr - base[r] < 0x2000u) return int64_t{r} * 0x4000 + int64_t{msr - base[r]} * 2;
    return -1;
}

bool changes_beyond_ts_mp(uint64_t old_cr0, uint64_t new_cr0) {
    const uint64_t ignored = cpu::cr0::ts | cpu::cr0::mp | cpu::cr0::et;
    return ((old_cr0 ^ new_cr0) & ~ignored) != 0;
}

}  // namespace

bool Svm::intercepted(svm::Intercept b) const {
    const auto n = static_cast<unsigned>(b);
    return (intercepts_[n / 32] >> (n % 32)) & 1;
}

bool Svm::io_exit(Core& c, const Insn& i, const cpu::InterceptInfo& x) {
    if (!intercepted(svm::Intercept::ioio_prot)) return false;
    bool any = false;
    for (unsigned p = x.index; p < x.index + x.size; ++p) {  // every port the access touches
        uint8_t byte = 0;
        c.read_physical(iopm_pa_ + (p >> 3), &byte, 1);  // ports past FFFFh: the 12 KiB map's tail
        any |= (byte >> (p & 7)) & 1;
    }
    if (!any) return false;
    const uint64_t next = c.rip() + i.length;
    vmexit(c, ExitCode::ioio, ioio_info1(x, i, f_.decode_assists), next, next);
    return true;
}

bool Svm::msr_exit(Core& c, const Insn& i, const cpu::InterceptInfo& x) {
    if (!intercepted(svm::Intercept::msr_prot)) return false;
    const bool write = x.kind == cpu::Intercept::wrmsr;
    const int64_t bit = msrpm_bit(x.index);
    bool exits = bit < 0;
    if (!exits) {
        const uint64_t b = static_cast<uint64_t>(bit) + (write ? 1 : 0);
        uint8_t byte = 0;
        c.read_physical(msrpm_pa_ + b / 8, &byte, 1);
        exits = (byte >> (b % 8)) & 1;
    }
    if (!exits) return false;
    vmexit(c, ExitCode::msr, write ? 1 : 0, 0, c.rip() + i.length);
    return true;
}

// CR reads and writes (15.9): MOV CRn, SMSW (a CR0 read), CLTS and LMSW (CR0 writes); the CR0
// write intercept takes precedence over the selective one (CR0_SEL_WRITE, 15.9.2), which LMSW
// and MOV to CR0 can trigger but CLTS cannot (it changes only TS).
bool Svm::cr_exit(Core& c, const Insn& i, cpu::InterceptInfo& x) {
    const bool read = x.kind == cpu::Intercept::cr_read || x.kind == cpu::Intercept::smsw;
    const bool mov = x.kind == cpu::Intercept::cr_read || x.kind == cpu::Intercept::cr_write;
    const unsigned cr = mov ? x.index : 0;
    uint64_t info1 = 0;
    if (f_.decode_assists && mov) info1 = kDecodeMovCr | ((read ? i.reg : i.rm) & 15);
    const uint64_t next = c.rip() + i.length;
    const auto bit = static_cast<svm::Intercept>((read ? 0 : 16) + cr);
    if (intercepted(bit)) {
        vmexit(c, static_cast<ExitCode>((read ? 0x00 : 0x10) + cr), info1, 0, next);
        return true;
    }
    if (read || cr != 0 || !intercepted(svm::Intercept::cr0_sel_write)) return false;
    const uint64_t old = c.state().cr0;
    uint64_t v = x.value;
    if (x.kind == cpu::Intercept::lmsw) v = (old & ~uint64_t{0xf}) | (x.value & 0xf) | (old & cpu::cr0::pe);
    if (x.kind == cpu::Intercept::clts || !changes_beyond_ts_mp(old, v)) return false;
    vmexit(c, ExitCode::cr0_sel_write, info1, 0, next);
    return true;
}

// V_INTR_MASKING (15.21.1): guest CR8 reads return V_TPR and writes go to V_TPR, not to the
// physical TPR (the core's write is made a no-op by writing back the current TPR[7:4]).
void Svm::virtualize_cr8(Core& c, cpu::InterceptInfo& x) {
    constexpr uint64_t kVIntrMasking = 1ull << 24;
    if (!(vintr_ & kVIntrMasking)) return;
    if (x.kind == cpu::Intercept::cr_read) {
        x.value = vintr_ & 0xf;
    } else if (!(x.value & ~uint64_t{0xf})) {  // reserved bits: the core's #GP(0) stands
        vintr_ = (vintr_ & ~uint64_t{0xff}) | (x.value & 0xf);
        x.value = c.read_cr8();
    }
}

// PAUSE with the pause filter (15.14.4): with a nonzero PAUSE_FILTER_COUNT in the VMCB, each
// PAUSE counts down an internal copy and the PAUSE that brings it to zero exits (the count then
// starts again). With the threshold (nonzero), a PAUSE more than `threshold` cycles after the
// previous one reloads the count first: only tight spin loops reach zero.
bool Svm::pause_exit(Core& c) {
    if (!intercepted(svm::Intercept::pause)) return false;
    if (pause_count_reload_ == 0) return true;
    const uint64_t now = c.now();
    if (pause_threshold_ && now - last_pause_ > pause_threshold_) pause_count_ = pause_count_reload_;
    last_pause_ = now;
    if (--pause_count_ != 0) return false;
    pause_count_ = pause_count_reload_;
    return true;
}

bool Svm::intercept(Core& c, const Insn& i, cpu::InterceptInfo& x) {
    using svm::Intercept;
    const uint64_t next = c.rip() + i.length;
    auto simple = [&](Intercept b, ExitCode code, uint64_t info1 = 0) {
        if (!intercepted(b)) return false;
        vmexit(c, code, info1, 0, next);
        return true;
    };
    switch (x.kind) {
        case cpu::Intercept::cpuid: return simple(Intercept::cpuid, ExitCode::cpuid);
        case cpu::Intercept::hlt: return simple(Intercept::hlt, ExitCode::hlt);
        case cpu::Intercept::invd: return simple(Intercept::invd, ExitCode::invd);
        case cpu::Intercept::wbinvd: return simple(Intercept::wbinvd, ExitCode::wbinvd);
        case cpu::Intercept::invlpg: return simple(Intercept::invlpg, ExitCode::invlpg, f_.decode_assists ? x.address : 0);
        case cpu::Intercept::rdtsc:
        case cpu::Intercept::rdtscp:
            if (simple(x.kind == cpu::Intercept::rdtsc ? Intercept::rdtsc : Intercept::rdtscp,
                       x.kind == cpu::Intercept::rdtsc ? ExitCode::rdtsc : ExitCode::rdtscp))
                return true;
            x.value += tsc_offset_;  // 15.30.5 "TSC offset"
            return false;
        case cpu::Intercept::cr_read: case cpu::Intercept::cr_write:
            if (cr_exit(c, i, x)) return true;
            if (x.index == 8) virtualize_cr8(c, x);
            return false;
        case cpu::Intercept::clts: case cpu::Intercept::lmsw: case cpu::Intercept::smsw:
            return cr_exit(c, i, x);
        case cpu::Intercept::dr_read: case cpu::Intercept::dr_write: {
            const bool read = x.kind == cpu::Intercept::dr_read;
            const unsigned dr = x.index & 15;
            const uint64_t info1 = f_.decode_assists ? ((read ? i.reg : i.rm) & 15) : 0;
            return simple(static_cast<Intercept>(32 + (read ? 0 : 16) + dr),
                          static_cast<ExitCode>((read ? 0x20 : 0x30) + dr), info1);
        }
        case cpu::Intercept::io: return io_exit(c, i, x);
        case cpu::Intercept::rdmsr: case cpu::Intercept::wrmsr: return msr_exit(c, i, x);
        case cpu::Intercept::pause:
            if (!pause_exit(c)) return false;
            vmexit(c, ExitCode::pause, 0, 0, next);
            return true;
        case cpu::Intercept::sidt: return simple(Intercept::idtr_read, ExitCode::idtr_read);
        case cpu::Intercept::sgdt: return simple(Intercept::gdtr_read, ExitCode::gdtr_read);
        case cpu::Intercept::sldt: return simple(Intercept::ldtr_read, ExitCode::ldtr_read);
        case cpu::Intercept::str: return simple(Intercept::tr_read, ExitCode::tr_read);
        case cpu::Intercept::lidt: return simple(Intercept::idtr_write, ExitCode::idtr_write);
        case cpu::Intercept::lgdt: return simple(Intercept::gdtr_write, ExitCode::gdtr_write);
        case cpu::Intercept::lldt: return simple(Intercept::ldtr_write, ExitCode::ldtr_write);
        case cpu::Intercept::ltr: return simple(Intercept::tr_write, ExitCode::tr_write);
        case cpu::Intercept::xsetbv: return simple(Intercept::xsetbv, ExitCode::xsetbv);
        case cpu::Intercept::pushf: return simple(Intercept::pushf, ExitCode::pushf);
        case cpu::Intercept::popf: return simple(Intercept::popf, ExitCode::popf);
        case cpu::Intercept::iret: return simple(Intercept::iret, ExitCode::iret);
        case cpu::Intercept::intn: return simple(Intercept::intn, ExitCode::swint, f_.decode_assists ? x.index : 0);
        case cpu::Intercept::int1: return simple(Intercept::icebp, ExitCode::icebp);
        case cpu::Intercept::rdpmc: return simple(Intercept::rdpmc, ExitCode::rdpmc);
        case cpu::Intercept::rsm: return simple(Intercept::rsm, ExitCode::rsm);
        case cpu::Intercept::task_switch: return simple(Intercept::task_switch, ExitCode::task_switch, x.index);
        // No SVM intercept (RDRAND, RDSEED), or not reported by this processor's CPUID
        // (INVPCID, MONITOR, MWAIT): they execute (or #UD) as without SVM.
        default: return false;
    }
}

// Exceptions (15.12 "Exception Intercepts"): vectors 0-31 by the exception intercept vector.
// #PF: EXITINFO1 = error code, EXITINFO2 = the faulting address (CR2 is not written); other
// exceptions with an error code: EXITINFO1 = the error code. INT3, INTO and ICEBP's #DB
// exit with RIP at the instruction and NRIP after it. External interrupts, NMIs and INTn are not
// exceptions here (their intercepts are INTR, NMI and INTn).
bool Svm::event(Core& c, const cpu::EventInfo& e, const cpu::EventInfo* during) {
    if (injection_unchecked_ && !during) {  // EVENTINJ's own event: not subject to intercepts
        injection_unchecked_ = false;
        return false;
    }
    injection_unchecked_ = false;
    if (e.type == cpu::EventType::external || e.type == cpu::EventType::nmi ||
        e.type == cpu::EventType::software_interrupt || e.vector >= 32)
        return false;
    if (!((intercepts_[2] >> e.vector) & 1)) return false;
    const uint64_t exitintinfo = during ? event_field::encode(*during) : 0;
    const uint64_t info1 = e.has_error ? e.error_code : 0;
    const uint64_t info2 = e.vector == 14 ? e.fault_address : 0;
    const bool instruction = e.type == cpu::EventType::software_exception ||
                             e.type == cpu::EventType::privileged_software_exception;  // INT3, INTO, INT1
    const uint64_t next = instruction ? c.rip() + e.instruction_length : 0;
    vmexit(c, static_cast<ExitCode>(0x40 + e.vector), info1, info2, next, exitintinfo);
    return true;
}

// A triple fault is a shutdown (15.12): the SHUTDOWN intercept, else the processor shuts down.
bool Svm::triple_fault(Core& c) {
    if (!intercepted(svm::Intercept::shutdown)) return false;
    vmexit(c, ExitCode::shutdown);
    return true;
}

}  // namespace svm
