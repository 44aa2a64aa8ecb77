// hvsim._core: Machine (load, run, counters, memory, serial output), RunResult, LoadedImage.
// Context: Python API edge. run() releases the GIL; the machine is then used by one thread.
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "bindings.h"

namespace hvsim_py {

sim::Machine& MachineHandle::machine() {
    if (!machine_) throw std::runtime_error("this machine has been closed");
    if (running_) throw std::runtime_error("this machine is running (run() in another thread)");
    return *machine_;
}

void MachineHandle::close() {
    if (!machine_) return;  // closing twice is harmless, as for files
    machine();              // not while running
    machine_.reset();
}

MachineHandle::Busy::Busy(MachineHandle& h) : handle_(h) {
    if (handle_.running_.exchange(true))
        throw std::runtime_error("this machine is running (run() in another thread)");
}

namespace {

// The GIL is taken back between slices of a long run, so Ctrl-C (KeyboardInterrupt) works.
// A slice is a whole number of quanta: sliced and unsliced runs synchronise devices alike.
constexpr uint64_t kSliceInstructions = uint64_t{1} << 24;

std::string fspath(const py::object& path) {
    return py::module_::import("os").attr("fspath")(path).cast<std::string>();
}

sim::RunResult run(MachineHandle& h, uint64_t max_instructions) {
    sim::Machine& m = h.machine();
    MachineHandle::Busy busy(h);
    const uint64_t quantum = m.config().quantum;
    const uint64_t slice = std::max<uint64_t>(1, kSliceInstructions / quantum) * quantum;
    sim::RunResult total;
    for (;;) {
        uint64_t budget = slice;
        bool final_slice = false;
        if (max_instructions) {
            const uint64_t remaining = max_instructions - total.instructions;
            final_slice = remaining <= slice;
            budget = std::min(budget, remaining);
        }
        sim::RunResult r;
        {
            py::gil_scoped_release nogil;
            r = m.run(budget);
        }
        total.instructions += r.instructions;
        total.host_seconds += r.host_seconds;
        total.reason = r.reason;
        total.exit_status = r.exit_status;
        total.message = r.message;
        if (r.reason != sim::StopReason::instruction_limit || final_slice) break;
        if (PyErr_CheckSignals() != 0) {
            h.last_run = total;
            throw py::error_already_set();  // the machine stays resumable
        }
    }
    h.last_run = total;
    return total;
}

// Counters as numbers: integral values as int (they are counts), the rest as float.
py::dict stats(MachineHandle& h) {
    sim::FlatStats flat;
    h.machine().report(flat);
    py::dict d;
    for (const auto& [name, value] : flat.values) {
        if (value == std::floor(value) && std::fabs(value) < 9.0e15)
            d[py::str(name)] = py::int_(static_cast<long long>(value));
        else
            d[py::str(name)] = py::float_(value);
    }
    return d;
}

std::string range_text(uint64_t paddr, uint64_t size) {
    return "[0x" + cpu::hex(paddr) + ", 0x" + cpu::hex(paddr + size) + ")";
}

void check_ram(sim::Machine& m, const char* what, uint64_t paddr, uint64_t size) {
    const uint64_t ram = m.config().memory_bytes;
    if (paddr > ram || size > ram - paddr)
        throw py::value_error(std::string(what) + ": " + range_text(paddr, size) +
                              " is outside guest RAM [0x0, 0x" + cpu::hex(ram) + ")");
}

py::bytes read_memory(MachineHandle& h, uint64_t paddr, uint64_t size) {
    sim::Machine& m = h.machine();
    check_ram(m, "read_memory", paddr, size);
    py::bytes out(nullptr, size);
    char* data = PyBytes_AsString(out.ptr());
    if (size && !m.read_memory(paddr, data, size))
        throw py::value_error("read_memory: " + range_text(paddr, size) + " is not all RAM");
    return out;
}

void write_memory(MachineHandle& h, uint64_t paddr, const py::buffer& data) {
    sim::Machine& m = h.machine();
    const py::buffer_info info = data.request();
    if (info.ndim > 1) {
        const py::object contiguous = py::memoryview(data).attr("c_contiguous");
        if (!contiguous.cast<bool>()) throw py::value_error("write_memory: the data must be C-contiguous");
    }
    const uint64_t size = static_cast<uint64_t>(info.size) * static_cast<uint64_t>(info.itemsize);
    check_ram(m, "write_memory", paddr, size);
    if (size && !m.write_memory(paddr, info.ptr, size))
        throw py::value_error("write_memory: " + range_text(paddr, size) + " is not all RAM");
}

py::str serial_output(MachineHandle& h) {
    const std::string& s = h.machine().serial_output();
    return py::reinterpret_steal<py::str>(PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace"));
}

std::string run_result_repr(const sim::RunResult& r) {
    return "RunResult(stop_reason='" + std::string(sim::to_string(r.reason)) + "', exit_status=" +
           std::to_string(r.exit_status) + ", instructions=" + std::to_string(r.instructions) +
           ", message=" + std::string(py::repr(py::str(r.message))) + ")";
}

std::string machine_repr(MachineHandle& h) {
    if (h.closed()) return "<hvsim.Machine (closed)>";
    const sim::MachineConfig& c = h.machine_while_running().config();
    return "<hvsim.Machine " + std::string(cpu::to_string(c.vendor)) + ", " +
           std::to_string(c.memory_bytes >> 20) + " MiB, " + std::to_string(c.cpus) + " cpu>";
}

void bind_results(py::module_& m) {
    py::class_<sim::RunResult>(m, "RunResult", "What one Machine.run() call did.")
        .def_readonly("instructions", &sim::RunResult::instructions, "retired during this run, all processors")
        .def_readonly("host_seconds", &sim::RunResult::host_seconds)
        .def_property_readonly("mips", &sim::RunResult::mips, "guest instructions per host microsecond")
        .def_property_readonly("stop_reason", [](const sim::RunResult& r) { return std::string(sim::to_string(r.reason)); },
                               "'exit', 'instruction_limit', 'shutdown', 'halted', 'host_error', 'user'")
        .def_readonly("exit_status", &sim::RunResult::exit_status, "debug-exit status ((value << 1) | 1)")
        .def_readonly("message", &sim::RunResult::message, "why it stopped, one line")
        .def("__repr__", &run_result_repr);

    py::class_<sim::LoadedImage>(m, "LoadedImage", "Where a loader put an image.")
        .def_readonly("format", &sim::LoadedImage::format, "'multiboot', 'elf64' or 'flat'")
        .def_readonly("entry", &sim::LoadedImage::entry)
        .def_readonly("lowest", &sim::LoadedImage::lowest)
        .def_readonly("highest", &sim::LoadedImage::highest)
        .def("__repr__", [](const sim::LoadedImage& i) {
            return "LoadedImage(format='" + i.format + "', entry=0x" + cpu::hex(i.entry) + ")";
        });
}

}  // namespace

py::class_<MachineHandle> init_machine(py::module_& m) {
    bind_results(m);
    py::class_<MachineHandle> cls(m, "Machine", "A simulated PC: processors, bus, devices, run control.");
    cls.def(py::init([](const py::object& config, const py::kwargs& options) {
                if (!config.is_none() && !py::isinstance<sim::MachineConfig>(config))
                    throw py::type_error("config must be a MachineConfig or None");
                sim::MachineConfig c = config.is_none() ? python_defaults() : config.cast<sim::MachineConfig>();
                apply_options(c, options);
                return std::make_unique<MachineHandle>(c);
            }),
            py::arg("config") = py::none(),
            "Machine(config=None, **options): options as MachineConfig's, applied over config.")
        .def_property_readonly("config", [](MachineHandle& h) { return h.machine().config(); })
        .def("load_kernel", [](MachineHandle& h, const py::object& path, const std::string& cmdline) {
                 return h.machine().load_kernel(fspath(path), cmdline);
             },
             py::arg("path"), py::arg("cmdline") = "", "Load an ELF64 or multiboot image; the boot CPU enters it.")
        .def("load_flat", [](MachineHandle& h, const py::object& path, uint64_t address) {
                 return h.machine().load_flat(fspath(path), address);
             },
             py::arg("path"), py::arg("address"), "Load a raw binary below 1 MiB; the boot CPU runs it in real mode.")
        .def("run", &run, py::arg("max_instructions") = 0,
             "Run until exit, shutdown, halt or max_instructions (0: no limit); call again to continue.")
        .def("stats", &stats, "Every counter of every component, flattened: {'cpu0.instructions': n, ...}.")
        .def("stats_json", [](MachineHandle& h) { return h.machine().stats_json(h.last_run); },
             "The CLI's --stats object (totals, last stop reason, counters) as a JSON string.")
        .def_property_readonly("serial_output", &serial_output, "COM1 output so far (serial='capture')")
        .def_property_readonly("serial_bytes", [](MachineHandle& h) { return py::bytes(h.machine().serial_output()); },
                               "COM1 output so far as bytes (serial='capture')")
        .def("read_memory", &read_memory, py::arg("paddr"), py::arg("size"), "Guest-physical RAM -> bytes.")
        .def("write_memory", &write_memory, py::arg("paddr"), py::arg("data"),
             "Write bytes (any buffer) to guest-physical RAM.")
        .def_property_readonly("memory_size", [](MachineHandle& h) { return h.machine().config().memory_bytes; })
        .def_property_readonly("cpu_count", [](MachineHandle& h) { return h.machine().cpu_count(); })
        .def_property_readonly("closed", &MachineHandle::closed)
        .def("close", &MachineHandle::close, "Free the machine now (later calls raise RuntimeError).")
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](MachineHandle& h, const py::args&) { h.close(); })
        .def("__repr__", &machine_repr);
    return cls;
}

}  // namespace hvsim_py
