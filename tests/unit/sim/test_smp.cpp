// Multiprocessor machines: INIT-SIPI-SIPI start-up, IPIs between processors, timers and
// devices waking halted processors, and the determinism of the round-robin interleaving.
// Guest code is real mode (the APIC moved to 0xD0000, reachable through ES = 0xD000) or, for
// the I/O APIC, 32-bit protected mode without paging.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "cpu/boot_state.h"
#include "sim/machine/machine.h"

namespace {

std::string temp_file(const std::string& name, const std::vector<uint8_t>& bytes) {
    const auto path = std::filesystem::temp_directory_path() / ("hvsim_smp_" + name);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return path.string();
}

sim::MachineConfig smp(unsigned cpus, uint64_t quantum = 10000) {
    sim::MachineConfig c;
    c.serial = "none";
    c.cpus = cpus;
    c.quantum = quantum;
    return c;
}

class Recorder final : public sim::EventObserver {
public:
    void on_event(const sim::Event& e) override { events.push_back(e); }
    std::vector<sim::Event> events;
    std::vector<sim::Event> of(sim::EventKind k) const {
        std::vector<sim::Event> out;
        for (const auto& e : events)
            if (e.kind == k) out.push_back(e);
        return out;
    }
};

// Real-mode BSP code at 0000:7C00 that moves its APIC to 0xD0000 (the BSP and EN bits kept).
const std::vector<uint8_t> kRelocateApic = {
    0x66, 0xb9, 0x1b, 0x00, 0x00, 0x00,          // mov ecx, 0x1b
    0x0f, 0x32,                                  // rdmsr
    0x66, 0x25, 0xff, 0x0f, 0x00, 0x00,          // and eax, 0xfff
    0x66, 0x0d, 0x00, 0x00, 0x0d, 0x00,          // or eax, 0xd0000
    0x66, 0x31, 0xd2,                            // xor edx, edx
    0x0f, 0x30,                                  // wrmsr
    0xb8, 0x00, 0xd0,                            // mov ax, 0xd000
    0x8e, 0xc0,                                  // mov es, ax
};

std::vector<uint8_t> operator+(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

void ivt(sim::Machine& m, unsigned vector, uint16_t segment, uint16_t offset) {
    const uint16_t entry[2] = {offset, segment};
    m.write_memory(vector * 4, entry, 4);
}

uint16_t word_at(sim::Machine& m, uint64_t pa) {
    uint16_t v = 0;
    m.read_memory(pa, &v, 2);
    return v;
}

// An AP started at 0800:0000 (SIPI vector 8) that moves its APIC to 0xD0000, enables it,
// marks [0x9200] = 1 and idles with interrupts on.
const std::vector<uint8_t> kIdleAp = {
    0x31, 0xc0,                                  // 00: xor ax, ax
    0x8e, 0xd8,                                  // 02: mov ds, ax
    0x8e, 0xd0,                                  // 04: mov ss, ax
    0xbc, 0x00, 0x60,                            // 06: mov sp, 0x6000
    0x66, 0xb9, 0x1b, 0x00, 0x00, 0x00,          // 09: mov ecx, 0x1b
    0x0f, 0x32,                                  // 0f: rdmsr
    0x66, 0x25, 0xff, 0x0f, 0x00, 0x00,          // 11: and eax, 0xfff
    0x66, 0x0d, 0x00, 0x00, 0x0d, 0x00,          // 17: or eax, 0xd0000
    0x66, 0x31, 0xd2,                            // 1d: xor edx, edx
    0x0f, 0x30,                                  // 20: wrmsr
    0xb8, 0x00, 0xd0,                            // 22: mov ax, 0xd000
    0x8e, 0xc0,                                  // 25: mov es, ax
    0x26, 0x66, 0xc7, 0x06, 0xf0, 0x00, 0xff, 0x01, 0x00, 0x00,  // 27: mov dword [es:0xf0], 0x1ff
    0xc7, 0x06, 0x00, 0x92, 0x01, 0x00,          // 31: mov word [0x9200], 1
    0xfb,                                        // 37: sti
    // idle:
    0xf4,                                        // 38: hlt
    0xeb, 0xfd,                                  // 39: jmp idle
    // handler (vector 0x30): records that it ran and on which APIC
    0xc7, 0x06, 0x00, 0x93, 0x01, 0x00,          // 3b: mov word [0x9300], 1
    0x26, 0x66, 0xa1, 0x20, 0x00,                // 41: mov eax, [es:0x20]
    0x66, 0xc1, 0xe8, 0x18,                      // 46: shr eax, 24
    0xa3, 0x02, 0x93,                            // 4a: mov [0x9302], ax
    0x26, 0x66, 0xc7, 0x06, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00,  // 4d: mov dword [es:0xb0], 0
    0xcf,                                        // 57: iret
};

// Two processors bounce vector 0x40 between them until the BSP has taken it ten times; the BSP
// exits with (AP count << 8) | BSP count.
std::vector<uint8_t> ping_pong_bsp() {
    return kRelocateApic + std::vector<uint8_t>{
        0x26, 0x66, 0xc7, 0x06, 0xf0, 0x00, 0xff, 0x01, 0x00, 0x00,  // 1e: mov dword [es:0xf0], 0x1ff
        0x26, 0x66, 0xc7, 0x06, 0x10, 0x03, 0x00, 0x00, 0x00, 0x01,  // 28: mov dword [es:0x310], 0x01000000
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x00, 0x45, 0x00, 0x00,  // 32: mov dword [es:0x300], 0x4500 (INIT)
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x08, 0x46, 0x00, 0x00,  // 3c: mov dword [es:0x300], 0x4608 (SIPI 8)
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x08, 0x46, 0x00, 0x00,  // 46: mov dword [es:0x300], 0x4608 (SIPI 8)
        // ap_wait:
        0x83, 0x3e, 0x00, 0x92, 0x01,                // 50: cmp word [0x9200], 1
        0x75, 0xf9,                                  // 55: jne ap_wait
        0xfb,                                        // 57: sti
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x40, 0x00, 0x00, 0x00,  // 58: mov dword [es:0x300], 0x40 (to APIC 1)
        // idle:
        0xf4,                                        // 62: hlt
        0x83, 0x3e, 0x00, 0x91, 0x0a,                // 63: cmp word [0x9100], 10
        0x72, 0xf8,                                  // 68: jb idle
        0xa1, 0x02, 0x91,                            // 6a: mov ax, [0x9102]
        0xc1, 0xe0, 0x08,                            // 6d: shl ax, 8
        0x0b, 0x06, 0x00, 0x91,                      // 70: or ax, [0x9100]
        0xe7, 0xf4,                                  // 74: out 0xf4, ax
        // handler (both processors, IVT[0x40] = 07C0:0076):
        0x66, 0x50,                                  // 76: push eax
        0x53,                                        // 78: push bx
        0x26, 0x66, 0xa1, 0x20, 0x00,                // 79: mov eax, [es:0x20]  (APIC ID)
        0x66, 0xc1, 0xe8, 0x18,                      // 7e: shr eax, 24
        0x89, 0xc3,                                  // 82: mov bx, ax
        0xd1, 0xe3,                                  // 84: shl bx, 1
        0xff, 0x87, 0x00, 0x91,                      // 86: inc word [0x9100 + bx]
        0x26, 0x66, 0xc7, 0x06, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00,  // 8a: mov dword [es:0xb0], 0 (EOI)
        0x85, 0xc0,                                  // 94: test ax, ax
        0x75, 0x07,                                  // 96: jnz send   (the AP always answers)
        0x83, 0x3e, 0x00, 0x91, 0x0a,                // 98: cmp word [0x9100], 10
        0x73, 0x17,                                  // 9d: jae done
        // send:
        0x66, 0x83, 0xf0, 0x01,                      // 9f: xor eax, 1
        0x66, 0xc1, 0xe0, 0x18,                      // a3: shl eax, 24
        0x26, 0x66, 0xa3, 0x10, 0x03,                // a7: mov [es:0x310], eax
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x40, 0x00, 0x00, 0x00,  // ac: mov dword [es:0x300], 0x40
        // done:
        0x5b,                                        // b6: pop bx
        0x66, 0x58,                                  // b7: pop eax
        0xcf,                                        // b9: iret
    };
}

struct PingPong {
    explicit PingPong(uint64_t quantum) : m(smp(2, quantum)) {
        m.events().subscribe(rec);
        m.load_flat(temp_file("pingpong.bin", ping_pong_bsp()), 0x7c00);
        m.write_memory(0x8000, kIdleAp.data(), kIdleAp.size());
        ivt(m, 0x40, 0x07c0, 0x76);
    }
    sim::Machine m;
    std::shared_ptr<Recorder> rec = std::make_shared<Recorder>();
};

}  // namespace

TEST(Smp, MoreThanOneProcessorIsAcceptedWithinTheXapicLimit) {
    EXPECT_NO_THROW(sim::Machine m(smp(4)));
    EXPECT_THROW(sim::Machine m(smp(0)), sim::ConfigError);
    EXPECT_THROW(sim::Machine m(smp(256)), sim::ConfigError);
    sim::Machine m(smp(3));
    EXPECT_FALSE(m.cpu(0).halted());
    EXPECT_TRUE(m.cpu(1).waiting_for_sipi());
    EXPECT_TRUE(m.cpu(2).waiting_for_sipi());
    EXPECT_EQ(m.cpu(2).apic().id(), 2u);
}

TEST(Smp, TheBspStartsAnApWithInitSipiSipi) {
    sim::Machine m(smp(2));
    auto rec = std::make_shared<Recorder>();
    m.events().subscribe(rec);
    m.load_flat(temp_file("init_sipi.bin", kRelocateApic + std::vector<uint8_t>{
        0x26, 0x66, 0xc7, 0x06, 0x10, 0x03, 0x00, 0x00, 0x00, 0x01,  // mov dword [es:0x310], 0x01000000
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x00, 0x45, 0x00, 0x00,  // mov dword [es:0x300], 0x4500 (INIT)
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x08, 0x46, 0x00, 0x00,  // mov dword [es:0x300], 0x4608 (SIPI 8)
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x08, 0x46, 0x00, 0x00,  // mov dword [es:0x300], 0x4608 (SIPI 8)
        // spin_wait:
        0x81, 0x3e, 0x00, 0x90, 0x34, 0x12,          // cmp word [0x9000], 0x1234
        0x75, 0xf8,                                  // jne spin_wait
        0xa1, 0x04, 0x90,                            // mov ax, [0x9004]
        0xe7, 0xf4,                                  // out 0xf4, ax
    }), 0x7c00);
    // The AP, in real mode at 0800:0000: CPUID's initial APIC ID to [0x9004], then the flag.
    const std::vector<uint8_t> ap = {
        0x31, 0xc0,                                  // xor ax, ax
        0x8e, 0xd8,                                  // mov ds, ax
        0x66, 0xb8, 0x01, 0x00, 0x00, 0x00,          // mov eax, 1
        0x0f, 0xa2,                                  // cpuid
        0x66, 0xc1, 0xeb, 0x18,                      // shr ebx, 24
        0x89, 0x1e, 0x04, 0x90,                      // mov [0x9004], bx
        0xc7, 0x06, 0x00, 0x90, 0x34, 0x12,          // mov word [0x9000], 0x1234
        0xfa,                                        // cli
        0xf4,                                        // hlt
    };
    m.write_memory(0x8000, ap.data(), ap.size());
    const sim::RunResult r = m.run(1000000);
    ASSERT_EQ(r.reason, sim::StopReason::exit) << r.message;
    EXPECT_EQ(m.control().exit_value, 1u);  // the AP's APIC ID
    EXPECT_EQ(m.cpu(1).state().seg[cpu::cs].selector, 0x0800u);
    EXPECT_TRUE(m.cpu(1).halted());
    EXPECT_FALSE(m.cpu(1).waiting_for_sipi());
    // INIT (source 3) then one start (source 4): the three IPIs reached the AP together, before
    // its turn, and the two SIPIs made one.
    std::vector<uint64_t> sources;
    for (const auto& e : rec->of(sim::EventKind::interrupt))
        if (e.vcpu == 1) sources.push_back(e.b);
    EXPECT_EQ(sources, (std::vector<uint64_t>{3, 4}));
}

TEST(Smp, IpisPingPongBetweenTwoProcessors) {
    PingPong p(10000);
    const sim::RunResult r = p.m.run(10000000);
    ASSERT_EQ(r.reason, sim::StopReason::exit) << r.message;
    EXPECT_EQ(p.m.control().exit_value, 0x0a0au);  // ten each way
    unsigned on_bsp = 0, on_ap = 0;
    for (const auto& e : p.rec->of(sim::EventKind::interrupt))
        if (e.a == 0x40 && e.b == 1) ++(e.vcpu ? on_ap : on_bsp);
    EXPECT_EQ(on_bsp, 10u);
    EXPECT_EQ(on_ap, 10u);
}

TEST(Smp, TheSameMachineRunsToTheSameEventStreamBitForBit) {
    for (const uint64_t quantum : {10000u, 37u}) {
        PingPong a(quantum), b(quantum);
        const sim::RunResult ra = a.m.run(10000000), rb = b.m.run(10000000);
        ASSERT_EQ(ra.reason, sim::StopReason::exit) << ra.message;
        EXPECT_EQ(ra.instructions, rb.instructions);
        ASSERT_EQ(a.rec->events.size(), b.rec->events.size());
        ASSERT_GT(a.rec->events.size(), 100u);
        for (size_t k = 0; k < a.rec->events.size(); ++k) {
            const sim::Event &x = a.rec->events[k], &y = b.rec->events[k];
            ASSERT_TRUE(x.kind == y.kind && x.vcpu == y.vcpu && x.instruction == y.instruction &&
                        x.cycle == y.cycle && x.rip == y.rip && x.a == y.a && x.b == y.b && x.c == y.c)
                << "event " << k << " differs (quantum " << quantum << ")";
        }
        EXPECT_EQ(a.m.control().exit_value, 0x0a0au);
    }
}

TEST(Smp, AllHaltedProcessorsSleepUntilAnApicTimerWithoutSpinning) {
    sim::Machine m(smp(2));
    auto rec = std::make_shared<Recorder>();
    m.events().subscribe(rec);
    m.load_flat(temp_file("timerwake.bin", kRelocateApic + std::vector<uint8_t>{
        0x26, 0x66, 0xc7, 0x06, 0xf0, 0x00, 0xff, 0x01, 0x00, 0x00,  // 1e: mov dword [es:0xf0], 0x1ff
        0x26, 0x66, 0xc7, 0x06, 0x20, 0x03, 0x40, 0x00, 0x00, 0x00,  // 28: mov dword [es:0x320], 0x40
        0x26, 0x66, 0xc7, 0x06, 0xe0, 0x03, 0x0b, 0x00, 0x00, 0x00,  // 32: mov dword [es:0x3e0], 0xb
        0x26, 0x66, 0xc7, 0x06, 0x80, 0x03, 0x40, 0x4b, 0x4c, 0x00,  // 3c: mov dword [es:0x380], 5000000
        0xfb,                                        // 46: sti
        0xf4,                                        // 47: hlt
        0xb8, 0x77, 0x00,                            // 48: mov ax, 0x77
        0xe7, 0xf4,                                  // 4b: out 0xf4, ax
        // handler:
        0x26, 0x66, 0xc7, 0x06, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00,  // 4d: mov dword [es:0xb0], 0
        0xcf,                                        // 57: iret
    }), 0x7c00);
    ivt(m, 0x40, 0x07c0, 0x4d);
    const sim::RunResult r = m.run();
    ASSERT_EQ(r.reason, sim::StopReason::exit) << r.message;
    EXPECT_EQ(m.control().exit_value, 0x77u);
    EXPECT_EQ(r.instructions, 18u);
    const auto irqs = rec->of(sim::EventKind::interrupt);
    ASSERT_EQ(irqs.size(), 1u);
    EXPECT_EQ(irqs[0].cycle, 11u + 5000000u);  // the count was written by instruction 11
    EXPECT_GE(m.cpu(1).cycle(), 5000000u);      // the waiting AP's time passed too
}

TEST(Smp, HaltedWithNothingThatCanWakeAnyoneStops) {
    // cli; hlt
    sim::Machine m(smp(2));
    m.load_flat(temp_file("clihlt.bin", {0xfa, 0xf4}), 0x7c00);
    const sim::RunResult r = m.run();
    EXPECT_EQ(r.reason, sim::StopReason::halted);
    // sti; hlt with no timer and no device armed: nothing will come either.
    sim::Machine n(smp(1));
    n.load_flat(temp_file("stihlt.bin", {0xfb, 0xf4}), 0x7c00);
    EXPECT_EQ(n.run().reason, sim::StopReason::halted);
}

TEST(Smp, ThePitReachesTheBspThroughThe8259AndLint0) {
    sim::Machine m(smp(2));
    auto rec = std::make_shared<Recorder>();
    m.events().subscribe(rec);
    m.load_flat(temp_file("pit.bin", {
        0xb0, 0x11, 0xe6, 0x20,                      // 00: ICW1: edge, cascade, ICW4
        0xb0, 0x08, 0xe6, 0x21,                      // 04: ICW2: vectors 08h-0Fh
        0xb0, 0x04, 0xe6, 0x21,                      // 08: ICW3: slave on IR2
        0xb0, 0x01, 0xe6, 0x21,                      // 0c: ICW4: 8086 mode
        0xb0, 0xfe, 0xe6, 0x21,                      // 10: OCW1: only IRQ0
        0xb0, 0x34, 0xe6, 0x43,                      // 14: PIT counter 0, lo/hi, mode 2
        0xb0, 0xa9, 0xe6, 0x40,                      // 18: count 1193 (about 1 ms)
        0xb0, 0x04, 0xe6, 0x40,                      // 1c:
        0xfb,                                        // 20: sti
        // idle:
        0xf4,                                        // 21: hlt
        0xeb, 0xfd,                                  // 22: jmp idle
        // handler: exits at the second interrupt
        0xb0, 0x20, 0xe6, 0x20,                      // 24: EOI to the 8259
        0xff, 0x06, 0x00, 0x06,                      // 28: inc word [0x600]
        0x83, 0x3e, 0x00, 0x06, 0x02,                // 2c: cmp word [0x600], 2
        0x72, 0x05,                                  // 31: jb back
        0xb8, 0x88, 0x00,                            // 33: mov ax, 0x88
        0xe7, 0xf4,                                  // 36: out 0xf4, ax
        // back:
        0xcf,                                        // 38: iret
    }), 0x7c00);
    ivt(m, 8, 0x07c0, 0x24);
    const sim::RunResult r = m.run();
    ASSERT_EQ(r.reason, sim::StopReason::exit) << r.message;
    EXPECT_EQ(m.control().exit_value, 0x88u);
    const auto irqs = rec->of(sim::EventKind::interrupt);
    ASSERT_EQ(irqs.size(), 2u);  // OUT0 rises when counting starts, then once a period
    EXPECT_EQ(irqs[1].a, 8u);
    EXPECT_EQ(irqs[1].b, 1u);
    EXPECT_EQ(irqs[1].vcpu, 0u);
    // 1193 ticks of 1.193182 MHz at 1 GHz, spent halted: time jumped to the PIT's event.
    const uint64_t period = irqs[1].cycle - irqs[0].cycle;
    EXPECT_GT(period, 995000u);
    EXPECT_LT(period, 1005000u);
    EXPECT_LT(r.instructions, 40u);
}

TEST(Smp, TheIoApicRoutesTheTimerToTheApItNames) {
    sim::Machine m(smp(2));
    auto rec = std::make_shared<Recorder>();
    m.events().subscribe(rec);
    // 32-bit protected mode, paging off: the APIC and I/O APIC at their usual addresses.
    const std::vector<uint8_t> bsp = {
        0xc7, 0x05, 0x10, 0x03, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x01,  // 00: mov dword [0xfee00310], 0x01000000
        0xc7, 0x05, 0x00, 0x03, 0xe0, 0xfe, 0x00, 0x45, 0x00, 0x00,  // 0a: mov dword [0xfee00300], 0x4500
        0xc7, 0x05, 0x00, 0x03, 0xe0, 0xfe, 0x08, 0x46, 0x00, 0x00,  // 14: mov dword [0xfee00300], 0x4608
        0xc7, 0x05, 0x00, 0x03, 0xe0, 0xfe, 0x08, 0x46, 0x00, 0x00,  // 1e: mov dword [0xfee00300], 0x4608
        // ap_wait:
        0x66, 0x83, 0x3d, 0x00, 0x92, 0x00, 0x00, 0x01,              // 28: cmp word [0x9200], 1
        0x75, 0xf6,                                                  // 30: jne ap_wait
        0xc7, 0x05, 0x00, 0x00, 0xc0, 0xfe, 0x15, 0x00, 0x00, 0x00,  // 32: IOREGSEL = entry 2, high
        0xc7, 0x05, 0x10, 0x00, 0xc0, 0xfe, 0x00, 0x00, 0x00, 0x01,  // 3c: destination APIC 1
        0xc7, 0x05, 0x00, 0x00, 0xc0, 0xfe, 0x14, 0x00, 0x00, 0x00,  // 46: IOREGSEL = entry 2, low
        0xc7, 0x05, 0x10, 0x00, 0xc0, 0xfe, 0x30, 0x00, 0x00, 0x00,  // 50: fixed, edge, vector 0x30
        0xb0, 0x34, 0xe6, 0x43,                                      // 5a: PIT counter 0, mode 2
        0xb0, 0xa9, 0xe6, 0x40,                                      // 5e: count 1193
        0xb0, 0x04, 0xe6, 0x40,                                      // 62:
        // flag_wait:
        0x66, 0x83, 0x3d, 0x00, 0x93, 0x00, 0x00, 0x01,              // 66: cmp word [0x9300], 1
        0x75, 0xf6,                                                  // 6e: jne flag_wait
        0x66, 0xa1, 0x02, 0x93, 0x00, 0x00,                          // 70: mov ax, [0x9302]
        0x66, 0xe7, 0xf4,                                            // 76: out 0xf4, ax
    };
    m.write_memory(0x20000, bsp.data(), bsp.size());
    m.write_memory(0x8000, kIdleAp.data(), kIdleAp.size());
    ivt(m, 0x30, 0x0800, 0x3b);
    cpu::enter_multiboot(m.cpu(0), 0x20000, 0, 0x500);
    const sim::RunResult r = m.run(20000000);
    ASSERT_EQ(r.reason, sim::StopReason::exit) << r.message;
    EXPECT_EQ(m.control().exit_value, 1u);  // the handler ran on APIC 1
    EXPECT_EQ(word_at(m, 0x9300), 1u);
    bool seen = false;
    for (const auto& e : rec->of(sim::EventKind::interrupt))
        if (e.a == 0x30) {
            EXPECT_EQ(e.vcpu, 1u);
            seen = true;
        }
    EXPECT_TRUE(seen);
}

TEST(Smp, BroadcastShorthandsReachEveryProcessor) {
    // INIT and SIPI to all but the BSP start both APs; then a fixed IPI to all, the BSP too.
    sim::Machine m(smp(3));
    m.load_flat(temp_file("broadcast.bin", kRelocateApic + std::vector<uint8_t>{
        0x26, 0x66, 0xc7, 0x06, 0xf0, 0x00, 0xff, 0x01, 0x00, 0x00,  // 1e: mov dword [es:0xf0], 0x1ff
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x00, 0x45, 0x0c, 0x00,  // 28: INIT, all excluding self
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x08, 0x46, 0x0c, 0x00,  // 32: SIPI 8, all excluding self
        // aps:
        0x83, 0x3e, 0x00, 0x90, 0x02,                // 3c: cmp word [0x9000], 2
        0x75, 0xf9,                                  // 41: jne aps
        0xfb,                                        // 43: sti
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x40, 0x00, 0x08, 0x00,  // 44: vector 0x40, all including self
        // all:
        0x83, 0x3e, 0x10, 0x90, 0x03,                // 4e: cmp word [0x9010], 3
        0x75, 0xf9,                                  // 53: jne all
        0xa1, 0x10, 0x90,                            // 55: mov ax, [0x9010]
        0xe7, 0xf4,                                  // 58: out 0xf4, ax
        // handler:
        0xff, 0x06, 0x10, 0x90,                      // 5a: inc word [0x9010]
        0x26, 0x66, 0xc7, 0x06, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00,  // 5e: mov dword [es:0xb0], 0
        0xcf,                                        // 68: iret
    }), 0x7c00);
    // Each AP: a stack of its own below 0x6000 + 1 KiB * APIC ID, its APIC at 0xD0000, count in.
    const std::vector<uint8_t> ap = {
        0x31, 0xc0,                                  // xor ax, ax
        0x8e, 0xd8,                                  // mov ds, ax
        0x8e, 0xd0,                                  // mov ss, ax
        0x66, 0xb8, 0x01, 0x00, 0x00, 0x00,          // mov eax, 1
        0x0f, 0xa2,                                  // cpuid
        0x66, 0xc1, 0xeb, 0x18,                      // shr ebx, 24
        0xc1, 0xe3, 0x0a,                            // shl bx, 10
        0x81, 0xc3, 0x00, 0x60,                      // add bx, 0x6000
        0x89, 0xdc,                                  // mov sp, bx
        0x66, 0xb9, 0x1b, 0x00, 0x00, 0x00,          // mov ecx, 0x1b
        0x0f, 0x32,                                  // rdmsr
        0x66, 0x25, 0xff, 0x0f, 0x00, 0x00,          // and eax, 0xfff
        0x66, 0x0d, 0x00, 0x00, 0x0d, 0x00,          // or eax, 0xd0000
        0x66, 0x31, 0xd2,                            // xor edx, edx
        0x0f, 0x30,                                  // wrmsr
        0xb8, 0x00, 0xd0,                            // mov ax, 0xd000
        0x8e, 0xc0,                                  // mov es, ax
        0x26, 0x66, 0xc7, 0x06, 0xf0, 0x00, 0xff, 0x01, 0x00, 0x00,  // mov dword [es:0xf0], 0x1ff
        0xff, 0x06, 0x00, 0x90,                      // inc word [0x9000]
        0xfb,                                        // sti
        // idle:
        0xf4,                                        // hlt
        0xeb, 0xfd,                                  // jmp idle
    };
    m.write_memory(0x8000, ap.data(), ap.size());
    ivt(m, 0x40, 0x07c0, 0x5a);
    const sim::RunResult r = m.run(10000000);
    ASSERT_EQ(r.reason, sim::StopReason::exit) << r.message;
    EXPECT_EQ(m.control().exit_value, 3u);
    for (unsigned k = 0; k < 3; ++k) EXPECT_FALSE(m.cpu(k).waiting_for_sipi()) << k;
}

TEST(Smp, LogicalAndLowestPriorityDestinationsSelectTheirTargets) {
    sim::Machine m(smp(3));
    for (unsigned k = 0; k < 3; ++k) m.cpu(k).apic().write_mmio(0xf0, 0x1ff, 0);
    m.cpu(1).apic().write_mmio(0xd0, 0x02000000, 0);  // flat logical IDs: bit 1, bit 2
    m.cpu(2).apic().write_mmio(0xd0, 0x04000000, 0);
    cpu::LocalApic& bsp = m.cpu(0).apic();
    bsp.write_mmio(0x310, 0x06000000, 0);
    bsp.write_mmio(0x300, 0x800 | 0x41, 0);  // logical, fixed: both
    EXPECT_TRUE(m.cpu(1).apic().irr(0x41));
    EXPECT_TRUE(m.cpu(2).apic().irr(0x41));
    EXPECT_FALSE(bsp.irr(0x41));
    bsp.write_mmio(0x300, 0x800 | 0x100 | 0x42, 0);  // logical, lowest priority: one of them
    EXPECT_TRUE(m.cpu(1).apic().irr(0x42));
    EXPECT_FALSE(m.cpu(2).apic().irr(0x42));
    bsp.write_mmio(0x310, 0x02000000, 0);
    bsp.write_mmio(0x300, 0x43, 0);  // physical APIC ID 2
    EXPECT_FALSE(m.cpu(1).apic().irr(0x43));
    EXPECT_TRUE(m.cpu(2).apic().irr(0x43));
    m.cpu(2).apic().write_mmio(0x300, 0xc0000 | 0x400, 0);  // NMI to all but self
    EXPECT_TRUE(bsp.nmi_pending());
    EXPECT_TRUE(m.cpu(1).apic().nmi_pending());
    EXPECT_FALSE(m.cpu(2).apic().nmi_pending());
}

TEST(Smp, CodeOneProcessorWritesIsWhatTheOthersExecuteNext) {
    // The AP loops storing an immediate; the BSP patches that immediate in the AP's code. The
    // BSP wrote the page before the AP decoded it, so its write mapping must go too.
    sim::Machine m(smp(2, 1000));
    m.load_flat(temp_file("smc.bin", kRelocateApic + std::vector<uint8_t>{
        0xc7, 0x06, 0xf0, 0x8f, 0x01, 0x00,          // mov word [0x8ff0], 1 (a write mapping)
        0x26, 0x66, 0xc7, 0x06, 0x10, 0x03, 0x00, 0x00, 0x00, 0x01,  // mov dword [es:0x310], 0x01000000
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x00, 0x45, 0x00, 0x00,  // INIT
        0x26, 0x66, 0xc7, 0x06, 0x00, 0x03, 0x08, 0x46, 0x00, 0x00,  // SIPI 8
        // w1:
        0x81, 0x3e, 0x00, 0x90, 0x11, 0x11,          // cmp word [0x9000], 0x1111
        0x75, 0xf8,                                  // jne w1
        0xc7, 0x06, 0x05, 0x80, 0x22, 0x22,          // mov word [0x8005], 0x2222 (the AP's immediate)
        // w2:
        0x81, 0x3e, 0x00, 0x90, 0x22, 0x22,          // cmp word [0x9000], 0x2222
        0x75, 0xf8,                                  // jne w2
        0xa1, 0x00, 0x90,                            // mov ax, [0x9000]
        0xe7, 0xf4,                                  // out 0xf4, ax
    }), 0x7c00);
    const std::vector<uint8_t> ap = {
        0x31, 0xc0,                                  // 00: xor ax, ax
        0x8e, 0xd8,                                  // 02: mov ds, ax
        // again:
        0xb8, 0x11, 0x11,                            // 04: mov ax, 0x1111
        0xa3, 0x00, 0x90,                            // 07: mov [0x9000], ax
        0xeb, 0xf8,                                  // 0a: jmp again
    };
    m.write_memory(0x8000, ap.data(), ap.size());
    const sim::RunResult r = m.run(1000000);
    ASSERT_EQ(r.reason, sim::StopReason::exit) << r.message;
    EXPECT_EQ(m.control().exit_value, 0x2222u);
}
