// One logical x86-64 processor: the run loop, memory access through a software TLB, and the
// services instruction handlers use (registers, memory, exceptions, ports, events).
// Context: the hot path. Index of the implementation:
//   core.cpp        construction, reset, run loop, mode bookkeeping, stats
//   memory.cpp      TLB misses: segmentation checks, page walks, RAM vs MMIO, code pages
//   blocks.cpp      the decode cache: blocks of decoded instructions keyed by physical address
//   decoder.cpp     Zydis -> Insn through the builder registry (cpu/isa/registry.h)
//   exceptions.cpp  exception and interrupt delivery, double and triple fault
//   interrupts.cpp  recognition of INIT, SIPI, NMI and external interrupts between blocks, HLT
//   apic/*.cpp      the local APIC (cpu/apic/local_apic.h)
//   isa/*.cpp       instruction families
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cpu/apic/local_apic.h"
#include "cpu/insn.h"
#include "cpu/state.h"
#include "cpu/virtualization.h"
#include "exceptions_table.h"
#include "sim/kernel/bus.h"
#include "sim/kernel/event.h"
#include "sim/kernel/stats.h"

namespace cpu {

enum class Vendor : uint8_t { intel, amd };
const char* to_string(Vendor v);

struct CoreConfig {
    Vendor vendor = Vendor::intel;
    unsigned id = 0;
    bool count_mnemonics = false;  // per-mnemonic retired counts (the "every counter on" mode)
    unsigned cpus = 1;             // logical processors in the machine (CPUID topology)
    uint32_t apic_bus_divisor = 1;  // core cycles per APIC timer (bus clock) tick
    // The bootstrap processor; an AP waits for a startup IPI after reset (SDM 9.4.1). In a
    // machine, processor 0 is the BSP.
    bool is_bsp = true;
    bool bsp() const { return is_bsp; }
};

class BlockCache;
struct Block;

// Effective addresses wrap at the address size (SDM Vol. 1 3.3.7): mask by size in bytes.
inline constexpr uint64_t kAddressMask[16] = {0, 0xff, 0xffff, 0, 0xffffffff, 0, 0, 0, ~0ull,
                                              0, 0, 0, 0, 0, 0, 0};

enum class AccessKind : uint8_t { read, write, execute };  // declared in cpu/virtualization.h

// The exception an instruction raised, waiting for delivery at the end of the instruction.
struct PendingException {
    bool valid = false;
    uint8_t vector = 0;
    bool has_error_code = false;
    uint32_t error_code = 0;
    uint64_t address = 0;  // #PF: the linear address, written to CR2 on delivery (SDM 6.15)
};

std::string hex(uint64_t v);

class Core {
public:
    // STI (with IF = 0 before), MOV SS and POP SS: interrupts (and NMIs) are not recognised
    // before the next instruction completes (see inhibit_interrupts).
    enum class Shadow : uint8_t { none, sti, mov_ss };

    Core(const CoreConfig& config, sim::PhysicalBus& bus, sim::EventStream& events,
         sim::RunControl& control);
    ~Core();
    Core(const Core&) = delete;
    Core& operator=(const Core&) = delete;

    // ---- used by the machine ----
    void reset();                      // power-on state: real mode at F000:FFF0 (SDM 9.1.1)
    // Runs until local time has advanced `budget` cycles (functional mode: as many
    // instructions) or the run must stop; returns the instructions retired. A halted processor
    // lets time pass only up to its own next wake-up (its APIC timer) within the budget, and
    // returns early when nothing of its own can wake it: the machine then decides (idle_until).
    uint64_t run(uint64_t budget);
    // Halted or waiting for SIPI: local time passes up to `cycle` (timers expire on the way).
    void idle_until(uint64_t cycle);
    // The earliest cycle at which the processor's own timer could wake it, or ~0.
    uint64_t wake_cycle() const;
    // An event that ends the halt (or the wait for SIPI) is pending: the next run() takes it.
    bool wake_pending() const;
    // Halted (HLT) with interrupts enabled: a device or another processor could wake it.
    bool interruptible_halt() const { return halted_ && !shutdown_ && !apic_->waiting_for_sipi() && s_.interrupts_enabled(); }
    LocalApic& apic() { return *apic_; }
    const LocalApic& apic() const { return *apic_; }
    // The other processors of the machine, sharing its memory: decoded code stays coherent
    // across them (a write by any processor, or by the host, drops every processor's blocks
    // over the bytes written; no processor keeps a write mapping of a page another has code on).
    void set_code_peers(std::vector<Core*> peers) { peers_ = std::move(peers); }
    // The APIC signalled a change: look at the events before the next block.
    void events_changed();
    State& state() { return s_; }
    const State& state() const { return s_; }
    void refresh_mode();               // after state() was changed from outside
    void flush_tlb();
    uint64_t retired() const { return retired_; }
    // Functional mode: one cycle per retired instruction, plus the cycles spent halted.
    uint64_t cycle() const { return retired_ + idle_cycles_; }
    bool halted() const { return halted_; }  // HLT, wait-for-SIPI, shutdown or trapped
    bool waiting_for_sipi() const { return apic_->waiting_for_sipi(); }
    bool nmi_blocked() const { return nmi_blocked_; }
    const CoreConfig& config() const { return config_; }
    void report(sim::StatsWriter& out, const std::string& prefix) const;
    // Host-side copy of guest physical memory (loaders, debuggers); false where not RAM.
    bool read_physical(uint64_t paddr, void* out, size_t size);
    bool write_physical(uint64_t paddr, const void* data, size_t size);
    // Linear-address access for debuggers and tests (no faults delivered; false on failure).
    bool read_linear(uint64_t linear, void* out, size_t size);

    // ---- hardware virtualization (cpu/virtualization.h) ----
    // The machine attaches VMX or SVM; without one their instructions are #UD.
    void attach_virtualization(std::unique_ptr<Virtualization> v);
    Virtualization* virtualization() { return virt_.get(); }
    const Virtualization* virtualization() const { return virt_.get(); }
    bool guest_mode() const { return guest_; }
    // The extension switched the processor between root (host) and guest mode: a VM entry or
    // exit has loaded the new state. Mode, TLB, decoded-block links and event recognition follow.
    void vm_transition(bool guest);
    // The extension changed what it needs recognised (attention, deadline): look again.
    void virtualization_changed() { events_changed(); }
    // The extension stops the processor (a VMX abort, SDM Vol. 3C 28.7): shutdown, as after
    // a triple fault outside guest mode.
    void shutdown(const std::string& why) { enter_shutdown(why); }
    // Guest mode: does this instruction exit? (The handler then returns Outcome::exit.)
    bool intercepted(const Insn& i, InterceptInfo& info) { return guest_ && virt_->intercept(*this, i, info); }
    // State the extensions save and load (VMX guest interruptibility and activity states, SVM
    // interrupt shadow).
    Shadow shadow_kind() const { return interrupt_shadow() ? shadow_ : Shadow::none; }
    void set_shadow(Shadow kind);
    void set_nmi_blocked(bool on) { nmi_blocked_ = on; check_at_ = 0; }
    void set_halted(bool on) { halted_ = on; check_at_ = 0; }
    // The event whose delivery is in progress (for IDT-vectoring information), or null.
    const EventInfo* event_in_delivery() const { return delivering_.vector_valid ? &delivering_.info : nullptr; }
    // CR4 and EFER bits a MOV/WRMSR may set: the CPUID features plus the extension's.
    uint64_t cr4_allowed() const;
    uint64_t efer_allowed() const;

    // ---- used by instruction handlers ----
    uint64_t rip() const { return s_.regs[reg_rip]; }
    template <unsigned N> uint64_t reg(unsigned r) const;
    template <unsigned N> void set_reg(unsigned r, uint64_t v);
    uint64_t effective_address(const Insn& i) const {
        const uint64_t ea = s_.regs[i.base] + (s_.regs[i.index] << i.scale) +
                            static_cast<uint64_t>(i.disp);
        return ea & kAddressMask[i.adsize & 15];
    }
    template <unsigned N> bool read(unsigned seg, uint64_t offset, uint64_t& out);
    template <unsigned N> bool write(unsigned seg, uint64_t offset, uint64_t value);
    // Any size (16-byte SSE operands, FXSAVE areas, descriptors); `align` faults with #GP(0).
    bool read_bytes(unsigned seg, uint64_t offset, void* out, unsigned size, unsigned align = 1);
    bool write_bytes(unsigned seg, uint64_t offset, const void* data, unsigned size,
                     unsigned align = 1);
    // Supervisor access by linear address (descriptor tables, TSS, IDT): SDM 4.6 "implicit".
    bool read_system(uint64_t linear, void* out, unsigned size);
    bool write_system(uint64_t linear, const void* data, unsigned size);

    template <unsigned N> bool push(uint64_t value);
    template <unsigned N> bool pop(uint64_t& value);
    uint64_t stack_mask() const { return stack_mask_; }

    Outcome raise(sim::Vector v);                        // exception without error code
    Outcome raise(sim::Vector v, uint32_t error_code);   // exception with error code
    Outcome raise_ud() { return raise(sim::Vector::invalid_opcode); }
    Outcome raise_gp(uint32_t code = 0) { return raise(sim::Vector::general_protection, code); }
    Outcome unimplemented(const Insn& i);                // #UD, reported by name
    // The same for a form or case hvsim does not model (a hardware task switch ...): #UD,
    // reported by name, and `why` becomes last_error().
    Outcome unimplemented(const Insn& i, const std::string& why);
    void request_end_of_block() { exec_end_ = exec_pos_ + 1; }
    Outcome halt();                                      // HLT: stop until an event wakes us
    // STI (with IF = 0 before), MOV SS and POP SS: interrupts (and NMIs) are not recognised
    // before the next instruction completes (SDM Vol. 3A 6.8.3, Vol. 2 "STI"). Ends the block.
    Outcome inhibit_interrupts(Shadow kind);
    bool interrupt_shadow() const { return shadow_ != Shadow::none && instruction_index() < shadow_until_; }
    // IRET ends NMI blocking (SDM 6.7.1 "Handling Multiple NMIs"), even if it then faults.
    void iret_unblocks_nmi();
    // RDMSR/WRMSR of IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC MSRs (the MSR family's hook).
    MsrResult apic_read_msr(uint32_t msr, uint64_t& value);
    MsrResult apic_write_msr(uint32_t msr, uint64_t value);
    // CR8 is the APIC's TPR[7:4] in 64-bit mode (SDM 11.8.6.1).
    uint64_t read_cr8() const;
    void write_cr8(uint64_t value);

    uint64_t port_in(uint16_t port, unsigned size);
    void port_out(uint16_t port, unsigned size, uint64_t value);

    bool events_on(sim::EventKind k) const { return events_.wants(k); }
    void emit(sim::EventKind k, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0);

    // Code size of the current mode (16, 32 or 64 bits) and whether long mode is active.
    unsigned code_bits() const { return code_bits_; }
    bool long64() const { return s_.mode == Mode::long64; }
    Vendor vendor() const { return config_.vendor; }
    // Simulated time at the current instruction (functional mode: one cycle per instruction).
    uint64_t now() const { return cycle() + (block_first_ ? static_cast<uint64_t>(exec_pos_ - block_first_) : 0); }
    // Instructions retired before the current one.
    uint64_t instruction_index() const {
        return retired_ + (block_first_ ? static_cast<uint64_t>(exec_pos_ - block_first_) : 0);
    }
    // Why the processor stopped on its own (shutdown, fetch from a non-RAM address ...).
    const std::string& last_error() const { return last_error_; }
    const std::string& last_unimplemented() const { return last_unimplemented_; }
    bool in_shutdown() const { return shutdown_; }

    // Segment register loads in the current mode (real: base = selector << 4; protected: from
    // the descriptor tables with the SDM's checks). Returns false with an exception pending.
    bool load_segment(unsigned seg, uint16_t selector);

    // Testing and debugging: an exception stops the processor (halted) instead of being
    // delivered; trapped() tells which. Used by the differential tests ("no IDT, no delivery").
    void set_trap_exceptions(bool on) { trap_exceptions_ = on; }
    const PendingException& trapped() const { return trapped_; }
    void clear_trapped() { trapped_ = {}; halted_ = false; check_at_ = 0; }
    // Reads a descriptor from the GDT or LDT; #GP(error_code) beyond the table limit.
    bool read_descriptor(uint16_t selector, uint64_t& descriptor, uint32_t error_code);
    // Delivers an exception or interrupt now (used by INT n and by the run loop).
    // `external`: 0 for exceptions and INT n; 1 for a maskable external interrupt, 2 for an
    // NMI (reported as `interrupt` events with that source; not counted as exceptions).
    void deliver_event(uint8_t vector, bool has_error, uint32_t error_code, bool software,
                       uint64_t return_rip, uint64_t fault_address = 0, unsigned external = 0);
    // INT n / INT3 / INTO (software: the gate DPL is checked) and INT1 from a handler: delivers
    // `vector` with `return_rip` pushed. Outcome::branch, or Outcome::fault with the exception
    // that stopped the delivery pending (the instruction then did not retire).
    // `type`: software_interrupt (INT n), software_exception (INT3, INTO: the gate DPL is
    // checked) or privileged_software_exception (INT1). In guest mode the extension sees it first.
    Outcome software_interrupt(uint8_t vector, EventType type, uint64_t return_rip);
    // The time-stamp counter (RDTSC): simulated time at the current instruction, plus the
    // offset a WRMSR to IA32_TIME_STAMP_COUNTER set (cpu/isa/msr.cpp).
    uint64_t tsc() const { return now() + s_.msr.tsc_offset; }

private:
    struct TlbEntry {
        uint64_t tag = ~0ull;   // linear page | user bit; ~0 = invalid
        uintptr_t addend = 0;   // host pointer of the page minus its linear address
        uint64_t phys_page = 0;
    };
    static constexpr unsigned kTlbSize = 256;

    template <unsigned N> bool read_slow(unsigned seg, uint64_t offset, uint64_t& out);
    bool misaligned(uint64_t linear, unsigned size);  // raises #AC when alignment is checked
    template <unsigned N> bool write_slow(unsigned seg, uint64_t offset, uint64_t value);
    // Segment checks, canonical check and translation of one access; fills `linear`.
    bool check_segment(unsigned seg, uint64_t offset, unsigned size, AccessKind kind,
                       uint64_t& linear);
    // Linear to physical (walk on miss). `host` is the RAM pointer or nullptr for devices.
    bool translate(uint64_t linear, AccessKind kind, bool user, uint64_t& physical,
                   uint8_t*& host);
    bool access_linear(uint64_t linear, void* buf, unsigned size, AccessKind kind, bool user);
    void device_access(uint64_t phys, uint8_t* bytes, unsigned size, bool write);
    void after_device_write(bool was_stopped);
    static constexpr uint64_t kCodeTag = 2;  // write-TLB tag bit: the page holds decoded code
    void install_tlb(TlbEntry* tlb, uint64_t linear, uint8_t* host_page, uint64_t phys_page,
                     uint64_t tag_bits = 0);
    void note_write_to_code(uint64_t phys, unsigned size);
    unsigned drop_code(uint64_t phys, unsigned size);  // this processor's blocks only
    bool code_anywhere(uint64_t phys_page) const;
    void remove_write_mappings(uint64_t phys_page);

    Block* find_block();
    Block* next_block(Block& from);
    Block* build_block(uint64_t phys, uint8_t* host_page, uint64_t linear);
    void execute_block(Block& b, uint64_t budget);
    void deliver_pending();
    bool deliver_real(uint8_t vector, uint64_t return_rip);
    bool deliver_protected(uint8_t vector, bool has_error, uint32_t error_code, bool software,
                           uint64_t return_rip);
    bool load_tss_stack(unsigned new_cpl, unsigned ist, uint64_t& new_rsp, uint16_t& new_ss);
    void enter_shutdown(const std::string& why);
    static LocalApicConfig apic_config(const CoreConfig& config);
    // interrupts.cpp
    enum class Serviced : uint8_t { resume, redirected, idle };
    Serviced service_events(uint64_t end);
    void update_attention();
    void init_signal();
    void start_from_sipi(uint8_t vector);
    void reset_state();  // core.cpp: the registers at power-up


    CoreConfig config_;
    sim::PhysicalBus& bus_;
    sim::EventStream& events_;
    sim::RunControl& control_;
    State s_;

    // Derived per-mode values used on every access.
    uint64_t seg_base_[seg_count] = {};
    uint64_t seg_read_limit_[seg_count] = {};   // largest offset the read fast path may use
    uint64_t seg_write_limit_[seg_count] = {};  // ... and the write fast path
    uint64_t linear_mask_ = 0xffffffff;
    uint64_t stack_mask_ = 0xffff;
    uint64_t user_tag_ = 0;  // 1 at CPL 3
    bool alignment_check_ = false;  // CPL 3, CR0.AM and RFLAGS.AC: the slow paths check alignment
    unsigned code_bits_ = 16;
    bool paging_ = false;
    uint64_t fetch_base_ = ~0ull, fetch_user_ = ~0ull;  // what successor links were made under
    unsigned fetch_bits_ = 0;
    bool host_uncacheable_ = false;  // set by translate(): the last translation may not be cached

    std::array<TlbEntry, kTlbSize> tlb_read_, tlb_write_, tlb_exec_;

    std::unique_ptr<BlockCache> blocks_;
    std::unique_ptr<Block> uncached_block_;  // a block ending in a page-crossing instruction
    const Insn* block_first_ = nullptr;  // first instruction of the executing block, or null
    const Insn* exec_pos_ = nullptr;  // the instruction being executed
    const Insn* exec_end_ = nullptr;  // where the current block's execution stops

    PendingException pending_;
    uint8_t fault_depth_ = 0;  // for double- and triple-fault escalation during delivery
    struct Delivery {
        bool vector_valid = false;
        EventInfo info;
    } delivering_;  // the event deliver_event() is delivering (IDT-vectoring information)
    bool halted_ = false;
    // Event recognition: the run loop calls service_events() when cycle() reaches check_at_
    // (0 while anything is pending) and stops blocks at deadline_ (timer expiries, shadows).
    uint64_t check_at_ = 0;
    uint64_t deadline_ = ~0ull;
    std::unique_ptr<LocalApic> apic_;
    std::vector<Core*> peers_;
    Shadow shadow_ = Shadow::none;
    uint64_t shadow_until_ = 0;  // instruction index the shadow ends before
    bool nmi_blocked_ = false;
    uint64_t interrupts_delivered_ = 0, nmis_delivered_ = 0, inits_ = 0, sipis_ = 0;
    bool shutdown_ = false;
    bool trap_exceptions_ = false;
    std::unique_ptr<Virtualization> virt_;
    bool guest_ = false;  // VMX non-root operation / SVM guest mode
    sim::VirtMode virt_mode_ = sim::VirtMode::none;
    PendingException trapped_;
    std::string last_error_;
    std::string last_unimplemented_;

    uint64_t retired_ = 0;
    uint64_t idle_cycles_ = 0;
    std::array<uint64_t, 32> exceptions_{};
    std::vector<uint64_t> mnemonic_counts_;
    std::vector<uint64_t> unimplemented_counts_;
    std::unordered_map<uint16_t, uint64_t> port_reads_, port_writes_;
    uint64_t blocks_built_ = 0, smc_flushes_ = 0, tlb_misses_ = 0, page_walks_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Inline fast paths.

template <unsigned N> inline uint64_t Core::reg(unsigned r) const {
    if constexpr (N == 1) {
        if (r & high8) return (s_.regs[r & 3] >> 8) & 0xff;
        return s_.regs[r] & 0xff;
    } else {
        return s_.regs[r] & mask_of<N>();
    }
}

// 32-bit writes zero-extend to 64 bits; 8- and 16-bit writes merge (SDM Vol. 1 3.4.1.1).
template <unsigned N> inline void Core::set_reg(unsigned r, uint64_t v) {
    if constexpr (N == 1) {
        if (r & high8) {
            uint64_t& x = s_.regs[r & 3];
            x = (x & ~0xff00ull) | ((v & 0xff) << 8);
        } else {
            uint64_t& x = s_.regs[r];
            x = (x & ~0xffull) | (v & 0xff);
        }
    } else if constexpr (N == 2) {
        uint64_t& x = s_.regs[r];
        x = (x & ~0xffffull) | (v & 0xffff);
    } else if constexpr (N == 4) {
        s_.regs[r] = v & 0xffffffffull;
    } else {
        s_.regs[r] = v;
    }
}

template <unsigned N> inline bool Core::read(unsigned seg, uint64_t offset, uint64_t& out) {
    const uint64_t linear = (seg_base_[seg] + offset) & linear_mask_;
    const TlbEntry& e = tlb_read_[(linear >> 12) & (kTlbSize - 1)];
    // Comparing the tag with the page of the last byte also sends page-crossing accesses to
    // the slow path: that page differs from the one the slot is indexed by.
    if (offset + (N - 1) > seg_read_limit_[seg] ||
        e.tag != (((linear + (N - 1)) & ~0xfffull) | user_tag_)) [[unlikely]]
        return read_slow<N>(seg, offset, out);
    uint_t<N> v;
    std::memcpy(&v, reinterpret_cast<const uint8_t*>(e.addend + linear), N);
    out = v;
    return true;
}

template <unsigned N> inline bool Core::write(unsigned seg, uint64_t offset, uint64_t value) {
    const uint64_t linear = (seg_base_[seg] + offset) & linear_mask_;
    const TlbEntry& e = tlb_write_[(linear >> 12) & (kTlbSize - 1)];
    // Comparing the tag with the page of the last byte also sends page-crossing accesses to
    // the slow path: that page differs from the one the slot is indexed by.
    if (offset + (N - 1) > seg_write_limit_[seg] ||
        e.tag != (((linear + (N - 1)) & ~0xfffull) | user_tag_)) [[unlikely]]
        return write_slow<N>(seg, offset, value);
    const uint_t<N> v = static_cast<uint_t<N>>(value);
    std::memcpy(reinterpret_cast<uint8_t*>(e.addend + linear), &v, N);
    return true;
}

// PUSH/POP use SS with the stack-address size of the mode (SS.B, or 64 bits in long mode).
template <unsigned N> inline bool Core::push(uint64_t value) {
    const uint64_t sp = (s_.regs[rsp] - N) & stack_mask_;
    if (!write<N>(ss, sp, value)) return false;
    s_.regs[rsp] = (s_.regs[rsp] & ~stack_mask_) | sp;
    return true;
}

template <unsigned N> inline bool Core::pop(uint64_t& value) {
    const uint64_t sp = s_.regs[rsp] & stack_mask_;
    if (!read<N>(ss, sp, value)) return false;
    s_.regs[rsp] = (s_.regs[rsp] & ~stack_mask_) | ((sp + N) & stack_mask_);
    return true;
}

}  // namespace cpu
