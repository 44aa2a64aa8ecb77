// (being written) instruction family: fxsave.
#include "cpu/isa/operands.h"

namespace cpu {

void register_fxsave(Registry&) {}

}  // namespace cpu
