// Text renderings of events. Context: output sinks.
#include "sim/machine/trace_writers.h"

#include <cerrno>
#include <cinttypes>
#include <cstring>

#include "sim/machine/config.h"

namespace sim {
namespace {

std::FILE* open_for_writing(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw ConfigError(path + ": cannot write trace (" + std::strerror(errno) + ")");
    return f;
}

const char* virt_name(VirtMode v) {
    return v == VirtMode::root ? "root" : v == VirtMode::guest ? "guest" : "none";
}

}  // namespace

std::string to_json(const Event& e) {
    char buf[384];
    std::snprintf(buf, sizeof buf,
                  "{\"kind\": \"%s\", \"insn\": %" PRIu64 ", \"cycle\": %" PRIu64 ", \"vcpu\": %u, "
                  "\"partition\": %u, \"virt\": \"%s\", \"cpl\": %u, \"rip\": %" PRIu64
                  ", \"a\": %" PRIu64 ", \"b\": %" PRIu64 ", \"c\": %" PRIu64 "}",
                  std::string(name(e.kind)).c_str(), e.instruction, e.cycle, e.vcpu, e.partition,
                  virt_name(e.virt), e.cpl, e.rip, e.a, e.b, e.c);
    return buf;
}

std::string describe(const Event& e) {
    const auto* row = info(e.kind);
    char buf[384];
    std::snprintf(buf, sizeof buf, "#%" PRIu64 " rip=0x%" PRIx64 " cpl=%u %s", e.instruction, e.rip, e.cpl,
                  row ? row->name : "unknown");
    std::string s = buf;
    if (row) {
        const char* names[3] = {row->a, row->b, row->c};
        const uint64_t values[3] = {e.a, e.b, e.c};
        for (int k = 0; k < 3; ++k) {
            if (!*names[k]) continue;
            std::snprintf(buf, sizeof buf, " %s=0x%" PRIx64, names[k], values[k]);
            s += buf;
        }
    }
    return s;
}

JsonLinesTrace::JsonLinesTrace(const std::string& path) : out_(open_for_writing(path)) {}
JsonLinesTrace::~JsonLinesTrace() { std::fclose(out_); }
void JsonLinesTrace::on_event(const Event& e) {
    const std::string line = to_json(e);
    std::fputs(line.c_str(), out_);
    std::fputc('\n', out_);
}
void JsonLinesTrace::flush() { std::fflush(out_); }

CsvTrace::CsvTrace(const std::string& path) : out_(open_for_writing(path)) {
    std::fputs("kind,insn,cycle,vcpu,partition,virt,cpl,rip,a,b,c\n", out_);
}
CsvTrace::~CsvTrace() { std::fclose(out_); }
void CsvTrace::on_event(const Event& e) {
    std::fprintf(out_, "%s,%" PRIu64 ",%" PRIu64 ",%u,%u,%s,%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
                 std::string(name(e.kind)).c_str(), e.instruction, e.cycle, e.vcpu, e.partition,
                 virt_name(e.virt), e.cpl, e.rip, e.a, e.b, e.c);
}
void CsvTrace::flush() { std::fflush(out_); }

}  // namespace sim
