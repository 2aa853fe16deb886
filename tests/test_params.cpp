// The parameter seam (io/params.hpp) and the rule table (core/rule.hpp): ranges in words,
// checks keyed by the parameter's name, each front end's spelling, rules as data.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "syncache/core/cached_store.hpp"
#include "syncache/core/rule.hpp"
#include "syncache/experiments/mlp_training.hpp"
#include "syncache/io/params.hpp"
#include "syncache/models/perceptron.hpp"
#include "syncache/models/perceptron_json.hpp"
#include "syncache/models/spiking_json.hpp"

namespace {

using syncache::ParamError;
using syncache::ParamKind;
using syncache::ParamSpec;

// The key and message of the ParamError that f throws ("" when it throws none).
template <class F>
std::pair<std::string, std::string> error_of(F f) {
  try {
    f();
  } catch (const ParamError& e) {
    return {e.key(), e.message()};
  }
  return {"", ""};
}

TEST(ParamSpec, RangesInWordsAndChecksKeyedByName) {
  const ParamSpec alpha = ParamSpec("alpha", ParamKind::real, "").with_default("1").in(0.0, 2.0);
  EXPECT_EQ(alpha.range_text(), "in [0, 2]");
  EXPECT_EQ(alpha.check(2.0), 2.0);
  EXPECT_EQ(error_of([&] { alpha.check(2.5); }),
            std::make_pair(std::string("alpha"), std::string("must be in [0, 2] (got 2.5)")));
  EXPECT_EQ(error_of([&] { alpha.check(std::nan("")); }).first, "alpha");

  const ParamSpec tau = ParamSpec("tau", ParamKind::real, "")
                            .with_default("inf")
                            .in(1.0, syncache::kUnbounded)
                            .or_inf()
                            .in_unit("presentations");
  EXPECT_EQ(tau.range_text(), ">= 1 presentations, or inf");
  EXPECT_EQ(tau.read_real("inf"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(tau.read_real("1"), 1.0);
  EXPECT_EQ(error_of([&] { tau.read_real("0.5"); }).second,
            "must be >= 1 presentations, or inf (got 0.5)");
  EXPECT_EQ(error_of([&] { tau.read_real("abc"); }).second, "'abc' is not a number or inf");

  const ParamSpec c = ParamSpec("c", ParamKind::real, "")
                          .with_default("0")
                          .in(0.0, syncache::kUnbounded, false, true);
  EXPECT_EQ(c.range_text(), ">= 0 and finite");
  EXPECT_EQ(error_of([&] { c.check(std::numeric_limits<double>::infinity()); }).first, "c");
  EXPECT_EQ(error_of([&] { c.read_real("inf"); }).second, "'inf' is not a finite number");

  const ParamSpec eta = ParamSpec("eta", ParamKind::real, "")
                            .with_default("1")
                            .in(0.0, syncache::kUnbounded, true, true);
  EXPECT_EQ(eta.range_text(), "> 0 and finite");
  EXPECT_EQ(error_of([&] { eta.check(0.0); }).second, "must be > 0 and finite (got 0)");

  const ParamSpec n =
      ParamSpec("max_epochs", ParamKind::integer, "").with_default("10000").in(1, 1e12);
  EXPECT_EQ(n.read_integer("10"), 10);
  EXPECT_EQ(error_of([&] { n.read_integer("0"); }).second,
            "must be an integer in [1, 1000000000000] (got '0')");
  EXPECT_EQ(error_of([&] { n.read_integer("1.5"); }).first, "max_epochs");

  const ParamSpec seed = ParamSpec("seed", ParamKind::seed, "");
  EXPECT_EQ(seed.read_seed("18446744073709551615"), 18446744073709551615ull);
  EXPECT_EQ(error_of([&] { seed.read_seed("-1"); }).first, "seed");

  const ParamSpec mode =
      ParamSpec("backprop", ParamKind::text, "").with_default("exact").one_of("exact|authors");
  EXPECT_EQ(mode.read_text("authors"), "authors");
  EXPECT_EQ(error_of([&] { mode.read_text("sideways"); }).second,
            "unknown value 'sideways' (allowed: exact, authors)");
}

TEST(ParamSpec, EachFrontEndSpellsTheKey) {
  EXPECT_EQ(syncache::option_spelling("theta"), "--theta");
  EXPECT_EQ(syncache::option_spelling("max_epochs"), "--max-epochs");
  EXPECT_EQ(syncache::option_spelling("N/P"), "--N/--P");
  const ParamError e("max_epochs", "must be >= 1");
  EXPECT_STREQ(e.what(), "max_epochs: must be >= 1");  // TOML, JSON and Python spelling
}

TEST(RuleTable, EveryRuleOnceWithItsModels) {
  for (const auto& info : syncache::kRules) {
    EXPECT_EQ(syncache::parse_rule(info.name), info.rule);
    EXPECT_EQ(syncache::rule_name(info.rule), info.name);
  }
  EXPECT_EQ(syncache::rule_names(syncache::kPerceptron), "classic, synapse, neuron, sum");
  EXPECT_EQ(syncache::rule_names(syncache::kMlp, "|"), "classic|synapse|neuron|sum|layer");
  EXPECT_EQ(syncache::rule_names(syncache::kSpiking, ", ", true), "synapse, neuron, sum");
  EXPECT_FALSE(syncache::find_rule("layer", syncache::kPerceptron).has_value());
  EXPECT_EQ(syncache::find_rule("layer", syncache::kMlp), syncache::Rule::layer);
  const auto bad = error_of([] { syncache::parse_rule("layer", syncache::kSpiking); });
  EXPECT_EQ(bad.first, "rule");
  EXPECT_EQ(bad.second, "unknown rule 'layer' (allowed: classic, synapse, neuron, sum)");
  EXPECT_EQ(error_of([] {
              syncache::require_rule(syncache::Rule::layer, syncache::kPerceptron, "x");
            }).first,
            "rule");
}

// The store reads scope and statistic from the table: on one row with |s| = (0.6, 0.6),
// theta = 1 consolidates under "sum" (1.2 > 1) but not under "neuron" or "synapse"
// (max 0.6); with two rows each at 0.6 "layer" (max) does not either.
TEST(RuleTable, StoreFollowsScopeAndStatistic) {
  auto consolidated = [](syncache::Rule rule, std::size_t rows) {
    syncache::CacheParams p;
    p.rule = rule;
    p.theta = 1.0;
    syncache::CachedStore st(rows, 2, p, syncache::ChangeCost(1.0));
    const double dw[2] = {0.6, -0.6};
    for (std::size_t r = 0; r < rows; ++r) st.add(r, dw);
    st.apply_rule();
    return st.consolidation_events();
  };
  EXPECT_EQ(consolidated(syncache::Rule::sum, 1), 2);
  EXPECT_EQ(consolidated(syncache::Rule::neuron, 1), 0);
  EXPECT_EQ(consolidated(syncache::Rule::synapse, 1), 0);
  EXPECT_EQ(consolidated(syncache::Rule::layer, 2), 0);
}

}  // namespace

namespace {

// The stored parameters of a run are the table's names (plus the code revision), and
// reading them back through the table gives the same configuration.
TEST(PerceptronParameters, StoredKeysAreTheTableAndReadBack) {
  syncache::PerceptronConfig cfg;
  cfg.N = 37;
  cfg.P = 41;
  cfg.cache.rule = syncache::Rule::sum;
  cfg.cache.theta = 2.5;
  cfg.cache.tau = 300.0;
  cfg.cache.c = 0.01;
  cfg.cache.b = 0.5;
  cfg.alpha = 2.0;
  cfg.eta = 0.5;
  cfg.max_epochs = 77;
  const auto j = syncache::perceptron_params_json(cfg);
  const auto specs = syncache::perceptron_parameters();
  for (const auto& [key, value] : j.items()) {
    if (key == "revision") continue;
    EXPECT_NE(syncache::find_param(specs, key), nullptr) << key;
  }
  nlohmann::json p = j;
  p.erase("revision");
  const auto back = syncache::perceptron_config_from_json(p);
  EXPECT_EQ(back.N, 37u);
  EXPECT_EQ(back.P, 41u);
  EXPECT_EQ(back.cache.rule, syncache::Rule::sum);
  EXPECT_EQ(back.cache.theta, 2.5);
  EXPECT_EQ(back.cache.tau, 300.0);
  EXPECT_EQ(back.cache.c, 0.01);
  EXPECT_EQ(back.cache.b, 0.5);
  EXPECT_EQ(back.alpha, 2.0);
  EXPECT_EQ(back.eta, 0.5);
  EXPECT_EQ(back.max_epochs, 77);
  // A value outside its range is refused by the table, keyed by its name.
  p["alpha"] = 4.5;
  EXPECT_EQ(error_of([&] { syncache::perceptron_config_from_json(p); }).first, "alpha");
  p["alpha"] = 1.0;
  p["tau"] = 0.5;
  EXPECT_EQ(error_of([&] { syncache::perceptron_config_from_json(p); }).second,
            "must be >= 1 presentations, or inf (got 0.5)");
  p["tau"] = "inf";
  p.erase("theta");
  EXPECT_EQ(error_of([&] { syncache::perceptron_config_from_json(p); }).first, "theta");
  p["theta"] = 1.0;
  p["seed"] = 3;  // a run's own key, not a parameter
  EXPECT_EQ(error_of([&] { syncache::perceptron_config_from_json(p); }).first, "seed");
}

}  // namespace

namespace {

// The spiking neuron reads its run through its table: the stored parameters read back,
// theta is required for a caching rule, ranges carry the neuron's units, a bad key is
// named.
TEST(SpikingParameters, ReadThroughTheTable) {
  namespace sp = syncache::spiking;
  sp::LearningConfig cfg;
  cfg.patterns = 7;
  cfg.cache.rule = syncache::Rule::sum;
  cfg.cache.theta = 0.5;
  cfg.cache.tau = 2000.0;
  cfg.cache.c = 0.001;
  cfg.params.max_rounds = 30;
  cfg.params.shunting_background = true;
  nlohmann::json p = sp::params_json(cfg);
  p.erase("revision");
  const auto back = sp::config_from_json(p);
  EXPECT_EQ(back.patterns, 7);
  EXPECT_EQ(back.cache.rule, syncache::Rule::sum);
  EXPECT_EQ(back.cache.theta, 0.5);
  EXPECT_EQ(back.cache.tau, 2000.0);
  EXPECT_EQ(back.cache.c, 0.001);
  EXPECT_EQ(back.params.max_rounds, 30);
  EXPECT_TRUE(back.params.shunting_background);
  p["tau"] = 0.0;
  EXPECT_EQ(error_of([&] { sp::config_from_json(p); }).second, "must be > 0 ms, or inf (got 0)");
  p["tau"] = "inf";
  p["rule"] = "layer";  // one neuron: no layer rule
  EXPECT_EQ(error_of([&] { sp::config_from_json(p); }).first, "rule");
  p["rule"] = "neuron";
  p.erase("theta");
  EXPECT_EQ(error_of([&] { sp::config_from_json(p); }).first, "theta");
  p["theta"] = 1.0;
  p["thetta"] = 1.0;
  EXPECT_EQ(error_of([&] { sp::config_from_json(p); }).first, "thetta");
}

}  // namespace

namespace {

// The MNIST network and its stopping rule read through their tables, with the checks
// that tie parameters together.
TEST(MlpParameters, ReadThroughTheTables) {
  nlohmann::json p = {{"hidden", 20},       {"eta", 0.05},          {"rule", "sum"}, {"theta", 0.3},
                      {"tau", 1000.0},      {"c", 0.001},           {"seed", 7},     {"lazy", true},
                      {"lazy_margin", 0.2}, {"restrict", "neuron"}, {"keep", 0.5}};
  const auto cfg = syncache::mlp_config_from_json(p);
  EXPECT_EQ(cfg.hidden, 20u);
  EXPECT_EQ(cfg.eta, 0.05);
  EXPECT_EQ(cfg.cache.rule, syncache::Rule::sum);
  EXPECT_EQ(cfg.cache.theta, 0.3);
  EXPECT_EQ(cfg.cache.tau, 1000.0);
  EXPECT_EQ(cfg.cache.c, 0.001);
  EXPECT_EQ(cfg.seed, 7u);
  EXPECT_TRUE(cfg.lazy);
  EXPECT_EQ(cfg.lazy_margin, 0.2);
  EXPECT_EQ(cfg.restriction, syncache::Restriction::neuron);
  EXPECT_EQ(cfg.keep, 0.5);
  auto q = p;
  q["lazy"] = false;  // a margin without lazy learning
  EXPECT_EQ(error_of([&] { syncache::mlp_config_from_json(q); }).first, "lazy_margin");
  q = p;
  q.erase("keep");  // a restriction needs its fraction
  EXPECT_EQ(error_of([&] { syncache::mlp_config_from_json(q); }).first, "keep");
  q = p;
  q["tau"] = 0.0;  // exponential decay: tau > 0 samples
  EXPECT_EQ(error_of([&] { syncache::mlp_config_from_json(q); }).second,
            "must be > 0 samples, or inf (got 0)");
  const auto t = syncache::training_options_from_json(
      {{"epochs", 4}, {"patience", 2}, {"eval_every", 250}, {"target_accuracy", 0.9}});
  EXPECT_EQ(t.max_epochs, 4);
  EXPECT_EQ(t.patience, 2);
  EXPECT_EQ(t.eval_every, 250);
  EXPECT_EQ(t.target, 0.9);
  EXPECT_EQ(error_of([] {
              syncache::training_options_from_json({{"epochs", 0}});
            }).first,
            "epochs");
}

}  // namespace
