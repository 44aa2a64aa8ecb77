// Ready-made character sinks. Context: device output, one call per transmitted character.
#include "bus/char_sink.h"

namespace bus {

CharSink file_sink(std::FILE* stream) {
    return [stream](char c) {
        std::fputc(static_cast<unsigned char>(c), stream);
        if (c == '\n') std::fflush(stream);
    };
}

CharSink string_sink(std::string& out) {
    return [&out](char c) { out += c; };
}

}  // namespace bus
