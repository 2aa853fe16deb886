// Number formatting shared by the command line, the JSON results and the optimiser notes.
#pragma once

#include <charconv>
#include <string>

namespace syncache {

// The shortest decimal form that reads back to the same double ("0.5", "1000",
// "0.30000000000000004"): full precision without noise digits.
inline std::string round_trip(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace syncache
