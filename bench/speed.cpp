// Simulator speed: guest instructions per host second on the workloads of bench/guests, with
// every counter off and on, and decode-cache micro-benchmarks. Context: Google Benchmark
// program (meson test --benchmark, or run build/bench/speed directly).
//
// Each benchmark iteration is one complete guest run on a new machine (load the ELF, set the
// argument registers, Machine::run until the debug-exit port); its time is the wall time of
// Machine::run alone (manual time), so construction, loading and host-side set-up are not
// counted; decoding is (the decode cache starts cold, as for any program). The counter
// guest_ips is retired guest instructions divided by that time, guest_ips_cpu the same divided
// by the thread's CPU time in Machine::run. Every run checks the guest's result against a host
// computation: a wrong answer is an error, not a number.
#include <benchmark/benchmark.h>

#include <time.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/machine/machine.h"

namespace {

constexpr uint64_t kChaseBase = 32ull << 20;  // the pointer chain lives at [32 MiB, 64 MiB)
constexpr uint64_t kChaseNode = 64;           // one node per 64-byte line
constexpr uint64_t kRunLimit = 2'000'000'000; // a runaway guest stops here
constexpr uint64_t kChaseSeed = 0x5eed;

// CPU time of this thread: unlike wall time, it does not grow when another process shares the
// core (this machine's 2 cores are shared with builds), so guest_ips_cpu is the steadier figure.
double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

std::string guest_path(const std::string& name) {
    const char* dir = std::getenv("HVSIM_BENCH_GUESTS");
    return std::string(dir ? dir : HVSIM_BENCH_GUEST_DIR) + "/" + name + ".elf";
}

sim::MachineConfig machine_config(bool counters, cpu::Vendor vendor) {
    sim::MachineConfig c;
    c.vendor = vendor;
    c.memory_bytes = 128ull << 20;
    c.serial = "none";
    c.count_mnemonics = counters;
    return c;
}

// What one workload needs: its image, its arguments, the host-side preparation of guest
// memory and the value RBX must hold when the guest exits.
struct Workload {
    std::string image;
    uint64_t rdi = 0, rsi = 0;
    uint64_t expected = 0;
    uint64_t bytes_per_run = 0;  // guest bytes written per run, for a bytes/s counter (0: none)
    std::function<void(sim::Machine&)> prepare;  // fills guest memory before the run
};

// alu_loop.S, step by step on the host.
uint64_t alu_loop_reference(uint64_t n) {
    uint64_t mem = 0, rcx = 0x9e3779b97f4a7c15ull, rdx = 0, r9 = 0, r10 = 0;
    for (uint64_t rdi = n; rdi != 0; --rdi) {
        mem += rdi;
        rdx ^= mem;
        uint64_t r8 = (7 + rdx + 2 * rdi) & 0xffff;
        rcx -= r8 << 3;
        r9 |= rcx;
        r10 += rdx < r9 ? 1 : 0;
    }
    return mem + rdx + rcx + r9 + r10;
}

uint64_t fib(uint64_t k) { return k < 2 ? k : fib(k - 1) + fib(k - 2); }

// A random cyclic permutation of `bytes / 64` nodes at kChaseBase (Sattolo's algorithm: one
// cycle through every node), as guest memory, with its first node and the node reached from
// it after `steps` steps.
struct Chain {
    std::vector<uint64_t> memory;
    uint64_t start = 0, end = 0;
};
std::shared_ptr<const Chain> make_chain(uint64_t bytes, uint64_t steps) {
    auto c = std::make_shared<Chain>();
    const uint64_t nodes = bytes / kChaseNode;
    std::vector<uint64_t> order(nodes);
    for (uint64_t i = 0; i < nodes; ++i) order[i] = i;
    std::mt19937_64 rng(kChaseSeed);
    for (uint64_t i = nodes - 1; i > 0; --i) std::swap(order[i], order[rng() % i]);
    c->memory.assign(bytes / 8, 0);
    for (uint64_t i = 0; i < nodes; ++i)
        c->memory[order[i] * (kChaseNode / 8)] = kChaseBase + order[(i + 1) % nodes] * kChaseNode;
    c->start = c->end = kChaseBase + order[0] * kChaseNode;
    for (uint64_t s = 0; s < steps; ++s) c->end = c->memory[(c->end - kChaseBase) / 8];
    return c;
}

// Runs `w` once per benchmark iteration, each time on a new machine (a guest's exit is final),
// and reports guest instructions per host second.
void run_workload(benchmark::State& state, const sim::MachineConfig& config, const Workload& w) {
    uint64_t instructions = 0, runs = 0;
    double cpu_seconds = 0;
    for (auto _ : state) {
        sim::Machine m(config);
        m.load_kernel(w.image);
        if (w.prepare) w.prepare(m);
        cpu::State& regs = m.cpu(0).state();
        regs.regs[cpu::rdi] = w.rdi;
        regs.regs[cpu::rsi] = w.rsi;
        const double c0 = thread_cpu_seconds();
        const auto t0 = std::chrono::steady_clock::now();
        const sim::RunResult r = m.run(kRunLimit);
        const auto t1 = std::chrono::steady_clock::now();
        cpu_seconds += thread_cpu_seconds() - c0;
        state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
        const uint64_t result = m.cpu(0).state().regs[cpu::rbx];
        if (r.reason != sim::StopReason::exit || result != w.expected) {
            std::string why = "guest run failed: " + r.message;
            if (!m.cpu(0).last_unimplemented().empty())
                why += " (unimplemented: " + m.cpu(0).last_unimplemented() + ")";
            if (r.reason == sim::StopReason::exit)
                why = "wrong result 0x" + cpu::hex(result) + ", expected 0x" + cpu::hex(w.expected);
            state.SkipWithError(why.c_str());
            break;
        }
        instructions += r.instructions;
        ++runs;
    }
    if (!runs) return;
    state.counters["guest_ips"] = benchmark::Counter(static_cast<double>(instructions), benchmark::Counter::kIsRate);
    state.counters["guest_ips_cpu"] = cpu_seconds > 0 ? static_cast<double>(instructions) / cpu_seconds : 0;
    state.counters["insns_per_run"] = static_cast<double>(instructions / runs);
    if (w.bytes_per_run)
        state.counters["guest_bytes_per_s"] = benchmark::Counter(static_cast<double>(w.bytes_per_run * runs),
                                                                 benchmark::Counter::kIsRate,
                                                                 benchmark::Counter::kIs1024);
}

void bm_alu_loop(benchmark::State& state, bool counters, cpu::Vendor vendor) {
    const uint64_t n = 1'000'000;
    run_workload(state, machine_config(counters, vendor),
                 {guest_path("alu_loop"), n, 0, alu_loop_reference(n), 0, {}});
}

// The same loop with its memory word in the code's 4 KiB page (as .data/.bss land when linked
// with tests/guest/link64.ld): every store is checked against the decode cache.
void bm_alu_loop_code_page(benchmark::State& state, bool counters, cpu::Vendor vendor) {
    const uint64_t n = 1'000'000;
    run_workload(state, machine_config(counters, vendor),
                 {guest_path("alu_loop"), n, 1, alu_loop_reference(n), 0, {}});
}

void bm_memcpy_memset(benchmark::State& state, bool counters, cpu::Vendor vendor) {
    const uint64_t n = 2'000;
    run_workload(state, machine_config(counters, vendor),
                 {guest_path("memcpy_memset"), n, 0, ((n - 1) & 0xff) * 0x0101010101010101ull,
                  n * (3 * 4096 + 256), {}});
}

void bm_pointer_chase(benchmark::State& state, bool counters, cpu::Vendor vendor) {
    const uint64_t bytes = static_cast<uint64_t>(state.range(0)) << 10;
    const uint64_t steps = 2'000'000;
    const auto chain = make_chain(bytes, steps);
    const auto prepare = [chain](sim::Machine& m) {
        if (!m.write_memory(kChaseBase, chain->memory.data(), chain->memory.size() * 8))
            throw std::runtime_error("the pointer chain does not fit in guest RAM");
    };
    run_workload(state, machine_config(counters, vendor),
                 {guest_path("pointer_chase"), steps, chain->start, chain->end, 0, prepare});
}

// The floor for pointer_chase: the same chain followed natively by the host (loads per second,
// comparable with guest_ips / 3, since the guest retires 3 instructions per step).
void bm_native_chase(benchmark::State& state) {
    const uint64_t bytes = static_cast<uint64_t>(state.range(0)) << 10;
    const uint64_t steps = 2'000'000;
    const auto chain = make_chain(bytes, steps);
    const uint64_t* memory = chain->memory.data();
    uint64_t loads = 0;
    for (auto _ : state) {
        uint64_t at = chain->start;
        const auto t0 = std::chrono::steady_clock::now();
        for (uint64_t s = 0; s < steps; ++s) at = memory[(at - kChaseBase) / 8];
        benchmark::DoNotOptimize(at);
        const auto t1 = std::chrono::steady_clock::now();
        state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
        if (at != chain->end) {
            state.SkipWithError("native chase went astray");
            break;
        }
        loads += steps;
    }
    state.counters["host_loads_per_s"] = benchmark::Counter(static_cast<double>(loads), benchmark::Counter::kIsRate);
}

void bm_call_ret(benchmark::State& state, bool counters, cpu::Vendor vendor) {
    const uint64_t reps = 40, k = 20;
    run_workload(state, machine_config(counters, vendor),
                 {guest_path("call_ret"), reps, k, reps * fib(k), 0, {}});
}

// Decode-cache hits: the guest loops forever in code that is decoded once; every iteration
// retires a fixed number of instructions from the cache.
void bm_decode_cache(benchmark::State& state, uint64_t kind) {
    sim::Machine m(machine_config(false, cpu::Vendor::intel));
    m.load_kernel(guest_path("spin"));
    m.cpu(0).state().regs[cpu::rdi] = kind;
    const uint64_t per_iteration = 1'000'000;
    if (m.run(100'000).reason != sim::StopReason::instruction_limit) {
        state.SkipWithError("spin guest did not keep running");
        return;
    }
    uint64_t instructions = 0;
    double cpu_seconds = 0;
    for (auto _ : state) {
        const double c0 = thread_cpu_seconds();
        const auto t0 = std::chrono::steady_clock::now();
        const sim::RunResult r = m.run(per_iteration);
        const auto t1 = std::chrono::steady_clock::now();
        cpu_seconds += thread_cpu_seconds() - c0;
        state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
        instructions += r.instructions;
        if (r.reason != sim::StopReason::instruction_limit) {
            state.SkipWithError(("spin guest stopped: " + r.message).c_str());
            break;
        }
    }
    state.counters["guest_ips"] = benchmark::Counter(static_cast<double>(instructions), benchmark::Counter::kIsRate);
    state.counters["guest_ips_cpu"] = cpu_seconds > 0 ? static_cast<double>(instructions) / cpu_seconds : 0;
    state.counters["ns_per_insn"] = benchmark::Counter(static_cast<double>(instructions),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert,
                                                       benchmark::Counter::kIs1000);
}

// The VM-exit round trip (issues 4 and 5: at most 3 us of host time per CPUID exit + VMRESUME
// in functional mode): tests/virt/roundtrip.c under the vendor's extension ("modern" preset)
// takes kRoundtrips exits of one kind (VMX: CPUID; SVM: CPUID, then as many VMMCALL) and
// re-enters after each. Host time and guest instructions per exit include the guest's loop and
// the test hypervisor's handler, i.e. the whole round trip as a user would measure it.
constexpr uint64_t kRoundtrips = 20'000;  // ROUNDTRIPS in tests/virt/roundtrip.c

class ExitCounter final : public sim::EventObserver {
public:
    void on_event(const sim::Event&) override { ++exits; }
    uint64_t exits = 0;
};

void bm_vm_exit_roundtrip(benchmark::State& state, bool, cpu::Vendor vendor) {
    sim::MachineConfig config = machine_config(false, vendor);
    config.virtualization = "modern";
    const uint64_t expected = vendor == cpu::Vendor::intel ? kRoundtrips + 1 : 2 * kRoundtrips + 1;
    uint64_t exits = 0, instructions = 0;
    double seconds = 0, cpu_seconds = 0;
    try {
        sim::Machine probe(config);
    } catch (const sim::ConfigError& e) {
        state.SkipWithError(e.what());  // this build has no such extension
        return;
    }
    for (auto _ : state) {
        sim::Machine m(config);
        m.load_kernel(std::string(HVSIM_VIRT_IMAGE_DIR) + "/roundtrip.elf");
        auto counter = std::make_shared<ExitCounter>();
        m.events().subscribe(counter, sim::EventStream::bit(sim::EventKind::vm_exit));
        const double c0 = thread_cpu_seconds();
        const auto t0 = std::chrono::steady_clock::now();
        const sim::RunResult r = m.run(kRunLimit);
        const auto t1 = std::chrono::steady_clock::now();
        cpu_seconds += thread_cpu_seconds() - c0;
        const double run_seconds = std::chrono::duration<double>(t1 - t0).count();
        state.SetIterationTime(run_seconds);
        // Debug-exit 77: this vendor's test passed and the other vendor's was skipped.
        if (r.reason != sim::StopReason::exit || r.exit_status != (77 << 1 | 1) || counter->exits != expected) {
            state.SkipWithError(("round trip failed: " + r.message + ", exit status " + std::to_string(r.exit_status) +
                                 ", " + std::to_string(counter->exits) + " exits").c_str());
            break;
        }
        exits += counter->exits;
        instructions += r.instructions;
        seconds += run_seconds;
    }
    if (!exits) return;
    state.counters["host_ns_per_exit"] = 1e9 * seconds / static_cast<double>(exits);
    state.counters["host_ns_per_exit_cpu"] = 1e9 * cpu_seconds / static_cast<double>(exits);
    state.counters["guest_insns_per_exit"] = static_cast<double>(instructions) / static_cast<double>(exits);
}

using WorkloadFn = void (*)(benchmark::State&, bool, cpu::Vendor);

benchmark::internal::Benchmark* add(const std::string& name, WorkloadFn fn, bool counters, cpu::Vendor vendor) {
    const std::string full = name + (counters ? "/counters:full" : "/counters:basic") +
                             (vendor == cpu::Vendor::amd ? "/amd" : "/intel");
    return benchmark::RegisterBenchmark(full.c_str(), fn, counters, vendor)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
}

void register_all() {
    for (bool counters : {false, true}) {
        add("alu_loop", bm_alu_loop, counters, cpu::Vendor::intel);
        add("memcpy_memset", bm_memcpy_memset, counters, cpu::Vendor::intel);
        // Working set in KiB: 32 MiB (TLB and host-cache misses), 256 KiB (mostly hits).
        add("pointer_chase", bm_pointer_chase, counters, cpu::Vendor::intel)->Arg(32 << 10)->Arg(256);
        add("call_ret", bm_call_ret, counters, cpu::Vendor::intel);
    }
    add("alu_loop_code_page", bm_alu_loop_code_page, false, cpu::Vendor::intel);
    // The vendor changes CPUID and the VMX/SVM side, not these paths; one check that it stays so.
    add("alu_loop", bm_alu_loop, false, cpu::Vendor::amd);
    add("call_ret", bm_call_ret, false, cpu::Vendor::amd);
    add("vm_exit_roundtrip", bm_vm_exit_roundtrip, false, cpu::Vendor::intel);
    add("vm_exit_roundtrip", bm_vm_exit_roundtrip, false, cpu::Vendor::amd);
    benchmark::RegisterBenchmark("native_chase", bm_native_chase)
        ->Arg(32 << 10)->Arg(256)->UseManualTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("decode_cache/straight_block", bm_decode_cache, 0)
        ->UseManualTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("decode_cache/block_chain", bm_decode_cache, 1)
        ->UseManualTime()->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
