// JSON rendering of statistics. Context: API edge, not hot.
#include "stats.h"

#include <cmath>
#include <cstdio>

namespace sim {

std::string json_escape(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string json_number(double v) {
    if (!std::isfinite(v)) return "null";
    if (v == std::floor(v) && std::fabs(v) < 9.0e15) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.0f", v);
        return buf;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

void JsonStats::scalar(const std::string& name, double value, const char*, const char*) {
    items_.emplace_back(name, json_number(value));
}

void JsonStats::histogram(const std::string& name, const std::map<std::string, uint64_t>& bins,
                          const char*, const char*) {
    std::string obj = "{";
    for (const auto& [bin, count] : bins) {
        if (obj.size() > 1) obj += ", ";
        obj += json_escape(bin) + ": " + std::to_string(count);
    }
    items_.emplace_back(name, obj + "}");
}

void JsonStats::raw(const std::string& name, const std::string& json_value) {
    items_.emplace_back(name, json_value);
}

std::string JsonStats::str() const {
    std::string out = "{";
    for (const auto& [name, value] : items_) {
        if (out.size() > 1) out += ", ";
        out += json_escape(name) + ": " + value;
    }
    return out + "}";
}

}  // namespace sim
