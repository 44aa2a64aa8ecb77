// The list of instruction families. A family is one file in cpu/isa/ with a register_*
// function; order matters only where two families share a mnemonic.
#include "cpu/isa/registry.h"

namespace cpu {

void register_alu(Registry&);
void register_mov(Registry&);
void register_branch(Registry&);
void register_io(Registry&);
void register_flagops(Registry&);
void register_incdec(Registry&);
void register_shift(Registry&);
void register_muldiv(Registry&);
void register_bit(Registry&);
void register_bmi(Registry&);
void register_movx(Registry&);
void register_xchg(Registry&);
void register_stack(Registry&);
void register_call(Registry&);
void register_string(Registry&);
void register_interrupt(Registry&);
void register_cpuid(Registry&);
void register_misc(Registry&);
void register_sse_move(Registry&);
void register_sse_int(Registry&);
void register_fxsave(Registry&);
void register_x87_control(Registry&);
void register_segment_regs(Registry&);
void register_descriptor_tables(Registry&);
void register_control_regs(Registry&);
void register_msr(Registry&);
void register_far(Registry&);
void register_syscall(Registry&);
void register_cache_tlb(Registry&);
void register_virtualization(Registry&);

void register_all(Registry& r) {
    register_alu(r);
    register_mov(r);
    register_branch(r);
    register_io(r);
    register_flagops(r);
    register_incdec(r);
    register_shift(r);
    register_muldiv(r);
    register_bit(r);
    register_bmi(r);
    register_movx(r);
    register_xchg(r);
    register_stack(r);
    register_call(r);
    register_string(r);
    register_interrupt(r);
    register_cpuid(r);
    register_misc(r);
    register_sse_move(r);
    register_sse_int(r);
    register_fxsave(r);
    register_x87_control(r);
    register_segment_regs(r);
    register_descriptor_tables(r);
    register_control_regs(r);
    register_msr(r);
    register_far(r);
    register_syscall(r);
    register_cache_tlb(r);
    register_virtualization(r);
}

}  // namespace cpu
