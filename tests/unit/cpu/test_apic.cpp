// The local APIC alone (registers, priorities, timer, x2APIC) and with its processor: interrupt
// acceptance at exact instruction boundaries, the STI and POP SS shadows, NMI blocking, HLT,
// INIT and SIPI. Guest code runs in real mode with the APIC moved to 0xD0000 (ES = 0xD000).
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "cpu/apic/local_apic.h"
#include "tests/support/core_fixture.h"

using namespace cpu;
using test::CoreFixture;

namespace {

// ---- the APIC alone ----

constexpr uint32_t kSvr = 0xf0, kTpr = 0x80, kPpr = 0xa0, kEoi = 0xb0, kEsr = 0x280,
                   kIcr = 0x300, kIcrHigh = 0x310, kLvtTimer = 0x320, kLvtLint0 = 0x350,
                   kLvtLint1 = 0x360, kLvtError = 0x370, kInitial = 0x380, kCurrent = 0x390,
                   kDivide = 0x3e0;

Ipi fixed(uint8_t vector, bool level = false) {
    Ipi m;
    m.vector = vector;
    m.level = level;
    return m;
}

Ipi with_mode(DeliveryMode mode, uint8_t vector = 0) {
    Ipi m;
    m.mode = mode;
    m.vector = vector;
    return m;
}

LocalApic enabled_apic(uint32_t id = 0, bool bsp = true, uint32_t divisor = 1) {
    LocalApic a(LocalApicConfig{id, bsp, divisor});
    a.write_mmio(kSvr, 0x1ff, 0);
    return a;
}

TEST(LocalApic, PowerUpStateFollowsTheSdm) {
    LocalApic bsp(LocalApicConfig{0, true});
    LocalApic ap(LocalApicConfig{3, false});
    EXPECT_EQ(bsp.base_msr(), 0xfee00900u);  // enabled, BSP
    EXPECT_EQ(ap.base_msr(), 0xfee00800u);
    EXPECT_EQ(ap.read_mmio(0x20, 0), 3u << 24);
    EXPECT_EQ(ap.read_mmio(0x30, 0), LocalApic::kVersion);
    EXPECT_EQ(ap.read_mmio(kSvr, 0), 0xffu);  // software-disabled
    EXPECT_EQ(ap.read_mmio(0xe0, 0), 0xffffffffu);
    for (uint32_t lvt : {0x2f0u, kLvtTimer, 0x330u, 0x340u, kLvtLint0, kLvtLint1, kLvtError})
        EXPECT_EQ(ap.read_mmio(lvt, 0), 0x10000u) << std::hex << lvt;
    // No firmware: the BSP's LINT pins are left in virtual-wire mode (ExtINT, NMI).
    EXPECT_EQ(bsp.read_mmio(kLvtLint0, 0), 0x700u);
    EXPECT_EQ(bsp.read_mmio(kLvtLint1, 0), 0x400u);
    EXPECT_TRUE(ap.waiting_for_sipi());
    EXPECT_FALSE(bsp.waiting_for_sipi());
    EXPECT_EQ(bsp.mmio_page(), 0xfee00000u);
}

TEST(LocalApic, ReadOnlyRegistersIgnoreXapicWrites) {
    LocalApic a = enabled_apic(2);
    a.write_mmio(0x30, 0, 0);
    a.write_mmio(kPpr, 0xff, 0);
    a.write_mmio(kCurrent, 5, 0);
    EXPECT_EQ(a.read_mmio(0x30, 0), LocalApic::kVersion);
    EXPECT_EQ(a.read_mmio(kPpr, 0), 0u);
    EXPECT_EQ(a.read_mmio(kCurrent, 0), 0u);
    a.write_mmio(0x20, 0x07ffffff, 0);  // xAPIC ID is writable (bits 31:24)
    EXPECT_EQ(a.read_mmio(0x20, 0), 0x07000000u);
    EXPECT_EQ(a.read_mmio(0x21, 0), 0x070000u);  // byte reads see the register shifted
    EXPECT_EQ(a.read_mmio(0x24, 0), 0u);         // the rest of the 16-byte slot reads 0
}

TEST(LocalApic, PprIsTprOrTheInServiceClassWhicheverIsHigher) {
    LocalApic a = enabled_apic();
    a.write_mmio(kTpr, 0x35, 0);
    EXPECT_EQ(a.read_mmio(kPpr, 0), 0x35u);
    a.receive(fixed(0x61));
    EXPECT_EQ(a.deliverable(), 0x61);
    EXPECT_EQ(a.acknowledge(), 0x61);
    EXPECT_TRUE(a.isr(0x61));
    EXPECT_FALSE(a.irr(0x61));
    EXPECT_EQ(a.read_mmio(kPpr, 0), 0x60u);
    a.write_mmio(kTpr, 0x72, 0);
    EXPECT_EQ(a.read_mmio(kPpr, 0), 0x72u);
}

TEST(LocalApic, OnlyAHigherPriorityClassThanPprIsDelivered) {
    LocalApic a = enabled_apic();
    a.write_mmio(kTpr, 0x50, 0);
    a.receive(fixed(0x5f));  // class 5: not above the TPR class
    EXPECT_EQ(a.deliverable(), -1);
    a.receive(fixed(0x60));
    EXPECT_EQ(a.deliverable(), 0x60);
    a.acknowledge();
    a.receive(fixed(0x6f));  // same class as the one in service: waits for its EOI
    EXPECT_EQ(a.deliverable(), -1);
    a.write_mmio(kEoi, 0, 0);
    EXPECT_EQ(a.deliverable(), 0x6f);
}

TEST(LocalApic, EoiClearsTheHighestInServiceVectorAndBroadcastsLevelOnes) {
    LocalApic a = enabled_apic();
    std::vector<uint8_t> broadcast;
    a.set_eoi_broadcast([&](uint8_t v) { broadcast.push_back(v); });
    a.receive(fixed(0x40, true));
    a.acknowledge();
    a.receive(fixed(0x80));
    a.acknowledge();
    EXPECT_TRUE(a.tmr(0x40));
    a.write_mmio(kEoi, 0, 0);  // 0x80 (edge): no broadcast
    EXPECT_FALSE(a.isr(0x80));
    EXPECT_TRUE(a.isr(0x40));
    EXPECT_TRUE(broadcast.empty());
    a.write_mmio(kEoi, 0, 0);
    EXPECT_FALSE(a.isr(0x40));
    EXPECT_EQ(broadcast, std::vector<uint8_t>{0x40});
    a.receive(fixed(0x40));  // an edge-triggered acceptance clears the TMR bit
    EXPECT_FALSE(a.tmr(0x40));
}

TEST(LocalApic, SoftwareDisabledApicRefusesFixedInterruptsButTakesNmiAndKeepsLvtsMasked) {
    LocalApic a(LocalApicConfig{0, false});
    a.receive(fixed(0x40));
    EXPECT_FALSE(a.irr(0x40));
    a.write_mmio(kLvtTimer, 0x40, 0);  // the mask cannot be cleared while disabled
    EXPECT_EQ(a.read_mmio(kLvtTimer, 0), 0x10040u);
    a.receive(with_mode(DeliveryMode::nmi));
    EXPECT_TRUE(a.nmi_pending());
    a.write_mmio(kSvr, 0x1ff, 0);
    a.receive(fixed(0x40));
    EXPECT_TRUE(a.irr(0x40));
    a.write_mmio(kSvr, 0x0ff, 0);  // disabling masks every LVT entry and holds the IRR
    EXPECT_EQ(a.read_mmio(kLvtLint0, 0) & 0x10000u, 0x10000u);
    EXPECT_TRUE(a.irr(0x40));
    EXPECT_EQ(a.deliverable(), -1);
    EXPECT_EQ(a.acknowledge(), 0xffu);  // the spurious vector, nothing in service
    EXPECT_FALSE(a.isr(0xff));
}

TEST(LocalApic, IllegalVectorsAreErrorsThatAWriteToEsrMakesReadable) {
    LocalApic a = enabled_apic();
    a.write_mmio(kLvtError, 0xee, 0);
    a.receive(fixed(0x05));  // received illegal vector
    EXPECT_FALSE(a.irr(0x05));
    EXPECT_TRUE(a.irr(0xee));  // the error LVT fired
    EXPECT_EQ(a.read_mmio(kEsr, 0), 0u);
    a.write_mmio(kEsr, 0, 0);
    EXPECT_EQ(a.read_mmio(kEsr, 0), 0x40u);
    a.write_mmio(kIcr, 0x44008, 0);  // send illegal vector (self, vector 8)
    a.read_mmio(0x400, 0);           // illegal register address
    a.write_mmio(kEsr, 0, 0);
    EXPECT_EQ(a.read_mmio(kEsr, 0), 0xa0u);
    a.write_mmio(kEsr, 0, 0);
    EXPECT_EQ(a.read_mmio(kEsr, 0), 0u);
}

TEST(LocalApic, OneShotTimerCountsAtCoreCyclesOverBusDivisorAndDivideAndFiresOnce) {
    LocalApic a = enabled_apic(0, true, 3);  // 3 core cycles per bus-clock tick
    a.write_mmio(kLvtTimer, 0x40, 0);
    a.write_mmio(kDivide, 0x1, 0);           // divide by 4: 12 cycles per count
    a.write_mmio(kInitial, 10, 100);
    EXPECT_EQ(a.next_timer_event(), 100u + 120u);
    EXPECT_EQ(a.read_mmio(kCurrent, 100), 10u);
    EXPECT_EQ(a.read_mmio(kCurrent, 112), 9u);
    EXPECT_EQ(a.read_mmio(kCurrent, 219), 1u);
    a.advance(219);
    EXPECT_FALSE(a.irr(0x40));
    a.advance(220);
    EXPECT_TRUE(a.irr(0x40));
    EXPECT_EQ(a.read_mmio(kCurrent, 220), 0u);
    EXPECT_EQ(a.next_timer_event(), ~0ull);
    EXPECT_EQ(a.read_mmio(kInitial, 220), 10u);
}

TEST(LocalApic, PeriodicTimerReloadsAndAMaskedTimerCountsWithoutInterrupting) {
    LocalApic a = enabled_apic();
    a.write_mmio(kLvtTimer, 0x30040, 0);  // periodic, masked
    a.write_mmio(kDivide, 0xb, 0);        // divide by 1
    a.write_mmio(kInitial, 50, 0);
    a.advance(50);
    EXPECT_FALSE(a.irr(0x40));
    EXPECT_EQ(a.next_timer_event(), 100u);
    EXPECT_EQ(a.read_mmio(kCurrent, 60), 40u);
    a.write_mmio(kLvtTimer, 0x20040, 60);  // unmasked, same mode: keeps counting
    a.advance(1000);  // many periods unobserved: one interrupt, next expiry after 1000
    EXPECT_TRUE(a.irr(0x40));
    EXPECT_EQ(a.next_timer_event(), 1050u);
    a.write_mmio(kInitial, 0, 1000);  // 0 stops it
    EXPECT_EQ(a.next_timer_event(), ~0ull);
}

TEST(LocalApic, TscDeadlineFiresAtTheDeadlineClearsTheMsrAndIgnoresTheInitialCount) {
    LocalApic a = enabled_apic();
    uint64_t v = 1;
    EXPECT_EQ(a.write_msr(apic_msr::tsc_deadline, 500, 0), MsrResult::ok);  // not in the mode
    EXPECT_EQ(a.read_msr(apic_msr::tsc_deadline, 0, v), MsrResult::ok);
    EXPECT_EQ(v, 0u);
    a.write_mmio(kLvtTimer, 0x40040, 0);
    a.write_mmio(kInitial, 5, 0);
    EXPECT_EQ(a.next_timer_event(), ~0ull);
    // TSC = cycle + offset: with an offset of 100, TSC 500 is cycle 400.
    EXPECT_EQ(a.write_msr(apic_msr::tsc_deadline, 500, 10, 100), MsrResult::ok);
    EXPECT_EQ(a.next_timer_event(), 400u);
    EXPECT_EQ(a.read_mmio(kCurrent, 10), 0u);
    a.read_msr(apic_msr::tsc_deadline, 10, v);
    EXPECT_EQ(v, 500u);
    a.advance(400);
    EXPECT_TRUE(a.irr(0x40));
    a.read_msr(apic_msr::tsc_deadline, 400, v);
    EXPECT_EQ(v, 0u);
}

TEST(LocalApic, ChangingTheTimerModeDisarmsTheTimer) {
    LocalApic a = enabled_apic();
    a.write_mmio(kLvtTimer, 0x40, 0);
    a.write_mmio(kInitial, 100, 0);
    a.write_mmio(kLvtTimer, 0x41, 10);  // same mode, other vector: still armed
    EXPECT_EQ(a.next_timer_event(), 200u);  // divide by 2 after reset
    a.write_mmio(kLvtTimer, 0x20041, 20);
    EXPECT_EQ(a.next_timer_event(), ~0ull);
}

TEST(LocalApic, WithoutTscDeadlineSupportTheMsrIsNotTheApics) {
    LocalApicConfig c;
    c.tsc_deadline = false;
    LocalApic a(c);
    uint64_t v;
    EXPECT_EQ(a.read_msr(apic_msr::tsc_deadline, 0, v), MsrResult::not_mine);
    a.write_mmio(kSvr, 0x1ff, 0);
    a.write_mmio(kLvtTimer, 0x40040, 0);  // bit 18 is reserved
    EXPECT_EQ(a.read_mmio(kLvtTimer, 0), 0x40u);
}

TEST(LocalApic, ApicBaseTransitionsFollowTheX2apicStateDiagram) {
    LocalApic a(LocalApicConfig{5, false});
    uint64_t v;
    EXPECT_EQ(a.read_msr(0x802, 0, v), MsrResult::gp);  // x2APIC MSRs need x2APIC mode
    EXPECT_EQ(a.write_msr(apic_msr::base, 0xfee00400, 0), MsrResult::gp);  // EXTD without EN
    EXPECT_EQ(a.write_msr(apic_msr::base, 0xfee00801, 0), MsrResult::gp);  // reserved bit
    EXPECT_EQ(a.write_msr(apic_msr::base, 0xfee00c00, 0), MsrResult::ok);  // xAPIC -> x2APIC
    EXPECT_TRUE(a.x2apic());
    EXPECT_EQ(a.mmio_page(), ~0ull);  // no MMIO window in x2APIC mode
    EXPECT_EQ(a.write_msr(apic_msr::base, 0xfee00800, 0), MsrResult::gp);  // x2APIC -> xAPIC
    EXPECT_EQ(a.write_msr(apic_msr::base, 0xfee00000, 0), MsrResult::ok);  // -> disabled
    EXPECT_FALSE(a.hardware_enabled());
    EXPECT_EQ(a.write_msr(apic_msr::base, 0xfee00c00, 0), MsrResult::gp);  // disabled -> x2APIC
    EXPECT_EQ(a.write_msr(apic_msr::base, 0x12345900, 0), MsrResult::ok);  // BSP bit is read-only
    EXPECT_EQ(a.base_msr(), 0x12345800u);
    EXPECT_EQ(a.mmio_page(), 0x12345000u);
}

TEST(LocalApic, X2apicMsrsMirrorTheRegistersWithStricterRules) {
    LocalApic a(LocalApicConfig{0x23, true});
    ASSERT_EQ(a.write_msr(apic_msr::base, 0xfee00d00, 0), MsrResult::ok);
    uint64_t v = 0;
    EXPECT_EQ(a.read_msr(0x802, 0, v), MsrResult::ok);
    EXPECT_EQ(v, 0x23u);  // the whole 32-bit x2APIC ID
    EXPECT_EQ(a.read_msr(0x80d, 0, v), MsrResult::ok);
    EXPECT_EQ(v, (2u << 16) | (1u << 3));  // logical ID derived: cluster 2, bit 3
    EXPECT_EQ(a.write_msr(0x802, 1, 0), MsrResult::gp);    // read-only
    EXPECT_EQ(a.read_msr(0x80b, 0, v), MsrResult::gp);     // EOI is write-only
    EXPECT_EQ(a.write_msr(0x80b, 1, 0), MsrResult::gp);    // EOI must be 0
    EXPECT_EQ(a.read_msr(0x80e, 0, v), MsrResult::gp);     // no DFR
    EXPECT_EQ(a.read_msr(0x831, 0, v), MsrResult::gp);     // no ICR high half
    EXPECT_EQ(a.write_msr(0x808, 0x100, 0), MsrResult::gp);  // reserved TPR bits
    EXPECT_EQ(a.write_msr(0x80f, 0x1ff, 0), MsrResult::ok);
    // The ICR is one 64-bit MSR; a self IPI through it, and through SELF IPI.
    EXPECT_EQ(a.write_msr(0x830, (uint64_t{0x23} << 32) | 0x51, 0), MsrResult::ok);
    EXPECT_TRUE(a.irr(0x51));
    EXPECT_EQ(a.read_msr(0x830, 0, v), MsrResult::ok);
    EXPECT_EQ(v, (uint64_t{0x23} << 32) | 0x51);
    EXPECT_EQ(a.write_msr(0x83f, 0x62, 0), MsrResult::ok);
    EXPECT_TRUE(a.irr(0x62));
    EXPECT_EQ(a.write_msr(0x83f, 0x162, 0), MsrResult::gp);
    EXPECT_EQ(a.read_msr(0x1000, 0, v), MsrResult::not_mine);
}

TEST(LocalApic, LogicalDestinationsFollowTheFlatAndClusterModels) {
    LocalApic a = enabled_apic(1);
    a.write_mmio(0xd0, 0x24000000, 0);  // LDR: 0010 0100
    Ipi m = fixed(0x40);
    m.logical = true;
    m.destination = 0x04;
    EXPECT_TRUE(a.matches(m));  // flat: any common bit
    m.destination = 0x09;
    EXPECT_FALSE(a.matches(m));
    a.write_mmio(0xe0, 0x0fffffff, 0);  // cluster model: cluster 2, member bit 2
    m.destination = 0x24;
    EXPECT_TRUE(a.matches(m));
    m.destination = 0x34;
    EXPECT_FALSE(a.matches(m));
    m.destination = 0xff;  // broadcast
    EXPECT_TRUE(a.matches(m));
    m.logical = false;
    m.destination = 1;
    EXPECT_TRUE(a.matches(m));
    m.destination = 2;
    EXPECT_FALSE(a.matches(m));
}

TEST(LocalApic, LintPinsDeliverExtintNmiAndLevelTriggeredFixedInterrupts) {
    LocalApic a = enabled_apic();
    a.set_extint_acknowledge([] { return uint8_t{0x20}; });
    a.write_mmio(kLvtLint0, 0x700, 0);  // ExtINT: a level the core samples
    a.set_lint(0, true);
    EXPECT_TRUE(a.extint_pending());
    EXPECT_EQ(a.acknowledge_extint(), 0x20);
    a.set_lint(0, false);
    EXPECT_FALSE(a.extint_pending());
    a.set_lint(1, true);  // LINT1: NMI (the BSP's reset programming)
    EXPECT_TRUE(a.nmi_pending());
    a.write_mmio(kLvtLint0, 0x8031, 0);  // fixed, level-triggered, vector 0x31
    a.set_lint(0, true);
    EXPECT_TRUE(a.irr(0x31));
    EXPECT_EQ(a.read_mmio(kLvtLint0, 0) & 0x4000u, 0x4000u);  // remote IRR
    a.acknowledge();
    a.write_mmio(kEoi, 0, 0);  // still asserted: it comes again
    EXPECT_TRUE(a.irr(0x31));
    a.set_lint(0, false);
    a.acknowledge();
    a.write_mmio(kEoi, 0, 0);
    EXPECT_FALSE(a.irr(0x31));
    EXPECT_EQ(a.read_mmio(kLvtLint0, 0) & 0x4000u, 0u);
}

TEST(LocalApic, GloballyDisabledApicPassesLint0AsIntrAndLint1AsNmi) {
    LocalApic a(LocalApicConfig{0, true});
    a.write_msr(apic_msr::base, 0xfee00100, 0);
    a.set_lint(0, true);
    EXPECT_TRUE(a.extint_pending());
    a.set_lint(1, true);
    EXPECT_TRUE(a.nmi_pending());
    EXPECT_FALSE(a.matches(fixed(0x40)));  // and it takes no messages
}

TEST(LocalApic, StartupIpiIsTakenOnlyWhileWaitingForIt) {
    LocalApic a(LocalApicConfig{1, false});
    a.receive(with_mode(DeliveryMode::startup, 0x9a));
    EXPECT_TRUE(a.sipi_pending());
    EXPECT_EQ(a.take_sipi(), 0x9a);
    EXPECT_FALSE(a.waiting_for_sipi());
    a.receive(with_mode(DeliveryMode::startup, 0x10));  // running: ignored
    EXPECT_FALSE(a.sipi_pending());
    a.receive(with_mode(DeliveryMode::init));
    a.receive(with_mode(DeliveryMode::startup, 0x10));  // after an INIT: kept for later
    EXPECT_TRUE(a.init_pending());
    EXPECT_TRUE(a.sipi_pending());
    Ipi deassert = with_mode(DeliveryMode::init);
    deassert.level = true;
    deassert.assert_level = false;
    LocalApic b(LocalApicConfig{2, false});
    b.receive(deassert);
    EXPECT_FALSE(b.init_pending());
}

// ---- with the processor ----

// Collects `interrupt` and `halt` events.
class Recorder final : public sim::EventObserver {
public:
    void on_event(const sim::Event& e) override { events.push_back(e); }
    std::vector<sim::Event> events;
    std::vector<const sim::Event*> interrupts() const {
        std::vector<const sim::Event*> out;
        for (const auto& e : events)
            if (e.kind == sim::EventKind::interrupt) out.push_back(&e);
        return out;
    }
};

// Real mode at 0000:7C00 with the APIC moved to 0xD0000 and software-enabled; handlers are in
// the code image, reached through IVT entries 07C0:offset.
struct ApicRig : CoreFixture {
    std::shared_ptr<Recorder> rec = std::make_shared<Recorder>();
    explicit ApicRig(const std::vector<uint8_t>& code) {
        events.subscribe(rec, sim::EventStream::bit(sim::EventKind::interrupt) |
                                  sim::EventStream::bit(sim::EventKind::halt) |
                                  sim::EventStream::bit(sim::EventKind::mmio_read));
        real_mode(code);
        core.apic_write_msr(apic_msr::base, 0xd0900);
        core.apic().write_mmio(kSvr, 0x1ff, 0);
    }
    void vector(unsigned v, uint16_t offset) {
        const uint16_t entry[2] = {offset, 0x07c0};
        core.write_physical(v * 4, entry, 4);
    }
    uint64_t exit_value() const { return control.reason == sim::StopReason::exit ? control.exit_value : ~0ull; }
    uint8_t byte(uint64_t pa) const { return bus.ram[pa]; }
};

TEST(ApicCore, OneShotTimerInterruptIsTakenAtTheExactCycle) {
    ApicRig f({
        0xb8, 0x00, 0xd0,                            // 00: mov ax, 0xd000
        0x8e, 0xc0,                                  // 03: mov es, ax
        0x26, 0x66, 0xc7, 0x06, 0x20, 0x03, 0x40, 0x00, 0x00, 0x00,  // 05: mov dword [es:0x320], 0x40
        0x26, 0x66, 0xc7, 0x06, 0xe0, 0x03, 0x0b, 0x00, 0x00, 0x00,  // 0f: mov dword [es:0x3e0], 0x0b
        0xfb,                                        // 19: sti
        0x26, 0x66, 0xc7, 0x06, 0x80, 0x03, 0x64, 0x00, 0x00, 0x00,  // 1a: mov dword [es:0x380], 100
        // spin:
        0x41,                                        // 24: inc cx
        0xeb, 0xfd,                                  // 25: jmp spin
        // handler:
        0x89, 0xc8,                                  // 27: mov ax, cx
        0xe7, 0xf4,                                  // 29: out 0xf4, ax
    });
    f.vector(0x40, 0x27);
    f.run(10000);
    // The count is written by instruction 5 (cycle 5): expiry at cycle 105, after 50 INCs.
    EXPECT_EQ(f.exit_value(), 50u);
    const auto irqs = f.rec->interrupts();
    ASSERT_EQ(irqs.size(), 1u);
    EXPECT_EQ(irqs[0]->a, 0x40u);
    EXPECT_EQ(irqs[0]->b, 1u);  // external
    EXPECT_EQ(irqs[0]->cycle, 105u);
    EXPECT_EQ(irqs[0]->instruction, 105u);
    EXPECT_TRUE(f.core.apic().isr(0x40));
}

TEST(ApicCore, PeriodicTimerInterruptsEveryPeriodWhateverTheBlocks) {
    ApicRig f({
        0xb8, 0x00, 0xd0,                            // 00: mov ax, 0xd000
        0x8e, 0xc0,                                  // 03: mov es, ax
        0x26, 0x66, 0xc7, 0x06, 0x20, 0x03, 0x40, 0x00, 0x02, 0x00,  // 05: mov dword [es:0x320], 0x20040
        0x26, 0x66, 0xc7, 0x06, 0xe0, 0x03, 0x0b, 0x00, 0x00, 0x00,  // 0f: mov dword [es:0x3e0], 0x0b
        0xfb,                                        // 19: sti
        0x26, 0x66, 0xc7, 0x06, 0x80, 0x03, 0x32, 0x00, 0x00, 0x00,  // 1a: mov dword [es:0x380], 50
        // spin:
        0xeb, 0xfe,                                  // 24: jmp spin
        // handler:
        0xff, 0x06, 0x00, 0x06,                      // 26: inc word [0x600]
        0x26, 0x66, 0xc7, 0x06, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00,  // 2a: mov dword [es:0xb0], 0
        0xcf,                                        // 34: iret
    });
    f.vector(0x40, 0x26);
    f.run(1000);
    const auto irqs = f.rec->interrupts();
    ASSERT_EQ(irqs.size(), 19u);  // expiries at 55, 105, ..., 955
    for (size_t k = 0; k < irqs.size(); ++k) EXPECT_EQ(irqs[k]->cycle, 55 + 50 * k) << k;
    EXPECT_EQ(f.byte(0x600), 19u);
}

TEST(ApicCore, TscDeadlineInterruptComesWhenTheTscReachesTheDeadline) {
    ApicRig f({
        0xb8, 0x00, 0xd0,                            // 00: mov ax, 0xd000
        0x8e, 0xc0,                                  // 03: mov es, ax
        0x26, 0x66, 0xc7, 0x06, 0x20, 0x03, 0x40, 0x00, 0x04, 0x00,  // 05: mov dword [es:0x320], 0x40040
        0x66, 0xb9, 0xe0, 0x06, 0x00, 0x00,          // 0f: mov ecx, 0x6e0
        0x66, 0xb8, 0x2c, 0x01, 0x00, 0x00,          // 15: mov eax, 300
        0x66, 0x31, 0xd2,                            // 1b: xor edx, edx
        0x0f, 0x30,                                  // 1e: wrmsr
        0xfb,                                        // 20: sti
        // spin:
        0xeb, 0xfe,                                  // 21: jmp spin
        // handler:
        0x0f, 0x32,                                  // 23: rdmsr
        0xe7, 0xf4,                                  // 25: out 0xf4, ax
    });
    f.vector(0x40, 0x23);
    f.run(10000);
    EXPECT_EQ(f.exit_value(), 0u);  // the MSR reads 0 once the timer fired
    const auto irqs = f.rec->interrupts();
    ASSERT_EQ(irqs.size(), 1u);
    EXPECT_EQ(irqs[0]->cycle, 300u);
}

TEST(ApicCore, StiDelaysAPendingInterruptByOneInstruction) {
    ApicRig f({
        0xb8, 0x00, 0xd0,                            // 00: mov ax, 0xd000
        0x8e, 0xc0,                                  // 03: mov es, ax
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x40, 0x40, 0x04, 0x00,  // 05: mov dword [es:0x300], 0x44040 (self IPI)
        0x31, 0xc0,                                  // 0f: xor ax, ax
        0xfb,                                        // 11: sti
        0x40,                                        // 12: inc ax
        0x40,                                        // 13: inc ax
        0x40,                                        // 14: inc ax
        0xeb, 0xfe,                                  // 15: jmp $
        // handler:
        0xe7, 0xf4,                                  // 17: out 0xf4, ax
    });
    f.vector(0x40, 0x17);
    f.run(1000);
    EXPECT_EQ(f.exit_value(), 1u);  // the instruction after STI ran, and only that one
}

TEST(ApicCore, StiHltIdiomHaltsThenThePendingInterruptWakesIt) {
    ApicRig f({
        0xb8, 0x00, 0xd0,                            // 00: mov ax, 0xd000
        0x8e, 0xc0,                                  // 03: mov es, ax
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x40, 0x40, 0x04, 0x00,  // 05: mov dword [es:0x300], 0x44040
        0xfb,                                        // 0f: sti
        0xf4,                                        // 10: hlt
        // after:
        0xb8, 0x07, 0x00,                            // 11: mov ax, 7
        0xe7, 0xf4,                                  // 14: out 0xf4, ax
        // handler:
        0x89, 0xe5,                                  // 16: mov bp, sp
        0x8b, 0x46, 0x00,                            // 18: mov ax, [bp]
        0xe7, 0xf4,                                  // 1b: out 0xf4, ax
    });
    f.vector(0x40, 0x16);
    f.run(1000);
    EXPECT_EQ(f.exit_value(), 0x7c11u);  // HLT retired: the interrupt returns after it
    ASSERT_GE(f.rec->events.size(), 2u);
    EXPECT_EQ(f.rec->events[0].kind, sim::EventKind::halt);
    EXPECT_EQ(f.rec->events[1].kind, sim::EventKind::interrupt);
}

TEST(ApicCore, PopSsDelaysATimerExpiryByOneInstruction) {
    ApicRig f({
        0xb8, 0x00, 0xd0,                            // 00: mov ax, 0xd000
        0x8e, 0xc0,                                  // 03: mov es, ax
        0x26, 0x66, 0xc7, 0x06, 0x20, 0x03, 0x40, 0x00, 0x00, 0x00,  // 05: mov dword [es:0x320], 0x40
        0x26, 0x66, 0xc7, 0x06, 0xe0, 0x03, 0x0b, 0x00, 0x00, 0x00,  // 0f: mov dword [es:0x3e0], 0x0b
        0xfb,                                        // 19: sti
        0x26, 0x66, 0xc7, 0x06, 0x80, 0x03, 0x05, 0x00, 0x00, 0x00,  // 1a: mov dword [es:0x380], 5 (cycle 5)
        0x31, 0xdb,                                  // 24: xor bx, bx
        0x16,                                        // 26: push ss
        0x90,                                        // 27: nop
        0x17,                                        // 28: pop ss   (cycle 9: expiry at its end)
        0x43,                                        // 29: inc bx   (in the shadow)
        0x43,                                        // 2a: inc bx
        0xeb, 0xfe,                                  // 2b: jmp $
        // handler:
        0x89, 0xd8,                                  // 2d: mov ax, bx
        0xe7, 0xf4,                                  // 2f: out 0xf4, ax
    });
    f.vector(0x40, 0x2d);
    f.run(1000);
    EXPECT_EQ(f.exit_value(), 1u);
    const auto irqs = f.rec->interrupts();
    ASSERT_EQ(irqs.size(), 1u);
    EXPECT_EQ(irqs[0]->cycle, 11u);
}

TEST(ApicCore, NmiIsBlockedFromItsDeliveryUntilTheNextIret) {
    ApicRig f({
        0xb8, 0x00, 0xd0,                            // 00: mov ax, 0xd000
        0x8e, 0xc0,                                  // 03: mov es, ax
        0x31, 0xdb,                                  // 05: xor bx, bx
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x00, 0x44, 0x04, 0x00,  // 07: mov dword [es:0x300], 0x44400 (NMI, self)
        0xeb, 0xfe,                                  // 11: jmp $
        // nmi:
        0x43,                                        // 13: inc bx
        0x83, 0xfb, 0x01,                            // 14: cmp bx, 1
        0x75, 0x11,                                  // 17: jne second
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x00, 0x44, 0x04, 0x00,  // 19: mov dword [es:0x300], 0x44400
        0xc7, 0x06, 0x00, 0x06, 0x11, 0x11,          // 23: mov word [0x600], 0x1111
        0xcf,                                        // 29: iret
        // second:
        0xa1, 0x00, 0x06,                            // 2a: mov ax, [0x600]
        0xe7, 0xf4,                                  // 2d: out 0xf4, ax
    });
    f.vector(2, 0x13);
    f.run(1000);
    EXPECT_EQ(f.exit_value(), 0x1111u);  // the handler finished before the second NMI
    const auto irqs = f.rec->interrupts();
    ASSERT_EQ(irqs.size(), 2u);
    EXPECT_EQ(irqs[0]->b, 2u);  // NMI, with IF = 0
    EXPECT_EQ(irqs[1]->b, 2u);
    // First NMI after instruction 4; handler: inc, cmp, jne, mov, mov, iret; then the second.
    EXPECT_EQ(irqs[0]->instruction, 4u);
    EXPECT_EQ(irqs[1]->instruction, 10u);
    EXPECT_TRUE(f.core.nmi_blocked());
}

TEST(ApicCore, HltWithInterruptsDisabledWakesOnlyForAnNmi) {
    ApicRig f({
        0xb8, 0x00, 0xd0,                            // 00: mov ax, 0xd000
        0x8e, 0xc0,                                  // 03: mov es, ax
        0xfa,                                        // 05: cli
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x40, 0x40, 0x04, 0x00,  // 06: mov dword [es:0x300], 0x44040
        0xf4,                                        // 10: hlt
        0xb8, 0x05, 0x00,                            // 11: mov ax, 5
        0xe7, 0xf4,                                  // 14: out 0xf4, ax
        // nmi:
        0xb8, 0x02, 0x00,                            // 16: mov ax, 2
        0xe7, 0xf4,                                  // 19: out 0xf4, ax
    });
    f.vector(2, 0x16);
    EXPECT_EQ(f.run(1000), 5u);
    EXPECT_TRUE(f.core.halted());
    EXPECT_TRUE(f.core.apic().irr(0x40));  // pending, but IF = 0
    EXPECT_FALSE(f.core.wake_pending());
    EXPECT_EQ(f.run(1000), 0u);
    EXPECT_EQ(f.core.cycle(), 5u);  // nothing of its own to wait for: no time passes here
    f.core.apic().receive(with_mode(DeliveryMode::nmi));
    EXPECT_TRUE(f.core.wake_pending());
    f.run(1000);
    EXPECT_EQ(f.exit_value(), 2u);
}

TEST(ApicCore, HaltedProcessorSleepsUntilItsTimerExpires) {
    ApicRig f({
        0xb8, 0x00, 0xd0,                            // 00: mov ax, 0xd000
        0x8e, 0xc0,                                  // 03: mov es, ax
        0x26, 0x66, 0xc7, 0x06, 0x20, 0x03, 0x40, 0x00, 0x00, 0x00,  // 05: mov dword [es:0x320], 0x40
        0x26, 0x66, 0xc7, 0x06, 0xe0, 0x03, 0x0b, 0x00, 0x00, 0x00,  // 0f: mov dword [es:0x3e0], 0x0b
        0x26, 0x66, 0xc7, 0x06, 0x80, 0x03, 0xe8, 0x03, 0x00, 0x00,  // 19: mov dword [es:0x380], 1000
        0xfb,                                        // 23: sti
        0xf4,                                        // 24: hlt
        0xb8, 0x09, 0x00,                            // 25: mov ax, 9
        0xe7, 0xf4,                                  // 28: out 0xf4, ax
        // handler:
        0x26, 0x66, 0xc7, 0x06, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00,  // 2a: mov dword [es:0xb0], 0
        0xcf,                                        // 34: iret
    });
    f.vector(0x40, 0x2a);
    EXPECT_EQ(f.run(500), 7u);  // halted at cycle 7; the expiry (1004) is beyond this budget
    EXPECT_EQ(f.core.cycle(), 7u);
    EXPECT_EQ(f.core.wake_cycle(), 1004u);
    f.run(5000);
    EXPECT_EQ(f.exit_value(), 9u);
    const auto irqs = f.rec->interrupts();
    ASSERT_EQ(irqs.size(), 1u);
    EXPECT_EQ(irqs[0]->cycle, 1004u);
    EXPECT_EQ(f.core.retired(), 11u);
    EXPECT_EQ(f.core.cycle(), 1008u);  // 997 cycles idle
}

TEST(ApicCore, PriorityClassesNestAndWaitForTprAndEoi) {
    ApicRig f({
        0xb8, 0x00, 0xd0,                            // 00: mov ax, 0xd000
        0x8e, 0xc0,                                  // 03: mov es, ax
        0x26, 0x66, 0xc7, 0x06, 0x80, 0x00, 0x50, 0x00, 0x00, 0x00,  // 05: mov dword [es:0x80], 0x50 (TPR)
        0xfb,                                        // 0f: sti
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x45, 0x40, 0x04, 0x00,  // 10: mov dword [es:0x300], 0x44045
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x61, 0x40, 0x04, 0x00,  // 1a: mov dword [es:0x300], 0x44061
        0xc6, 0x06, 0x02, 0x06, 0x01,                // 24: mov byte [0x602], 1
        0x26, 0x66, 0xc7, 0x06, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,  // 29: mov dword [es:0x80], 0
        0xeb, 0xfe,                                  // 33: jmp $
        // h61:
        0xc6, 0x06, 0x00, 0x06, 0x01,                // 35: mov byte [0x600], 1
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x55, 0x40, 0x04, 0x00,  // 3a: mov dword [es:0x300], 0x44055
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x71, 0x40, 0x04, 0x00,  // 44: mov dword [es:0x300], 0x44071
        0xfb,                                        // 4e: sti
        0x90,                                        // 4f: nop
        0xc6, 0x06, 0x01, 0x06, 0x01,                // 50: mov byte [0x601], 1
        0x26, 0x66, 0xc7, 0x06, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00,  // 55: mov dword [es:0xb0], 0
        0xcf,                                        // 5f: iret
        // h71:
        0xa0, 0x01, 0x06,                            // 60: mov al, [0x601]
        0xa2, 0x04, 0x06,                            // 63: mov [0x604], al
        0x26, 0x66, 0xc7, 0x06, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00,  // 66: mov dword [es:0xb0], 0
        0xcf,                                        // 70: iret
        // h55:
        0xa0, 0x01, 0x06,                            // 71: mov al, [0x601]
        0xa2, 0x05, 0x06,                            // 74: mov [0x605], al
        0xa0, 0x02, 0x06,                            // 77: mov al, [0x602]
        0xa2, 0x06, 0x06,                            // 7a: mov [0x606], al
        0x26, 0x66, 0xc7, 0x06, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00,  // 7d: mov dword [es:0xb0], 0
        0xcf,                                        // 87: iret
        // h45:
        0xa1, 0x05, 0x06,                            // 88: mov ax, [0x605]
        0xe7, 0xf4,                                  // 8b: out 0xf4, ax
    });
    f.vector(0x61, 0x35);
    f.vector(0x71, 0x60);
    f.vector(0x55, 0x71);
    f.vector(0x45, 0x88);
    f.run(1000);
    std::vector<uint64_t> order;
    for (const auto* e : f.rec->interrupts()) order.push_back(e->a);
    // 0x71 preempts 0x61 (class 7 > 6); 0x55 waits for 0x61's EOI and then for the TPR;
    // 0x45 for the TPR, and for 0x55.
    EXPECT_EQ(order, (std::vector<uint64_t>{0x61, 0x71, 0x55, 0x45}));
    EXPECT_EQ(f.byte(0x604), 0u);  // 0x71 came before h61 finished
    EXPECT_EQ(f.exit_value(), 0x0101u);  // 0x55 after h61 finished and after TPR = 0
}

TEST(ApicCore, X2apicSelfIpiThroughWrmsrIsTakenRightAfterTheWrmsr) {
    ApicRig f({
        0x31, 0xdb,                                  // 00: xor bx, bx
        0x66, 0xb9, 0x1b, 0x00, 0x00, 0x00,          // 02: mov ecx, 0x1b
        0x0f, 0x32,                                  // 08: rdmsr
        0x66, 0x0d, 0x00, 0x0c, 0x00, 0x00,          // 0a: or eax, 0xc00   (EN, EXTD: x2APIC mode)
        0x0f, 0x30,                                  // 10: wrmsr
        0xfb,                                        // 12: sti
        0x66, 0xb9, 0x3f, 0x08, 0x00, 0x00,          // 13: mov ecx, 0x83f  (SELF IPI)
        0x66, 0xb8, 0x50, 0x00, 0x00, 0x00,          // 19: mov eax, 0x50
        0x66, 0x31, 0xd2,                            // 1f: xor edx, edx
        0x0f, 0x30,                                  // 22: wrmsr
        0x43,                                        // 24: inc bx
        0xeb, 0xfe,                                  // 25: jmp $
        // handler:
        0x66, 0xb9, 0x0b, 0x08, 0x00, 0x00,          // 27: mov ecx, 0x80b  (EOI)
        0x66, 0x31, 0xc0,                            // 2d: xor eax, eax
        0x0f, 0x30,                                  // 30: wrmsr
        0x89, 0xd8,                                  // 32: mov ax, bx
        0xe7, 0xf4,                                  // 34: out 0xf4, ax
    });
    f.vector(0x50, 0x27);
    f.run(1000);
    EXPECT_EQ(f.exit_value(), 0u);
    EXPECT_TRUE(f.core.apic().x2apic());
    EXPECT_FALSE(f.core.apic().isr(0x50));
}

TEST(ApicCore, ApicRegistersAreThisProcessorsPageAndReportMmioEvents) {
    ApicRig f({
        0xb8, 0x00, 0xd0,                            // mov ax, 0xd000
        0x8e, 0xc0,                                  // mov es, ax
        0x26, 0x66, 0xa1, 0x30, 0x00,                // mov eax, [es:0x30]
        0xf4,                                        // hlt
    });
    f.bus.ram[0xd0030] = 0x5a;  // RAM under the window is not what the processor sees
    f.run(100);
    EXPECT_EQ(f.reg(rax), LocalApic::kVersion);
    EXPECT_TRUE(f.bus.mmio_reads.empty());
    const sim::Event* read = nullptr;
    for (const auto& e : f.rec->events)
        if (e.kind == sim::EventKind::mmio_read) read = &e;
    ASSERT_NE(read, nullptr);
    EXPECT_EQ(read->a, 0xd0030u);
    EXPECT_EQ(read->c, LocalApic::kVersion);
}

TEST(ApicCore, CpuidReportsTheApicIdX2apicAndTheApicEnable) {
    // mov eax, 1; cpuid; hlt
    CoreFixture f;
    f.real_mode({0x66, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0xf4});
    f.run();
    EXPECT_EQ(f.reg(rbx) >> 24, 0u);
    EXPECT_EQ(f.reg(rdx) & (1u << 9), 1u << 9);
    EXPECT_EQ(f.reg(rcx) & (1u << 21), 1u << 21);
    EXPECT_EQ(f.reg(rcx) & (1u << 24), 1u << 24);  // TSC-deadline (Intel)
    f.real_mode({0x66, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0xf4});
    ASSERT_EQ(f.core.apic_write_msr(apic_msr::base, 0xfee00100), MsrResult::ok);  // disable
    f.run();
    EXPECT_EQ(f.reg(rdx) & (1u << 9), 0u);
}

TEST(ApicCore, CpuidLeafBDescribesTheTopology) {
    CoreFixture f;
    // mov eax, 0xb; mov ecx, 1; cpuid; hlt
    f.real_mode({0x66, 0xb8, 0x0b, 0x00, 0x00, 0x00, 0x66, 0xb9, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0xf4});
    f.run();
    EXPECT_EQ(f.reg(rcx) & 0xffff, 0x201u);  // core level, subleaf 1
    EXPECT_EQ(f.reg(rbx) & 0xffff, 1u);      // one processor
    EXPECT_EQ(f.reg(rdx), 0u);               // x2APIC ID
}

TEST(ApicCore, Cr8IsTheTaskPriorityClass) {
    CoreFixture f;
    f.core.write_cr8(7);
    EXPECT_EQ(f.core.apic().tpr(), 0x70u);
    f.core.apic().write_mmio(kTpr, 0x9c, 0);
    EXPECT_EQ(f.core.read_cr8(), 9u);
}

TEST(ApicCore, AnApWaitsForSipiStartsAtItsVectorAndInitSendsItBack) {
    sim::RunControl control;
    sim::EventStream events;
    test::FlatBus bus(control);
    CoreConfig config{Vendor::intel, 1, false};
    config.is_bsp = false;
    Core ap(config, bus, events, control);
    // At 0x9a000: mov ax, cs; mov [0x500], ax; xor ax, ax; mov ds, ax (order irrelevant) ...
    // simply: mov ax, cs; hlt
    bus.load(0x9a000, {0x8c, 0xc8, 0xf4});
    EXPECT_TRUE(ap.halted());
    EXPECT_TRUE(ap.waiting_for_sipi());
    EXPECT_EQ(ap.run(100), 0u);
    ap.apic().receive(with_mode(DeliveryMode::fixed, 0x40));  // not while waiting for SIPI
    EXPECT_FALSE(ap.wake_pending());
    ap.apic().receive(with_mode(DeliveryMode::startup, 0x9a));
    EXPECT_TRUE(ap.wake_pending());
    EXPECT_EQ(ap.run(100), 2u);
    EXPECT_EQ(ap.state().regs[rax], 0x9a00u);
    EXPECT_EQ(ap.state().rip(), 3u);
    EXPECT_EQ(ap.state().mode, Mode::real);
    ap.state().xmm[3][0] = 0x77;
    ap.apic().receive(with_mode(DeliveryMode::init));
    ap.run(100);
    EXPECT_TRUE(ap.waiting_for_sipi());
    EXPECT_EQ(ap.state().seg[cs].selector, 0xf000u);
    EXPECT_EQ(ap.state().xmm[3][0], 0x77u);  // INIT keeps the SSE state
    ap.apic().receive(with_mode(DeliveryMode::startup, 0x9a));
    EXPECT_EQ(ap.run(100), 2u);
}

}  // namespace
