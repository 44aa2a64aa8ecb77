// The local APIC of one logical processor (Intel SDM Vol. 3A ch. 11 "Advanced Programmable
// Interrupt Controller (APIC)"; AMD APM Vol. 2 ch. 16 "Advanced Programmable Interrupt
// Controller (APIC)"). Context: owned by cpu::Core, used from its slow paths (APIC page and MSR
// accesses, event recognition between blocks) and by the machine's interrupt fabric. Testable
// alone: it knows the processor only through the time passed in and the callbacks below.
// Index of the implementation:
//   local_apic.cpp      reset, messages in and out (IPIs), priorities, what the core takes
//   apic_registers.cpp  the register file: xAPIC MMIO, x2APIC MSRs, IA32_APIC_BASE
//   apic_timer.cpp      one-shot, periodic and TSC-deadline timer
#pragma once
#include <cstdint>
#include <functional>

namespace cpu {

// Delivery modes of the ICR and of LVT and I/O APIC entries (SDM 11.6.1 "Interrupt Command
// Register (ICR)"). 3 is reserved.
enum class DeliveryMode : uint8_t {
    fixed = 0, lowest_priority = 1, smi = 2, nmi = 4, init = 5, startup = 6, extint = 7
};
enum class Shorthand : uint8_t { none = 0, self = 1, all_including_self = 2, all_excluding_self = 3 };

// An interrupt message between APICs: an IPI from an ICR, or a message from an I/O APIC.
struct Ipi {
    uint8_t vector = 0;
    DeliveryMode mode = DeliveryMode::fixed;
    bool logical = false;        // destination mode: logical (LDR/DFR) or physical (APIC ID)
    bool level = false;          // trigger mode: level (TMR set on acceptance) or edge
    bool assert_level = true;    // clear only in an "INIT level de-assert" message
    Shorthand shorthand = Shorthand::none;
    uint32_t destination = 0;    // 8 bits in xAPIC format, 32 in x2APIC format
    bool x2apic_format = false;  // the all-ones broadcast is 0xFFFFFFFF rather than 0xFF
};

// How IPIs leave a local APIC: the machine implements it and calls accept()/receive() on the
// APICs the message names (the sender's own included, for the self shorthands).
class InterruptFabric {
public:
    virtual ~InterruptFabric() = default;
    virtual void send(unsigned from, const Ipi& ipi) = 0;
};

// Outcome of an APIC MSR access (RDMSR/WRMSR hook): not an APIC MSR, done, or #GP(0).
enum class MsrResult : uint8_t { not_mine, ok, gp };

struct LocalApicConfig {
    uint32_t id = 0;              // initial APIC ID (= x2APIC ID)
    bool bsp = true;              // IA32_APIC_BASE.BSP; an AP waits for SIPI after reset
    uint32_t bus_divisor = 1;     // core cycles per APIC bus-clock tick (the timer's clock)
    bool x2apic = true;           // CPUID.01H:ECX.x2APIC[21]: IA32_APIC_BASE.EXTD exists
    bool tsc_deadline = true;     // CPUID.01H:ECX.TSC_Deadline[24]: timer mode 10b exists
};

namespace apic_msr {  // SDM Vol. 4 "Model-Specific Registers", Table 2-2
inline constexpr uint32_t base = 0x1b, tsc_deadline = 0x6e0, x2apic_first = 0x800,
                          x2apic_last = 0x8ff;
}

class LocalApic {
public:
    static constexpr uint64_t kDefaultBase = 0xfee00000;
    static constexpr uint32_t kVersion = 0x00060014;  // integrated APIC, 7 LVT entries (max 6)

    explicit LocalApic(const LocalApicConfig& config);

    // ---- wiring (the core and the machine) ----
    void set_fabric(InterruptFabric* fabric, unsigned index) { fabric_ = fabric, index_ = index; }
    // ExtINT: the INTA cycle to the 8259 whose INTR is on LINT0; returns the vector.
    void set_extint_acknowledge(std::function<uint8_t()> f) { extint_ack_ = std::move(f); }
    // EOI of a level-triggered vector, broadcast to the I/O APICs (SDM 11.8.5).
    void set_eoi_broadcast(std::function<void(uint8_t)> f) { eoi_broadcast_ = std::move(f); }
    // Something the processor may act on changed: an interrupt, NMI, INIT or SIPI arrived, the
    // priority fell, or the timer was (re)programmed. The core re-examines its events.
    void set_notify(std::function<void()> f) { notify_ = std::move(f); }

    void reset();       // power-up or RESET (SDM 11.4.7.1)
    void init_reset();  // INIT (SDM 11.4.7.3): APIC ID and IA32_APIC_BASE are kept

    // ---- state ----
    uint32_t initial_id() const { return config_.id; }
    uint32_t id() const;  // the ID register's value (xAPIC: may have been rewritten)
    bool hardware_enabled() const { return base_ & kBaseEnable; }
    bool x2apic() const { return (base_ & (kBaseEnable | kBaseExtd)) == (kBaseEnable | kBaseExtd); }
    bool software_enabled() const { return svr_ & kSvrEnable; }
    uint64_t base_msr() const { return base_; }
    // Physical page of the xAPIC registers, or ~0 when they are not decoded (disabled, x2APIC).
    uint64_t mmio_page() const { return mmio_page_; }
    uint8_t tpr() const { return static_cast<uint8_t>(tpr_); }
    void set_tpr(uint8_t value);  // also CR8 writes: CR8[3:0] = TPR[7:4] (SDM 11.8.6.1)
    uint8_t ppr() const;

    // ---- register access ----
    uint32_t read_mmio(uint32_t offset, uint64_t now);  // offset within the 4 KiB page
    void write_mmio(uint32_t offset, uint32_t value, uint64_t now);
    // IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC MSRs. `now` is the core cycle, as
    // everywhere here; TSC = now + tsc_offset (a deadline is a TSC value).
    MsrResult read_msr(uint32_t msr, uint64_t now, uint64_t& value);
    MsrResult write_msr(uint32_t msr, uint64_t value, uint64_t now, uint64_t tsc_offset = 0);

    // ---- messages in ----
    // Does a message without shorthand name this APIC (physical or logical destination)?
    bool matches(const Ipi& ipi) const;
    void receive(const Ipi& ipi);                // a message addressed to this APIC
    void set_lint(unsigned pin, bool asserted);  // LINT0/LINT1 input levels

    // ---- the processor's side ----
    void advance(uint64_t now);  // timer expiries up to `now`
    uint64_t next_timer_event() const { return timer_deadline_; }  // ~0: none
    bool timer_can_interrupt() const;  // armed, and its LVT entry unmasked
    // Anything the processor must look at: NMI, INIT, SIPI, ExtINT, or a fixed interrupt
    // above the processor priority (SDM 11.8.3.1 "Task and Processor Priorities").
    bool attention() const { return signals_ != 0 || extint_pending() || deliverable() >= 0; }
    int deliverable() const;    // highest IRR vector whose class is above PPR, or -1
    uint8_t acknowledge();      // INTA: that vector moves from IRR to ISR (SDM 11.8.4)
    bool extint_pending() const;
    uint8_t acknowledge_extint();  // INTA through to the 8259
    bool nmi_pending() const { return signals_ & kNmi; }
    bool init_pending() const { return signals_ & kInit; }
    bool sipi_pending() const { return signals_ & kSipi; }
    bool waiting_for_sipi() const { return wait_for_sipi_; }
    void take_nmi() { signals_ &= ~kNmi; }
    void take_init() { signals_ &= ~kInit; }
    uint8_t take_sipi();          // leaves the wait-for-SIPI state
    void enter_wait_for_sipi() { wait_for_sipi_ = true; }

    // Raw register views for tests and debuggers.
    bool irr(uint8_t v) const { return test(irr_, v); }
    bool isr(uint8_t v) const { return test(isr_, v); }
    bool tmr(uint8_t v) const { return test(tmr_, v); }
    uint32_t current_count(uint64_t now) const;

private:
    static constexpr uint64_t kBaseBsp = 1u << 8, kBaseExtd = 1u << 10, kBaseEnable = 1u << 11;
    static constexpr uint32_t kSvrEnable = 1u << 8, kLvtMask = 1u << 16;
    static constexpr uint8_t kNmi = 1, kInit = 2, kSipi = 4, kExtintMessage = 8;
    enum Lvt : unsigned { lvt_cmci, lvt_timer, lvt_thermal, lvt_perf, lvt_lint0, lvt_lint1, lvt_error, lvt_count };
    enum class Access : uint8_t { ok, gp, illegal };  // illegal: xAPIC reserved register

    static bool test(const uint32_t (&r)[8], uint8_t v) { return (r[v >> 5] >> (v & 31)) & 1; }
    static void set(uint32_t (&r)[8], uint8_t v) { r[v >> 5] |= 1u << (v & 31); }
    static void clear(uint32_t (&r)[8], uint8_t v) { r[v >> 5] &= ~(1u << (v & 31)); }
    static int highest(const uint32_t (&r)[8]);

    void reset_registers();
    void notify() { if (notify_) notify_(); }
    void raise_fixed(uint8_t vector, bool level);  // accept into IRR (receive-side checks)
    void signal_error(uint32_t esr_bit);
    void lvt_fire(Lvt which);  // a local interrupt source fires through its LVT entry
    void eoi();
    void send(const Ipi& ipi);
    void send_icr(uint64_t icr);
    uint32_t logical_id() const;

    // apic_registers.cpp
    Access read_register(unsigned index, uint64_t now, uint64_t& value) const;
    Access write_register(unsigned index, uint64_t value, uint64_t now);
    MsrResult write_base(uint64_t value);
    void update_mmio_page();
    void write_lvt(Lvt which, uint32_t value, uint64_t now);
    uint32_t lvt_writable(Lvt which) const;

    // apic_timer.cpp
    uint64_t timer_period() const;  // core cycles per count
    void arm_timer(uint64_t now);
    void write_divide(uint32_t value, uint64_t now);
    void write_tsc_deadline(uint64_t value, uint64_t tsc_offset);
    unsigned timer_mode() const { return (lvt_[lvt_timer] >> 17) & 3; }

    LocalApicConfig config_;
    InterruptFabric* fabric_ = nullptr;
    unsigned index_ = 0;
    std::function<uint8_t()> extint_ack_;
    std::function<void(uint8_t)> eoi_broadcast_;
    std::function<void()> notify_;

    uint64_t base_ = 0;
    uint64_t mmio_page_ = ~0ull;
    uint32_t xapic_id_ = 0;  // ID register bits 31:24 (xAPIC)
    uint32_t tpr_ = 0, ldr_ = 0, dfr_ = ~0u, svr_ = 0xff;
    uint32_t irr_[8] = {}, isr_[8] = {}, tmr_[8] = {};
    uint32_t esr_ = 0, esr_pending_ = 0;
    uint32_t lvt_[lvt_count] = {};
    uint64_t icr_ = 0;
    bool lint_level_[2] = {false, false};
    uint8_t signals_ = 0;
    uint8_t sipi_vector_ = 0;
    bool wait_for_sipi_ = false;

    uint32_t initial_count_ = 0, divide_config_ = 0;
    uint64_t timer_deadline_ = ~0ull;  // core cycle of the next expiry
    uint64_t tsc_deadline_ = 0;        // IA32_TSC_DEADLINE (armed when non-zero)
};

}  // namespace cpu
