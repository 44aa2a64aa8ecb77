// Seeded random start states for the differential test: random bits with interesting values
// mixed in (0, 1, -1, sign boundaries of every width, small counts), shaped by a form's rules.
// Context: host, harness only.
#pragma once
#include <cstdint>
#include <random>
#include <string_view>

#include "diff_state.h"
#include "form.h"

namespace diff {

// The generator seed of one form, from the run's seed and the form's name: a form's states do
// not depend on which other forms run (so --filter reproduces a failure).
uint64_t form_seed(uint64_t run_seed, std::string_view form_name);

class StateGenerator {
public:
    explicit StateGenerator(uint64_t seed) : rng_(seed) {}

    // The next state for `form`. Deterministic in (seed, sequence of calls).
    void generate(const Form& form, DiffState& out);

private:
    // Within a state, draws come from a splitmix64 stream seeded by one mt19937_64 draw:
    // a state takes a few hundred draws, and mt19937_64 costs ~5 ns each on the target host.
    uint64_t bits();
    uint64_t below(uint64_t n) {  // [0, n) by multiply-shift: a division costs more here
        return static_cast<uint64_t>((static_cast<unsigned __int128>(bits()) * n) >> 64);
    }
    bool chance(unsigned one_in) { return below(one_in) == 0; }
    uint64_t interesting();
    uint64_t gpr_value();
    void fill_xmm(DiffState& s);
    void apply_register_rule(const Rule& r, DiffState& s);
    void apply_memory_rule(const Rule& r, DiffState& s);
    void sprinkle(uint64_t addr, DiffState& s);

    std::mt19937_64 rng_;
    uint64_t stream_ = 0;
};

}  // namespace diff
