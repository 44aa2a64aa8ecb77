// The builder registry and the operand-packing helpers every family uses.
#include "cpu/isa/registry.h"

#include "cpu/state.h"

namespace cpu {

void Registry::add(ZydisMnemonic m, Builder b) { table_.at(m).push_back(b); }

const std::vector<Builder>& Registry::builders(ZydisMnemonic m) const {
    static const std::vector<Builder> none;
    return m < table_.size() ? table_[m] : none;
}

const Registry& registry() {
    static const Registry r = [] {
        Registry reg;
        register_all(reg);
        return reg;
    }();
    return r;
}

uint8_t gpr_index(ZydisRegister r) {
    if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_BL) return static_cast<uint8_t>(r - ZYDIS_REGISTER_AL);
    if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH) return static_cast<uint8_t>(high8 | (r - ZYDIS_REGISTER_AH));
    if (r >= ZYDIS_REGISTER_SPL && r <= ZYDIS_REGISTER_R15B) return static_cast<uint8_t>(4 + r - ZYDIS_REGISTER_SPL);
    if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_R15W) return static_cast<uint8_t>(r - ZYDIS_REGISTER_AX);
    if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_R15D) return static_cast<uint8_t>(r - ZYDIS_REGISTER_EAX);
    if (r >= ZYDIS_REGISTER_RAX && r <= ZYDIS_REGISTER_R15) return static_cast<uint8_t>(r - ZYDIS_REGISTER_RAX);
    if (r == ZYDIS_REGISTER_RIP || r == ZYDIS_REGISTER_EIP || r == ZYDIS_REGISTER_IP) return reg_rip;
    return reg_none;
}

uint8_t segment_index(ZydisRegister r) {
    switch (r) {
        case ZYDIS_REGISTER_ES: return es;
        case ZYDIS_REGISTER_CS: return cs;
        case ZYDIS_REGISTER_SS: return ss;
        case ZYDIS_REGISTER_FS: return fs;
        case ZYDIS_REGISTER_GS: return gs;
        default: return ds;
    }
}

bool DecodeContext::is_gpr(unsigned k) const {
    if (!is_reg(k)) return false;
    const uint8_t g = gpr_index(ops[k].reg.value);
    return g < reg_none || (g & high8);  // AH..BH are high8 | 0..3
}

uint8_t DecodeContext::gpr(unsigned k) const { return gpr_index(ops[k].reg.value); }

uint8_t DecodeContext::xmm(unsigned k) const {
    return static_cast<uint8_t>(ops[k].reg.value - ZYDIS_REGISTER_XMM0);
}

void fill_common(const DecodeContext& ctx, Insn& out) {
    const auto& zi = ctx.zi;
    out.length = zi.length;
    out.mnemonic = static_cast<uint16_t>(zi.mnemonic);
    out.opsize = static_cast<uint8_t>(zi.operand_width / 8);
    out.adsize = static_cast<uint8_t>(zi.address_width / 8);
    uint8_t p = 0;
    if (zi.attributes & ZYDIS_ATTRIB_HAS_REP) p |= pfx::rep;
    if (zi.attributes & ZYDIS_ATTRIB_HAS_REPE) p |= pfx::rep;
    if (zi.attributes & ZYDIS_ATTRIB_HAS_REPNE) p |= pfx::repne;
    if (zi.attributes & ZYDIS_ATTRIB_HAS_LOCK) p |= pfx::lock;
    out.prefixes = p;
    for (unsigned k = 0; k < ctx.count(); ++k)
        if (ctx.is_mem(k) && ctx.op(k).mem.type != ZYDIS_MEMOP_TYPE_AGEN) fill_memory(ctx, k, out);
    for (unsigned k = 0; k < ctx.count(); ++k)
        if (ctx.is_mem(k) && ctx.op(k).mem.type == ZYDIS_MEMOP_TYPE_AGEN) fill_memory(ctx, k, out);
}

void fill_memory(const DecodeContext& ctx, unsigned k, Insn& out) {
    const auto& m = ctx.op(k).mem;
    out.base = gpr_index(m.base);
    out.index = gpr_index(m.index);
    out.scale = static_cast<uint8_t>(m.scale == 8 ? 3 : m.scale == 4 ? 2 : m.scale == 2 ? 1 : 0);
    out.seg = segment_index(m.segment);
    out.disp = m.disp.has_displacement ? m.disp.value : 0;
    // RIP-relative addresses count from the next instruction; regs[reg_rip] holds this one's.
    if (out.base == reg_rip) out.disp += ctx.zi.length;
}

}  // namespace cpu
