// (being written) instruction family: call.
#include "cpu/isa/operands.h"

namespace cpu {

void register_call(Registry&) {}

}  // namespace cpu
