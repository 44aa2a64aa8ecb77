// The TLFS hypercall input value shared by hv/ and the simulator (hv/abi/hypercall_input.h),
// the generated hypercall tables, and the passive hypercall decoder and partition accounting
// fed with synthetic VM exit/entry events.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "hv/abi/demo.h"
#include "hv/abi/hypercall_input.h"
#include "hv_cpuid_table.h"
#include "hv_hypercalls_table.h"
#include "hv_msrs_table.h"
#include "hv_status_table.h"
#include "sim/machine/hypercall_decoder.h"
#include "sim/machine/partition_accounting.h"

namespace {

constexpr hv_call_shape simple{0, 1, 0};
constexpr hv_call_shape rep_call{1, 0, 0};

TEST(HypercallInput, DecodesEveryFieldOfTheInputValue) {
    const uint64_t v = 0x0123ull << 48 | 0x0456ull << 32 | 5ull << 17 | 1ull << 16 | 0x005c;
    const hv_hypercall_input in = hv_hypercall_input_decode(v);
    EXPECT_EQ(in.code, 0x5c);
    EXPECT_EQ(in.fast, 1);
    EXPECT_EQ(in.header_qwords, 5);
    EXPECT_EQ(in.rep_count, 0x456);
    EXPECT_EQ(in.rep_start, 0x123);
    EXPECT_EQ(in.reserved, 0u);
    EXPECT_EQ(hv_hypercall_input_encode(0x5c, 1, 5, 0x456, 0x123), v);
}

TEST(HypercallInput, RefusesReservedBitsAndTheNestedBit) {
    for (unsigned bit : {27u, 30u, 31u, 44u, 47u, 60u, 63u}) {
        const hv_hypercall_input in = hv_hypercall_input_decode(0x0002 | 1ull << bit);
        EXPECT_EQ(hv_hypercall_input_check(&in, simple), 3) << "bit " << bit;
    }
}

TEST(HypercallInput, SimpleCallsTakeNoRepCountAndRepCallsNeedOneAboveTheStart) {
    hv_hypercall_input in = hv_hypercall_input_decode(hv_hypercall_input_encode(2, 0, 0, 1, 0));
    EXPECT_EQ(hv_hypercall_input_check(&in, simple), 3);
    in = hv_hypercall_input_decode(hv_hypercall_input_encode(3, 0, 0, 0, 0));
    EXPECT_EQ(hv_hypercall_input_check(&in, rep_call), 3);
    in = hv_hypercall_input_decode(hv_hypercall_input_encode(3, 0, 0, 4, 4));
    EXPECT_EQ(hv_hypercall_input_check(&in, rep_call), 3);
    in = hv_hypercall_input_decode(hv_hypercall_input_encode(3, 0, 0, 4, 3));
    EXPECT_EQ(hv_hypercall_input_check(&in, rep_call), 0);
}

TEST(HypercallInput, FastAndVariableHeadersOnlyWhereTheCallAllowsThem) {
    hv_hypercall_input in = hv_hypercall_input_decode(hv_hypercall_input_encode(3, 1, 0, 1, 0));
    EXPECT_EQ(hv_hypercall_input_check(&in, rep_call), 3);
    in = hv_hypercall_input_decode(hv_hypercall_input_encode(2, 0, 1, 0, 0));
    EXPECT_EQ(hv_hypercall_input_check(&in, simple), 3);
    in = hv_hypercall_input_decode(hv_hypercall_input_encode(0x13, 0, 2, 0, 0));
    EXPECT_EQ(hv_hypercall_input_check(&in, hv_call_shape{0, 1, 4}), 0);
}

TEST(HypercallInput, ResultValueCarriesStatusAndRepsCompleted) {
    const uint64_t r = hv_hypercall_result(5, 7);
    EXPECT_EQ(hv_hypercall_result_status(r), 5);
    EXPECT_EQ(hv_hypercall_result_reps(r), 7u);
}

TEST(HypercallTables, CodesAndStatusesAreTheTlfsOnes) {
    EXPECT_EQ(static_cast<unsigned>(hv::HvCall::post_message), 0x5cu);
    EXPECT_EQ(static_cast<unsigned>(hv::HvCall::signal_event), 0x5du);
    EXPECT_EQ(static_cast<unsigned>(hv::HvCall::create_partition), 0x40u);
    EXPECT_EQ(static_cast<unsigned>(hv::HvCall::deposit_memory), 0x48u);
    EXPECT_EQ(static_cast<unsigned>(hv::HvCall::create_vp), 0x4eu);
    EXPECT_EQ(hv::info(hv::HvCall::flush_virtual_address_list)->rep, 1u);
    EXPECT_EQ(static_cast<unsigned>(hv::HvStatus::invalid_hypercall_code), 2u);
    EXPECT_EQ(static_cast<unsigned>(hv::HvMsr::simp), 0x40000083u);
    EXPECT_EQ(hv::info(hv::HvCpuid::interface)->eax, 0x31237648u);  // "Hv#1"
}

TEST(HypercallTables, EveryAdvertisedPrivilegeNamesOnlyImplementedMsrs) {
    const uint32_t privileges = hv::info(hv::HvCpuid::features)->eax;
    for (const auto& row : hv::kHvMsrTable)
        if (!row.implemented) {
            bool shared = false;  // a privilege bit may cover implemented and unimplemented MSRs
            for (const auto& other : hv::kHvMsrTable)
                shared |= other.implemented && other.privilege == row.privilege;
            EXPECT_TRUE(shared || !(privileges & (1u << row.privilege))) << row.name;
        }
}

// A fake processor: registers and guest context set by the test.
struct FakeProbe final : sim::ProcessorProbe {
    cpu::Vendor v = cpu::Vendor::intel;
    std::map<cpu::Reg, uint64_t> regs;
    uint64_t context = 0;
    cpu::Vendor vendor() const override { return v; }
    uint64_t reg(unsigned, cpu::Reg r) const override {
        auto it = regs.find(r);
        return it == regs.end() ? 0 : it->second;
    }
    uint64_t guest_context(unsigned) const override { return context; }
    bool read_physical(unsigned, uint64_t address, void* out, size_t size) const override {
        if (address != context + 0x5f8 || size != 8) return false;  // the VMCB's RAX
        std::memcpy(out, &vmcb_rax, 8);
        return true;
    }
    uint64_t vmcb_rax = 0;
};

sim::Event ev(sim::EventKind k, uint64_t insn, uint64_t a = 0, uint64_t b = 0) {
    sim::Event e{};
    e.kind = k;
    e.instruction = insn;
    e.a = a;
    e.b = b;
    return e;
}

struct Collector final : sim::EventObserver {
    std::vector<sim::Event> seen;
    void on_event(const sim::Event& e) override { seen.push_back(e); }
};

TEST(HypercallDecoder, RecognisesAVmcallExitAndTakesTheStatusAtTheNextEntry) {
    FakeProbe probe;
    sim::GuestContexts contexts;
    sim::EventStream out;
    auto collector = std::make_shared<Collector>();
    out.subscribe(collector);
    sim::HypercallDecoder d(probe, contexts, &out);
    probe.context = 0x1000;  // the root's VMCS
    d.on_event(ev(sim::EventKind::vm_entry, 10));
    probe.regs[cpu::rcx] = hv_hypercall_input_encode(0x48, 0, 0, 3, 0);
    d.on_event(ev(sim::EventKind::vm_exit, 20, 18));  // VMCALL
    probe.regs[cpu::rax] = hv_hypercall_result(0, 3);
    d.on_event(ev(sim::EventKind::vm_entry, 30));
    d.on_event(ev(sim::EventKind::vm_exit, 40, 10));  // CPUID: not a hypercall
    d.on_event(ev(sim::EventKind::vm_entry, 50));
    ASSERT_EQ(collector->seen.size(), 1u);
    EXPECT_EQ(collector->seen[0].kind, sim::EventKind::hypercall);
    EXPECT_EQ(collector->seen[0].a, 0x48u);
    EXPECT_EQ(collector->seen[0].b, 3u);
    EXPECT_EQ(collector->seen[0].c, 0u);
    EXPECT_EQ(collector->seen[0].instruction, 20u);
    EXPECT_EQ(collector->seen[0].partition, 1u);
    EXPECT_EQ(d.count(0x48), 1u);
    EXPECT_EQ(d.total(), 1u);
}

TEST(HypercallDecoder, CountsAVmmcallOnAmdWithItsFailureStatus) {
    FakeProbe probe;
    probe.v = cpu::Vendor::amd;
    sim::GuestContexts contexts;
    sim::HypercallDecoder d(probe, contexts, nullptr);
    probe.context = 0x2000;
    probe.regs[cpu::rcx] = 0x7777;
    d.on_event(ev(sim::EventKind::vm_exit, 5, 0x81));
    probe.regs[cpu::rax] = 0x2000;  // RAX holds the VMCB address at VMRUN
    probe.vmcb_rax = 2;             // HV_STATUS_INVALID_HYPERCALL_CODE
    d.on_event(ev(sim::EventKind::vm_entry, 9));
    d.on_event(ev(sim::EventKind::vm_exit, 12, 18));  // 18 is no VMMCALL on AMD
    d.on_event(ev(sim::EventKind::vm_entry, 13));
    ASSERT_EQ(d.counts().size(), 1u);
    const auto& [key, n] = *d.counts().begin();
    EXPECT_EQ(key.code, 0x7777);
    EXPECT_EQ(key.status, 2);
    EXPECT_EQ(n, 1u);
    EXPECT_EQ(sim::HypercallDecoder::status_name(2), "invalid_hypercall_code");
}

TEST(HypercallDecoder, CountsARepCallReturnedEarlyAsContinued) {
    FakeProbe probe;
    sim::GuestContexts contexts;
    sim::HypercallDecoder d(probe, contexts, nullptr);
    probe.context = 0x1000;
    probe.regs[cpu::rcx] = hv_hypercall_input_encode(0x48, 0, 0, 100, 0);
    d.on_event(ev(sim::EventKind::vm_exit, 5, 18));
    probe.regs[cpu::rcx] = hv_hypercall_input_encode(0x48, 0, 0, 100, 64);  // restart at rep 64
    d.on_event(ev(sim::EventKind::vm_entry, 9));
    d.on_event(ev(sim::EventKind::vm_exit, 10, 18));
    probe.regs[cpu::rax] = hv_hypercall_result(0, 100);
    d.on_event(ev(sim::EventKind::vm_entry, 14));
    ASSERT_EQ(d.counts().size(), 2u);
    EXPECT_EQ((d.counts().at({0, 1, 0x48, sim::HypercallDecoder::kRepContinued})), 1u);
    EXPECT_EQ((d.counts().at({0, 1, 0x48, 0})), 1u);
}

TEST(PartitionAccounting, SplitsInstructionsBetweenHypervisorAndPartitionsAndScenarios) {
    FakeProbe probe;
    sim::GuestContexts contexts;
    sim::PartitionAccounting acc(probe, contexts);
    probe.context = 0x1000;                             // root first
    acc.on_event(ev(sim::EventKind::vm_entry, 100));    // 0..100 hypervisor (+ the entry)
    acc.on_event(ev(sim::EventKind::vm_exit, 150, 10)); // root ran 101..149 -> 49
    probe.context = 0x2000;                             // a child
    acc.on_event(ev(sim::EventKind::vm_entry, 160));    // hypervisor 150..160 -> 11
    probe.regs[cpu::rax] = 1;
    acc.on_event(ev(sim::EventKind::vm_exit, 170, 30, uint64_t{HV_DEMO_SCENARIO_PORT} << 16));
    acc.finish(0, 175);
    const auto& s = acc.scenarios();
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s.at(0).instructions.at(0), 101u + 11u);
    EXPECT_EQ(s.at(0).instructions.at(1), 49u);
    EXPECT_EQ(s.at(0).instructions.at(2), 9u);
    EXPECT_EQ((s.at(0).exits.at({1, "cpuid"})), 1u);
    EXPECT_EQ((s.at(1).exits.at({2, "io_instruction"})), 1u);
    EXPECT_EQ(s.at(1).instructions.at(0), 5u);
}

}  // namespace
