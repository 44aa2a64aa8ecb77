// (being written) instruction family: interrupt.
#include "cpu/isa/operands.h"

namespace cpu {

void register_interrupt(Registry&) {}

}  // namespace cpu
