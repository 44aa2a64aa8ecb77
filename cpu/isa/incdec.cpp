// (being written) instruction family: incdec.
#include "cpu/isa/operands.h"

namespace cpu {

void register_incdec(Registry&) {}

}  // namespace cpu
