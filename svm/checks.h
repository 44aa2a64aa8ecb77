// The VMRUN consistency checks of AMD APM Vol. 2 15.5.1 "Basic Operation" ("Canonicalization and
// Consistency Checks"): an illegal guest state makes VMRUN #VMEXIT with VMEXIT_INVALID.
// Context: VMRUN, before any guest state is loaded.
#pragma once
#include "svm/presets.h"
#include "svm/vmcb.h"

namespace svm {

// The name of the first check the VMCB fails, or nullptr. `efer_allowed`, `cr4_allowed`: the
// bits the processor implements (MBZ / reserved bits are the others).
const char* vmrun_check_failure(const Vmcb& v, const Features& f, uint64_t efer_allowed,
                                uint64_t cr4_allowed);

// EVENTINJ is legal (15.20): a type the processor knows, and not an exception with vector 2.
bool event_injection_legal(uint64_t eventinj);

}  // namespace svm
