// (being written) instruction family: sse_move.
#include "cpu/isa/operands.h"

namespace cpu {

void register_sse_move(Registry&) {}

}  // namespace cpu
