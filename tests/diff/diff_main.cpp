// The differential test's command line: every instruction form x N random states, on the host
// CPU and on the executor from make_sim_executor(), which the linked program supplies.
// Context: host, harness only.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>

#include "diff_runner.h"
#include "native_runner.h"
#include "oracle_check.h"

namespace diff {
namespace {

constexpr const char* kUsage =
    "usage: %s [options]\n"
    "  --seed N|random   run seed (default 0x5eed); each form's states derive from it\n"
    "  --states N        random states per form (default 1000)\n"
    "  --filter TEXT     only forms whose name contains TEXT, or whose family is TEXT\n"
    "  --max-reports N   mismatching states printed per form (default 3)\n"
    "  --trace N         print input and results of the first N states of each form\n"
    "  --list            print the forms and exit\n"
    "  --perturb-check   corrupt some results on purpose and check every one is reported\n";

struct Args {
    RunOptions run;
    bool list = false;
    bool perturb_check = false;
};

uint64_t parse_number(const char* text, const char* option) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(text, &end, 0);
    if (errno || end == text || *end) {
        throw std::invalid_argument(std::string("bad value for ") + option + ": " + text);
    }
    return v;
}

Args parse_args(int argc, char** argv) {
    Args args;
    for (int i = 1; i < argc; ++i) {
        const std::string opt = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) throw std::invalid_argument(opt + " needs a value");
            return argv[++i];
        };
        if (opt == "--seed") {
            const char* v = value();
            args.run.seed = std::strcmp(v, "random") == 0
                                ? (uint64_t{std::random_device{}()} << 32) | std::random_device{}()
                                : parse_number(v, "--seed");
        } else if (opt == "--states") {
            args.run.states = static_cast<unsigned>(parse_number(value(), "--states"));
        } else if (opt == "--filter") {
            args.run.filter = value();
        } else if (opt == "--max-reports") {
            args.run.max_reports = static_cast<unsigned>(parse_number(value(), "--max-reports"));
        } else if (opt == "--trace") {
            args.run.trace = static_cast<unsigned>(parse_number(value(), "--trace"));
        } else if (opt == "--list") {
            args.list = true;
        } else if (opt == "--perturb-check") {
            args.perturb_check = true;
        } else {
            throw std::invalid_argument("unknown option " + opt);
        }
    }
    return args;
}

void list_forms(const std::string& filter) {
    for (const Form& f : all_forms()) {
        if (!matches_filter(f, filter)) continue;
        std::string bytes;
        for (uint8_t b : f.code) {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%02x ", b);
            bytes += buf;
        }
        std::printf("%-9.*s %-36s %.*s\n", static_cast<int>(f.family.size()), f.family.data(),
                    bytes.c_str(), static_cast<int>(f.name.size()), f.name.data());
    }
}

int run(const Args& args) {
    if (args.list) {
        list_forms(args.run.filter);
        return 0;
    }
    std::printf("diff: seed %#llx, %u states per form%s%s\n",
                static_cast<unsigned long long>(args.run.seed), args.run.states,
                args.run.filter.empty() ? "" : ", filter ", args.run.filter.c_str());
    if (!check_native_oracle(std::cout)) return 1;
    NativeExecutor native;
    std::unique_ptr<Executor> sim = make_sim_executor();
    if (!args.perturb_check) {
        DiffRunner runner(native, *sim, args.run, std::cout);
        const RunSummary summary = runner.run(all_forms());
        print_summary(summary, std::cout);
        return summary.failed == 0 && !summary.forms.empty() ? 0 : 1;
    }
    // Every 5th form gets one corrupted field in one state; mismatch output is expected.
    PerturbingExecutor perturbing(*sim, args.run.states, 5);
    RunOptions options = args.run;
    options.max_reports = 1;
    std::cout << "perturb check: the FAIL lines below are expected\n";
    DiffRunner runner(native, perturbing, options, std::cout);
    const RunSummary summary = runner.run(all_forms());
    print_summary(summary, std::cout);
    return check_perturbations(summary, perturbing.perturbations(), std::cout) ? 0 : 1;
}

}  // namespace
}  // namespace diff

int main(int argc, char** argv) {
    try {
        return diff::run(diff::parse_args(argc, argv));
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "diff: %s\n", e.what());
        std::fprintf(stderr, diff::kUsage, argv[0]);
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "diff: %s\n", e.what());
        return 2;
    }
}
