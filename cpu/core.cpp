// The run loop, mode bookkeeping and the services handlers use that are not memory accesses.
#include "cpu/core.h"

#include <Zydis/Zydis.h>

#include <algorithm>
#include <stdexcept>

#include "cpu/blocks.h"
#include "cpu/decoder.h"
#include "cpuid_table.h"
#include "cpu/msr.h"
#include "cpu/isa/features.h"

namespace cpu {

const char* to_string(Vendor v) { return v == Vendor::intel ? "intel" : "amd"; }

Core::Core(const CoreConfig& config, sim::PhysicalBus& bus, sim::EventStream& events,
           sim::RunControl& control)
    : config_(config), bus_(bus), events_(events), control_(control),
      blocks_(std::make_unique<BlockCache>()),
      apic_(std::make_unique<LocalApic>(apic_config(config))) {
    apic_->set_notify([this] { events_changed(); });
    mnemonic_counts_.assign(config_.count_mnemonics ? ZYDIS_MNEMONIC_MAX_VALUE + 1 : 0, 0);
    unimplemented_counts_.assign(ZYDIS_MNEMONIC_MAX_VALUE + 1, 0);
    reset();
}

Core::~Core() = default;

// The APIC's optional parts follow what CPUID reports for the vendor (sim/tables/cpuid.toml).
LocalApicConfig Core::apic_config(const CoreConfig& config) {
    LocalApicConfig a;
    a.id = config.id;
    a.bsp = config.bsp();
    a.bus_divisor = config.apic_bus_divisor;
    for (const CpuidLeaf& row : kCpuidLeafTable)
        if (row.leaf == 1 && std::strcmp(row.vendor, to_string(config.vendor)) == 0) {
            a.x2apic = (row.ecx >> 21) & 1;
            a.tsc_deadline = (row.ecx >> 24) & 1;
        }
    return a;
}

// Power-up state of the architectural registers (SDM Vol. 3A 10.1.1 Table 10-1).
void Core::reset_state() {
    s_ = State{};
    for (auto& sg : s_.seg) sg = Segment{0, 0, 0xffff, 0x93};
    s_.seg[cs] = Segment{0xf000, 0xffff0000, 0xffff, 0x9b};
    s_.rip() = 0xfff0;
    s_.ldtr = Segment{0, 0, 0xffff, 0x82};
    s_.tr = Segment{0, 0, 0xffff, 0x8b};
    s_.regs[rdx] = 0x600;  // family/model/stepping signature, as on a P6-class reset
}

// Power-up state, SDM Vol. 3A 10.1.1 "Processor State After Reset" (Table 10-1).
// An AP then waits for a startup IPI (SDM 9.4 "Multiple-Processor (MP) Initialization").
void Core::reset() {
    reset_state();
    reset_msrs(s_, config_.vendor, config_.id);
    apic_->reset();
    halted_ = apic_->waiting_for_sipi();
    nmi_blocked_ = false;
    shadow_ = Shadow::none;
    check_at_ = 0;
    pending_ = {};
    guest_ = false;
    virt_mode_ = virt_ ? sim::VirtMode::root : sim::VirtMode::none;
    if (virt_) virt_->reset(*this);
    refresh_mode();
    flush_tlb();
}

void Core::attach_virtualization(std::unique_ptr<Virtualization> v) {
    virt_ = std::move(v);
    reset();
}

// After a VM entry or exit the processor runs other code in another context: the software
// TLB holds no guest/host tags yet, so it is flushed (a processor may always invalidate more
// than required, SDM Vol. 3A 4.10.4.4); blocks stay valid (keyed by host-physical address).
void Core::vm_transition(bool guest) {
    guest_ = guest;
    virt_mode_ = guest ? sim::VirtMode::guest : sim::VirtMode::root;
    halted_ = false;
    pending_ = {};
    refresh_mode();
    flush_tlb();
    events_changed();
}

void Core::set_shadow(Shadow kind) {
    shadow_ = kind;
    shadow_until_ = kind == Shadow::none ? 0 : instruction_index() + 1;  // covers the next instruction
    check_at_ = 0;
}

uint64_t Core::cr4_allowed() const { return features(config_.vendor).cr4_allowed | (virt_ ? virt_->cr4_bits() : 0); }
uint64_t Core::efer_allowed() const { return features(config_.vendor).efer_allowed | (virt_ ? virt_->efer_bits() : 0); }

void Core::refresh_mode() {
    State& s = s_;
    const bool pe = s.cr0 & cr0::pe;
    const bool lma = s.efer & efer::lma;
    if (!pe) s.mode = Mode::real;
    else if (lma) s.mode = s.seg[cs].long_mode() ? Mode::long64 : s.seg[cs].big() ? Mode::compat32 : Mode::compat16;
    else if (s.rflags_other & rf::vm) s.mode = Mode::v8086;
    else s.mode = s.seg[cs].big() ? Mode::protected32 : Mode::protected16;
    if (s.mode == Mode::real) s.cpl = 0;
    if (s.mode == Mode::v8086) s.cpl = 3;

    code_bits_ = s.mode == Mode::long64 ? 64
                 : (s.mode == Mode::protected32 || s.mode == Mode::compat32) ? 32 : 16;
    linear_mask_ = s.mode == Mode::long64 ? ~0ull : 0xffffffffull;
    stack_mask_ = s.mode == Mode::long64 ? ~0ull : s.seg[ss].big() ? 0xffffffffull : 0xffffull;
    user_tag_ = s.cpl == 3 ? 1 : 0;
    // Alignment checking (SDM Vol. 3A 6.15 "Interrupt 17-Alignment Check Exception"; APM Vol. 2
    // 8.2.18): multi-byte data accesses then all take the slow paths, which check alignment.
    alignment_check_ = s.cpl == 3 && (s.cr0 & cr0::am) && (s.rflags_other & rf::ac);
    for (unsigned i = 0; i < seg_count; ++i) {
        const Segment& sg = s.seg[i];
        const bool flat64 = s.mode == Mode::long64;
        seg_base_[i] = (flat64 && i < fs) ? 0 : sg.base;
        // The fast paths take offsets <= limit of usable, expand-up segments that allow the
        // access. Everything else (null selectors, expand-down, execute-only code, read-only
        // data ...) gets the slow path's full checks (SDM Vol. 3A 5.3, 5.4).
        if (flat64) {
            seg_read_limit_[i] = seg_write_limit_[i] = ~0ull;
        } else if (s.mode == Mode::real || s.mode == Mode::v8086) {
            seg_read_limit_[i] = seg_write_limit_[i] = sg.limit;
        } else if (sg.unusable() || !sg.present() || sg.expand_down()) {
            seg_read_limit_[i] = seg_write_limit_[i] = 0;
        } else {
            const bool readable = !sg.code() || (sg.attributes & 2);
            const bool writable = !sg.code() && (sg.attributes & 2);
            seg_read_limit_[i] = readable ? sg.limit : 0;
            seg_write_limit_[i] = writable ? sg.limit : 0;
        }
        if (alignment_check_) seg_read_limit_[i] = seg_write_limit_[i] = 0;
    }
    if (seg_base_[cs] != fetch_base_ || code_bits_ != fetch_bits_ || user_tag_ != fetch_user_) {
        fetch_base_ = seg_base_[cs];
        fetch_bits_ = code_bits_;
        fetch_user_ = user_tag_;
        blocks_->bump_epoch();  // successor links assume the same CS base, code size and CPL
    }
    const bool paging = (s.cr0 & cr0::pg) && pe;
    if (paging != paging_) flush_tlb();
    paging_ = paging;
}

void Core::flush_tlb() {
    for (auto* tlb : {&tlb_read_, &tlb_write_, &tlb_exec_})
        for (auto& e : *tlb) e = TlbEntry{};
    blocks_->bump_epoch();
}

namespace {
bool loads_rf(uint16_t m) {
    return m == ZYDIS_MNEMONIC_IRET || m == ZYDIS_MNEMONIC_IRETD || m == ZYDIS_MNEMONIC_IRETQ;
}
}  // namespace

uint64_t Core::run(uint64_t budget) {
    const uint64_t start = retired_;
    const uint64_t end = budget > ~0ull - cycle() ? ~0ull : cycle() + budget;
    Block* b = nullptr;
    while (cycle() < end && !control_.stop_requested()) {
        // One compare per block while nothing is pending: events (interrupts, INIT/SIPI,
        // timer expiries, HLT) are looked at in the slow path (interrupts.cpp).
        if (cycle() >= check_at_) [[unlikely]] {
            const Serviced what = service_events(end);
            if (what == Serviced::idle) break;
            if (what == Serviced::redirected) b = nullptr;
        }
        if (!b) {
            blocks_->collect_garbage();
            b = find_block();
            if (!b) continue;  // an exception was delivered instead (fetch fault)
        }
        Block& current = *b;
        // RF (set by IRET) suppresses instruction breakpoints for one instruction and is
        // cleared once that instruction completes (SDM Vol. 3A 2.3 "RF", 3B 17.3.1.1; APM Vol. 2
        // 3.1.6 "RFLAGS Register"): that instruction runs alone. An IRET loads RF itself.
        const bool rf_set = s_.rflags_other & rf::rf;
        // Blocks stop at the next timer expiry (or after the instruction an interrupt shadow
        // covers), so events are taken at the exact instruction boundary.
        execute_block(current, rf_set ? 1 : std::min(end, deadline_) - cycle());
        if (pending_.valid) {
            deliver_pending();
            b = nullptr;
            continue;
        }
        if (rf_set && !loads_rf(current.insns[0].mnemonic)) [[unlikely]]
            s_.rflags_other &= ~rf::rf;
        b = next_block(current);
    }
    return retired_ - start;
}

// The block that follows `from`, through its successor cache when the cache is still valid
// (same RIP, no TLB flush or code invalidation since: the epoch).
Block* Core::next_block(Block& from) {
    if (!from.valid || halted_) return nullptr;
    const uint64_t rip = s_.regs[reg_rip];
    const uint64_t epoch = blocks_->epoch();
    for (const Block::Link& l : from.links)
        if (l.rip == rip && l.epoch == epoch) return l.target;
    Block* next = find_block();
    if (!next || !next->cacheable || !from.cacheable || blocks_->epoch() != epoch) return next;
    Block::Link& slot = from.links[from.links[0].epoch == epoch ? 1 : 0];
    slot = {rip, epoch, next};
    return next;
}

void Core::execute_block(Block& b, uint64_t budget) {
    const Insn* const first = b.insns.data();
    const Insn* i = first;
    block_first_ = first;
    exec_end_ = first + std::min<uint64_t>(b.insns.size(), budget);
    Outcome o = Outcome::next;
    while (i < exec_end_) {
        exec_pos_ = i;
        o = i->fn(*this, *i);
        if (o != Outcome::next) [[unlikely]]
            break;
        s_.regs[reg_rip] += i->length;
        ++i;
    }
    uint64_t done = static_cast<uint64_t>(i - first);
    if (o == Outcome::branch) {
        ++done;
    } else if (o == Outcome::exit) {
        o = Outcome::branch;  // RIP is the host's: no wrap at the guest's code size
    } else if (o == Outcome::end_block) {
        s_.regs[reg_rip] += i->length;
        ++done;
    }
    if (!mnemonic_counts_.empty())
        for (const Insn* p = first; p < first + done; ++p) ++mnemonic_counts_[p->mnemonic];
    retired_ += done;
    block_first_ = nullptr;
    // Sequential execution wraps IP/EIP at the code size; a branch has set RIP itself (a far
    // transfer may leave an EIP above a 16-bit segment's range, which the fetch limit check
    // then faults, SDM Vol. 2 "JMP"/"CALL" far forms).
    if (code_bits_ != 64 && o != Outcome::branch)
        s_.regs[reg_rip] &= code_bits_ == 32 ? 0xffffffffull : 0xffffull;
}

Block* Core::find_block() {
    const uint64_t rip = s_.regs[reg_rip];
    if (s_.mode != Mode::long64 && rip > s_.seg[cs].limit) {
        // SDM Vol. 3A 6.15 "Interrupt 13": instruction fetch beyond the CS limit is #GP(0).
        raise_gp(0);
        deliver_pending();
        return nullptr;
    }
    const unsigned va_shift = (s_.cr4 & cr4::la57) ? 7 : 16;  // 57- or 48-bit linear addresses
    if (s_.mode == Mode::long64 && static_cast<uint64_t>(static_cast<int64_t>(rip << va_shift) >> va_shift) != rip) {
        // A fetch from a non-canonical address is #GP(0) (SDM Vol. 3A 6.15 "Interrupt 13"),
        // e.g. after AMD's SYSRET to a non-canonical RCX (APM Vol. 3 "SYSRET").
        raise_gp(0);
        deliver_pending();
        return nullptr;
    }
    const uint64_t linear = (seg_base_[cs] + rip) & linear_mask_;
    const TlbEntry& e = tlb_exec_[(linear >> 12) & (kTlbSize - 1)];
    uint64_t phys;
    uint8_t* host;
    if (e.tag == ((linear & ~0xfffull) | user_tag_)) {
        phys = e.phys_page | (linear & 0xfff);
        host = reinterpret_cast<uint8_t*>(e.addend + (linear & ~0xfffull));
    } else {
        if (!translate(linear, AccessKind::execute, s_.cpl == 3, phys, host)) {
            deliver_pending();
            return nullptr;
        }
        if (!host) {
            emit(sim::EventKind::shutdown, 1, phys);
            control_.request_stop(sim::StopReason::host_error);
            last_error_ = "instruction fetch from a non-RAM physical address 0x" + hex(phys);
            return nullptr;
        }
        install_tlb(tlb_exec_.data(), linear, host, phys & sim::kPageMask);
    }
    const uint64_t key = BlockCache::make_key(phys, code_bits_);
    if (Block* b = blocks_->find(key)) return b;
    return build_block(phys, host, linear);
}

uint64_t Core::port_in(uint16_t port, unsigned size) {
    const uint64_t v = bus_.port_read(port, size, now());
    if (events_.wants(sim::EventKind::port_in)) emit(sim::EventKind::port_in, port, size, v);
    ++port_reads_[port];
    return v;
}

void Core::port_out(uint16_t port, unsigned size, uint64_t value) {
    if (events_.wants(sim::EventKind::port_out)) emit(sim::EventKind::port_out, port, size, value);
    ++port_writes_[port];
    const bool was_stopped = control_.stop_requested();
    bus_.port_write(port, size, value, now());
    after_device_write(was_stopped);
}

// A device write that stops the run (the debug-exit port) ends the block after this
// instruction; a debug exit is recorded with this processor's context.
void Core::after_device_write(bool was_stopped) {
    if (was_stopped || !control_.stop_requested()) return;
    if (control_.reason == sim::StopReason::exit)
        emit(sim::EventKind::debug_exit, control_.exit_value, static_cast<uint64_t>(control_.exit_status));
    if (block_first_) request_end_of_block();
}

void Core::emit(sim::EventKind k, uint64_t a, uint64_t b, uint64_t c) {
    if (!events_.wants(k)) return;
    sim::Event e{};
    e.kind = k;
    e.virt = virt_mode_;
    e.cpl = s_.cpl;
    e.vcpu = static_cast<uint8_t>(config_.id);
    e.instruction = instruction_index();
    e.cycle = now();
    e.rip = s_.regs[reg_rip];
    e.a = a;
    e.b = b;
    e.c = c;
    events_.emit(e);
}

Outcome Core::raise(sim::Vector v) {
    pending_ = {true, static_cast<uint8_t>(v), false, 0, 0};
    return Outcome::fault;
}

Outcome Core::raise(sim::Vector v, uint32_t error_code) {
    pending_ = {true, static_cast<uint8_t>(v), true, error_code, 0};
    return Outcome::fault;
}

Outcome Core::unimplemented(const Insn& i) {
    ++unimplemented_counts_[i.mnemonic];
    last_unimplemented_ = ZydisMnemonicGetString(static_cast<ZydisMnemonic>(i.mnemonic));
    emit(sim::EventKind::unimplemented, i.mnemonic, i.imm, i.length);
    return raise_ud();
}

Outcome Core::unimplemented(const Insn& i, const std::string& why) {
    last_error_ = why;
    return unimplemented(i);
}

Outcome Core::halt() {
    halted_ = true;
    check_at_ = 0;
    emit(sim::EventKind::halt);
    return Outcome::end_block;
}

void Core::enter_shutdown(const std::string& why) {
    emit(sim::EventKind::shutdown, 0);
    last_error_ = why;
    halted_ = true;
    check_at_ = 0;
    shutdown_ = true;
    control_.request_stop(sim::StopReason::shutdown);
}

void Core::report(sim::StatsWriter& out, const std::string& p) const {
    out.scalar(p + "instructions", static_cast<double>(retired_), "count", "instructions retired");
    out.scalar(p + "cycles", static_cast<double>(cycle()), "cycle", "simulated cycles");
    std::map<std::string, uint64_t> bins;
    for (unsigned v = 0; v < exceptions_.size(); ++v)
        if (exceptions_[v]) {
            const auto* row = sim::info(static_cast<sim::Vector>(v));
            bins[row ? row->name : std::to_string(v)] = exceptions_[v];
        }
    out.histogram(p + "exceptions", bins, "count", "exceptions delivered, by vector");
    bins.clear();
    for (const auto& [port, n] : port_reads_) bins["0x" + hex(port)] = n;
    out.histogram(p + "port_reads", bins, "count", "IN/INS accesses by port");
    bins.clear();
    for (const auto& [port, n] : port_writes_) bins["0x" + hex(port)] = n;
    out.histogram(p + "port_writes", bins, "count", "OUT/OUTS accesses by port");
    bins.clear();
    for (unsigned m = 0; m < unimplemented_counts_.size(); ++m)
        if (unimplemented_counts_[m]) bins[ZydisMnemonicGetString(static_cast<ZydisMnemonic>(m))] = unimplemented_counts_[m];
    out.histogram(p + "unimplemented", bins, "count", "unimplemented instructions met (#UD), by mnemonic");
    if (!mnemonic_counts_.empty()) {
        bins.clear();
        for (unsigned m = 0; m < mnemonic_counts_.size(); ++m)
            if (mnemonic_counts_[m]) bins[ZydisMnemonicGetString(static_cast<ZydisMnemonic>(m))] = mnemonic_counts_[m];
        out.histogram(p + "mnemonics", bins, "count", "instructions retired, by mnemonic");
    }
    out.scalar(p + "interrupts", static_cast<double>(interrupts_delivered_), "count", "external (maskable) interrupts delivered");
    out.scalar(p + "nmis", static_cast<double>(nmis_delivered_), "count", "NMIs delivered");
    out.scalar(p + "inits", static_cast<double>(inits_), "count", "INIT signals taken");
    out.scalar(p + "sipis", static_cast<double>(sipis_), "count", "startup IPIs taken");
    out.scalar(p + "idle_cycles", static_cast<double>(idle_cycles_), "cycle", "cycles spent halted or waiting for SIPI");
    out.scalar(p + "blocks_built", static_cast<double>(blocks_built_), "count", "blocks decoded");
    out.scalar(p + "smc_flushes", static_cast<double>(smc_flushes_), "count", "writes that dropped decoded code");
    out.scalar(p + "tlb_misses", static_cast<double>(tlb_misses_), "count", "software-TLB misses");
    out.scalar(p + "page_walks", static_cast<double>(page_walks_), "count", "paging-structure walks");
    if (virt_) virt_->report(out, p);  // VMX / SVM: entries, exits per reason ...
}

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace cpu
