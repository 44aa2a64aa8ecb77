// The hvsim executable.
#include "sim/machine/cli.h"

int main(int argc, char** argv) { return sim::cli_main(argc, argv); }
