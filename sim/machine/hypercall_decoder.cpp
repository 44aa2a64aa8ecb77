// The passive hypercall decoder: see hypercall_decoder.h.
#include "sim/machine/hypercall_decoder.h"

#include <cstdio>

#include "hv/abi/hypercall_input.h"
#include "hv_hypercalls_table.h"
#include "hv_status_table.h"
#include "svm_exit_codes_table.h"
#include "vmcb_table.h"
#include "vmx_exit_reasons_table.h"

namespace sim {

HypercallDecoder::HypercallDecoder(const ProcessorProbe& probe, GuestContexts& contexts, EventStream* out,
                                   const unsigned* scenario)
    : probe_(probe), contexts_(contexts), out_(out), scenario_(scenario) {}

EventStream::Mask HypercallDecoder::kinds() {
    return EventStream::bit(EventKind::vm_exit) | EventStream::bit(EventKind::vm_entry);
}

bool HypercallDecoder::is_hypercall_exit(const Event& e) const {
    if (probe_.vendor() == cpu::Vendor::intel)  // SDM Appendix C: basic exit reason in bits 15:0
        return (e.a & 0xffff) == static_cast<uint64_t>(vmx::ExitReason::vmcall) && !(e.a & (1ull << 31));
    return e.a == static_cast<uint64_t>(svm::ExitCode::vmmcall);  // APM Appendix C
}

void HypercallDecoder::on_event(const Event& e) {
    const uint64_t context = contexts_.context(probe_, e);
    Pending& p = pending_[{e.vcpu, context}];
    if (e.kind == EventKind::vm_exit) {
        p.active = is_hypercall_exit(e);
        if (!p.active) return;
        // VM exits leave the guest's RCX, RDX, R8 in the registers (SDM 28.5 loads only the
        // host state the VMCS names; APM 15.6 #VMEXIT reloads RAX, RSP, not RCX).
        p.exit = e;
        p.input = probe_.reg(e.vcpu, cpu::rcx);
        p.partition = contexts_.number(context);
        return;
    }
    if (e.kind != EventKind::vm_entry || !p.active) return;
    p.active = false;
    // The next entry of the same VP: the hypervisor left the result value in the guest's RAX
    // (VMX: the register itself; SVM: the VMCB's RAX, which VMRUN loads into RAX).
    uint64_t result = probe_.reg(e.vcpu, cpu::rax);
    if (probe_.vendor() == cpu::Vendor::amd) {
        const uint64_t vmcb = context;
        if (vmcb) probe_.read_physical(e.vcpu, vmcb + static_cast<uint64_t>(svm::VmcbField::rax), &result, sizeof result);
    }
    const hv_hypercall_input in = hv_hypercall_input_decode(p.input);
    const hv_hypercall_input now = hv_hypercall_input_decode(probe_.reg(e.vcpu, cpu::rcx));
    const bool continued = in.rep_count && now.code == in.code && now.rep_start > in.rep_start;
    const uint16_t status = continued ? kRepContinued : hv_hypercall_result_status(result);
    ++counts_[Key{scenario_ ? *scenario_ : 0, p.partition, in.code, status}];
    if (!out_ || !out_->wants(EventKind::hypercall)) return;
    Event h = p.exit;
    h.kind = EventKind::hypercall;
    h.partition = static_cast<uint16_t>(p.partition);
    h.a = in.code;
    h.b = in.rep_count;
    h.c = status;
    out_->emit(h);
}

uint64_t HypercallDecoder::total() const {
    uint64_t n = 0;
    for (const auto& [key, count] : counts_) n += count;
    return n;
}

uint64_t HypercallDecoder::count(uint16_t code) const {
    uint64_t n = 0;
    for (const auto& [key, count] : counts_)
        if (key.code == code) n += count;
    return n;
}

std::string HypercallDecoder::call_name(uint16_t code) {
    if (const auto* row = hv::info(static_cast<hv::HvCall>(code))) return row->name;
    char buf[16];
    std::snprintf(buf, sizeof buf, "code_%#06x", code);
    return buf;
}

std::string HypercallDecoder::status_name(uint16_t status) {
    if (status == kRepContinued) return "rep_continued";
    if (const auto* row = hv::info(static_cast<hv::HvStatus>(status))) return row->name;
    char buf[16];
    std::snprintf(buf, sizeof buf, "status_%#06x", status);
    return buf;
}

void HypercallDecoder::report(StatsWriter& out, const std::string& prefix) const {
    std::map<std::string, std::map<std::string, uint64_t>> by_partition;
    for (const auto& [key, count] : counts_) {
        std::string bin = call_name(key.code);
        if (key.status != 0) bin.append(".").append(status_name(key.status));
        by_partition[GuestContexts::name(key.partition)][bin] += count;
    }
    for (const auto& [partition, bins] : by_partition)
        out.histogram(prefix + "hypercalls." + partition, bins, "calls", "hypercalls by code (and status if not success)");
}

}  // namespace sim
