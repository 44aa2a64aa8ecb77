// The interface through which a hardware-virtualization extension (vmx::Vmx for Intel VT-x,
// svm::Svm for AMD-V) sees the core and intercepts it. cpu/ includes nothing of vmx/ or svm/:
// the machine attaches one extension per core (Core::attach_virtualization); without one the
// VMX/SVM instructions are #UD and CPUID does not report them.
//
// The contract (shared/DESIGN.md "check"): sensitive instructions and events ask the extension,
// at the point the manuals order the VM exit after the instruction's own faults (SDM Vol. 3C
// 26.1.1 "Relative Priority of Faults and VM Exits"; APM Vol. 2 15.7 "Intercept Operation"),
// whether they exit. An exit happens inside the call: the extension saves the guest state,
// loads the host state and calls Core::vm_transition(); the instruction then returns
// Outcome::exit (not retired) and the core continues in root mode at the host RIP.
// Context: the core's slow paths only (every hook is behind Core::guest_mode() or a rare event).
#pragma once
#include <cstdint>
#include <string>

#include "cpu/insn.h"

namespace sim {
class StatsWriter;
}

namespace cpu {

class Core;
enum class AccessKind : uint8_t;
enum class MsrResult : uint8_t;

// The instructions a guest-mode core asks about before executing them (the union of VMX's
// exiting controls and SVM's intercept vectors; each extension maps its own).
enum class Intercept : uint8_t {
    cpuid, hlt, invd, wbinvd, invlpg, invpcid, rdpmc, rdtsc, rdtscp, rsm,
    cr_read, cr_write, clts, lmsw, smsw,   // index: CR number; value: written / read value
    dr_read, dr_write,                     // index: DR number
    io,                                    // index: port; size; flags; value: OUT data
    rdmsr, wrmsr,                          // index: MSR; value: written value
    monitor, mwait, pause,
    sgdt, sidt, lgdt, lidt, sldt, str, lldt, ltr,
    xsetbv, rdrand, rdseed,
    pushf, popf, iret, intn, int1,         // intn: index = vector
    task_switch,                           // index: new TSS selector
};

namespace intercept_flag {
inline constexpr uint8_t io_in = 1, io_string = 2, io_rep = 4;
inline constexpr uint8_t memory_operand = 8;  // the instruction's operand is in memory
inline constexpr uint8_t io_immediate = 16;   // IN/OUT with an immediate port (not DX)
}  // namespace intercept_flag

struct InterceptInfo {
    Intercept kind;
    uint32_t index = 0;    // CR/DR number, port, MSR index, vector, selector
    uint64_t value = 0;    // in: the value written (CR, MSR, LMSW, OUT); for reads the value the
                           // guest will see, which the extension may replace (CR read shadows,
                           // TSC offset): in/out
    uint64_t address = 0;  // linear address of a memory operand (INVLPG, string I/O)
    uint8_t size = 0;      // I/O access size in bytes
    uint8_t flags = 0;     // intercept_flag bits
};

// The kind of an event being delivered, in the encoding of the VMX interruption-information
// fields (SDM Vol. 3C 25.8.3, Table 25-17); SVM maps it to its EVENTINJ/EXITINTINFO types.
enum class EventType : uint8_t {
    external = 0, nmi = 2, hardware_exception = 3, software_interrupt = 4,
    privileged_software_exception = 5, software_exception = 6,
};

struct EventInfo {
    uint8_t vector = 0;
    EventType type = EventType::hardware_exception;
    bool has_error = false;
    uint32_t error_code = 0;
    uint64_t fault_address = 0;  // #PF: the linear address (VMX: exit qualification; SVM: EXITINFO2)
    uint8_t instruction_length = 0;  // software interrupts and exceptions
};

// A guest-physical access that needs second-level translation (EPT, NPT).
struct GuestPhysicalAccess {
    uint64_t gpa = 0;
    AccessKind kind;
    bool linear_valid = false;     // the access comes from a linear address (SDM 28.2.1 bit 7)
    uint64_t linear = 0;
    bool paging_structure = false; // an access to a guest paging structure (bit 8 clear)
    bool user = false;             // CPL 3 (APM 15.25.6: #NPF EXITINFO1 bit 2)
};

class Virtualization {
public:
    virtual ~Virtualization() = default;

    // A VMX or SVM instruction (VMXON ... VMFUNC, VMRUN ... SKINIT, INVEPT, INVVPID):
    // everything about it, in root and guest mode (#UD, #GP, VMfail, VM exits).
    virtual Outcome execute(Core& c, const Insn& i) = 0;

    // ---- guest mode only ----
    // Does the instruction exit? True: the VM exit has happened, or the extension raised the
    // exception the instruction gets instead of executing (VMX: RDTSCP with "enable RDTSCP"
    // 0 is #UD); the handler returns Outcome::exit either way. False: it executes, with
    // info.value possibly replaced.
    virtual bool intercept(Core& c, const Insn& i, InterceptInfo& info) = 0;
    // An event about to be delivered through the guest's IDT; `during` is the event whose
    // delivery raised it (IDT-vectoring information, EXITINTINFO), or null. True: exited.
    virtual bool event(Core& c, const EventInfo& e, const EventInfo* during) = 0;
    // A triple fault (VMX exit reason 2, SVM shutdown intercept). True: exited; false: the
    // processor shuts down as without virtualization.
    virtual bool triple_fault(Core& c) = 0;
    // Second-level translation (EPT, NPT) when nested_paging(). False: the access fails and a
    // VM exit has happened (EPT violation or misconfiguration, #NPF).
    virtual bool translate(Core& c, const GuestPhysicalAccess& a, uint64_t& hpa) = 0;
    bool nested_paging() const { return nested_paging_; }

    // ---- event recognition ----
    // Called by the run loop's slow path before the core recognises INIT, NMI and interrupts,
    // while attention() holds (guest mode, or SVM with GIF = 0). True: it redirected the
    // processor (a VM exit, an injected or virtual interrupt), so the core recognises nothing
    // else at this boundary.
    virtual bool recognize_events(Core& c) = 0;
    bool attention() const { return attention_; }
    // Physical INIT / NMI / maskable interrupts are held pending now (SVM GIF = 0; INIT in VMX
    // root operation, SDM 24.8 "Restrictions on VMX Operation").
    virtual bool holds_init() const = 0;
    virtual bool holds_interrupts() const = 0;
    // When recognize_events must run next while attention(): a cycle in the future (VMX-
    // preemption timer, MTF: blocks stop there), a cycle not after now (at every block
    // boundary: blocks end after every instruction that can open an interrupt window), or ~0.
    virtual uint64_t deadline() const = 0;
    // Guest mode, halted: an event that ends the halt is pending (one that exits, or a virtual
    // interrupt the guest can take).
    virtual bool wake_pending(const Core& c) const = 0;

    // ---- what the extension adds to the processor ----
    virtual void adjust_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]) const = 0;
    virtual MsrResult read_msr(Core& c, uint32_t index, uint64_t& value) = 0;
    virtual MsrResult write_msr(Core& c, uint32_t index, uint64_t value) = 0;
    virtual uint64_t cr4_bits() const = 0;   // CR4 bits it makes writable (VMXE)
    virtual uint64_t efer_bits() const = 0;  // EFER bits it makes writable (SVME)
    // A MOV to CR0/CR4 that VMX operation forbids (fixed bits, SDM 24.8): false => #GP(0).
    virtual bool cr_write_allowed(const Core& c, unsigned cr, uint64_t value) const = 0;
    // Power-up and RESET: the processor leaves VMX operation / clears GIF's hold, and so on.
    // Called from Core::reset() and when the extension is attached.
    virtual void reset(Core& c) = 0;
    virtual void report(sim::StatsWriter& out, const std::string& prefix) const = 0;
    // The guest context the processor runs or ran last: VMX the current-VMCS pointer, SVM the
    // physical address of the last VMRUN's VMCB; 0 when there is none. Passive observers tell
    // partitions apart by it (sim/machine/partition_accounting.h), so the hypervisor they
    // measure carries no instrumentation.
    virtual uint64_t guest_context() const { return 0; }

protected:
    bool nested_paging_ = false;
    bool attention_ = false;
};

}  // namespace cpu
