// `hvsim demo`: boots the demonstration guest and prints what it did, counted.
#pragma once
#include <string>

namespace sim {
int demo_main(int argc, char** argv);
// Where the guest images built by meson are (installed copy first, then the build tree).
std::string find_guest_image(const std::string& name);
}
