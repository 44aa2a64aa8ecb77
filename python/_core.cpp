// hvsim._core: the pybind11 extension module, one init function per layer (bind_*.cpp).
// Context: Python API edge; the pure-Python package hvsim wraps and re-exports it.
#include "bindings.h"

#ifndef HVSIM_VERSION
#define HVSIM_VERSION "unknown"
#endif

PYBIND11_MODULE(_core, m) {
    m.doc() = "hvsim's simulator core: machines, runs, counters, registers, memory and events.";
    m.attr("__version__") = HVSIM_VERSION;
    hvsim_py::init_config(m);
    auto machine = hvsim_py::init_machine(m);
    hvsim_py::init_registers(m, machine);
    hvsim_py::init_events(m, machine);
}
