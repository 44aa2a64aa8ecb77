// Runs one form on the host CPU: the reference of the differential test.
// Context: host user mode, single-threaded; owns fixed mappings and fault signal handlers.
#pragma once
#include "diff_state.h"
#include "executor.h"
#include "form.h"

namespace diff {

// The process-wide native runner. The first call maps the code region, the data page, the
// stack pages and the frame page at their fixed addresses (MAP_FIXED_NOREPLACE; throws
// std::runtime_error if any is taken) and installs handlers for SIGSEGV, SIGBUS, SIGILL,
// SIGFPE and SIGTRAP on an alternate stack. Faults outside the code region are not ours:
// the handler restores the default action and the process dies as it would have.
class NativeRunner {
public:
    static NativeRunner& instance();

    // Run `form` from `in`; throws std::invalid_argument if `in` has RFLAGS bits outside
    // rflags::base | rflags::random_mask or reserved MXCSR bits (they would upset the host).
    void run(const Form& form, const DiffState& in, DiffState& out);

    NativeRunner(const NativeRunner&) = delete;
    NativeRunner& operator=(const NativeRunner&) = delete;

private:
    NativeRunner();
    void load_code(const Form& form);

    const Form* loaded_ = nullptr;
};

// The host CPU as an Executor: the reference side of every comparison, and the "simulator"
// of native_self_check.cpp.
class NativeExecutor final : public Executor {
public:
    DiffState run(const Form& form, const DiffState& in) override;
};

}  // namespace diff
