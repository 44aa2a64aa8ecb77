// The differential loop, the field-by-field comparison and the reports.
// Context: host, harness only.
#include "diff_runner.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <ostream>
#include <stdexcept>

#include "random_state.h"

namespace diff {

namespace {

constexpr const char* kGprNames[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                       "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%016" PRIx64, v);
    return buf;
}

std::string xmm_hex(const uint8_t* x) {
    uint64_t lo, hi;
    std::memcpy(&lo, x, 8);
    std::memcpy(&hi, x + 8, 8);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%016" PRIx64 "_%016" PRIx64, hi, lo);
    return buf;
}

std::string flag_names(uint64_t bits) {
    static constexpr struct { int bit; const char* name; } names[] = {
        {0, "CF"}, {2, "PF"}, {4, "AF"}, {6, "ZF"}, {7, "SF"}, {8, "TF"}, {9, "IF"},
        {10, "DF"}, {11, "OF"}, {12, "IOPL0"}, {13, "IOPL1"}, {14, "NT"}, {18, "AC"},
        {21, "ID"}};
    std::string out;
    for (int bit = 0; bit < 64; ++bit) {
        if (!(bits >> bit & 1)) continue;
        const char* name = nullptr;
        for (const auto& n : names) {
            if (n.bit == bit) name = n.name;
        }
        if (!out.empty()) out += ' ';
        out += name ? name : "bit" + std::to_string(bit);
    }
    return out;
}

std::string vector_name(int v) {
    static constexpr const char* names[] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD",
                                            "#NM", "#DF", "?9",  "#TS", "#NP", "#SS", "#GP",
                                            "#PF", "?15", "#MF", "#AC", "#MC", "#XM"};
    if (v == vector::none) return "none";
    if (v >= 0 && v < static_cast<int>(std::size(names))) return names[v];
    return "vector " + std::to_string(v);
}

std::string pair(const std::string& native, const std::string& sim) {
    return "native " + native + "  sim " + sim;
}

}  // namespace

std::vector<FieldDiff> compare_states(const DiffState& e, const DiffState& a) {
    std::vector<FieldDiff> diffs;
    for (int i = 0; i < 16; ++i) {
        if (e.gpr[i] != a.gpr[i]) diffs.push_back({kGprNames[i], pair(hex(e.gpr[i]), hex(a.gpr[i]))});
    }
    if (e.rip_offset != a.rip_offset) {
        diffs.push_back({"rip_offset", pair(std::to_string(static_cast<int64_t>(e.rip_offset)),
                                            std::to_string(static_cast<int64_t>(a.rip_offset)))});
    }
    const uint64_t flags_diff = (e.rflags ^ a.rflags) & rflags::compare_mask;
    if (flags_diff) {
        diffs.push_back({"rflags", pair(hex(e.rflags), hex(a.rflags)) + "  differ: " +
                                       flag_names(flags_diff)});
    }
    for (int i = 0; i < 16; ++i) {
        if (std::memcmp(e.xmm[i], a.xmm[i], 16) != 0) {
            diffs.push_back({"xmm" + std::to_string(i), pair(xmm_hex(e.xmm[i]), xmm_hex(a.xmm[i]))});
        }
    }
    if (e.mxcsr != a.mxcsr) diffs.push_back({"mxcsr", pair(hex(e.mxcsr), hex(a.mxcsr))});
    if (std::memcmp(e.mem, a.mem, kDataSize) != 0) {
        std::string detail;
        unsigned count = 0;
        for (size_t i = 0; i < kDataSize; ++i) {
            if (e.mem[i] == a.mem[i]) continue;
            if (++count <= 4) {
                char buf[64];
                std::snprintf(buf, sizeof buf, "%s[%#zx] native %02x sim %02x",
                              count > 1 ? ", " : "", kDataAddr + i, e.mem[i], a.mem[i]);
                detail += buf;
            }
        }
        diffs.push_back({"mem", std::to_string(count) + " bytes differ: " + detail});
    }
    if (e.fault_vector != a.fault_vector) {
        diffs.push_back({"fault", pair(vector_name(e.fault_vector), vector_name(a.fault_vector))});
    }
    return diffs;
}

bool matches_filter(const Form& form, const std::string& filter) {
    return filter.empty() || form.name.find(filter) != std::string_view::npos ||
           form.family == filter;
}

void DiffRunner::report(const Form& form, unsigned index, const DiffState& in,
                        const std::vector<FieldDiff>& diffs) {
    std::string bytes;
    for (uint8_t b : form.code) {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%s%02x", bytes.empty() ? "" : " ", b);
        bytes += buf;
    }
    out_ << "FAIL [" << form.family << "] " << form.name << "  (" << bytes << ")  state " << index
         << ", seed " << hex(options_.seed) << "\n";
    for (const FieldDiff& d : diffs) {
        char field[16];
        std::snprintf(field, sizeof field, "%-10s", d.field.c_str());
        out_ << "    " << field << " " << d.detail << "\n";
    }
    out_ << "    in:\n";
    print_state(in, out_);
}

void print_state(const DiffState& s, std::ostream& out) {
    for (int i = 0; i < 16; ++i) {
        char buf[32];
        std::snprintf(buf, sizeof buf, " %3s=%s", kGprNames[i], hex(s.gpr[i]).c_str());
        out << (i % 4 == 0 ? "      " : "") << buf << (i % 4 == 3 ? "\n" : "");
    }
    out << "       rip_offset=" << static_cast<int64_t>(s.rip_offset) << " rflags=" << hex(s.rflags)
        << " (" << flag_names(s.rflags & rflags::random_mask) << ") fault="
        << vector_name(s.fault_vector) << "\n";
}

void DiffRunner::trace(const Form& form, unsigned index, const DiffState& in,
                       const DiffState& expected, const DiffState& actual) {
    out_ << "TRACE [" << form.family << "] " << form.name << "  state " << index << "\n    in:\n";
    print_state(in, out_);
    out_ << "    native:\n";
    print_state(expected, out_);
    if (!compare_states(expected, actual).empty()) {
        out_ << "    under test:\n";
        print_state(actual, out_);
    }
}

FormResult DiffRunner::run_form(const Form& form, RunSummary& summary) {
    using clock = std::chrono::steady_clock;
    FormResult result;
    result.form = &form;
    StateGenerator generator(form_seed(options_.seed, form.name));
    // Three 4 KiB states: on the heap, and reused across cases.
    auto states = std::make_unique<DiffState[]>(3);
    DiffState& in = states[0];
    DiffState& expected = states[1];
    DiffState& actual = states[2];
    for (unsigned i = 0; i < options_.states; ++i) {
        for (int attempt = 0;; ++attempt) {
            const auto t0 = clock::now();
            generator.generate(form, in);
            const auto t1 = clock::now();
            expected = reference_.run(form, in);
            summary.generate_time += t1 - t0;
            summary.reference_time += clock::now() - t1;
            if (!form.drop_de || expected.fault_vector != vector::de || attempt == 64) break;
            ++result.dropped;
        }
        const auto t2 = clock::now();
        std::vector<FieldDiff> diffs;
        try {
            actual = subject_.run(form, in);
            diffs = compare_states(expected, actual);
        } catch (const std::exception& e) {  // e.g. not implemented yet: a mismatch, not the end
            diffs.push_back({"exception", e.what()});
        }
        summary.subject_time += clock::now() - t2;
        ++result.cases;
        if (i < options_.trace) trace(form, i, in, expected, actual);
        if (expected.fault_vector != vector::none) ++result.faults;
        if (diffs.empty()) continue;
        if (result.mismatches++ < options_.max_reports) report(form, i, in, diffs);
        if (result.first_fields.empty()) {
            for (const FieldDiff& d : diffs) result.first_fields.push_back(d.field);
        }
    }
    if (result.mismatches) {
        out_ << "FAIL [" << form.family << "] " << form.name << ": " << result.mismatches << " of "
             << result.cases << " states differ\n";
    }
    return result;
}

RunSummary DiffRunner::run(std::span<const Form> forms) {
    const auto start = std::chrono::steady_clock::now();
    RunSummary summary;
    for (const Form& form : forms) {
        if (!matches_filter(form, options_.filter)) continue;
        summary.forms.push_back(run_form(form, summary));
        (summary.forms.back().mismatches ? summary.failed : summary.passed)++;
    }
    summary.total_time = std::chrono::steady_clock::now() - start;
    return summary;
}

void print_summary(const RunSummary& summary, std::ostream& out) {
    struct Counts { unsigned forms = 0, cases = 0, faults = 0, dropped = 0, failed = 0; };
    std::vector<std::string_view> order;
    std::map<std::string_view, Counts> families;
    Counts total;
    for (const FormResult& r : summary.forms) {
        if (!families.count(r.form->family)) order.push_back(r.form->family);
        for (Counts* c : {&families[r.form->family], &total}) {
            c->forms++;
            c->cases += r.cases;
            c->faults += r.faults;
            c->dropped += r.dropped;
            c->failed += r.mismatches ? 1 : 0;
        }
    }
    char line[128];
    auto row = [&](std::string_view name, const Counts& c) {
        std::snprintf(line, sizeof line, "%-10.*s %6u %9u %8u %8u %7u\n",
                      static_cast<int>(name.size()), name.data(), c.forms, c.cases, c.faults,
                      c.dropped, c.failed);
        out << line;
    };
    out << "family      forms     cases  faulted  dropped  failed\n";
    for (std::string_view f : order) row(f, families[f]);
    row("total", total);
    std::snprintf(line, sizeof line,
                  "time: %.2f s (states %.2f s, native %.2f s, under test %.2f s)\n",
                  summary.total_time.count(), summary.generate_time.count(),
                  summary.reference_time.count(), summary.subject_time.count());
    out << line;
    out << summary.passed << " passed, " << summary.failed << " failed\n";
}

DiffState PerturbingExecutor::run(const Form& form, const DiffState& in) {
    if (&form != current_) {
        current_ = &form;
        ++form_number_;
        case_number_ = 0;
    }
    DiffState out = inner_.run(form, in);
    const unsigned index = case_number_++;
    const unsigned n = form_number_ / every_;
    if (form_number_ % every_ != 0 || index != n % states_) return out;
    std::string field;
    switch (n % 7) {
    case 0:
        out.gpr[n % 16] ^= 1ull << (n % 64);
        field = kGprNames[n % 16];
        break;
    case 1: {
        static constexpr int bits[] = {0, 2, 4, 6, 7, 10, 11};  // CF PF AF ZF SF DF OF
        out.rflags ^= 1ull << bits[(n / 7) % 7];
        field = "rflags";
        break;
    }
    case 2: out.rip_offset += 1; field = "rip_offset"; break;
    case 3:
        out.xmm[n % 16][(n / 16) % 16] ^= 0x80;
        field = "xmm" + std::to_string(n % 16);
        break;
    case 4: out.mxcsr ^= 1; field = "mxcsr"; break;
    case 5: out.mem[(n * 37) % kDataSize] ^= 1; field = "mem"; break;
    default:
        out.fault_vector = out.fault_vector == vector::none ? vector::gp : vector::none;
        field = "fault";
        break;
    }
    done_.push_back({&form, field});
    return out;
}

bool check_perturbations(const RunSummary& summary,
                         const std::vector<PerturbingExecutor::Perturbation>& done,
                         std::ostream& out) {
    std::map<const Form*, std::string> expected;
    for (const auto& p : done) expected[p.form] = p.field;
    unsigned caught = 0, wrong = 0;
    for (const FormResult& r : summary.forms) {
        const auto it = expected.find(r.form);
        if (it == expected.end()) {
            if (r.mismatches) {
                ++wrong;
                out << "perturb check: unperturbed form failed: " << r.form->name << "\n";
            }
            continue;
        }
        bool field_seen = false;
        for (const std::string& f : r.first_fields) field_seen |= f == it->second;
        if (r.mismatches == 1 && field_seen) {
            ++caught;
        } else {
            ++wrong;
            out << "perturb check: " << r.form->name << ": perturbed " << it->second << ", "
                << r.mismatches << " mismatches reported\n";
        }
    }
    out << "perturb check: " << done.size() << " perturbations, " << caught << " caught, " << wrong
        << " wrong\n";
    return !done.empty() && caught == done.size() && wrong == 0;
}

}  // namespace diff
