// The protected-mode I/O permission check, shared by IN/OUT and INS/OUTS.
#pragma once
#include <cstdint>

namespace cpu {
class Core;
// False with #GP(0) pending when the access is not allowed.
bool io_allowed(Core& c, uint16_t port, unsigned size);
}  // namespace cpu
