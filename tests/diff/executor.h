// The narrow interface between the differential harness and whatever runs a case: the host
// CPU (NativeExecutor) or the simulator (implemented on the simulator side).
#pragma once
#include <cstdint>
#include <memory>
#include <span>

#include "diff_state.h"
#include "form.h"

namespace diff {

// Runs one form from one state and returns the end state. Contract for implementations:
//  - memory: the code region [kCodeBase, +kCodeSize) holds build_code_region(form); the data
//    page holds in.mem; the stack pages [kStackBase, +kStackSize) are mapped read/write (their
//    contents are never compared); nothing else is mapped. All identity-mapped, user level
//    (CPL 3), 64-bit mode, flat segments.
//  - registers: gpr, rflags, xmm and mxcsr from `in`; rip = kSnippetAddr.
//  - execute exactly the one instruction at kSnippetAddr, to completion (a REP string
//    instruction runs all its iterations), then report rip - kSnippetAddr as rip_offset.
//  - an exception ends the case: fault_vector = its vector and every other field is the state
//    the exception left (rip at the faulting instruction, partial REP progress, memory
//    written so far). No IDT, no delivery.
class Executor {
public:
    virtual ~Executor();
    virtual DiffState run(const Form& form, const DiffState& in) = 0;
};

// The executor under test. diff_main.cpp calls it; the simulator side defines it (and
// native_self_check.cpp defines it natively to check the harness itself).
std::unique_ptr<Executor> make_sim_executor();

// The code region's contents for a form: the instruction at kSnippetAddr, exit stubs at the
// fall-through and at each of kTargetOffsets (meaningful only natively), int3 elsewhere.
inline constexpr uint8_t kCodeFill = 0xcc;
void build_code_region(const Form& form, std::span<uint8_t, kCodeSize> region);

}  // namespace diff
