// Known answers for the native runner, checked before any comparison. Context: harness only.
#pragma once
#include <iosfwd>

namespace diff {

// Runs a few forms natively from hand-made states and checks the results against answers
// worked out by hand. Prints a line per wrong answer and a summary; true if all are right.
bool check_native_oracle(std::ostream& out);

}  // namespace diff
