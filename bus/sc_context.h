// bus::ScContext: one private SystemC simulation context per machine, so that a process can
// build, run and destroy machine after machine. Context: SystemBus owns one; every entry point
// that touches SystemC (construction, binding, sc_start, b_transport) runs inside a Scope.
//
// Why this works (sysc/kernel/sc_simcontext.h): SystemC keeps its whole simulation state (object
// hierarchy, registries, time resolution, current time, scheduler, coroutines) in an
// sc_simcontext, and finds "the" context through the process global sc_curr_simcontext, read by
// sc_get_curr_simcontext(). Objects remember the context they were born in. So a fresh context
// made current while a machine is built and while it runs gives that machine its own hierarchy
// and its own elaboration, independent of machines built before it; after the objects of a
// context are destroyed, the context itself can be deleted.
#pragma once

#include <mutex>

namespace sc_core {
class sc_simcontext;
}

namespace bus {

class ScContext {
public:
    ScContext();
    ~ScContext();
    ScContext(const ScContext&) = delete;
    ScContext& operator=(const ScContext&) = delete;

    sc_core::sc_simcontext* get() const { return context_; }

    // Makes the context current for the lifetime of the scope and restores the previous one
    // after. Scopes nest (a machine built while another is current). A process-wide lock is held
    // meanwhile, because sc_curr_simcontext is one global: two threads driving two machines take
    // turns at SystemC instead of corrupting each other's context.
    class Scope {
    public:
        explicit Scope(const ScContext& context);
        ~Scope();
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;

    private:
        std::unique_lock<std::recursive_mutex> lock_;
        sc_core::sc_simcontext* previous_;
    };

private:
    sc_core::sc_simcontext* context_;
};

}  // namespace bus
