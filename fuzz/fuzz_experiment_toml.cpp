// libFuzzer harness: the experiment / sweep TOML loader. Parses the input at both scales
// and reads it the ways the figures and sweeps do (typed keys, tables, the theta grid, a
// sweep's fixed table as perceptron parameters). Only std::invalid_argument (naming the
// file, line and key) may come out; the toml++ code-point guard is exercised too.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "syncache/experiments/experiment.hpp"
#include "syncache/models/perceptron_json.hpp"

namespace {
template <class F>
void refused_ok(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument&) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const char* scale : {"quick", "full", ""}) {
    refused_ok([&] {
      const auto cfg = syncache::ExperimentConfig::parse(text, "fuzz.toml", scale);
      refused_ok([&] { cfg.check_keys({"N", "P", "repeats", "fixed", "grid", "theta_start"}); });
      refused_ok([&] { (void)cfg.integer("N"); });
      refused_ok([&] { (void)cfg.integer("repeats"); });
      refused_ok([&] { (void)cfg.number("theta"); });
      refused_ok([&] { (void)cfg.numbers("c"); });
      refused_ok([&] { (void)cfg.texts("rules"); });
      refused_ok([&] { (void)cfg.boolean("zero_mean"); });
      refused_ok([&] { (void)syncache::threshold_grid(cfg); });
      refused_ok([&] { (void)syncache::perceptron_base(cfg); });
      refused_ok([&] {
        auto fixed = cfg.table("fixed");
        fixed.erase("patterns");  // no file reads from fuzzed names
        (void)syncache::perceptron_config_from_json(fixed);
      });
    });
  }
  return 0;
}
