// Counters: components keep plain integers on their hot paths and describe them, with units,
// to a StatsWriter when asked (gem5's per-component stats, without the machinery).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sim {

class StatsWriter {
public:
    virtual ~StatsWriter() = default;
    virtual void scalar(const std::string& name, double value, const char* unit,
                        const char* description) = 0;
    // A histogram keyed by a label (a vector name, a port number, a mnemonic ...).
    virtual void histogram(const std::string& name, const std::map<std::string, uint64_t>& bins,
                           const char* unit, const char* description) = 0;
};

// Flattens everything into "name" / "name.bin" -> value (used by Python and the JSON report).
class FlatStats final : public StatsWriter {
public:
    void scalar(const std::string& name, double value, const char*, const char*) override {
        values[name] = value;
    }
    void histogram(const std::string& name, const std::map<std::string, uint64_t>& bins,
                   const char*, const char*) override {
        for (const auto& [bin, count] : bins) values[name + "." + bin] = static_cast<double>(count);
    }
    std::map<std::string, double> values;
};

// Nested JSON: scalars as numbers, histograms as objects.
class JsonStats final : public StatsWriter {
public:
    void scalar(const std::string& name, double value, const char*, const char*) override;
    void histogram(const std::string& name, const std::map<std::string, uint64_t>& bins,
                   const char*, const char*) override;
    void raw(const std::string& name, const std::string& json_value);  // a pre-rendered value
    std::string str() const;

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

std::string json_escape(const std::string& s);
std::string json_number(double v);

}  // namespace sim
