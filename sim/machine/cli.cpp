// Command-line parsing (Boost.Program_options) and the `run` command.
#include "sim/machine/cli.h"

#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "sim/machine/demo.h"
#include "sim/machine/machine.h"

namespace po = boost::program_options;

namespace sim {
namespace {

constexpr int kExitUsage = 2, kExitShutdown = 4, kExitHostError = 6;

const char* kUsage =
    "usage: hvsim run IMAGE [options]        boot an ELF64 or multiboot image\n"
    "       hvsim run --kernel BZIMAGE [--initrd FILE] [--append CMDLINE]   boot Linux\n"
    "       hvsim run --load-flat FILE@ADDR  run a flat binary in real mode (e.g. boot.bin@0x7c00)\n"
    "       hvsim demo [options]             run the built-in demonstration\n";

po::options_description machine_options() {
    po::options_description o("machine and run options");
    o.add_options()
        ("help,h", "show this help")
        ("vendor", po::value<std::string>()->default_value("intel"), "processor vendor: intel or amd")
        ("mem", po::value<std::string>()->default_value("64M"), "guest RAM size (e.g. 64M, 1G)")
        ("cpus", po::value<unsigned>()->default_value(1), "logical processors")
        ("virt", po::value<std::string>()->default_value("none"), "hardware virtualization preset (VMX on intel: modern, nehalem; SVM on amd), or none")
        ("max-insns", po::value<uint64_t>()->default_value(0), "stop after N instructions (0: no limit)")
        ("serial", po::value<std::string>()->default_value("stdio"), "COM1 output: stdio, none or a file")
        ("stats", po::value<std::string>(), "write the statistics JSON object to FILE (- for stdout)")
        ("trace", po::value<std::string>(), "write every event to FILE (.csv: CSV, else JSON lines)")
        ("counters", po::value<std::string>()->default_value("basic"), "basic, or full (per-mnemonic counts)")
        ("quantum", po::value<uint64_t>()->default_value(10000), "instructions between device synchronisations")
        ("load-flat", po::value<std::string>(), "FILE@ADDR: flat binary in real mode")
        ("kernel", po::value<std::string>(), "a Linux bzImage, booted through the 64-bit boot protocol")
        ("initrd", po::value<std::string>(), "initial ramdisk for --kernel")
        ("append", po::value<std::string>()->default_value(""), "kernel command line (Linux, multiboot)");
    return o;
}

MachineConfig config_from(const po::variables_map& vm) {
    MachineConfig c;
    c.vendor = parse_vendor(vm["vendor"].as<std::string>());
    c.memory_bytes = parse_size(vm["mem"].as<std::string>());
    c.cpus = vm["cpus"].as<unsigned>();
    c.virtualization = vm["virt"].as<std::string>();
    c.serial = vm["serial"].as<std::string>();
    c.quantum = vm["quantum"].as<uint64_t>();
    const std::string counters = vm["counters"].as<std::string>();
    if (counters != "basic" && counters != "full") throw ConfigError("--counters must be basic or full");
    c.count_mnemonics = counters == "full";
    return c;
}

void attach_trace(Machine& m, const po::variables_map& vm) {
    if (!vm.count("trace")) return;
    const std::string path = vm["trace"].as<std::string>();
    const bool csv = path.size() > 4 && path.substr(path.size() - 4) == ".csv";
    if (csv) m.events().subscribe(std::make_shared<CsvTrace>(path));
    else m.events().subscribe(std::make_shared<JsonLinesTrace>(path));
}

void write_stats(const Machine& m, const RunResult& r, const po::variables_map& vm) {
    if (!vm.count("stats")) return;
    const std::string path = vm["stats"].as<std::string>();
    const std::string json = m.stats_json(r) + "\n";
    if (path == "-") {
        std::fflush(stdout);
        std::fputs(json.c_str(), stdout);
        return;
    }
    std::ofstream out(path);
    if (!out) throw ConfigError(path + ": cannot write statistics");
    out << json;
}

// Diagnostics a user must see: unimplemented instructions, shutdown with the events before it.
void report_problems(Machine& m, const RunResult& r) {
    FlatStats stats;
    m.report(stats);
    for (const auto& [name, value] : stats.values) {
        const auto pos = name.find(".unimplemented.");
        if (pos != std::string::npos)
            std::fprintf(stderr, "hvsim: guest executed unimplemented instruction '%s' (%.0f times): #UD raised\n",
                         name.substr(pos + 15).c_str(), value);
    }
    if (r.reason == StopReason::shutdown || r.reason == StopReason::host_error) {
        std::fprintf(stderr, "hvsim: %s: %s\n", r.reason == StopReason::shutdown ? "shutdown" : "stopped",
                     r.message.c_str());
        std::fprintf(stderr, "hvsim: last events:\n");
        for (const Event& e : m.recent_events().events()) std::fprintf(stderr, "  %s\n", describe(e).c_str());
    }
}

int exit_code(const RunResult& r) {
    switch (r.reason) {
        case StopReason::exit: return r.exit_status & 0xff;
        case StopReason::shutdown: return kExitShutdown;
        case StopReason::host_error: return kExitHostError;
        default: return 0;
    }
}

int run_command(int argc, char** argv) {
    po::options_description opts = machine_options();
    po::options_description hidden;
    hidden.add_options()("image", po::value<std::string>(), "image");
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("image", 1);
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
        std::cout << kUsage << opts;
        return 0;
    }
    if (vm.count("image") + vm.count("load-flat") + vm.count("kernel") != 1)
        throw ConfigError("give exactly one of IMAGE, --kernel BZIMAGE or --load-flat FILE@ADDR");
    if (vm.count("initrd") && !vm.count("kernel")) throw ConfigError("--initrd goes with --kernel");
    Machine m(config_from(vm));
    attach_trace(m, vm);
    if (vm.count("image")) {
        m.load_kernel(vm["image"].as<std::string>(), vm["append"].as<std::string>());
    } else if (vm.count("kernel")) {
        m.load_linux(vm["kernel"].as<std::string>(), vm.count("initrd") ? vm["initrd"].as<std::string>() : "",
                     vm["append"].as<std::string>());
    } else {
        const auto [file, addr] = parse_flat_spec(vm["load-flat"].as<std::string>());
        m.load_flat(file, addr);
    }
    const RunResult r = m.run(vm["max-insns"].as<uint64_t>());
    std::fflush(stdout);
    report_problems(m, r);
    write_stats(m, r, vm);
    return exit_code(r);
}

}  // namespace

int cli_main(int argc, char** argv) {
    try {
        if (argc < 2) {
            std::fputs(kUsage, stderr);
            return kExitUsage;
        }
        const std::string command = argv[1];
        if (command == "run") return run_command(argc - 1, argv + 1);
        if (command == "demo") return demo_main(argc - 1, argv + 1);
        if (command == "--help" || command == "-h" || command == "help") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        std::fprintf(stderr, "hvsim: unknown command '%s'\n%s", command.c_str(), kUsage);
        return kExitUsage;
    } catch (const po::error& e) {
        std::fprintf(stderr, "hvsim: %s\n", e.what());
        return kExitUsage;
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "hvsim: %s\n", e.what());
        return kExitUsage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hvsim: internal error: %s\n", e.what());
        return kExitHostError;
    }
}

}  // namespace sim
