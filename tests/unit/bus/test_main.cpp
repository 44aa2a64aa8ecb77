// main() of the bus tests. Context: tests/unit/bus.
//
// Not gtest_main: libsystemc.so defines a main() of its own, and the linker takes it when the
// shared library precedes libgtest_main.a on the command line, so the tests would never run
// (see bus/sc_main.cpp). A main() in the program's own objects always wins.
#include <gtest/gtest.h>

int main(int argc, char** argv) {
    testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
