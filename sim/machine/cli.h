// The hvsim command line: `hvsim run ...`, `hvsim demo ...`. Context: API edge; turns every
// set-up error into one line on stderr and a non-zero exit code.
//
// Exit codes: 0 the run ended at its instruction limit or in HLT; odd values are the guest's
// debug-exit status ((value << 1) | 1, as QEMU's isa-debug-exit); 2 bad usage or input;
// 4 the guest shut the processor down (triple fault); 6 the simulator could not go on.
#pragma once

namespace sim {
int cli_main(int argc, char** argv);
}
