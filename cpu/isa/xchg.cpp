// (being written) instruction family: xchg.
#include "cpu/isa/operands.h"

namespace cpu {

void register_xchg(Registry&) {}

}  // namespace cpu
