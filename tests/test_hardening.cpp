// Bad input at the library's seams: number and count reading, shown text, resource
// limits, experiment files, output paths, the results store opened for export, IDX files
// with no items. Each case failed (crash, wrap-around, silent acceptance) before its fix.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>

#include "syncache/experiments/experiment.hpp"
#include "syncache/io/limits.hpp"
#include "syncache/io/mnist.hpp"
#include "syncache/io/results.hpp"
#include "syncache/io/text_input.hpp"
#include "syncache/models/mlp.hpp"
#include "syncache/models/perceptron.hpp"
#include "syncache/models/perceptron_json.hpp"
#include "syncache/models/theory.hpp"

namespace {

using syncache::ExperimentConfig;

std::string temp_dir() {
  const auto d =
      std::filesystem::temp_directory_path() / ("syncache-hardening-" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d.string();
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(TextInput, ShownEscapesBytesAndTruncates) {
  EXPECT_EQ(syncache::shown("abc"), "abc");
  EXPECT_EQ(syncache::shown(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(syncache::shown("\xEF\xBB\xBF"
                            "1"),
            "\\xEF\\xBB\\xBF1");
  EXPECT_EQ(syncache::shown("a\\b"), "a\\x5Cb");  // a backslash cannot fake an escape
  const std::string big(5'000'000, 'x');
  const std::string s = syncache::shown(big, 40);
  EXPECT_EQ(s, std::string(40, 'x') + "... (5000000 bytes)");
}

TEST(TextInput, ReadRealKeepsSubnormalsAndRefusesOverflow) {
  // 1e-310 is below DBL_MIN (2.2e-308) but a valid subnormal: strtod sets ERANGE.
  const auto tiny = syncache::read_real("1e-310");
  ASSERT_TRUE(tiny.has_value());
  EXPECT_GT(*tiny, 0.0);
  EXPECT_LT(*tiny, std::numeric_limits<double>::min());
  EXPECT_EQ(syncache::read_real("1e-400"), 0.0);  // underflows to zero: still a number
  EXPECT_FALSE(syncache::read_real("1e309"));
  EXPECT_FALSE(syncache::read_real("nan"));
  EXPECT_FALSE(syncache::read_real("0x10"));  // hex floats are not decimal numbers
  EXPECT_FALSE(syncache::read_real("inf"));
  EXPECT_TRUE(std::isinf(*syncache::read_real("inf", true)));
  EXPECT_FALSE(syncache::read_real(""));
  EXPECT_FALSE(syncache::read_real("1 2"));
  EXPECT_EQ(syncache::read_real(" \t-2.5 "), -2.5);
}

TEST(TextInput, ReadIntegerNeverWraps) {
  EXPECT_EQ(syncache::read_integer("3000000000", 0, 1LL << 40), 3000000000LL);
  EXPECT_FALSE(syncache::read_integer("4294967295", 0, 1024));
  EXPECT_FALSE(syncache::read_integer("99999999999999999999", 0, 1LL << 62));
  EXPECT_FALSE(syncache::read_integer("-1", 0, 10));
  EXPECT_FALSE(syncache::read_integer("1e3", 0, 10000));
  EXPECT_FALSE(syncache::read_integer(" 5", 0, 10));
  EXPECT_EQ(syncache::read_integer("-7", -10, 10), -7);
}

TEST(TextInput, WithoutBom) {
  EXPECT_EQ(syncache::without_bom("\xEF\xBB\xBFN = 1"), "N = 1");
  EXPECT_EQ(syncache::without_bom("N = 1"), "N = 1");
  EXPECT_EQ(syncache::without_bom("\xEF\xBB"), "\xEF\xBB");
}

TEST(Limits, MemoryBudgetFromEnvironment) {
  ::setenv("SYNCACHE_MEMORY_LIMIT_MB", "100", 1);
  EXPECT_EQ(syncache::memory_budget_bytes(), 100e6);
  EXPECT_NO_THROW(syncache::require_memory("x", 99e6));
  const std::string m = message_of([] { syncache::require_memory("x", 2e9); });
  EXPECT_EQ(m.rfind("x: needs about 2 GB of memory, more than the 100 MB", 0), 0u) << m;
  ::unsetenv("SYNCACHE_MEMORY_LIMIT_MB");
}

TEST(Limits, RunCountCap) {
  EXPECT_NO_THROW(syncache::require_run_count("r", 1e7));
  EXPECT_THROW(syncache::require_run_count("r", 1e7 + 1), syncache::ResourceError);
  EXPECT_THROW(syncache::require_run_count("r", std::nan("")), syncache::ResourceError);
}

TEST(Limits, PerceptronMemoryEstimateRefusesBeforeAllocating) {
  // P (N + 64) bytes of int8 patterns dominate: N = P = 10^6 is about 1.3 TB.
  EXPECT_GT(syncache::perceptron_memory_bytes(1'000'000, 1'000'000, false, false), 1e12);
  // N = 1000, P = 1000: about 1.3 MB of patterns, 128 kB of weights, 2 MB of overlaps.
  const double small = syncache::perceptron_memory_bytes(1000, 1000, false, true);
  EXPECT_GT(small, 1000.0 * 1064.0);
  EXPECT_LT(small, 10e6);
  syncache::PerceptronConfig cfg;
  cfg.N = 1'000'000;
  cfg.P = 1'000'000;
  EXPECT_THROW(cfg.validate(), syncache::ResourceError);
  cfg.N = std::size_t{1} << 50;  // beyond kMaxPerceptronSize: refused by name
  EXPECT_EQ(message_of([&] { cfg.validate(); }).rfind("N: at most", 0), 0u);
  syncache::MlpConfig m;
  m.hidden = 99'999'999'999;
  EXPECT_THROW(m.validate(), syncache::ResourceError);
}

TEST(Hardening, PerceptronJsonIntegersInRange) {
  nlohmann::json p = {{"N", 10}, {"P", 5}, {"max_epochs", 1e30}};
  EXPECT_NE(message_of([&] { syncache::perceptron_config_from_json(p); }).find("max_epochs"),
            std::string::npos);
  p = {{"N", 9223372036854775807LL}, {"P", 5}};
  EXPECT_EQ(message_of([&] { syncache::perceptron_config_from_json(p); }).rfind("N: ", 0), 0u);
}

TEST(Hardening, TheoryRefusesOverflow) {
  EXPECT_THROW(syncache::theory::perceptron(1e308, 1e308, 0.0, 1.0), std::invalid_argument);
}

ExperimentConfig parsed(const std::string& text, const std::string& scale = "quick") {
  return ExperimentConfig::parse(text, "t.toml", scale);
}

TEST(Hardening, ExperimentIntegersAreBoundedByKey) {
  const auto cfg = parsed("repeats = 3000000000\nN = 0\nother = 3000000000\n");
  EXPECT_EQ(message_of([&] { cfg.integer("repeats"); }),
            "t.toml:1: key 'repeats': must be an integer in [1, 1000000] (got 3000000000)");
  EXPECT_EQ(message_of([&] { cfg.integer("N"); }).rfind("t.toml:2: key 'N': must be", 0), 0u);
  EXPECT_EQ(cfg.integer("other"), 3000000000LL);  // keys without a range: int64
}

TEST(Hardening, ExperimentFileChecks) {
  // A leading byte-order mark is dropped; toml++'s unreachable code points are refused.
  EXPECT_EQ(parsed("\xEF\xBB\xBFN = 3\n").integer("N"), 3);
  EXPECT_EQ(message_of([] { parsed("a = 1\n\xEF\xBB\x9F = 1\n"); }),
            "t.toml:2: character U+FEDF is not supported in experiment files");
  EXPECT_EQ(
      message_of([] { parsed("x = \"\xEF\xBA\x9E\"\n"); }).rfind("t.toml:1: character U+FE9E", 0),
      0u);
  EXPECT_NO_THROW(parsed("x = \"\xEF\xBA\x9D\"\n"));  // U+FE9D: outside the range
  // Unknown keys of both scale tables are reported, whichever scale is read.
  const auto cfg = parsed("N = 1\n[full]\nrepaets = 3\n", "quick");
  EXPECT_EQ(message_of([&] {
              cfg.check_keys({"N", "repeats"});
            }),
            "t.toml:3: key 'full.repaets': unknown key (allowed: N, repeats)");
  // A folder is not an experiment file.
  const std::string dir = temp_dir();
  EXPECT_NE(message_of([&] { ExperimentConfig::load(dir, ""); }).find("not an experiment file"),
            std::string::npos);
}

TEST(Hardening, ThresholdGridIsBoundedAndStrictlyIncreasing) {
  // One point when start = stop, however large; a step below the spacing of doubles is
  // refused instead of repeating one theta thousands of times.
  EXPECT_EQ(
      syncache::threshold_grid(parsed("theta_start = 1e20\ntheta_stop = 1e20\ntheta_step = 1.0\n"))
          .size(),
      1u);
  // Doubles near 1e20 are 16384 apart: 163841 points of step 1 would repeat each value.
  EXPECT_NE(message_of([] {
              syncache::threshold_grid(parsed(
                  "theta_start = 1e20\ntheta_stop = 100000000000000163840.0\ntheta_step = 1.0\n"));
            }).find("consecutive thetas are equal"),
            std::string::npos);
  EXPECT_THROW(
      syncache::threshold_grid(parsed("theta_start = 0.5\ntheta_stop = 10\ntheta_step = 1e-12\n")),
      syncache::ResourceError);
  const auto g =
      syncache::threshold_grid(parsed("theta_start = 0.5\ntheta_stop = 10\ntheta_step = 0.5\n"));
  ASSERT_EQ(g.size(), 20u);  // 0.5, 1.0, ..., 10.0
  EXPECT_EQ(g.front(), 0.5);
  EXPECT_EQ(g.back(), 10.0);
}

TEST(Hardening, SweepRefusesEmptyGridAndTooManyRuns) {
  syncache::ExperimentEnv env;
  EXPECT_EQ(message_of([&] { syncache::run_sweep(parsed("name = \"s\"\n[grid]\n", ""), env); }),
            "t.toml:2: key 'grid': empty; give at least one key with an array of values");
  EXPECT_THROW(syncache::run_sweep(parsed("repeats = 1000000\n[grid]\nP = [1, 2, 3, 4, 5, 6, 7, "
                                          "8, 9, 10, 11]\n",
                                          ""),
                                   env),
               syncache::ResourceError);
}

TEST(Hardening, OutputPathProblems) {
  EXPECT_EQ(syncache::output_path_problem(temp_dir() + "/ok.csv"), "");
  EXPECT_NE(syncache::output_path_problem("/nonexistent/x.csv").find("No such file"),
            std::string::npos);
  EXPECT_NE(syncache::output_path_problem(temp_dir()).find("is a directory"), std::string::npos);
}

TEST(Hardening, ReadOnlyStoreNeverWrites) {
  const std::string path = temp_dir() + "/zero.sqlite";
  { std::ofstream(path).flush(); }
  EXPECT_THROW(syncache::ResultsStore(path, "v", true), std::runtime_error);
  EXPECT_EQ(std::filesystem::file_size(path), 0u);  // no schema written into it
  const std::string real = temp_dir() + "/real.sqlite";
  std::filesystem::remove(real);
  {
    syncache::ResultsStore s(real, "v");
    s.put("e", nlohmann::json{{"a", 1}}, 1, nlohmann::json{{"r", 2}});
  }
  const syncache::ResultsStore ro(real, "v", true);
  ASSERT_EQ(ro.rows("e").size(), 1u);
  EXPECT_EQ(ro.rows("e")[0].result["r"], 2);
}

TEST(Hardening, IdxWithNoItemsIsRefused) {
  const std::string dir = temp_dir();
  auto write = [](const std::string& path, std::initializer_list<unsigned char> bytes) {
    std::ofstream f(path, std::ios::binary);
    for (unsigned char b : bytes) f.put(static_cast<char>(b));
  };
  write(dir + "/i", {0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28});
  write(dir + "/l", {0, 0, 8, 1, 0, 0, 0, 0});
  const std::string m = message_of([&] { syncache::mnist::read_idx(dir + "/i", dir + "/l"); });
  EXPECT_NE(m.find("holds no images"), std::string::npos) << m;
}

}  // namespace
