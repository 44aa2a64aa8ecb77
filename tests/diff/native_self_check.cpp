// The executor factory of the self-check build: the host CPU stands in for the simulator, so
// the whole pipeline runs (and must pass) before hvsim is linked in. Context: harness only.
#include "executor.h"
#include "native_runner.h"

namespace diff {

std::unique_ptr<Executor> make_sim_executor() { return std::make_unique<NativeExecutor>(); }

}  // namespace diff
