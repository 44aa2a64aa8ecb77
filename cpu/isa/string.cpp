// (being written) instruction family: string.
#include "cpu/isa/operands.h"

namespace cpu {

void register_string(Registry&) {}

}  // namespace cpu
