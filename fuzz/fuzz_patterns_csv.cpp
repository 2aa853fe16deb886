// libFuzzer harness: the pattern CSV reader (perceptron --patterns). Any input must end in
// a pattern set or a std::invalid_argument naming the file and line; anything else (a
// crash, another exception, a sanitizer report) is a finding.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

#include "syncache/models/patterns.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const auto set = syncache::read_patterns_csv(in, "fuzz.csv");
    if (set.N() == 0 || set.P() == 0) __builtin_trap();  // a set is never empty
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
