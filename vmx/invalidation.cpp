// INVEPT and INVVPID (SDM Vol. 3C 31.3): checks and VMfail in the order of their pseudocode.
// hvsim's only translation cache is the core's software TLB, whose entries are tagged by
// translation context (VPID and EPTP, Core::vm_transition): every type flushes all of it, which
// invalidates at least what the type names (29.4.3 allows invalidating more).
// Context: instruction handlers (rare).
#include "mmu/ept.h"
#include "vmx/controls.h"
#include "vmx/vmx.h"

namespace vmx {

using cpu::Core;
using cpu::Insn;
using cpu::Outcome;

namespace {
constexpr uint32_t kInvalidOperand = 28;  // Table 31-1: invalid operand to INVEPT/INVVPID

bool canonical(uint64_t a) { return static_cast<uint64_t>(static_cast<int64_t>(a << 16) >> 16) == a; }
}  // namespace

// INVEPT r64, m128 / INVVPID r64, m128: the type in the register (64 bits in 64-bit mode,
// else 32), a 128-bit descriptor in memory.
Outcome Vmx::invept(Core& c, const Insn& i) {
    if (!supports(caps_, ControlField::proc2, proc2::enable_ept) || !((caps_.ept_vpid_cap >> 20) & 1))
        return c.raise_ud();
    Outcome o;
    if (!common_checks(c, i, ExitReason::invept, o)) return o;
    const uint64_t type = c.long64() ? c.reg<8>(i.reg) : c.reg<4>(i.reg);
    uint64_t descriptor[2];
    if (!c.read_bytes(i.seg, c.effective_address(i), descriptor, 16)) return Outcome::fault;
    // Types: 1 single-context (capability bit 25), 2 all-context (bit 26).
    const bool supported = (type == 1 && ((caps_.ept_vpid_cap >> 25) & 1)) || (type == 2 && ((caps_.ept_vpid_cap >> 26) & 1));
    if (!supported) return fail(c, kInvalidOperand);
    if (type == 1 && !mmu::eptp_valid(descriptor[0], ept_capabilities(caps_), (uint64_t{1} << caps_.maxphyaddr) - 1))
        return fail(c, kInvalidOperand);
    c.flush_tlb();
    return succeed(c);
}

Outcome Vmx::invvpid(Core& c, const Insn& i) {
    if (!supports(caps_, ControlField::proc2, proc2::enable_vpid) || !((caps_.ept_vpid_cap >> 32) & 1))
        return c.raise_ud();
    Outcome o;
    if (!common_checks(c, i, ExitReason::invvpid, o)) return o;
    const uint64_t type = c.long64() ? c.reg<8>(i.reg) : c.reg<4>(i.reg);
    uint64_t descriptor[2];
    if (!c.read_bytes(i.seg, c.effective_address(i), descriptor, 16)) return Outcome::fault;
    // Types 0 individual-address, 1 single-context, 2 all-context, 3 single-context retaining
    // globals: capability bits 40-43. Descriptor bits 63:16 are reserved.
    if (type > 3 || !((caps_.ept_vpid_cap >> (40 + type)) & 1)) return fail(c, kInvalidOperand);
    if (descriptor[0] >> 16) return fail(c, kInvalidOperand);
    const uint16_t vpid = static_cast<uint16_t>(descriptor[0]);
    if (type != 2 && vpid == 0) return fail(c, kInvalidOperand);
    if (type == 0 && !canonical(descriptor[1])) return fail(c, kInvalidOperand);
    c.flush_tlb();
    return succeed(c);
}

}  // namespace vmx
