// hvsim._core: MachineConfig, ConfigError and the configuration helpers of sim/machine.
// Context: Python API edge. Values are parsed by sim/machine/config.h, as for the CLI.
#include <pybind11/stl.h>

#include <string>

#include "bindings.h"
#include "sim/machine/demo.h"

namespace hvsim_py {
namespace {

uint64_t to_u64(const py::handle& value, const char* option) {
    if (!py::isinstance<py::int_>(value) || py::isinstance<py::bool_>(value))
        throw py::type_error(std::string(option) + " must be an int, not " +
                             std::string(py::str(py::type::of(value).attr("__name__"))));
    if (value.cast<py::int_>() < py::int_(0))
        throw sim::ConfigError(std::string(option) + " must not be negative");
    return value.cast<uint64_t>();
}

std::string to_str(const py::handle& value, const char* option) {
    if (!py::isinstance<py::str>(value))
        throw py::type_error(std::string(option) + " must be a str, not " +
                             std::string(py::str(py::type::of(value).attr("__name__"))));
    return value.cast<std::string>();
}

struct Option {
    const char* name;
    void (*set)(sim::MachineConfig&, const py::handle&);
};

// The knobs of sim::MachineConfig under their Python names, in the order of the docs.
const Option kOptions[] = {
    {"vendor", [](sim::MachineConfig& c, const py::handle& v) { c.vendor = sim::parse_vendor(to_str(v, "vendor")); }},
    {"memory", [](sim::MachineConfig& c, const py::handle& v) {
         c.memory_bytes = py::isinstance<py::str>(v) ? sim::parse_size(v.cast<std::string>()) : to_u64(v, "memory");
     }},
    {"cpus", [](sim::MachineConfig& c, const py::handle& v) {
         const uint64_t n = to_u64(v, "cpus");
         if (n == 0 || n > 255) throw sim::ConfigError("cpus must be between 1 and 255");
         c.cpus = static_cast<unsigned>(n);
     }},
    {"serial", [](sim::MachineConfig& c, const py::handle& v) {
         const std::string s = to_str(v, "serial");
         if (s.empty()) throw sim::ConfigError("serial must be 'none', 'capture', 'stdio' or a file path");
         c.serial = s;
     }},
    {"quantum", [](sim::MachineConfig& c, const py::handle& v) { c.quantum = to_u64(v, "quantum"); }},
    {"virtualization", [](sim::MachineConfig& c, const py::handle& v) { c.virtualization = to_str(v, "virtualization"); }},
    {"count_mnemonics", [](sim::MachineConfig& c, const py::handle& v) {
         if (!py::isinstance<py::bool_>(v)) throw py::type_error("count_mnemonics must be a bool");
         c.count_mnemonics = v.cast<bool>();
     }},
    {"cycle_period_ps", [](sim::MachineConfig& c, const py::handle& v) {
         c.cycle_period_ps = to_u64(v, "cycle_period_ps");
         if (c.cycle_period_ps == 0) throw sim::ConfigError("cycle_period_ps must be at least 1");
     }},
};

std::string option_names() {
    std::string s;
    for (const Option& o : kOptions) s += std::string(s.empty() ? "" : ", ") + o.name;
    return s;
}

const Option& option(const std::string& name) {
    for (const Option& o : kOptions)
        if (name == o.name) return o;
    throw py::type_error("unknown machine option '" + name + "' (options: " + option_names() + ")");
}

std::string repr(const sim::MachineConfig& c) {
    return "MachineConfig(vendor='" + std::string(cpu::to_string(c.vendor)) + "', memory=" +
           std::to_string(c.memory_bytes) + ", cpus=" + std::to_string(c.cpus) + ", serial=" +
           std::string(py::repr(py::str(c.serial))) + ", quantum=" + std::to_string(c.quantum) +
           ", count_mnemonics=" + (c.count_mnemonics ? "True" : "False") +
           ", cycle_period_ps=" + std::to_string(c.cycle_period_ps) + ")";
}

template <class Get>
void property(py::class_<sim::MachineConfig>& cls, const char* name, Get get, const char* doc) {
    const Option& o = option(name);
    cls.def_property(name, get, [&o](sim::MachineConfig& c, const py::object& v) { o.set(c, v); }, doc);
}

}  // namespace

sim::MachineConfig python_defaults() {
    sim::MachineConfig c;
    c.serial = "none";
    return c;
}

void apply_options(sim::MachineConfig& config, const py::kwargs& options) {
    for (const auto& [key, value] : options) option(key.cast<std::string>()).set(config, value);
}

void init_config(py::module_& m) {
    py::register_exception<sim::ConfigError>(m, "ConfigError", PyExc_ValueError);

    py::class_<sim::MachineConfig> cls(m, "MachineConfig",
        "What a machine is made of. Keyword arguments as the properties; the CLI's flags.");
    cls.def(py::init([](const py::kwargs& options) {
                sim::MachineConfig c = python_defaults();
                apply_options(c, options);
                return c;
            }),
            "MachineConfig(vendor='intel', memory='64M', cpus=1, serial='none', quantum=10000, "
            "count_mnemonics=False, cycle_period_ps=1000)");
    property(cls, "vendor", [](const sim::MachineConfig& c) { return std::string(cpu::to_string(c.vendor)); },
             "'intel' or 'amd'");
    property(cls, "memory", [](const sim::MachineConfig& c) { return c.memory_bytes; },
             "guest RAM in bytes; set as an int or a size string such as '64M', '1G'");
    property(cls, "cpus", [](const sim::MachineConfig& c) { return c.cpus; }, "logical processors");
    property(cls, "serial", [](const sim::MachineConfig& c) { return c.serial; },
             "COM1 output: 'none', 'capture' (Machine.serial_output), 'stdio' or a file path");
    property(cls, "quantum", [](const sim::MachineConfig& c) { return c.quantum; },
             "instructions a processor runs before devices catch up");
    property(cls, "virtualization", [](const sim::MachineConfig& c) { return c.virtualization; },
             "hardware virtualization preset (VMX on intel, SVM on amd), or 'none'");
    property(cls, "count_mnemonics", [](const sim::MachineConfig& c) { return c.count_mnemonics; },
             "count retired instructions per mnemonic (every counter on)");
    property(cls, "cycle_period_ps", [](const sim::MachineConfig& c) { return c.cycle_period_ps; },
             "one processor cycle in picoseconds of device time (1000: 1 GHz)");
    cls.def("__repr__", &repr);
    cls.def("__copy__", [](const sim::MachineConfig& c) { return c; });
    cls.def("replace", [](const sim::MachineConfig& c, const py::kwargs& options) {
                sim::MachineConfig copy = c;
                apply_options(copy, options);
                return copy;
            },
            "A copy with the given options changed.");

    m.def("option_names", [] {
        std::vector<std::string> names;
        for (const Option& o : kOptions) names.emplace_back(o.name);
        return names;
    }, "The keyword options of MachineConfig and Machine.");
    m.def("parse_size", &sim::parse_size, py::arg("text"), "'64M' -> 67108864 (K, M, G suffixes).");
    m.def("find_guest_image", &sim::find_guest_image, py::arg("name"),
          "Path of a guest image built by meson (installed copy first, then the build tree).");
}

}  // namespace hvsim_py
