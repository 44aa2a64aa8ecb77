// (being written) instruction family: misc.
#include "cpu/isa/operands.h"

namespace cpu {

void register_misc(Registry&) {}

}  // namespace cpu
