// (being written) instruction family: shift.
#include "cpu/isa/operands.h"

namespace cpu {

void register_shift(Registry&) {}

}  // namespace cpu
