// IN and OUT (immediate port and DX forms) with the protected-mode I/O permission check
// (SDM Vol. 1 19.5 "Protected-Mode I/O": CPL > IOPL or virtual-8086 mode consults the TSS
// I/O permission bit map). INS/OUTS are in cpu/isa/string.cpp.
#include "cpu/isa/io_permission.h"
#include "cpu/isa/operands.h"

namespace cpu {

bool io_allowed(Core& c, uint16_t port, unsigned size) {
    const State& s = c.state();
    const bool protected_mode = s.mode != Mode::real;
    const unsigned iopl = (s.rflags_other >> 12) & 3;
    if (!protected_mode || (s.mode != Mode::v8086 && s.cpl <= iopl)) return true;
    // The bit map base is the 16-bit field at TSS offset 102; every bit of the accessed ports
    // must be clear, and the bytes read must lie within the TSS limit.
    const auto deny = [&]() {
        c.raise_gp(0);
        return false;
    };
    if (s.tr.limit < 103) return deny();
    uint16_t base = 0;
    if (!c.read_system(s.tr.base + 102, &base, 2)) return false;
    const uint64_t byte = static_cast<uint64_t>(base) + port / 8;
    if (byte + 1 > s.tr.limit) return deny();
    uint16_t bits = 0;
    if (!c.read_system(s.tr.base + byte, &bits, 2)) return false;
    const unsigned mask = ((1u << size) - 1) << (port & 7);
    if (bits & mask) return deny();
    return true;
}

namespace {

enum class PortFrom : uint8_t { imm, dx };

template <PortFrom P>
inline uint16_t port_of(const Core& c, const Insn& i) {
    if constexpr (P == PortFrom::imm) return static_cast<uint16_t>(i.imm & 0xff);
    else return static_cast<uint16_t>(c.state().regs[rdx] & 0xffff);
}

template <PortFrom P, unsigned N>
Outcome in(Core& c, const Insn& i) {
    const uint16_t port = port_of<P>(c, i);
    if (!io_allowed(c, port, N)) return Outcome::fault;
    InterceptInfo x{Intercept::io, port, 0, 0, N,
                    static_cast<uint8_t>(intercept_flag::io_in | (P == PortFrom::imm ? intercept_flag::io_immediate : 0))};
    if (c.intercepted(i, x)) return Outcome::exit;
    c.set_reg<N>(rax, c.port_in(port, N));
    return Outcome::next;
}

template <PortFrom P, unsigned N>
Outcome out(Core& c, const Insn& i) {
    const uint16_t port = port_of<P>(c, i);
    if (!io_allowed(c, port, N)) return Outcome::fault;
    InterceptInfo x{Intercept::io, port, c.reg<N>(rax), 0, N,
                    P == PortFrom::imm ? intercept_flag::io_immediate : uint8_t{0}};
    if (c.intercepted(i, x)) return Outcome::exit;
    c.port_out(port, N, c.reg<N>(rax));
    return Outcome::next;
}

// IN: operand 0 is AL/AX/EAX, operand 1 the port; OUT: the other way round.
template <bool In>
bool build(const DecodeContext& c, Insn& i) {
    const unsigned port_op = In ? 1 : 0, data_op = In ? 0 : 1;
    const unsigned n = c.width(data_op);
    if (c.is_imm(port_op)) {
        i.imm = c.imm(port_op);
        i.fn = by_width(n, [](auto w) -> Handler {
            if constexpr (w.value == 8) return nullptr;
            else return In ? &in<PortFrom::imm, w.value> : &out<PortFrom::imm, w.value>;
        });
    } else {
        i.fn = by_width(n, [](auto w) -> Handler {
            if constexpr (w.value == 8) return nullptr;
            else return In ? &in<PortFrom::dx, w.value> : &out<PortFrom::dx, w.value>;
        });
    }
    return i.fn != nullptr;
}

}  // namespace

void register_io(Registry& r) {
    r.add(ZYDIS_MNEMONIC_IN, &build<true>);
    r.add(ZYDIS_MNEMONIC_OUT, &build<false>);
}

}  // namespace cpu
