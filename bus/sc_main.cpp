// sc_main for the SystemC library's sake. Context: link and load time only.
//
// libsystemc.so has an undefined reference to sc_main (its own main() and sc_elab_and_sim()
// call it), so every program and shared object that loads the library must define the symbol:
// the hvsim CLI, the tests and the Python extension. hvsim never calls it: SystemBus creates
// its own simulation contexts and drives sc_start itself. Default visibility, because the
// Python extension is built with hidden visibility and the loader must find the symbol there.
//
// libsystemc.so also defines main() (which calls sc_main). A program whose main() comes from an
// archive listed after -lsystemc, such as gtest_main, gets SystemC's main instead and ends up
// here: such programs must define main() in their own objects (tests/unit/bus/test_main.cpp).
#include <cstdio>
#include <systemc>

extern "C" [[gnu::visibility("default")]] int sc_main(int, char*[]) {
    std::fputs("hvsim: this program's main() is SystemC's (libsystemc.so defines one), which "
               "hvsim never uses; define main() in the program itself, not in an archive "
               "linked after libsystemc (e.g. gtest_main)\n",
               stderr);
    return 1;
}
