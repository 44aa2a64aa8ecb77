// (being written) instruction family: movx.
#include "cpu/isa/operands.h"

namespace cpu {

void register_movx(Registry&) {}

}  // namespace cpu
