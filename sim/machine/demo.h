// `hvsim demo`: boots our hypervisor with its root and child partitions and prints, per
// scenario, what each did, counted.
#pragma once
#include <string>

namespace sim {
int demo_main(int argc, char** argv);
// Where the guest images built by meson are (installed copy first, then the build tree:
// tests/guest, then hv/).
std::string find_guest_image(const std::string& name);
}
