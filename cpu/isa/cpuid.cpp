// (being written) instruction family: cpuid.
#include "cpu/isa/operands.h"

namespace cpu {

void register_cpuid(Registry&) {}

}  // namespace cpu
