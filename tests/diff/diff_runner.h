// The differential loop: for each form and each random state, the reference executor (the
// host CPU) against the executor under test, field by field. Context: host, harness only.
#pragma once
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "diff_state.h"
#include "executor.h"
#include "form.h"

namespace diff {

inline constexpr uint64_t kDefaultSeed = 0x5eed;

struct RunOptions {
    uint64_t seed = kDefaultSeed;
    unsigned states = 1000;      // per form
    std::string filter;          // substring of the form name or family; empty: all
    unsigned max_reports = 3;    // mismatching states printed per form
    unsigned trace = 0;          // print input and both results of the first N states per form
};

// One difference between two end states. `field` is one of: rax..r15, rip_offset, rflags,
// xmm0..xmm15, mxcsr, mem, fault; or "exception" when the executor under test threw.
struct FieldDiff {
    std::string field;
    std::string detail;  // "native 0x.. sim 0x.." and what differs
};

// Every compared field that differs (RFLAGS under rflags::compare_mask).
std::vector<FieldDiff> compare_states(const DiffState& expected, const DiffState& actual);

struct FormResult {
    const Form* form = nullptr;
    unsigned cases = 0;
    unsigned mismatches = 0;  // states whose end states differ
    unsigned faults = 0;      // states that raised an exception natively
    unsigned dropped = 0;     // #DE states replaced (Form::drop_de)
    std::vector<std::string> first_fields;  // field names of the first reported mismatch
};

struct RunSummary {
    std::vector<FormResult> forms;
    unsigned passed = 0, failed = 0;
    std::chrono::duration<double> generate_time{}, reference_time{}, subject_time{}, total_time{};
};

class DiffRunner {
public:
    DiffRunner(Executor& reference, Executor& subject, RunOptions options, std::ostream& out)
        : reference_(reference), subject_(subject), options_(std::move(options)), out_(out) {}

    // Runs every form matching the filter; prints mismatches as they happen.
    RunSummary run(std::span<const Form> forms);

private:
    FormResult run_form(const Form& form, RunSummary& summary);
    void report(const Form& form, unsigned index, const DiffState& in,
                const std::vector<FieldDiff>& diffs);
    void trace(const Form& form, unsigned index, const DiffState& in, const DiffState& expected,
               const DiffState& actual);

    Executor& reference_;
    Executor& subject_;
    RunOptions options_;
    std::ostream& out_;
};

bool matches_filter(const Form& form, const std::string& filter);

// Prints the GPRs, RIP offset, flags and fault of a state (xmm and memory are left out).
void print_state(const DiffState& s, std::ostream& out);

// Per-family counts, then the final "N passed, N failed" line (N = forms).
void print_summary(const RunSummary& summary, std::ostream& out);

// Wraps an executor and corrupts one field of one state in some forms: proof that the
// harness notices. Every `every`-th form run is perturbed, cycling through the fields.
class PerturbingExecutor final : public Executor {
public:
    PerturbingExecutor(Executor& inner, unsigned states, unsigned every)
        : inner_(inner), states_(states), every_(every) {}
    DiffState run(const Form& form, const DiffState& in) override;

    struct Perturbation {
        const Form* form;
        std::string field;  // as in FieldDiff::field
    };
    const std::vector<Perturbation>& perturbations() const { return done_; }

private:
    Executor& inner_;
    unsigned states_, every_;
    const Form* current_ = nullptr;
    unsigned form_number_ = 0, case_number_ = 0;
    std::vector<Perturbation> done_;
};

// Checks a run made through a PerturbingExecutor: exactly the perturbed forms failed, each on
// the perturbed field. Prints the verdict; true if the harness caught every perturbation.
bool check_perturbations(const RunSummary& summary,
                         const std::vector<PerturbingExecutor::Perturbation>& done,
                         std::ostream& out);

}  // namespace diff
