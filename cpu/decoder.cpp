// Zydis -> Insn. Context: block building (slow path).
#include "cpu/decoder.h"

#include <Zydis/Zydis.h>

#include <cstring>

#include "cpu/core.h"
#include "cpu/isa/registry.h"

namespace cpu {
namespace {

struct Decoders {
    ZydisDecoder d16, d32, d64;
    Decoders() {
        ZydisDecoderInit(&d16, ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16);
        ZydisDecoderInit(&d32, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
        ZydisDecoderInit(&d64, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    }
    const ZydisDecoder& for_bits(unsigned bits) const {
        return bits == 64 ? d64 : bits == 32 ? d32 : d16;
    }
};

const Decoders& decoders() {
    static const Decoders d;
    return d;
}

// Instructions after which the block must end: control transfers and anything that can
// change the mode, the paging structures' interpretation or the interrupt state.
bool ends_block(const ZydisDecodedInstruction& zi) {
    switch (zi.meta.category) {
        case ZYDIS_CATEGORY_COND_BR:
        case ZYDIS_CATEGORY_UNCOND_BR:
        case ZYDIS_CATEGORY_CALL:
        case ZYDIS_CATEGORY_RET:
        case ZYDIS_CATEGORY_INTERRUPT:
        case ZYDIS_CATEGORY_SYSCALL:
        case ZYDIS_CATEGORY_SYSRET:
        case ZYDIS_CATEGORY_SYSTEM:
        case ZYDIS_CATEGORY_VTX:
        case ZYDIS_CATEGORY_FLAGOP:
        case ZYDIS_CATEGORY_SEGOP:
            return true;
        default:
            return false;
    }
}

uint64_t first_bytes(const uint8_t* bytes, size_t n) {
    uint64_t v = 0;
    std::memcpy(&v, bytes, n < 8 ? n : 8);
    return v;
}

}  // namespace

DecodeResult decode(const uint8_t* bytes, size_t available, unsigned code_bits, Insn& out) {
    ZydisDecodedInstruction zi;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    const ZyanStatus st = ZydisDecoderDecodeFull(&decoders().for_bits(code_bits), bytes, available, &zi, ops);
    out = Insn{};
    if (st == ZYDIS_STATUS_NO_MORE_DATA) return {available >= 15 ? DecodeStatus::invalid : DecodeStatus::need_more, true};
    if (!ZYAN_SUCCESS(st)) {
        // Length is unknown for an invalid encoding; #UD is raised before anything retires.
        out.fn = &raise_invalid_opcode;
        out.length = 1;
        out.imm = first_bytes(bytes, available);
        return {DecodeStatus::invalid, true};
    }
    const DecodeContext ctx{zi, ops, code_bits};
    for (Builder b : registry().builders(zi.mnemonic)) {
        Insn candidate{};
        fill_common(ctx, candidate);
        if (b(ctx, candidate)) {
            out = candidate;
            return {DecodeStatus::ok, ends_block(zi)};
        }
    }
    fill_common(ctx, out);
    out.fn = &raise_unimplemented;
    out.imm = first_bytes(bytes, zi.length);
    return {DecodeStatus::unimplemented, true};
}

Outcome raise_invalid_opcode(Core& core, const Insn&) { return core.raise_ud(); }

Outcome raise_unimplemented(Core& core, const Insn& i) { return core.unimplemented(i); }

}  // namespace cpu
