// Passive per-partition accounting: see partition_accounting.h.
#include "sim/machine/partition_accounting.h"

#include "hv/abi/demo.h"
#include "svm_exit_codes_table.h"
#include "vmx_exit_reasons_table.h"

namespace sim {

PartitionAccounting::PartitionAccounting(const ProcessorProbe& probe, GuestContexts& contexts)
    : probe_(probe), contexts_(contexts) {}

EventStream::Mask PartitionAccounting::kinds() {
    return EventStream::bit(EventKind::vm_exit) | EventStream::bit(EventKind::vm_entry);
}

std::string PartitionAccounting::reason_name(uint64_t reason) const {
    if (probe_.vendor() == cpu::Vendor::intel) {
        std::string n(vmx::name(static_cast<vmx::ExitReason>(reason & 0xffff)));
        return (reason & (1ull << 31)) ? "entry_failure." + n : n;
    }
    return std::string(svm::name(static_cast<svm::ExitCode>(static_cast<int64_t>(reason))));
}

void PartitionAccounting::charge(unsigned partition, uint64_t from, uint64_t to) {
    if (to > from) scenarios_[scenario_].instructions[partition] += to - from;
}

// An OUT to the scenario port: VMX exit 30 with qualification port 31:16, direction bit 3 = 0
// (SDM Table 28-5); SVM IOIO (7Bh) with EXITINFO1 port 31:16, type bit 0 = 0 (APM 15.10.2).
bool PartitionAccounting::is_scenario_marker(const Event& e) const {
    const bool intel = probe_.vendor() == cpu::Vendor::intel;
    const bool io = intel ? e.a == static_cast<uint64_t>(vmx::ExitReason::io_instruction)
                          : e.a == static_cast<uint64_t>(svm::ExitCode::ioio);
    if (!io) return false;
    const bool in = intel ? (e.b >> 3) & 1 : e.b & 1;
    return !in && ((e.b >> 16) & 0xffff) == HV_DEMO_SCENARIO_PORT;
}

void PartitionAccounting::on_event(const Event& e) {
    if (e.vcpu >= vps_.size()) vps_.resize(e.vcpu + 1u);
    Vp& vp = vps_[e.vcpu];
    if (e.kind == EventKind::vm_entry) {
        charge(0, vp.since, e.instruction + 1);  // the entry instruction is the hypervisor's
        vp.in_guest = true;
        vp.since = e.instruction + 1;
        vp.partition = contexts_.partition(probe_, e);
        return;
    }
    if (e.kind != EventKind::vm_exit) return;
    const unsigned partition = contexts_.partition(probe_, e);
    if (vp.in_guest) charge(partition, vp.since, e.instruction);
    vp.in_guest = false;
    vp.since = e.instruction;  // the exiting instruction did not retire in the guest
    if (is_scenario_marker(e)) scenario_ = static_cast<unsigned>(probe_.reg(e.vcpu, cpu::rax));
    ++scenarios_[scenario_].exits[{partition, reason_name(e.a)}];
}

void PartitionAccounting::finish(unsigned vcpu, uint64_t retired) {
    if (vcpu >= vps_.size()) vps_.resize(vcpu + 1u);
    Vp& vp = vps_[vcpu];
    charge(vp.in_guest ? vp.partition : 0, vp.since, retired);
    vp.since = retired;
}

}  // namespace sim
