// (being written) instruction family: sse_int.
#include "cpu/isa/operands.h"

namespace cpu {

void register_sse_int(Registry&) {}

}  // namespace cpu
