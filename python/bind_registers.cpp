// hvsim._core: processor registers by name (Machine.get_register / set_register / registers).
// Context: Python API edge, between runs. Names follow the SDM; general registers in x86
// encoding order, as cpu::State keeps them.
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings.h"

namespace hvsim_py {
namespace {

enum class Field : uint8_t {
    gpr, rip, rflags, cr0, cr2, cr3, cr4, cr8, efer, xcr0, dr, mxcsr, cpl,
    selector, base, limit, attributes, table_base, table_limit,
};

struct Register {
    std::string name;
    Field field;
    unsigned index;  // general register, debug register, segment (seg_count: ldtr, +1: tr), table
    unsigned bits;
};

constexpr unsigned kLdtr = cpu::seg_count, kTr = cpu::seg_count + 1, kGdtr = 0, kIdtr = 1;

std::vector<Register> make_registers() {
    std::vector<Register> r;
    const char* gprs[] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                          "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
    for (unsigned i = 0; i < 16; ++i) r.push_back({gprs[i], Field::gpr, i, 64});
    r.push_back({"rip", Field::rip, 0, 64});
    r.push_back({"rflags", Field::rflags, 0, 64});
    for (auto [name, f] : {std::pair{"cr0", Field::cr0}, {"cr2", Field::cr2}, {"cr3", Field::cr3},
                           {"cr4", Field::cr4}, {"cr8", Field::cr8}, {"efer", Field::efer}, {"xcr0", Field::xcr0}})
        r.push_back({name, f, 0, 64});
    for (unsigned i : {0u, 1u, 2u, 3u, 6u, 7u}) r.push_back({"dr" + std::to_string(i), Field::dr, i, 64});
    r.push_back({"mxcsr", Field::mxcsr, 0, 32});
    r.push_back({"cpl", Field::cpl, 0, 2});
    const char* segs[] = {"es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr"};
    for (unsigned i = 0; i < 8; ++i) {
        const std::string s = segs[i];
        r.push_back({s, Field::selector, i, 16});
        r.push_back({s + "_base", Field::base, i, 64});
        r.push_back({s + "_limit", Field::limit, i, 32});
        r.push_back({s + "_attr", Field::attributes, i, 32});
    }
    for (auto [name, i] : {std::pair{"gdtr", kGdtr}, {"idtr", kIdtr}}) {
        r.push_back({std::string(name) + "_base", Field::table_base, i, 64});
        r.push_back({std::string(name) + "_limit", Field::table_limit, i, 16});
    }
    return r;
}

const std::vector<Register>& registers() {
    static const std::vector<Register> table = make_registers();
    return table;
}

const Register& find(const std::string& name) {
    for (const Register& r : registers())
        if (r.name == name) return r;
    throw py::key_error("unknown register '" + name +
                        "' (general registers rax..r15, rip, rflags, cr0, cr2, cr3, cr4, cr8, efer, "
                        "dr0..dr7, segments cs/ds/.. with _base/_limit/_attr, gdtr_base ...; "
                        "hvsim.register_names() lists them)");
}

cpu::Segment& segment(cpu::State& s, unsigned i) {
    return i == kLdtr ? s.ldtr : i == kTr ? s.tr : s.seg[i];
}

cpu::TableRegister& table(cpu::State& s, unsigned i) { return i == kGdtr ? s.gdtr : s.idtr; }

uint64_t get(cpu::State& s, const Register& r) {
    switch (r.field) {
        case Field::gpr: return s.regs[r.index];
        case Field::rip: return s.rip();
        case Field::rflags: return s.rflags();
        case Field::cr0: return s.cr0;
        case Field::cr2: return s.cr2;
        case Field::cr3: return s.cr3;
        case Field::cr4: return s.cr4;
        case Field::cr8: return s.cr8;
        case Field::efer: return s.efer;
        case Field::xcr0: return s.xcr0;
        case Field::dr: return s.dr[r.index];
        case Field::mxcsr: return s.mxcsr;
        case Field::cpl: return s.cpl;
        case Field::selector: return segment(s, r.index).selector;
        case Field::base: return segment(s, r.index).base;
        case Field::limit: return segment(s, r.index).limit;
        case Field::attributes: return segment(s, r.index).attributes;
        case Field::table_base: return table(s, r.index).base;
        case Field::table_limit: return table(s, r.index).limit;
    }
    return 0;
}

// Writes the field as given (no architectural checks: this is a debugger's write). A segment
// selector written in real mode also sets the base, as MOV Sreg does there (SDM 20.1.1).
void set(cpu::Core& core, const Register& r, uint64_t v) {
    cpu::State& s = core.state();
    switch (r.field) {
        case Field::gpr: s.regs[r.index] = v; return;
        case Field::rip: s.rip() = v; return;
        case Field::rflags: s.set_rflags(v); break;
        case Field::cr0: s.cr0 = v; break;
        case Field::cr2: s.cr2 = v; return;
        case Field::cr3: s.cr3 = v; break;
        case Field::cr4: s.cr4 = v; break;
        case Field::cr8: s.cr8 = v; return;
        case Field::efer: s.efer = v; break;
        case Field::xcr0: s.xcr0 = v; return;
        case Field::dr: s.dr[r.index] = v; return;
        case Field::mxcsr: s.mxcsr = static_cast<uint32_t>(v); return;
        case Field::cpl: s.cpl = static_cast<uint8_t>(v); break;
        case Field::selector:
            segment(s, r.index).selector = static_cast<uint16_t>(v);
            if (r.index < cpu::seg_count && (s.mode == cpu::Mode::real || s.mode == cpu::Mode::v8086))
                segment(s, r.index).base = v << 4;
            break;
        case Field::base: segment(s, r.index).base = v; break;
        case Field::limit: segment(s, r.index).limit = static_cast<uint32_t>(v); break;
        case Field::attributes: segment(s, r.index).attributes = static_cast<uint32_t>(v); break;
        case Field::table_base: table(s, r.index).base = v; break;
        case Field::table_limit: table(s, r.index).limit = static_cast<uint32_t>(v); break;
    }
    // Mode, segment caches and translations derive from what changed.
    core.refresh_mode();
    core.flush_tlb();
}

// An int that fits the register: unsigned, or (for 64-bit registers) negative two's complement.
uint64_t value_for(const Register& r, const py::object& value) {
    if (!py::isinstance<py::int_>(value) || py::isinstance<py::bool_>(value))
        throw py::type_error("register '" + r.name + "' takes an int");
    const auto misfit = [&] {
        return py::value_error("value " + std::string(py::str(value)) + " does not fit the " +
                               std::to_string(r.bits) + "-bit register '" + r.name + "'");
    };
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (overflow == 0) {
        if (v < 0 ? r.bits < 64 : r.bits < 64 && static_cast<uint64_t>(v) >> r.bits) throw misfit();
        return static_cast<uint64_t>(v);
    }
    if (overflow < 0 || r.bits < 64) throw misfit();
    const unsigned long long u = PyLong_AsUnsignedLongLong(value.ptr());
    if (PyErr_Occurred()) {
        PyErr_Clear();
        throw misfit();
    }
    return u;
}

cpu::Core& core_of(MachineHandle& h, unsigned cpu_index) {
    sim::Machine& m = h.machine();
    if (cpu_index >= m.cpu_count())
        throw py::index_error("cpu " + std::to_string(cpu_index) + " does not exist (this machine has " +
                              std::to_string(m.cpu_count()) + ")");
    return m.cpu(cpu_index);
}

const char* mode_name(cpu::Mode m) {
    switch (m) {
        case cpu::Mode::real: return "real";
        case cpu::Mode::v8086: return "v8086";
        case cpu::Mode::protected16: return "protected16";
        case cpu::Mode::protected32: return "protected32";
        case cpu::Mode::compat16: return "compat16";
        case cpu::Mode::compat32: return "compat32";
        case cpu::Mode::long64: return "long64";
    }
    return "unknown";
}

}  // namespace

void init_registers(py::module_& m, py::class_<MachineHandle>& machine) {
    m.def("register_names", [] {
        std::vector<std::string> names;
        for (const Register& r : registers()) names.push_back(r.name);
        return names;
    }, "Names accepted by Machine.get_register / set_register, in a stable order.");

    machine
        .def("get_register", [](MachineHandle& h, const std::string& name, unsigned cpu_index) {
                 return get(core_of(h, cpu_index).state(), find(name));
             },
             py::arg("name"), py::arg("cpu") = 0, "A register's value as an unsigned int; KeyError if unknown.")
        .def("set_register", [](MachineHandle& h, const std::string& name, const py::object& value, unsigned cpu_index) {
                 const Register& r = find(name);
                 set(core_of(h, cpu_index), r, value_for(r, value));
             },
             py::arg("name"), py::arg("value"), py::arg("cpu") = 0,
             "Set a register (no architectural checks; a real-mode selector also sets its base).")
        .def("registers", [](MachineHandle& h, unsigned cpu_index) {
                 cpu::State& s = core_of(h, cpu_index).state();
                 py::dict d;
                 for (const Register& r : registers()) d[py::str(r.name)] = get(s, r);
                 return d;
             },
             py::arg("cpu") = 0, "Every named register: {'rax': ..., 'rip': ..., ...}.")
        .def("cpu_mode", [](MachineHandle& h, unsigned cpu_index) {
                 return std::string(mode_name(core_of(h, cpu_index).state().mode));
             },
             py::arg("cpu") = 0, "'real', 'v8086', 'protected16/32', 'compat16/32' or 'long64'.");
}

}  // namespace hvsim_py
