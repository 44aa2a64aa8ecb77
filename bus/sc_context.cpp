// Creating, switching and deleting SystemC simulation contexts (see sc_context.h for why).
// Context: machine construction and destruction, and every device access (Scope).
#include "bus/sc_context.h"

#include <cstdlib>
#include <systemc>

// libsystemc.so refers to sc_main; bus/sc_main.cpp defines it. Referring to it from here pulls
// that object out of the static library into every program that uses a SystemBus.
[[gnu::used]] static int (*const keep_sc_main)(int, char*[]) = &sc_main;

namespace bus {

namespace {

std::recursive_mutex& systemc_lock() {
    static std::recursive_mutex lock;
    return lock;
}

}  // namespace

ScContext::ScContext() {
    // SystemC prints a copyright banner on stderr when a simulation is first initialised;
    // hvsim prints only through output sinks. A user who set the variable keeps their value.
    static std::once_flag quiet;
    std::call_once(quiet, [] { setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0); });
    std::lock_guard guard(systemc_lock());
    context_ = new sc_core::sc_simcontext;
}

ScContext::~ScContext() {
    // The context's destructor frees its registries and coroutine package; let anything it
    // runs see this context as current, as it was while its objects lived. Never leave the
    // global pointing at the freed context (the next sc_get_curr_simcontext() would use it).
    std::lock_guard guard(systemc_lock());
    sc_core::sc_simcontext* previous = sc_core::sc_curr_simcontext;
    sc_core::sc_curr_simcontext = context_;
    delete context_;
    sc_core::sc_curr_simcontext = previous == context_ ? nullptr : previous;
}

ScContext::Scope::Scope(const ScContext& context)
    : lock_(systemc_lock()), previous_(sc_core::sc_curr_simcontext) {
    sc_core::sc_curr_simcontext = context.context_;
}

ScContext::Scope::~Scope() {
    sc_core::sc_curr_simcontext = previous_;
}

}  // namespace bus
