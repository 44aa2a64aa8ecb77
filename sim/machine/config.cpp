// Parsing of configuration values given as text (CLI flags, Python keyword arguments).
#include "sim/machine/config.h"

#include <cctype>

namespace sim {

uint64_t parse_size(const std::string& text) {
    size_t used = 0;
    unsigned long long value = 0;
    try {
        value = std::stoull(text, &used, 0);
    } catch (const std::exception&) {
        throw ConfigError("not a size: '" + text + "' (expected e.g. 64M, 1G, 65536)");
    }
    const std::string suffix = text.substr(used);
    uint64_t scale = 1;
    if (suffix == "K" || suffix == "k" || suffix == "KiB") scale = 1ull << 10;
    else if (suffix == "M" || suffix == "m" || suffix == "MiB") scale = 1ull << 20;
    else if (suffix == "G" || suffix == "g" || suffix == "GiB") scale = 1ull << 30;
    else if (!suffix.empty()) throw ConfigError("unknown size suffix in '" + text + "' (use K, M or G)");
    return value * scale;
}

cpu::Vendor parse_vendor(const std::string& text) {
    if (text == "intel") return cpu::Vendor::intel;
    if (text == "amd") return cpu::Vendor::amd;
    throw ConfigError("unknown vendor '" + text + "' (expected intel or amd)");
}

}  // namespace sim
