// `hvsim demo`: boots our hypervisor (hv/) with the root partition and a child partition on
// the vendor's virtualization extension, runs the child's scenarios, and prints per scenario
// the instructions retired in the hypervisor / root / child, the intercepts (VM exits) by
// partition and reason, and the hypercalls by partition and code. Everything is measured
// passively from VM entry/exit events (PartitionAccounting, HypercallDecoder).
#include "sim/machine/demo.h"

#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <tuple>

#include "hv/abi/demo.h"
#include "hv_hypercalls_table.h"
#include "sim/machine/hypercall_decoder.h"
#include "sim/machine/machine.h"
#include "sim/machine/partition_accounting.h"

namespace po = boost::program_options;

namespace sim {

std::string find_guest_image(const std::string& name) {
    for (const char* dir : {HVSIM_GUEST_INSTALL_DIR, HVSIM_GUEST_BUILD_DIR, HVSIM_HV_BUILD_DIR}) {
        const std::filesystem::path p = std::filesystem::path(dir) / name;
        if (std::filesystem::exists(p)) return p.string();
    }
    throw ConfigError("guest image '" + name + "' not found in " HVSIM_GUEST_INSTALL_DIR ", " HVSIM_GUEST_BUILD_DIR
                      " or " HVSIM_HV_BUILD_DIR " (build the project first)");
}

namespace {

const char* scenario_name(unsigned n) {
    switch (n) {
    case 0: return "boot: the root partition creates the four children and starts the first";
    case HV_DEMO_SCENARIO_CPUID: return "CPUID loop";
    case HV_DEMO_SCENARIO_PORT_IO: return "port-I/O loop";
    case HV_DEMO_SCENARIO_HYPERCALL: return "hypercall loop";
    case HV_DEMO_SCENARIO_IDE: return "emulated IDE read (PIO, 4 sectors)";
    case HV_DEMO_SCENARIO_UART: return "emulated UART output (then the root starts the hostile child)";
    case HV_DEMO_SCENARIO_SPIN_ENLIGHTENED: return "spinlock, 2 VPs, with the spin-wait enlightenment (HvCallNotifyLongSpinWait)";
    case HV_DEMO_SCENARIO_SPIN_PLAIN: return "spinlock, 2 VPs, without it (the hypervisor counts PAUSEs)";
    case HV_DEMO_SCENARIO_FLUSH_HYPERCALL: return "TLB shootdown to the other VP by HvCallFlushVirtualAddressList (10)";
    case HV_DEMO_SCENARIO_FLUSH_IPI: return "TLB shootdown to the other VP by IPI (x2APIC ICR, handler, EOI; 10)";
    case HV_DEMO_SCENARIO_HOSTILE: return "hostile child: random hypercalls, then a write outside its memory";
    default: return "unknown scenario";
    }
}

void print_scenario(unsigned n, const PartitionAccounting::Tally& t, const HypercallDecoder& calls) {
    std::printf("\n== scenario %u: %s ==\n", n, scenario_name(n));
    std::printf("  instructions retired:");
    for (const auto& [partition, count] : t.instructions)
        std::printf(" %s %llu", GuestContexts::name(partition).c_str(), static_cast<unsigned long long>(count));
    uint64_t exits = 0;
    for (const auto& [key, count] : t.exits) exits += count;
    std::printf("\n  intercepts (VM exits) by partition and reason: %llu in all\n", static_cast<unsigned long long>(exits));
    for (const auto& [key, count] : t.exits)
        std::printf("    %-8s %-28s %llu\n", GuestContexts::name(key.first).c_str(), key.second.c_str(),
                    static_cast<unsigned long long>(count));
    // Codes the table does not name (the hostile child's) are one row per partition and status.
    std::map<std::tuple<unsigned, std::string, std::string>, uint64_t> rows;
    for (const auto& [key, count] : calls.counts()) {
        if (key.scenario != n) continue;
        const bool named = hv::info(static_cast<hv::HvCall>(key.code)) != nullptr;
        const std::string call = named ? HypercallDecoder::call_name(key.code) + " (" + std::to_string(key.code) + ")"
                                       : "unknown_code (*)";
        rows[{key.partition, call, HypercallDecoder::status_name(key.status)}] += count;
    }
    const bool any = !rows.empty();
    if (any) std::printf("  hypercalls by partition, code and status:\n");
    for (const auto& [row, count] : rows)
        std::printf("    %-8s %-32s %-26s %llu\n", GuestContexts::name(std::get<0>(row)).c_str(), std::get<1>(row).c_str(),
                    std::get<2>(row).c_str(), static_cast<unsigned long long>(count));
    if (!any) std::printf("  hypercalls: none\n");
}

}  // namespace

int demo_main(int argc, char** argv) {
    po::options_description o("demo options");
    o.add_options()("help,h", "show this help")
        ("vendor", po::value<std::string>()->default_value("intel"), "processor vendor: intel (VMX) or amd (SVM)")
        ("virt", po::value<std::string>()->default_value("modern"), "the extension's feature preset")
        ("trace", po::value<std::string>(), "write every event (with the decoded hypercalls) to FILE (JSON lines)");
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, o), vm);
    po::notify(vm);
    if (vm.count("help")) {
        std::cout << "usage: hvsim demo [options]\n" << o;
        return 0;
    }
    MachineConfig config;
    config.vendor = parse_vendor(vm["vendor"].as<std::string>());
    config.virtualization = vm["virt"].as<std::string>();
    Machine m(config);
    if (vm.count("trace")) m.events().subscribe(std::make_shared<JsonLinesTrace>(vm["trace"].as<std::string>()));
    CoresProbe probe([&m](unsigned i) -> cpu::Core& { return m.cpu(i); }, config.vendor);
    GuestContexts contexts;
    auto accounting = std::make_shared<PartitionAccounting>(probe, contexts);
    auto calls = std::make_shared<HypercallDecoder>(probe, contexts, &m.events(), &accounting->scenario());
    // The decoder reads the scenario the accounting is in, so the accounting sees each exit first.
    m.events().subscribe(accounting, PartitionAccounting::kinds());
    m.events().subscribe(calls, HypercallDecoder::kinds());

    const std::string image = find_guest_image("hypervisor.elf");
    std::printf("hvsim demo (%s, %s preset %s): booting %s (root partition and four children)\n",
                cpu::to_string(config.vendor), config.vendor == cpu::Vendor::intel ? "VMX" : "SVM",
                config.virtualization.c_str(), image.c_str());
    std::printf("--- serial output (the root partition's UART) ---\n");
    std::fflush(stdout);
    m.load_kernel(image);
    const RunResult r = m.run(2'000'000'000);
    std::fflush(stdout);
    accounting->finish(0, m.cpu(0).retired());
    const bool pass = r.reason == StopReason::exit && r.exit_status == 1;
    std::printf("--- end of serial output ---\n");
    std::printf("%-28s %s\n", "stop reason", to_string(r.reason));
    std::printf("%-28s %s\n", "result", pass ? "pass (the child checked its results)" : r.message.c_str());
    std::printf("%-28s %llu\n", "instructions retired", static_cast<unsigned long long>(r.instructions));
    std::printf("%-28s %.3f\n", "host seconds", r.host_seconds);
    std::printf("%-28s %.1f\n", "MIPS", r.mips());
    std::printf("%-28s %u (one per VP, in first-entry order: 1 root, 2 child1 = the demo child,\n"
                "%-28s 3 child2 = the hostile child, 4/5 = VP 0/1 of the spinlock child with the\n"
                "%-28s enlightenment, 6/7 = VP 0/1 of the one without; shown as child<n-1>)\n",
                "guest contexts (VMCS/VMCB)", contexts.count(), "", "");
    if (contexts.count() == 0)
        std::printf("note: the %s extension reports no guest context (cpu::Virtualization::guest_context), so the\n"
                    "      partitions are not told apart: their counts are under \"guest\"\n",
                    config.vendor == cpu::Vendor::intel ? "VMX" : "SVM");
    for (const auto& [n, tally] : accounting->scenarios()) print_scenario(n, tally, *calls);
    return pass ? 0 : 1;
}

}  // namespace sim
