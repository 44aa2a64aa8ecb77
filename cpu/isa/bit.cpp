// (being written) instruction family: bit.
#include "cpu/isa/operands.h"

namespace cpu {

void register_bit(Registry&) {}

}  // namespace cpu
