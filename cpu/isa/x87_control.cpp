// (being written) instruction family: x87_control.
#include "cpu/isa/operands.h"

namespace cpu {

void register_x87_control(Registry&) {}

}  // namespace cpu
