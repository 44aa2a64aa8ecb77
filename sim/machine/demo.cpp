// The demonstration: one guest, its serial output, and the counters that describe the run.
// (The hypervisor demonstration of the later issues replaces the guest with ring -1.)
#include "sim/machine/demo.h"

#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "sim/machine/machine.h"

namespace po = boost::program_options;

namespace sim {

std::string find_guest_image(const std::string& name) {
    for (const char* dir : {HVSIM_GUEST_INSTALL_DIR, HVSIM_GUEST_BUILD_DIR}) {
        const std::filesystem::path p = std::filesystem::path(dir) / name;
        if (std::filesystem::exists(p)) return p.string();
    }
    throw ConfigError("guest image '" + name + "' not found in " HVSIM_GUEST_INSTALL_DIR " or " HVSIM_GUEST_BUILD_DIR
                      " (build the project first)");
}

int demo_main(int argc, char** argv) {
    po::options_description o("demo options");
    o.add_options()("help,h", "show this help")
        ("vendor", po::value<std::string>()->default_value("intel"), "processor vendor: intel or amd")
        ("trace", po::value<std::string>(), "write every event to FILE (JSON lines)");
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, o), vm);
    po::notify(vm);
    if (vm.count("help")) {
        std::cout << "usage: hvsim demo [options]\n" << o;
        return 0;
    }
    MachineConfig config;
    config.vendor = parse_vendor(vm["vendor"].as<std::string>());
    Machine m(config);
    if (vm.count("trace")) m.events().subscribe(std::make_shared<JsonLinesTrace>(vm["trace"].as<std::string>()));
    const std::string image = find_guest_image("hello.elf");
    std::printf("hvsim demo (%s): booting %s\n--- guest serial output ---\n", cpu::to_string(config.vendor), image.c_str());
    std::fflush(stdout);
    m.load_kernel(image);
    const RunResult r = m.run(2'000'000'000);
    std::fflush(stdout);
    FlatStats s;
    m.report(s);
    std::printf("--- end of guest output ---\n");
    std::printf("%-28s %s\n", "stop reason", to_string(r.reason));
    std::printf("%-28s %s\n", "result", r.reason == StopReason::exit && r.exit_status == 1 ? "pass (guest checked its results)" : r.message.c_str());
    std::printf("%-28s %llu\n", "instructions retired", static_cast<unsigned long long>(r.instructions));
    std::printf("%-28s %.3f\n", "host seconds", r.host_seconds);
    std::printf("%-28s %.1f\n", "guest MIPS", r.mips());
    for (const auto& [name, value] : s.values)
        if (name.find("port_writes.") != std::string::npos || name.find("blocks_built") != std::string::npos ||
            name.find("exceptions.") != std::string::npos)
            std::printf("%-28s %.0f\n", name.c_str(), value);
    return r.reason == StopReason::exit && r.exit_status == 1 ? 0 : 1;
}

}  // namespace sim
