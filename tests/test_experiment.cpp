// Tests of the experiment framework: experiment files (errors name file:line:key, the
// [quick]/[full] merge), the tidy figure table, sweeps (against direct runs, thread count
// and resumption through the store) and a figure run end to end (fig6, tiny).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers/temp_dir.hpp"
#include "syncache/core/random.hpp"
#include "syncache/experiments/experiment.hpp"
#include "syncache/experiments/figures.hpp"
#include "syncache/io/results.hpp"
#include "syncache/models/perceptron.hpp"
#include "syncache/models/theory.hpp"

namespace syncache {
namespace {

using syncache::testing::TempDir;

// The message of the std::invalid_argument that f throws ("" if none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_CONTAINS(text, part)                          \
  EXPECT_NE(std::string(text).find(part), std::string::npos) \
      << "'" << (text) << "' lacks '" << (part) << "'"

ExperimentConfig parse(const std::string& text, const std::string& scale = "quick") {
  return ExperimentConfig::parse(text, "bad.toml", scale);
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

ExperimentEnv env_with(int threads, ResultsStore* store = nullptr, std::uint64_t master = 1) {
  ExperimentEnv env;
  env.store = store;
  env.runner.threads = threads;
  env.runner.progress = false;
  env.master_seed = master;
  return env;
}

// ---- Experiment files ----

TEST(ExperimentFile, UnknownKeyNamesFileLineAndKey) {
  const auto cfg = parse("N = 1000\nP = 10\nthetta = 5\n");
  const std::string msg = error_of([&] { cfg.check_keys({"N", "P", "theta"}); });
  EXPECT_CONTAINS(msg, "bad.toml:3: key 'thetta': unknown key");
  EXPECT_CONTAINS(msg, "allowed: N, P, theta");
  // A key of the [quick] table is reported at its own line.
  const auto q = parse("N = 1\n[quick]\nrepeat = 2\n");
  EXPECT_CONTAINS(error_of([&] {
                    q.check_keys({"N", "repeats"});
                  }),
                  "bad.toml:3: key 'quick.repeat': unknown key (allowed: N, repeats)");
}

TEST(ExperimentFile, WrongTypeNamesFileLineAndKey) {
  const auto cfg = parse("# comment\nN = 1000\ntheta = \"five\"\nrepeats = 2.5\nname = 3\n");
  EXPECT_CONTAINS(error_of([&] { cfg.number("theta"); }),
                  "bad.toml:3: key 'theta': expected a number");
  EXPECT_CONTAINS(error_of([&] { cfg.integer("repeats"); }),
                  "bad.toml:4: key 'repeats': expected an integer");
  EXPECT_CONTAINS(error_of([&] { cfg.text("name"); }), "bad.toml:5: key 'name': expected a string");
  EXPECT_CONTAINS(error_of([&] { cfg.numbers("N"); }), "bad.toml:2: key 'N': expected an array");
  EXPECT_CONTAINS(error_of([&] { cfg.number("missing"); }), "bad.toml: key 'missing': missing");
  // Numbers: integers and floats are both numbers, "inf" is infinity.
  const auto ok = parse("a = 3\nb = 2.5\nc = \"inf\"\n");
  EXPECT_EQ(ok.number("a"), 3.0);
  EXPECT_EQ(ok.number("b"), 2.5);
  EXPECT_EQ(ok.number("c"), std::numeric_limits<double>::infinity());
}

TEST(ExperimentFile, EmptyArrayAndEmptyGrid) {
  const auto cfg = parse("N = 1\nc_values = []\nrules = []\n");
  EXPECT_CONTAINS(error_of([&] { cfg.numbers("c_values"); }),
                  "bad.toml:2: key 'c_values': empty array");
  EXPECT_CONTAINS(error_of([&] { cfg.texts("rules"); }), "bad.toml:3: key 'rules': empty array");
  // A sweep grid with an empty axis names the [grid] table's line and the axis.
  const auto sweep = parse("name = \"s\"\n[fixed]\nN = 50\n[grid]\nP = []\n", "");
  const std::string msg = error_of([&] { run_sweep(sweep, env_with(1)); });
  EXPECT_CONTAINS(msg, "bad.toml:4: key 'grid'");
  EXPECT_CONTAINS(msg, "grid key 'P' is empty");
  const auto scalar = parse("[grid]\nP = 30\n", "");
  EXPECT_CONTAINS(error_of([&] { run_sweep(scalar, env_with(1)); }),
                  "grid key 'P' must be an array");
}

TEST(ExperimentFile, CachingRuleOfTheModel) {
  // The MNIST network's files accept its layer rule; the perceptron's refuse it, naming
  // the file, line and key and the rules it has.
  const auto cfg = parse("rule = \"layer\"\nrules = [\"sum\", \"layer\"]\n");
  EXPECT_EQ(caching_rule(cfg, "rule", kMlp), Rule::layer);
  EXPECT_EQ(caching_rule_named(cfg, "rules", "layer", kMlp), Rule::layer);
  const std::string msg = error_of([&] { caching_rule(cfg); });
  EXPECT_CONTAINS(msg, "bad.toml:1: key 'rule'");
  EXPECT_CONTAINS(msg, "the perceptron");
  EXPECT_EQ(msg.find("layer;"), std::string::npos) << msg;
  const auto classic = parse("rule = \"classic\"\n");
  EXPECT_CONTAINS(error_of([&] { caching_rule(classic, "rule", kMlp); }), "the MNIST network");
}

TEST(ExperimentFile, SyntaxErrorGivesLineNumber) {
  const std::string msg = error_of([] { parse("N = 1000\nP = 10\n\nrepeats = = 3\n"); });
  EXPECT_CONTAINS(msg, "bad.toml:4:");
  const std::string unclosed = error_of([] { parse("a = 1\n[quick\nb = 2\n"); });
  EXPECT_CONTAINS(unclosed, "bad.toml:2:");
  // [quick] must be a table.
  EXPECT_CONTAINS(error_of([] { parse("N = 1\nquick = 3\n"); }), "bad.toml:2: key 'quick'");
  // A missing file names the path.
  EXPECT_CONTAINS(error_of([] { ExperimentConfig::load("/nonexistent/x.toml", "quick"); }),
                  "/nonexistent/x.toml");
}

TEST(ExperimentFile, SweepErrorsNameTheFile) {
  const auto unknown = parse("name = \"s\"\nrepeat = 2\n", "");
  EXPECT_CONTAINS(error_of([&] { run_sweep(unknown, env_with(1)); }),
                  "bad.toml:2: key 'repeat': unknown key");
  const auto type = parse("name = \"s\"\nrepeats = \"two\"\n", "");
  EXPECT_CONTAINS(error_of([&] { run_sweep(type, env_with(1)); }),
                  "bad.toml:2: key 'repeats': expected an integer");
  // A perceptron option of the wrong type in [fixed] names the file and the option.
  const auto fixed = parse("[fixed]\nN = \"fifty\"\n[grid]\nP = [30]\n", "");
  const std::string msg = error_of([&] { run_sweep(fixed, env_with(1)); });
  EXPECT_CONTAINS(msg, "bad.toml");
  EXPECT_CONTAINS(msg, "'N'");
}

TEST(ExperimentConfigMerge, QuickAndFullOverrideTheTopLevel) {
  const std::string text =
      "a = 1\nb = 2\nlist = [1, 2]\n[quick]\nb = 3\nlist = [5]\n[full]\nb = 4\nextra = \"x\"\n";
  const auto quick = parse(text, "quick");
  EXPECT_EQ(quick.integer("a"), 1);
  EXPECT_EQ(quick.integer("b"), 3);
  EXPECT_EQ(quick.numbers("list"), std::vector<double>{5.0});
  EXPECT_FALSE(quick.has("extra"));
  EXPECT_FALSE(quick.has("quick"));
  EXPECT_CONTAINS(quick.where("b"), "bad.toml:5: key 'b'");  // the [quick] line
  const auto full = parse(text, "full");
  EXPECT_EQ(full.integer("b"), 4);
  EXPECT_EQ(full.numbers("list"), (std::vector<double>{1.0, 2.0}));
  EXPECT_EQ(full.text("extra"), "x");
  const auto top = parse(text, "");
  EXPECT_EQ(top.integer("b"), 2);
  EXPECT_FALSE(top.has("extra"));
  // The scale tables themselves are not keys of the experiment; the keys of both tables
  // are checked whichever scale is read (a typo in [full] shows at the quick scale).
  EXPECT_NO_THROW(quick.check_keys({"a", "b", "list", "extra"}));
  EXPECT_NO_THROW(full.check_keys({"a", "b", "list", "extra"}));
  EXPECT_CONTAINS(error_of([&] {
                    quick.check_keys({"a", "b", "list"});
                  }),
                  "bad.toml:9: key 'full.extra': unknown key");
  // A scale without its own table is the top level.
  const auto plain = parse("a = 1\n", "full");
  EXPECT_EQ(plain.integer("a"), 1);
}

// ---- Figure data ----

TEST(ExperimentFigureData, CsvFormatAndMeanSeByHand) {
  FigureData d;
  d.notes.push_back("first note");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // mean 7/3; SE = sqrt(sum (v - mean)^2 / (n - 1) / n) = sqrt((42/9) / 2 / 3) = sqrt(7/9).
  d.add("energy", "classic, cached", 0.5, {1.0, 2.0, 4.0, nan});
  d.add("energy", "one", 1.0, {3.0});
  d.add("energy", "none", 1.5, {nan, nan});  // nothing measured: no row
  d.add_theory("energy", "Eq. 3", 2.0, 0.1);
  d.add_theory("energy", "Eq. 3", 3.0, std::numeric_limits<double>::infinity());  // no row
  ASSERT_EQ(d.rows.size(), 3u);
  EXPECT_DOUBLE_EQ(d.rows[0].mean, 7.0 / 3.0);
  EXPECT_NEAR(d.rows[0].se, std::sqrt(7.0 / 9.0), 1e-15);
  EXPECT_EQ(d.rows[0].n, 3);
  EXPECT_EQ(d.rows[1].se, 0.0);
  EXPECT_EQ(d.rows[1].n, 1);
  EXPECT_EQ(d.rows[2].n, 0);

  char se[40], mean[40];
  std::snprintf(mean, sizeof mean, "%.17g", d.rows[0].mean);
  std::snprintf(se, sizeof se, "%.17g", d.rows[0].se);
  const std::string expected = std::string("# first note\n") + "panel,series,x,mean,se,n\n" +
                               "energy,\"classic, cached\",0.5," + mean + "," + se + ",3\n" +
                               "energy,one,1,3,0,1\n" + "energy,Eq. 3,2,0.10000000000000001,0,0\n";
  EXPECT_EQ(d.csv(), expected);
  // %.17g reads back exactly.
  EXPECT_EQ(std::strtod(mean, nullptr), 7.0 / 3.0);

  const MeanSe none = mean_se({nan});
  EXPECT_EQ(none.n, 0);
  EXPECT_TRUE(std::isnan(none.mean));
}

// ---- Sweeps ----

const char* kSweep =
    "name = \"tiny\"\nrepeats = 2\nmaster_seed = 7\n"
    "[fixed]\nN = 50\nmax_epochs = 2000\n"
    "[grid]\nP = [30, 35, 40]\n";

// CSV data lines (no '#') split into fields.
std::vector<std::vector<std::string>> csv_rows(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(csv);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::istringstream ls(line);
    std::string field;
    while (std::getline(ls, field, ',')) f.push_back(field);
    rows.push_back(f);
  }
  return rows;
}

TEST(Sweep, TinyGridMatchesDirectRuns) {
  const auto cfg = ExperimentConfig::parse(kSweep, "sweep.toml", "");
  const std::string csv = run_sweep(cfg, env_with(1));
  EXPECT_EQ(csv.rfind("# sweep tiny from sweep.toml; 2 repeats; master_seed 7\n", 0), 0u) << csv;
  const auto rows = csv_rows(csv);
  ASSERT_EQ(rows.size(), 1u + 3u * 11u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"P", "quantity", "mean", "se", "n"}));

  const std::vector<std::string> quantities = {"converged",          "epochs",
                                               "presentations",      "updates",
                                               "energy_classic",     "energy_consolidation",
                                               "energy_maintenance", "energy_change",
                                               "energy_total",       "energy_minimal",
                                               "inefficiency"};
  const std::vector<int> Ps = {30, 35, 40};
  for (std::size_t i = 0; i < Ps.size(); ++i) {
    // The same runs, directly: seeds derive_seed(master, k).
    std::vector<PerceptronResult> direct;
    for (std::uint64_t k = 0; k < 2; ++k) {
      PerceptronConfig c;
      c.N = 50;
      c.P = static_cast<std::size_t>(Ps[i]);
      c.max_epochs = 2000;
      c.seed = derive_seed(7, k);
      direct.push_back(run_perceptron(c));
    }
    auto value = [&](const PerceptronResult& r, const std::string& q) -> double {
      if (q == "converged") return r.converged ? 1.0 : 0.0;
      if (q == "epochs") return static_cast<double>(r.epochs);
      if (q == "presentations") return static_cast<double>(r.presentations);
      if (q == "updates") return static_cast<double>(r.updates);
      if (q == "energy_classic") return r.energy.classic;
      if (q == "energy_consolidation") return r.energy.consolidation;
      if (q == "energy_maintenance") return r.energy.maintenance;
      if (q == "energy_change") return r.energy.change;
      if (q == "energy_total") return r.energy.total();
      if (q == "energy_minimal") return r.minimal;
      return r.inefficiency();
    };
    EXPECT_TRUE(direct[0].converged && direct[1].converged) << "P = " << Ps[i];
    for (std::size_t q = 0; q < quantities.size(); ++q) {
      const auto& row = rows[1 + i * quantities.size() + q];
      ASSERT_EQ(row.size(), 5u);
      EXPECT_EQ(row[0], std::to_string(Ps[i]));
      EXPECT_EQ(row[1], quantities[q]);
      const double a = value(direct[0], quantities[q]), b = value(direct[1], quantities[q]);
      const double mean = (a + b) / 2.0;
      const double se = std::sqrt(((a - mean) * (a - mean) + (b - mean) * (b - mean)) / 2.0);
      EXPECT_NEAR(std::strtod(row[2].c_str(), nullptr), mean, 1e-12 * std::fabs(mean))
          << quantities[q] << " P = " << Ps[i];
      EXPECT_NEAR(std::strtod(row[3].c_str(), nullptr), se, 1e-9 * (std::fabs(mean) + 1e-300))
          << quantities[q] << " P = " << Ps[i];
      EXPECT_EQ(row[4], "2");
    }
  }
}

// The epoch-cap policy: runs that stopped at the cap enter only `converged`; the other
// quantities are means over the converged runs, with n counting them. Checked against
// the same runs made directly.
TEST(Sweep, CappedRunsEnterOnlyConverged) {
  const char* text =
      "name = \"capped\"\nrepeats = 6\nmaster_seed = 3\n[fixed]\nN = 40\nmax_epochs = 20\n"
      "[grid]\nP = [60]\n";
  const auto rows =
      csv_rows(run_sweep(ExperimentConfig::parse(text, "sweep.toml", ""), env_with(2)));
  std::vector<double> converged_totals;
  int converged = 0;
  for (std::uint64_t k = 0; k < 6; ++k) {
    PerceptronConfig c;
    c.N = 40;
    c.P = 60;
    c.max_epochs = 20;
    c.seed = derive_seed(3, k);
    const auto r = run_perceptron(c);
    converged += r.converged;
    if (r.converged) converged_totals.push_back(r.energy.total());
  }
  // The case mixes both kinds of run (else it would not test the policy).
  ASSERT_GT(converged, 0);
  ASSERT_LT(converged, 6);
  double mean = 0.0;
  for (double v : converged_totals) mean += v / static_cast<double>(converged_totals.size());
  bool seen_total = false, seen_converged = false;
  for (const auto& row : rows) {
    if (row.size() != 5) continue;
    if (row[1] == "converged") {
      seen_converged = true;
      EXPECT_NEAR(std::strtod(row[2].c_str(), nullptr), converged / 6.0, 1e-12);
      EXPECT_EQ(row[4], "6");
    }
    if (row[1] == "energy_total") {
      seen_total = true;
      EXPECT_NEAR(std::strtod(row[2].c_str(), nullptr), mean, 1e-12 * mean);
      EXPECT_EQ(row[4], std::to_string(converged));
    }
  }
  EXPECT_TRUE(seen_total && seen_converged);
}

TEST(Sweep, SameCsvForOneAndTwoThreadsAndWhenResumed) {
  const auto cfg = ExperimentConfig::parse(kSweep, "sweep.toml", "");
  const std::string one = run_sweep(cfg, env_with(1));
  const std::string two = run_sweep(cfg, env_with(2));
  EXPECT_EQ(one, two);

  TempDir dir;
  ResultsStore store(dir.file("results.sqlite"));
  // First a part of the grid, then the whole: the second call resumes from the store.
  const std::string part_text =
      "name = \"tiny\"\nrepeats = 2\nmaster_seed = 7\n[fixed]\nN = 50\nmax_epochs = 2000\n"
      "[grid]\nP = [35]\n";
  run_sweep(ExperimentConfig::parse(part_text, "sweep.toml", ""), env_with(2, &store));
  EXPECT_EQ(store.count("perceptron"), 2u);
  const std::string resumed = run_sweep(cfg, env_with(2, &store));
  EXPECT_EQ(store.count("perceptron"), 6u);
  EXPECT_EQ(resumed, one);
  // Everything stored now: a third call reads only from the store.
  const std::string stored = run_sweep(cfg, env_with(1, &store));
  EXPECT_EQ(store.count("perceptron"), 6u);
  EXPECT_EQ(stored, one);
}

// ---- Figures ----

// A tiny Figure 6 experiment (small N so that it runs in well under a second).
const char* kFig6 =
    "description = \"tiny\"\nmaster_seed = 3\nN = 60\nP = 40\ntheta = 3.0\ntau = 100.0\n"
    "c = 0.01\neta = 1.0\nrules = [\"synapse\", \"neuron\"]\nshifted_theory = true\n"
    "max_epochs = 30\n[quick]\nrepeats = 3\n[full]\nrepeats = 1\n";

std::string run_fig(const std::string& name, const std::string& toml, const std::string& scale,
                    const ExperimentEnv& env, const TempDir& dir, const std::string& out) {
  write(dir.file(name + ".toml"), toml);
  const FigureSpec* spec = find_figure(name);
  if (spec == nullptr) throw std::runtime_error("figure " + name + " not registered");
  FigureRunOptions opt;
  opt.scale = scale;
  opt.out_dir = dir.file(out);
  opt.experiments_dir = dir.path().string();
  const auto done = run_figure(*spec, opt, env);
  EXPECT_EQ(done.csv, dir.file(out + "/" + name + ".csv"));
  return read(done.csv);
}

TEST(Figure, NoExperimentFolderIsAnErrorNamingIt) {
  const char* old = std::getenv("SYNCACHE_EXPERIMENTS");
  const std::string saved = old != nullptr ? old : "";
  ::unsetenv("SYNCACHE_EXPERIMENTS");
  FigureRunOptions opt;  // no experiments_dir, no environment: nothing to fall back on
  try {
    run_figure(*find_figure("fig2a"), opt, env_with(1));
    ADD_FAILURE() << "a figure without experiment files ran";
  } catch (const ParamError& e) {
    EXPECT_EQ(e.key(), "experiments");
  }
  if (old != nullptr) ::setenv("SYNCACHE_EXPERIMENTS", saved.c_str(), 1);
}

TEST(Figure, Fig6SameCsvForOneAndTwoThreadsAndFromTheStore) {
  ASSERT_NE(find_figure("fig6"), nullptr);
  TempDir dir;
  const std::string one = run_fig("fig6", kFig6, "quick", env_with(1), dir, "one");
  ResultsStore store(dir.file("results.sqlite"));
  const std::string two = run_fig("fig6", kFig6, "quick", env_with(2, &store), dir, "two");
  const std::string again = run_fig("fig6", kFig6, "quick", env_with(2, &store), dir, "again");
  EXPECT_EQ(one, two);
  EXPECT_EQ(one, again);
  EXPECT_EQ(store.count("perceptron_epochs"), 6u);  // 2 rules x 3 seeds
  EXPECT_CONTAINS(one, "# fig6: ");
  EXPECT_CONTAINS(one, "panel,series,x,mean,se,n\n");
  EXPECT_CONTAINS(one, "power synapse,maintenance,1,");
  EXPECT_CONTAINS(one, "power neuron,consolidation theory theta+eta/2,1,");
}

// The simulated rows are the per-epoch increments of a direct run, and the theory rows
// are Eqs. 5-7 fed that epoch's p = errors / P, times P (one seed, so no averaging).
TEST(Figure, Fig6RowsAreEpochIncrementsAndTheoryOfMeasuredP) {
  TempDir dir;
  const std::string csv = run_fig("fig6", kFig6, "full", env_with(1), dir, "out");
  PerceptronConfig c;
  c.N = 60;
  c.P = 40;
  c.cache.rule = Rule::synapse;
  c.cache.theta = 3.0;
  c.cache.tau = 100.0;
  c.cache.c = 0.01;
  c.max_epochs = 30;
  c.seed = derive_seed(3, 0);
  std::vector<EpochRecord> recs;
  const EpochObserver obs = [&](const EpochRecord& r) { recs.push_back(r); };
  const PerceptronResult res = run_perceptron(c, nullptr, nullptr, &obs);
  ASSERT_GE(recs.size(), 3u);

  std::map<std::pair<std::string, double>, double> val;
  for (const auto& row : csv_rows(csv)) {
    if (row.size() != 6 || row[0] != "power synapse") {
      if (row.size() == 6 && row[0] == "update fraction synapse") {
        val[{"p", std::strtod(row[2].c_str(), nullptr)}] = std::strtod(row[3].c_str(), nullptr);
      }
      continue;
    }
    EXPECT_EQ(row[5], "1");
    val[{row[1], std::strtod(row[2].c_str(), nullptr)}] = std::strtod(row[3].c_str(), nullptr);
  }
  auto at = [&val](const std::string& series, double x) {
    const auto it = val.find({series, x});
    return it == val.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
  };
  double last_m = 0.0, last_c = 0.0;
  std::size_t learning = 0;
  for (const auto& r : recs) {
    const double x = static_cast<double>(r.epoch);
    const double dm = r.energy.maintenance - last_m, dc = r.energy.consolidation - last_c;
    last_m = r.energy.maintenance;
    last_c = r.energy.consolidation;
    if (r.errors == 0) {  // the final error-free epoch is not a learning epoch
      EXPECT_TRUE(std::isnan(at("maintenance", x)));
      continue;
    }
    ++learning;
    ASSERT_FALSE(std::isnan(at("maintenance", x))) << "epoch " << r.epoch;
    EXPECT_EQ(at("maintenance", x), dm);
    EXPECT_EQ(at("consolidation", x), dc);
    const double p = static_cast<double>(r.errors) / 40.0;
    EXPECT_EQ(at("p", x), p);
    const auto t = theory::transient(3.0, 100.0, p, 1.0, 61.0, 0.01);
    EXPECT_DOUBLE_EQ(at("maintenance theory", x), t.maintenance_power * 40.0);
    EXPECT_DOUBLE_EQ(at("consolidation theory", x), t.consolidation_power * 40.0);
    const auto u = theory::transient(3.5, 100.0, p, 1.0, 61.0, 0.01);
    EXPECT_DOUBLE_EQ(at("maintenance theory theta+eta/2", x), u.maintenance_power * 40.0);
  }
  EXPECT_GT(learning, 2u);
  // The final consolidation at the end of learning is in no epoch's power.
  EXPECT_GE(res.energy.consolidation, last_c);
}

TEST(Figure, Fig6BadExperimentFileNamesFileLineAndKey) {
  TempDir dir;
  auto attempt = [&](const std::string& toml) {
    return error_of([&] { run_fig("fig6", toml, "quick", env_with(1), dir, "out"); });
  };
  const std::string path = dir.file("fig6.toml");
  std::string msg = attempt("tau_extra = 3\n" + std::string(kFig6));
  EXPECT_CONTAINS(msg, path + ":1: key 'tau_extra': unknown key");
  msg = attempt("description = \"x\"\nN = 60\nP = 40\ntheta = \"five\"\n");
  EXPECT_CONTAINS(msg, path + ":4: key 'theta': expected a number");
  std::string rules_empty = kFig6;
  rules_empty.replace(rules_empty.find("rules = ["),
                      std::string("rules = [\"synapse\", \"neuron\"]").size(), "rules = []");
  EXPECT_CONTAINS(attempt(rules_empty), path + ":9: key 'rules': empty array");
  std::string classic = kFig6;
  classic.replace(classic.find("\"synapse\", \"neuron\""),
                  std::string("\"synapse\", \"neuron\"").size(), "\"classic\"");
  EXPECT_CONTAINS(attempt(classic),
                  path + ":9: key 'rules': needs a caching rule of the perceptron");
  EXPECT_CONTAINS(attempt("N = 60\n[quick\nrepeats = 1\n"), path + ":2:");
}

}  // namespace
}  // namespace syncache
