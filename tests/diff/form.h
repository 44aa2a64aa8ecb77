// One instruction form of the differential test: its bytes and the rules its random states
// follow. The table itself is generated from forms.def by gen_forms.py.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

namespace diff {

// How a rule shapes the state (forms.def explains the syntax of each).
enum class RuleKind : uint8_t {
    ptr,          // gpr[reg] = kDataAddr + [lo, hi), aligned to `align`
    range,        // gpr[reg] = value in [lo, hi]
    target,       // gpr[reg] = kSnippetAddr + lo
    eq,           // gpr[reg] = gpr[src]
    sext,         // gpr[reg] = sign of the low `elem` bits of gpr[src] (0 or all ones)
    mem_target,   // 8 bytes at gpr[reg] + disp = kSnippetAddr + lo
    mem_flags,    // 8 bytes at gpr[reg] + disp = an RFLAGS image safe for POPF
    mem_eq,       // `elem` bytes of src (then of src2) at gpr[reg] + disp, sometimes altered
    mem_copy,     // `lo` elements of `elem` bytes copied from [gpr[src]] to [gpr[reg]]
    mem_pattern,  // `lo` elements equal to gpr[src]'s low `elem` bytes at [gpr[reg]]
};

inline constexpr uint8_t kNoReg = 0xff;
inline constexpr uint8_t kXmmReg = 16;  // src/src2 of kXmmReg + i name xmm i

struct Rule {
    RuleKind kind;
    uint8_t reg;     // the GPR set, or the base register of a memory rule
    uint8_t src;     // source register, kNoReg if none
    uint8_t src2;    // second source (mem_eq), kNoReg if none
    uint8_t bits;    // register rules set only these low bits; the bits above stay random
    uint8_t elem;    // element or value size in bytes (sext: in bits)
    bool half;       // applied to about half of the states only
    int32_t disp;    // memory rules: displacement from gpr[reg]
    int64_t lo, hi;  // see RuleKind
    int64_t align;
};

struct Form {
    std::string_view family;       // e.g. "alu", "string"
    std::string_view name;         // disassembly-like and unique, e.g. "adc ebx, ecx"
    std::span<const uint8_t> code;  // the instruction, placed at kSnippetAddr
    std::span<const Rule> rules;
    bool drop_de;  // replace states whose native run raises #DE instead of keeping them
};

// Every form of forms.def, in file order (generated forms_table.cpp).
std::span<const Form> all_forms();

}  // namespace diff
