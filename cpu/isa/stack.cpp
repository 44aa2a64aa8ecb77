// (being written) instruction family: stack.
#include "cpu/isa/operands.h"

namespace cpu {

void register_stack(Registry&) {}

}  // namespace cpu
