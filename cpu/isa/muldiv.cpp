// (being written) instruction family: muldiv.
#include "cpu/isa/operands.h"

namespace cpu {

void register_muldiv(Registry&) {}

}  // namespace cpu
