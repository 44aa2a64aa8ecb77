// Where a serial port's transmitted characters go: a function of one character, with ready-made
// sinks for a C stream and for a string. Context: output of devices (the only place hvsim
// prints on behalf of a guest).
#pragma once

#include <cstdio>
#include <functional>
#include <string>

namespace bus {

using CharSink = std::function<void(char)>;

// Writes to `stream` (not owned), flushing at each newline so a guest's lines appear as it
// prints them even when the run later dies.
CharSink file_sink(std::FILE* stream);

// Appends to `out` (not owned; must outlive the sink).
CharSink string_sink(std::string& out);

}  // namespace bus
