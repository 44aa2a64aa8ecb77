// The list of instruction families. A family is one file in cpu/isa/ with a register_*
// function; order matters only where two families share a mnemonic.
#include "cpu/isa/registry.h"

namespace cpu {

void register_alu(Registry&);
void register_mov(Registry&);
void register_branch(Registry&);
void register_io(Registry&);
void register_flagops(Registry&);

void register_all(Registry& r) {
    register_alu(r);
    register_mov(r);
    register_branch(r);
    register_io(r);
    register_flagops(r);
}

}  // namespace cpu
