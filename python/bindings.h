// What the binding files of hvsim._core share: the Python-side owner of a sim::Machine and
// one init function per layer (config, machine, registers, events), as gem5's pybind11 files.
// Context: the Python API edge; logic stays in sim/ and in the pure-Python package.
#pragma once
#include <pybind11/pybind11.h>

#include <atomic>
#include <memory>

#include "sim/machine/machine.h"

namespace hvsim_py {

namespace py = pybind11;

class Recorder;  // bind_events.cpp

// Owns the machine for Python: remembers the last run (for stats_json) and refuses calls
// while run() is executing without the GIL in another thread, or after close().
class MachineHandle {
public:
    explicit MachineHandle(const sim::MachineConfig& config)
        : machine_(std::make_unique<sim::Machine>(config)) {}

    sim::Machine& machine();  // the machine, idle; RuntimeError when closed or running
    sim::Machine& machine_while_running() { return *machine_; }  // run() only
    void close();
    bool closed() const { return !machine_; }
    bool running() const { return running_; }

    // Marks the machine busy for the lifetime of the guard (run() holds one).
    class Busy {
    public:
        explicit Busy(MachineHandle& h);
        ~Busy() { handle_.running_ = false; }
        Busy(const Busy&) = delete;
        Busy& operator=(const Busy&) = delete;

    private:
        MachineHandle& handle_;
    };

    sim::RunResult last_run;
    std::shared_ptr<Recorder> default_recorder;  // the one take_events() reads

private:
    std::unique_ptr<sim::Machine> machine_;
    std::atomic<bool> running_{false};
};

// Applies keyword options (vendor='amd', memory='64M', ...) to a configuration; TypeError for
// an unknown option, ConfigError for a bad value.
void apply_options(sim::MachineConfig& config, const py::kwargs& options);
sim::MachineConfig python_defaults();  // serial 'none': a Python session keeps its stdout

void init_config(py::module_& m);
py::class_<MachineHandle> init_machine(py::module_& m);
void init_registers(py::module_& m, py::class_<MachineHandle>& machine);
void init_events(py::module_& m, py::class_<MachineHandle>& machine);

}  // namespace hvsim_py
