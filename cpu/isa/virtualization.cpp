// The VMX and SVM instructions: decoded here, executed by the attached virtualization extension
// (cpu/virtualization.h). Without one the processor has neither VMX nor SVM and they are #UD,
// as on a part whose CPUID reports neither (SDM Vol. 3C 31.3 "VMX Instructions"; APM Vol. 3
// "VMRUN" ...). Context: instruction handlers (rare).
#include "cpu/isa/operands.h"

namespace cpu {
namespace {

Outcome virtualization_instruction(Core& c, const Insn& i) {
    Virtualization* v = c.virtualization();
    return v ? v->execute(c, i) : c.raise_ud();
}

// Operands for the extension: reg = the first register operand, rm = the second; aux bit k
// set when operand k is in memory (its addressing is in base/index/scale/disp/seg). VMX exit
// instruction information (SDM Vol. 3C 28.2.5) is built from these fields.
bool build(const DecodeContext& ctx, Insn& i) {
    unsigned registers = 0;
    for (unsigned k = 0; k < ctx.count() && k < 2; ++k) {
        if (ctx.is_mem(k)) i.aux |= static_cast<uint8_t>(1u << k);
        else if (ctx.is_gpr(k)) (registers++ == 0 ? i.reg : i.rm) = ctx.gpr(k);
    }
    i.fn = &virtualization_instruction;
    return true;
}

}  // namespace

void register_virtualization(Registry& r) {
    for (auto m : {ZYDIS_MNEMONIC_VMXON, ZYDIS_MNEMONIC_VMXOFF, ZYDIS_MNEMONIC_VMCLEAR,
                   ZYDIS_MNEMONIC_VMPTRLD, ZYDIS_MNEMONIC_VMPTRST, ZYDIS_MNEMONIC_VMREAD,
                   ZYDIS_MNEMONIC_VMWRITE, ZYDIS_MNEMONIC_VMLAUNCH, ZYDIS_MNEMONIC_VMRESUME,
                   ZYDIS_MNEMONIC_VMCALL, ZYDIS_MNEMONIC_VMFUNC, ZYDIS_MNEMONIC_INVEPT,
                   ZYDIS_MNEMONIC_INVVPID, ZYDIS_MNEMONIC_VMRUN, ZYDIS_MNEMONIC_VMLOAD,
                   ZYDIS_MNEMONIC_VMSAVE, ZYDIS_MNEMONIC_VMMCALL, ZYDIS_MNEMONIC_STGI,
                   ZYDIS_MNEMONIC_CLGI, ZYDIS_MNEMONIC_INVLPGA, ZYDIS_MNEMONIC_SKINIT})
        r.add(m, &build);
}

}  // namespace cpu
