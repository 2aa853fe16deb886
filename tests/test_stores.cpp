// Weight stores (docs/model.md sections 1 and 2): PlainStore (classic learning) and CachedStore
// (persistent l plus transient s, consolidation rules, decay, maintenance, change cost).
// Expected values are derived by hand (arithmetic in the comments) or from RefCache, a
// direct scalar model of docs/model.md's caching step on plain doubles.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "syncache/core/cached_store.hpp"
#include "syncache/core/energy.hpp"
#include "syncache/core/input.hpp"
#include "syncache/core/plain_store.hpp"
#include "syncache/core/rule.hpp"
#include "syncache/models/patterns.hpp"

namespace syncache {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
const Rule kRules[] = {Rule::synapse, Rule::neuron, Rule::sum, Rule::layer};

// ---------------------------------------------------------------------------------------
// Helpers

Input<std::int8_t> in8(const std::vector<std::int8_t>& x) {
  Input<std::int8_t> in{x.data(), x.size(), 0, 0};
  for (std::int8_t v : x) {
    in.n_pos += v == 1;
    in.n_neg += v == -1;
  }
  return in;
}

Input<double> ind(const std::vector<double>& x) {
  return Input<double>{x.data(), x.size(), 0, 0};
}

CacheParams make_params(Rule rule, double theta, double tau = kInf, double c = 0.0, double b = 0.0,
                        DecayForm form = DecayForm::linear) {
  CacheParams p;
  p.rule = rule;
  p.theta = theta;
  p.tau = tau;
  p.c = c;
  p.b = b;
  p.decay = form;
  return p;
}

std::string describe(Rule rule, double theta, double tau, DecayForm form) {
  std::ostringstream os;
  os << "rule=" << rule_name(rule) << " theta=" << theta << " tau=" << tau
     << (form == DecayForm::linear ? " linear" : " exponential");
  return os.str();
}

// |a - e| <= rel * max(1, |e|): relative for values of order one and above.
::testing::AssertionResult close(double a, double e, double rel, const std::string& what) {
  if (std::fabs(a - e) <= rel * std::max(1.0, std::fabs(e))) return ::testing::AssertionSuccess();
  std::ostringstream os;
  os.precision(17);
  os << what << ": got " << a << ", expected " << e;
  return ::testing::AssertionFailure() << os.str();
}

// Cost |d|^alpha (docs/model.md section 1), written independently of ChangeCost.
struct RefCost {
  double alpha = 1.0;
  bool potentiation_only = false;
  double operator()(double d) const {
    if (d == 0.0 || (potentiation_only && d < 0.0)) return 0.0;
    if (alpha == 0.0) return 1.0;
    return std::pow(std::fabs(d), alpha);
  }
};

double ref_factor(double tau, DecayForm form) {
  if (std::isinf(tau)) return 1.0;
  return form == DecayForm::linear ? 1.0 - 1.0 / tau : std::exp(-1.0 / tau);
}

// Scalar model of docs/model.md section 2: explicit s (no lazy gain); the rule looks at every
// row; b is charged on each synapse's net change in the step unless it consolidated.
class RefCache {
 public:
  RefCache(std::size_t rows, std::size_t cols, Rule rule, double theta, double factor, double c,
           double b, RefCost cost)
      : rows_(rows),
        cols_(cols),
        rule_(rule),
        theta_(theta),
        factor_(factor),
        c_(c),
        b_(b),
        cost_(cost),
        l(rows * cols, 0.0),
        s(rows * cols, 0.0),
        delta(rows * cols, 0.0) {}

  void decay() {
    for (double& v : s) v *= factor_;
  }
  void maintenance() {
    double sum = 0.0;
    for (double v : s) sum += std::fabs(v);
    maint += c_ * sum;
  }
  void add(std::size_t r, const std::vector<double>& dw) {
    for (std::size_t i = 0; i < cols_; ++i) {
      s[r * cols_ + i] += dw[i];
      delta[r * cols_ + i] += dw[i];
      classic += cost_(dw[i]);
    }
  }
  void apply_rule() {
    bool layer_fires = false;
    for (std::size_t r = 0; r < rows_; ++r) {
      double mx = 0.0, sum = 0.0;
      for (std::size_t i = 0; i < cols_; ++i) {
        mx = std::max(mx, std::fabs(s[r * cols_ + i]));
        sum += std::fabs(s[r * cols_ + i]);
      }
      switch (rule_) {
        case Rule::synapse:
          for (std::size_t i = 0; i < cols_; ++i)
            if (std::fabs(s[r * cols_ + i]) > theta_) consolidate(r * cols_ + i);
          break;
        case Rule::neuron:
          if (mx > theta_) consolidate_row(r);
          break;
        case Rule::sum:
          if (sum > theta_) consolidate_row(r);
          break;
        case Rule::layer:
          if (mx > theta_) layer_fires = true;
          break;
        case Rule::classic:
          break;
      }
    }
    if (layer_fires)
      for (std::size_t r = 0; r < rows_; ++r) consolidate_row(r);
    for (double& d : delta) {
      change += b_ * std::fabs(d);
      d = 0.0;
    }
  }
  void finish() {
    for (std::size_t k = 0; k < l.size(); ++k) consolidate(k);
  }
  double total() const { return cons + maint + change; }

  std::size_t rows_, cols_;
  Rule rule_;
  double theta_, factor_, c_, b_;
  RefCost cost_;
  std::vector<double> l, s, delta;
  double classic = 0.0, cons = 0.0, maint = 0.0, change = 0.0;
  std::int64_t events = 0;

 private:
  void consolidate(std::size_t k) {
    if (s[k] != 0.0) {
      l[k] += s[k];
      cons += cost_(s[k]);
      ++events;
    }
    s[k] = 0.0;
    delta[k] = 0.0;
  }
  void consolidate_row(std::size_t r) {
    for (std::size_t i = 0; i < cols_; ++i) consolidate(r * cols_ + i);
  }
};

::testing::AssertionResult matches(const CachedStore& st, const RefCache& ref, double rel) {
  for (std::size_t r = 0; r < st.rows(); ++r) {
    for (std::size_t i = 0; i < st.cols(); ++i) {
      const std::size_t k = r * st.cols() + i;
      for (const bool persistent : {true, false}) {
        const double a = persistent ? st.persistent(r, i) : st.transient(r, i);
        const double e = persistent ? ref.l[k] : ref.s[k];
        if (std::fabs(a - e) <= rel * std::max(1.0, std::fabs(e))) continue;
        std::ostringstream name;
        name << (persistent ? "l(" : "s(") << r << "," << i << ")";
        return close(a, e, rel, name.str());
      }
    }
  }
  const EnergyTally& e = st.energy();
  if (auto res = close(e.classic, ref.classic, rel, "classic"); !res) return res;
  if (auto res = close(e.consolidation, ref.cons, rel, "consolidation"); !res) return res;
  if (auto res = close(e.maintenance, ref.maint, rel, "maintenance"); !res) return res;
  if (auto res = close(e.change, ref.change, rel, "change"); !res) return res;
  if (auto res = close(e.total(), ref.total(), rel, "total"); !res) return res;
  if (st.consolidation_events() != ref.events) {
    return ::testing::AssertionFailure()
           << "events: got " << st.consolidation_events() << ", expected " << ref.events;
  }
  return ::testing::AssertionSuccess();
}

// A random change for one row, in one of three forms.
struct RandomChange {
  enum Kind { int8_input, double_input, general } kind = int8_input;
  double scale = 0.0;
  std::vector<std::int8_t> x8;
  std::vector<double> xd;
  std::vector<double> dw;  // scale * x (or the general vector itself)
};

RandomChange random_change(std::mt19937_64& rng, std::size_t cols, bool integer_valued,
                           bool dense = false) {
  RandomChange ch;
  std::uniform_int_distribution<int> kind(0, 2), sign(0, 1), pm(-1, 1), small(1, 3);
  std::uniform_real_distribution<double> u(-1.0, 1.0), mag(0.2, 1.0);
  ch.kind = static_cast<RandomChange::Kind>(kind(rng));
  ch.scale = integer_valued ? small(rng) : mag(rng);
  if (sign(rng)) ch.scale = -ch.scale;
  ch.dw.resize(cols);
  for (std::size_t i = 0; i < cols; ++i) {
    switch (ch.kind) {
      case RandomChange::int8_input: {
        const int v = dense ? (sign(rng) ? 1 : -1) : pm(rng);
        ch.x8.push_back(static_cast<std::int8_t>(v));
        ch.dw[i] = ch.scale * v;
        break;
      }
      case RandomChange::double_input: {
        double v = integer_valued ? pm(rng) : u(rng);
        if (dense && std::fabs(v) < 0.1) v = v < 0 ? -0.5 : 0.5;
        ch.xd.push_back(v);
        ch.dw[i] = ch.scale * v;
        break;
      }
      case RandomChange::general: {
        double v = integer_valued ? pm(rng) * small(rng) : u(rng);
        if (dense && std::fabs(v) < 0.1) v = v < 0 ? -0.5 : 0.5;
        ch.dw[i] = v;
        break;
      }
    }
  }
  return ch;
}

void apply(CachedStore& st, std::size_t row, const RandomChange& ch) {
  switch (ch.kind) {
    case RandomChange::int8_input:
      st.add(row, ch.scale, in8(ch.x8));
      break;
    case RandomChange::double_input:
      st.add(row, ch.scale, ind(ch.xd));
      break;
    case RandomChange::general:
      st.add(row, ch.dw.data());
      break;
  }
}

// ---------------------------------------------------------------------------------------
// 1. PlainStore

TEST(PlainStore, DoubleFieldAndUpdateOnRealInput) {
  PlainStore<double> st(2, 4, ChangeCost(1.0));
  const std::vector<double> x = {1.0, 0.0, -2.0, 0.5};
  const std::vector<double> y = {0.5, 3.0, 1.0, -2.0};
  st.update(1, 2.0, ind(x));  // row 1: w = (2, 0, -4, 1), row 0 untouched
  EXPECT_EQ(st.weight(1, 0), 2.0);
  EXPECT_EQ(st.weight(1, 1), 0.0);
  EXPECT_EQ(st.weight(1, 2), -4.0);
  EXPECT_EQ(st.weight(1, 3), 1.0);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(st.weight(0, i), 0.0);
  EXPECT_EQ(st.field(1, ind(y)), -5.0);  // 2*0.5 + 0*3 - 4*1 + 1*(-2)
  EXPECT_EQ(st.field(0, ind(y)), 0.0);
  st.update(1, -0.5, ind(x));  // Delta = (-0.5, 0, 1, -0.25): w = (1.5, 0, -3, 0.75)
  EXPECT_EQ(st.weight(1, 0), 1.5);
  EXPECT_EQ(st.weight(1, 2), -3.0);
  EXPECT_EQ(st.weight(1, 3), 0.75);
  EXPECT_EQ(st.field(1, ind(y)), -3.75);  // 0.75 + 0 - 3 - 1.5
  EXPECT_EQ(st.energy().classic, 8.75);   // (2 + 4 + 1) + (0.5 + 1 + 0.25)
  EXPECT_EQ(st.energy().consolidation, 8.75);
  EXPECT_EQ(st.energy().maintenance, 0.0);
  EXPECT_EQ(st.energy().change, 0.0);
  EXPECT_EQ(st.consolidation_events(), 0);
}

TEST(PlainStore, DoubleWeightsWithInt8Input) {
  PlainStore<double> st(1, 4, ChangeCost(1.0));
  const std::vector<std::int8_t> x = {1, -1, 0, 1};
  const std::vector<std::int8_t> y = {1, 1, 1, -1};
  st.update(0, 0.25, in8(x));  // w = (0.25, -0.25, 0, 0.25)
  EXPECT_EQ(st.weight(0, 1), -0.25);
  EXPECT_EQ(st.weight(0, 2), 0.0);
  EXPECT_EQ(st.field(0, in8(y)), -0.25);  // 0.25 - 0.25 + 0 - 0.25
  EXPECT_EQ(st.energy().classic, 0.75);   // 3 * 0.25
}

TEST(PlainStore, Int32FieldAndUpdate) {
  PlainStore<std::int32_t> st(1, 4, ChangeCost(1.0));
  const std::vector<std::int8_t> x = {1, -1, 0, 1};
  const std::vector<std::int8_t> y = {1, 1, 1, -1};
  st.update(0, 3, in8(x));  // w = (3, -3, 0, 3)
  EXPECT_EQ(st.weight(0, 0), 3.0);
  EXPECT_EQ(st.weight(0, 1), -3.0);
  EXPECT_EQ(st.field(0, in8(y)), -3);  // 3 - 3 + 0 - 3
  st.update(0, -2, in8(y));            // Delta = (-2, -2, -2, 2): w = (1, -5, -2, 5)
  EXPECT_EQ(st.weight(0, 2), -2.0);
  EXPECT_EQ(st.field(0, in8(x)), 11);    // 1 + 5 + 0 + 5
  EXPECT_EQ(st.energy().classic, 17.0);  // 9 + 8
  EXPECT_EQ(st.energy().consolidation, 17.0);
}

TEST(PlainStore, Int32FieldExactBeyond32BitSums) {
  // Weights near 2^31: the field needs 64-bit accumulation, then falls back to 32 bits.
  PlainStore<std::int32_t> st(1, 4, ChangeCost(1.0));
  const std::int32_t a = (1 << 30) - 1;  // 1073741823
  const std::vector<std::int8_t> all = {1, 1, 1, 1}, alt = {1, 1, 1, -1}, half = {1, 1, 0, 0};
  st.update(0, a, in8(all));
  st.update(0, a, in8(all));                                   // w_i = 2147483646
  EXPECT_EQ(st.field(0, in8(all)), std::int64_t{8589934584});  // 4 * 2147483646
  EXPECT_EQ(st.field(0, in8(alt)), std::int64_t{4294967292});  // 2 * 2147483646
  st.update(0, -a, in8(half));                                 // w = (a, a, 2a, 2a)
  EXPECT_EQ(st.field(0, in8(all)), std::int64_t{6442450938});  // 6a
  st.update(0, -a, in8(all));  // w = (0, 0, a, a), sum 2147483646 < 2^31 - 1
  EXPECT_EQ(st.field(0, in8(all)), std::int64_t{2147483646});
  EXPECT_EQ(st.field(0, in8(alt)), std::int64_t{0});
  EXPECT_EQ(st.energy().classic, 14.0 * a);  // (4 + 4 + 2 + 4) a
}

TEST(PlainStore, RandomPatternsMatchScalarAccumulation) {
  // N = 70 (stride 128): a perceptron-like sweep, every pattern updated with its target.
  const PatternSet<std::int8_t> ps = random_patterns(70, 6, 11);
  PlainStore<std::int32_t> si(1, ps.stride(), ChangeCost(1.0));
  PlainStore<double> sd(1, ps.stride(), ChangeCost(1.0));
  std::vector<std::int64_t> w(ps.stride(), 0);
  for (std::size_t p = 0; p < ps.P(); ++p) {
    std::int64_t h = 0;
    for (std::size_t i = 0; i < ps.stride(); ++i) h += w[i] * ps.row(p)[i];
    EXPECT_EQ(si.field(0, ps.input(p)), h);
    EXPECT_EQ(sd.field(0, ps.input(p)), static_cast<double>(h));
    si.update(0, ps.target(p), ps.input(p));
    sd.update(0, ps.target(p), ps.input(p));
    for (std::size_t i = 0; i < ps.stride(); ++i) w[i] += ps.target(p) * ps.row(p)[i];
  }
  for (std::size_t i = 0; i < ps.stride(); ++i) {
    EXPECT_EQ(si.weight(0, i), static_cast<double>(w[i]));
    EXPECT_EQ(sd.weight(0, i), static_cast<double>(w[i]));
  }
  // Each update changes the N + 1 = 71 active weights by 1: M = 6 * 71.
  EXPECT_EQ(si.energy().classic, 426.0);
  EXPECT_EQ(sd.energy().classic, 426.0);
}

struct CostCase {
  double alpha;
  bool pot;
  double plain_double;  // Delta = (2, 0, -4, 1)
  double plain_int;     // Delta = (3, -3, 0, 3) then (-2, -2, -2, 2)
};

TEST(PlainStore, EnergyForEveryAlpha) {
  const double r2 = std::sqrt(2.0), r3 = std::sqrt(3.0);
  const CostCase cases[] = {
      {0.0, false, 3.0, 7.0},                         // non-zero changes: 3; 3 + 4
      {0.5, false, r2 + 2.0 + 1.0, 3 * r3 + 4 * r2},  // sqrt(2)+sqrt(4)+1; 3 sqrt3 + 4 sqrt2
      {1.0, false, 7.0, 17.0},                        // 2+4+1; 9 + 8
      {2.0, false, 21.0, 43.0},                       // 4+16+1; 27 + 16
      {1.0, true, 3.0, 8.0},                          // 2+1; 6 + 2
      {2.0, true, 5.0, 22.0},                         // 4+1; 18 + 4
      {0.0, true, 2.0, 3.0},                          // 2; 2 + 1
  };
  for (const CostCase& cc : cases) {
    SCOPED_TRACE("alpha=" + std::to_string(cc.alpha) + (cc.pot ? " potentiation-only" : ""));
    const ChangeCost cost(cc.alpha, cc.pot);
    PlainStore<double> sd(1, 4, cost);
    const std::vector<double> x = {1.0, 0.0, -2.0, 0.5};
    sd.update(0, 2.0, ind(x));
    EXPECT_NEAR(sd.energy().classic, cc.plain_double, 1e-14);
    EXPECT_EQ(sd.energy().consolidation, sd.energy().classic);
    EXPECT_EQ(sd.energy().total(), sd.energy().consolidation);

    PlainStore<std::int32_t> si(1, 4, cost);
    si.update(0, 3, in8({1, -1, 0, 1}));
    si.update(0, -2, in8({1, 1, 1, -1}));
    EXPECT_NEAR(si.energy().classic, cc.plain_int, 1e-13);
    EXPECT_EQ(si.energy().consolidation, si.energy().classic);
    EXPECT_EQ(si.energy().maintenance, 0.0);
    EXPECT_EQ(si.energy().change, 0.0);
  }
}

// ---------------------------------------------------------------------------------------
// 2. CachedStore consolidation rules

TEST(CachedStoreRules, SynapseRuleConsolidatesOnlySynapsesAboveThreshold) {
  struct Case {
    double alpha;
    bool pot;
    double first, total;  // consolidation energy after step 1 and step 2
  };
  // Consolidated changes: 2 (step 1), then 2 and -2 (step 2).
  const Case cases[] = {{1.0, false, 2.0, 6.0},
                        {2.0, false, 4.0, 12.0},
                        {0.5, false, std::sqrt(2.0), 3.0 * std::sqrt(2.0)},
                        {0.0, false, 1.0, 3.0},
                        {1.0, true, 2.0, 4.0}};
  for (const Case& cc : cases) {
    SCOPED_TRACE("alpha=" + std::to_string(cc.alpha));
    CachedStore st(1, 3, make_params(Rule::synapse, 1.5), ChangeCost(cc.alpha, cc.pot));
    // s = (2, 1, -1.5): only |2| > 1.5; |-1.5| = theta stays (strict threshold).
    st.update(0, 1.0, ind({2.0, 1.0, -1.5}));
    EXPECT_EQ(st.persistent(0, 0), 2.0);
    EXPECT_EQ(st.persistent(0, 1), 0.0);
    EXPECT_EQ(st.persistent(0, 2), 0.0);
    EXPECT_EQ(st.transient(0, 0), 0.0);
    EXPECT_EQ(st.transient(0, 1), 1.0);
    EXPECT_EQ(st.transient(0, 2), -1.5);
    EXPECT_EQ(st.consolidation_events(), 1);
    EXPECT_NEAR(st.energy().consolidation, cc.first, 1e-15);
    // Delta = 2 * (0.25, 0.5, -0.25) = (0.5, 1, -0.5): s = (0.5, 2, -2); synapses 1 and 2 go.
    st.update(0, 2.0, ind({0.25, 0.5, -0.25}));
    EXPECT_EQ(st.persistent(0, 0), 2.0);
    EXPECT_EQ(st.persistent(0, 1), 2.0);
    EXPECT_EQ(st.persistent(0, 2), -2.0);
    EXPECT_EQ(st.transient(0, 0), 0.5);
    EXPECT_EQ(st.transient(0, 1), 0.0);
    EXPECT_EQ(st.transient(0, 2), 0.0);
    EXPECT_EQ(st.weight(0, 0), 2.5);
    EXPECT_EQ(st.field(0, ind({1.0, 1.0, 1.0})), 2.5);  // 2.5 + 2 - 2
    EXPECT_EQ(st.consolidation_events(), 3);
    EXPECT_NEAR(st.energy().consolidation, cc.total, 1e-14);
    EXPECT_EQ(st.transient_abs_sum(), 0.5);
  }
  // Classic (proposed) energy, alpha = 1: |2|+|1|+|1.5| + |0.5|+|1|+|0.5| = 6.5.
  CachedStore st(1, 3, make_params(Rule::synapse, 1.5), ChangeCost(1.0));
  st.update(0, 1.0, ind({2.0, 1.0, -1.5}));
  st.update(0, 2.0, ind({0.25, 0.5, -0.25}));
  EXPECT_EQ(st.energy().classic, 6.5);
}

TEST(CachedStoreRules, NeuronRuleConsolidatesWholeRowOnMaximum) {
  struct Case {
    double alpha;
    bool pot;
    double first, second;  // after the 3rd update; after the 4th
  };
  // Row consolidates l = (1.25, -1.75, 0.5), later synapse 2 alone with Delta l = -2.
  const double a05 = std::sqrt(1.25) + std::sqrt(1.75) + std::sqrt(0.5);
  const Case cases[] = {{1.0, false, 3.5, 5.5},
                        {2.0, false, 4.875, 8.875},  // 1.5625 + 3.0625 + 0.25; + 4
                        {0.5, false, a05, a05 + std::sqrt(2.0)},
                        {0.0, false, 3.0, 4.0},
                        {1.0, true, 1.75, 1.75}};  // only +1.25 and +0.5 are increases
  for (const Case& cc : cases) {
    SCOPED_TRACE("alpha=" + std::to_string(cc.alpha));
    CachedStore st(1, 3, make_params(Rule::neuron, 1.5), ChangeCost(cc.alpha, cc.pot));
    st.update(0, 1.0, ind({1.0, -1.5, 0.5}));  // max |s| = 1.5 = theta: nothing
    st.update(0, 1.0, ind({0.25, 0.0, 0.0}));  // s = (1.25, -1.5, 0.5): nothing
    EXPECT_EQ(st.consolidation_events(), 0);
    EXPECT_EQ(st.energy().consolidation, 0.0);
    EXPECT_EQ(st.transient(0, 0), 1.25);
    EXPECT_EQ(st.persistent(0, 0), 0.0);
    st.update(0, 1.0, ind({0.0, -0.25, 0.0}));  // s = (1.25, -1.75, 0.5): whole row
    EXPECT_EQ(st.persistent(0, 0), 1.25);
    EXPECT_EQ(st.persistent(0, 1), -1.75);
    EXPECT_EQ(st.persistent(0, 2), 0.5);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(st.transient(0, i), 0.0);
    EXPECT_EQ(st.consolidation_events(), 3);
    EXPECT_NEAR(st.energy().consolidation, cc.first, 1e-14);
    // s = (0, 0, -2): the row consolidates, but only synapse 2 changes l (one event).
    st.update(0, 2.0, ind({0.0, 0.0, -1.0}));
    EXPECT_EQ(st.persistent(0, 2), -1.5);
    EXPECT_EQ(st.consolidation_events(), 4);
    EXPECT_NEAR(st.energy().consolidation, cc.second, 1e-14);
  }
}

TEST(CachedStoreRules, SumRuleUsesTotalOfRow) {
  for (double alpha : {1.0, 2.0}) {
    SCOPED_TRACE("alpha=" + std::to_string(alpha));
    CachedStore st(1, 4, make_params(Rule::sum, 2.0), ChangeCost(alpha));
    st.update(0, 1.0, ind({1.0, 0.0, -0.5, 0.5}));  // sum |s| = 2 = theta: nothing
    EXPECT_EQ(st.consolidation_events(), 0);
    EXPECT_EQ(st.transient_abs_sum(), 2.0);
    // s = (1, 0, -0.5, 0.75), sum 2.25 > 2 although every |s_i| <= 1 < theta.
    st.update(0, 1.0, ind({0.0, 0.0, 0.0, 0.25}));
    EXPECT_EQ(st.persistent(0, 0), 1.0);
    EXPECT_EQ(st.persistent(0, 1), 0.0);
    EXPECT_EQ(st.persistent(0, 2), -0.5);
    EXPECT_EQ(st.persistent(0, 3), 0.75);
    EXPECT_EQ(st.transient_abs_sum(), 0.0);
    EXPECT_EQ(st.consolidation_events(), 3);  // synapse 1 has s = 0
    // alpha 1: 1 + 0.5 + 0.75 = 2.25; alpha 2: 1 + 0.25 + 0.5625 = 1.8125
    EXPECT_EQ(st.energy().consolidation, alpha == 1.0 ? 2.25 : 1.8125);
  }
}

TEST(CachedStoreRules, LayerRuleConsolidatesEveryRow) {
  CachedStore st(3, 2, make_params(Rule::layer, 1.0), ChangeCost(2.0));
  st.add(0, 1.0, ind({0.5, -0.5}));
  st.add(1, 1.0, ind({1.0, 0.0}));  // |s| = theta: not above
  st.apply_rule();
  EXPECT_EQ(st.consolidation_events(), 0);
  EXPECT_EQ(st.transient(1, 0), 1.0);
  st.add(2, 1.0, ind({0.0, -1.25}));  // 1.25 > 1: all three rows consolidate
  st.apply_rule();
  EXPECT_EQ(st.persistent(0, 0), 0.5);
  EXPECT_EQ(st.persistent(0, 1), -0.5);
  EXPECT_EQ(st.persistent(1, 0), 1.0);
  EXPECT_EQ(st.persistent(1, 1), 0.0);
  EXPECT_EQ(st.persistent(2, 1), -1.25);
  EXPECT_EQ(st.transient_abs_sum(), 0.0);
  EXPECT_EQ(st.consolidation_events(), 4);
  EXPECT_EQ(st.energy().consolidation, 3.0625);  // 0.25 + 0.25 + 1 + 1.5625
  st.update(1, 0.5, ind({1.0, 0.0}));            // s(1,0) = 0.5: nothing
  EXPECT_EQ(st.transient(1, 0), 0.5);
  EXPECT_EQ(st.consolidation_events(), 4);
}

TEST(CachedStoreRules, SeveralRowsEachRule) {
  // Row 0 gets (2, 0.5), row 1 gets (0.75, 0.5); theta = 1, b = 1.
  //  synapse: only (0,0) consolidates; b charged on 0.5 + 0.75 + 0.5 = 1.75
  //  neuron:  row 0 (max 2) consolidates, row 1 (max 0.75) stays; b = 1.25
  //  sum:     row 0 (2.5) and row 1 (1.25) consolidate; b = 0
  //  layer:   |2| > 1 somewhere: both rows; b = 0
  struct Case {
    Rule rule;
    double l[4];
    double s[4];
    double cons, change;
    std::int64_t events;
  };
  const Case cases[] = {
      {Rule::synapse, {2, 0, 0, 0}, {0, 0.5, 0.75, 0.5}, 2.0, 1.75, 1},
      {Rule::neuron, {2, 0.5, 0, 0}, {0, 0, 0.75, 0.5}, 2.5, 1.25, 2},
      {Rule::sum, {2, 0.5, 0.75, 0.5}, {0, 0, 0, 0}, 3.75, 0.0, 4},
      {Rule::layer, {2, 0.5, 0.75, 0.5}, {0, 0, 0, 0}, 3.75, 0.0, 4},
  };
  for (const Case& cc : cases) {
    SCOPED_TRACE(std::string(rule_name(cc.rule)));
    CachedStore st(2, 2, make_params(cc.rule, 1.0, kInf, 0.0, 1.0), ChangeCost(1.0));
    st.add(0, 2.0, in8({1, 0}));
    st.add(0, 0.5, in8({0, 1}));  // two adds in one step to one row
    st.add(1, 0.25, ind({3.0, 2.0}));
    st.apply_rule();
    for (std::size_t k = 0; k < 4; ++k) {
      EXPECT_EQ(st.persistent(k / 2, k % 2), cc.l[k]) << k;
      EXPECT_EQ(st.transient(k / 2, k % 2), cc.s[k]) << k;
    }
    EXPECT_EQ(st.energy().consolidation, cc.cons);
    EXPECT_EQ(st.energy().change, cc.change);
    EXPECT_EQ(st.consolidation_events(), cc.events);
    EXPECT_EQ(st.energy().classic, 3.75);
  }
}

TEST(CachedStoreRules, ThresholdIsStrictForEveryRule) {
  for (Rule rule : kRules) {
    SCOPED_TRACE(std::string(rule_name(rule)));
    // |s| = (1, 1): max = 1 = theta, sum = 2 = theta for the sum rule.
    const double theta = rule == Rule::sum ? 2.0 : 1.0;
    CachedStore st(2, 2, make_params(rule, theta), ChangeCost(1.0));
    st.update(0, 1.0, in8({1, -1}));
    EXPECT_EQ(st.consolidation_events(), 0);
    EXPECT_EQ(st.transient(0, 0), 1.0);
    EXPECT_EQ(st.transient(0, 1), -1.0);
    // One ulp-sized step above: s(0,0) = 1 + 2^-20 exceeds theta.
    const double eps = std::ldexp(1.0, -20);
    st.update(0, eps, in8({1, 0}));
    EXPECT_EQ(st.persistent(0, 0), 1.0 + eps);
    EXPECT_EQ(st.persistent(0, 1), rule == Rule::synapse ? 0.0 : -1.0);
    EXPECT_EQ(st.consolidation_events(), rule == Rule::synapse ? 1 : 2);
  }
}

TEST(CachedStoreRules, ThetaZeroConsolidatesAnyChange) {
  for (Rule rule : kRules) {
    SCOPED_TRACE(std::string(rule_name(rule)));
    CachedStore st(1, 3, make_params(rule, 0.0), ChangeCost(1.0));
    st.update(0, 0.125, in8({1, 0, -1}));
    EXPECT_EQ(st.persistent(0, 0), 0.125);
    EXPECT_EQ(st.persistent(0, 2), -0.125);
    EXPECT_EQ(st.transient_abs_sum(), 0.0);
    EXPECT_EQ(st.consolidation_events(), 2);
    EXPECT_EQ(st.energy().consolidation, 0.25);
  }
}

TEST(CachedStoreRules, Int8InputCostUsesSignCounts) {
  // Potentiation-only, alpha 2, int8 input (1, -1, 1, 0) scaled by -1.5:
  // proposed Delta = (-1.5, 1.5, -1.5, 0): classic = 1.5^2 = 2.25 (one increase).
  CachedStore st(1, 4, make_params(Rule::neuron, 10.0), ChangeCost(2.0, true));
  st.update(0, -1.5, in8({1, -1, 1, 0}));
  EXPECT_EQ(st.energy().classic, 2.25);
  st.finish();
  EXPECT_EQ(st.energy().consolidation, 2.25);
  EXPECT_EQ(st.consolidation_events(), 3);
}

// ---------------------------------------------------------------------------------------
// 3. Decay and maintenance

TEST(CachedStoreDecay, LinearFactor) {
  EXPECT_EQ(make_params(Rule::neuron, 1.0, 4.0).decay_factor(), 0.75);
  EXPECT_EQ(make_params(Rule::neuron, 1.0, kInf).decay_factor(), 1.0);
  EXPECT_EQ(make_params(Rule::neuron, 1.0, 1.0).decay_factor(), 0.0);
  CachedStore st(1, 3, make_params(Rule::synapse, kInf, 4.0), ChangeCost(1.0));
  st.update(0, 1.0, ind({1.0, -2.0, 0.5}));
  for (int k = 0; k < 3; ++k) st.decay();
  // 0.75^3 = 0.421875
  EXPECT_EQ(st.transient(0, 0), 0.421875);
  EXPECT_EQ(st.transient(0, 1), -0.84375);
  EXPECT_EQ(st.transient(0, 2), 0.2109375);
  EXPECT_EQ(st.persistent(0, 0), 0.0);
  EXPECT_EQ(st.weight(0, 1), -0.84375);
  EXPECT_EQ(st.field(0, ind({1.0, 1.0, 1.0})), -0.2109375);
  EXPECT_EQ(st.transient_abs_sum(), 1.4765625);  // 3.5 * 0.421875
  // A new change adds to the decayed value: s(0,0) = 0.421875 + 1.
  st.update(0, 1.0, ind({1.0, 0.0, 0.0}));
  EXPECT_EQ(st.transient(0, 0), 1.421875);
}

TEST(CachedStoreDecay, ExponentialFactor) {
  EXPECT_EQ(make_params(Rule::neuron, 1.0, 2.0, 0, 0, DecayForm::exponential).decay_factor(),
            std::exp(-0.5));
  CachedStore st(1, 2, make_params(Rule::neuron, kInf, 2.0, 0.0, 0.0, DecayForm::exponential),
                 ChangeCost(1.0));
  st.update(0, 1.0, ind({1.0, -2.0}));
  for (int k = 0; k < 3; ++k) st.decay();
  const double f3 = std::exp(-1.5);
  EXPECT_NEAR(st.transient(0, 0), f3, 1e-15);
  EXPECT_NEAR(st.transient(0, 1), -2.0 * f3, 2e-15);
  EXPECT_NEAR(st.transient_abs_sum(), 3.0 * f3, 3e-15);
}

TEST(CachedStoreDecay, NoDecayForInfiniteTau) {
  CachedStore st(1, 2, make_params(Rule::neuron, kInf), ChangeCost(1.0));
  st.update(0, 0.3, ind({1.0, -1.0}));
  for (int k = 0; k < 1000; ++k) st.decay();
  EXPECT_EQ(st.transient(0, 0), 0.3);
  EXPECT_EQ(st.transient(0, 1), -0.3);
}

TEST(CachedStoreDecay, MaintenanceChargesSumOfTransientWeights) {
  // c = 0.5, tau = 4 (factor 0.75), two rows, theta = 10 (nothing consolidates).
  CachedStore st(2, 3, make_params(Rule::neuron, 10.0, 4.0, 0.5), ChangeCost(1.0));
  st.add(0, 1.0, ind({1.0, -2.0, 0.5}));
  st.add(1, 1.0, ind({0.0, 0.0, 1.0}));
  st.apply_rule();
  st.charge_maintenance();  // 0.5 * (3.5 + 1) = 2.25
  EXPECT_EQ(st.energy().maintenance, 2.25);
  st.decay();
  st.charge_maintenance();  // + 0.5 * 4.5 * 0.75 = 1.6875
  EXPECT_EQ(st.energy().maintenance, 3.9375);
  st.begin_step();  // decay then charge: + 0.5 * 4.5 * 0.5625 = 1.265625
  EXPECT_EQ(st.energy().maintenance, 5.203125);
  EXPECT_EQ(st.transient_abs_sum(), 2.53125);
  EXPECT_EQ(st.energy().consolidation, 0.0);
  EXPECT_EQ(st.energy().total(), 5.203125);
  st.finish();  // remaining s: 0.5625 * 4.5 = 2.53125
  EXPECT_EQ(st.energy().consolidation, 2.53125);
  EXPECT_EQ(st.energy().total(), 7.734375);
  EXPECT_EQ(st.consolidation_events(), 4);
  st.charge_maintenance();  // nothing transient any more
  EXPECT_EQ(st.energy().maintenance, 5.203125);
}

TEST(CachedStoreDecay, MaintenanceIsFreeWithZeroCost) {
  CachedStore st(1, 2, make_params(Rule::neuron, 10.0), ChangeCost(1.0));
  st.update(0, 1.0, ind({1.0, 1.0}));
  st.begin_step();
  st.charge_maintenance();
  EXPECT_EQ(st.energy().maintenance, 0.0);
}

TEST(CachedStoreDecay, UnderflowedTransientIsZeroAndLaterChangesStillWork) {
  // tau = 2 (factor 1/2): after 2000 steps 2^-2000 is far below the double range.
  CachedStore st(1, 2, make_params(Rule::neuron, 100.0, 2.0, 0.25), ChangeCost(1.0));
  st.update(0, 1.0, ind({1.0, -3.0}));
  for (int k = 0; k < 2000; ++k) st.begin_step();
  EXPECT_EQ(st.transient(0, 0), 0.0);
  EXPECT_EQ(st.transient(0, 1), 0.0);
  // Maintenance: 0.25 * 4 * (1/2 + 1/4 + ...) = 1 up to the last representable terms.
  EXPECT_NEAR(st.energy().maintenance, 1.0, 1e-15);
  st.update(0, 0.75, ind({1.0, 0.0}));
  EXPECT_EQ(st.transient(0, 0), 0.75);
  EXPECT_EQ(st.transient(0, 1), 0.0);
  EXPECT_EQ(st.field(0, ind({1.0, 1.0})), 0.75);
  st.decay();
  EXPECT_EQ(st.transient(0, 0), 0.375);
}

// Long runs with tau = 2 push the lazy gain below its renormalisation threshold repeatedly.
TEST(CachedStoreDecay, LongFastDecayMatchesReference) {
  for (DecayForm form : {DecayForm::linear, DecayForm::exponential}) {
    for (Rule rule : kRules) {
      const double theta = rule == Rule::sum ? 6.0 : 1.7;
      SCOPED_TRACE(describe(rule, theta, 2.0, form));
      const CacheParams p = make_params(rule, theta, 2.0, 0.05, 0.1, form);
      CachedStore st(2, 5, p, ChangeCost(1.0));
      RefCache ref(2, 5, rule, theta, ref_factor(2.0, form), 0.05, 0.1, RefCost{});
      std::mt19937_64 rng(42);
      for (int t = 0; t < 2000; ++t) {
        st.begin_step();
        ref.decay();
        ref.maintenance();
        for (std::size_t r = 0; r < 2; ++r) {
          const RandomChange ch = random_change(rng, 5, false, true);
          apply(st, r, ch);
          ref.add(r, ch.dw);
        }
        st.apply_rule();
        ref.apply_rule();
        if (t % 100 == 99) {
          ASSERT_TRUE(matches(st, ref, 1e-12)) << "step " << t;
        }
      }
      st.finish();
      ref.finish();
      ASSERT_TRUE(matches(st, ref, 1e-12));
      EXPECT_GT(ref.events, 0);
    }
  }
}

// ---------------------------------------------------------------------------------------
// 4. Change cost b

TEST(CachedStoreChangeCost, SynapseRuleChargesOnlyNonConsolidated) {
  CachedStore st(1, 3, make_params(Rule::synapse, 1.5, kInf, 0.0, 0.5), ChangeCost(1.0));
  st.update(0, 1.0, ind({2.0, 1.0, -1.5}));  // synapse 0 consolidates: b (1 + 1.5) = 1.25
  EXPECT_EQ(st.energy().change, 1.25);
  st.update(0, 2.0, ind({0.25, 0.5, -0.25}));  // 1 and 2 consolidate: b * 0.5 = 0.25
  EXPECT_EQ(st.energy().change, 1.5);
  EXPECT_EQ(st.energy().consolidation, 6.0);
  EXPECT_EQ(st.energy().total(), 7.5);
}

TEST(CachedStoreChangeCost, NeuronRuleChargesRowOnlyWhenItStaysTransient) {
  CachedStore st(1, 3, make_params(Rule::neuron, 1.5, kInf, 0.0, 0.5), ChangeCost(1.0));
  st.update(0, 1.0, ind({1.0, -1.5, 0.5}));  // stays: 0.5 * 3 = 1.5
  EXPECT_EQ(st.energy().change, 1.5);
  st.update(0, 1.0, ind({0.25, 0.0, 0.0}));  // stays: + 0.125
  EXPECT_EQ(st.energy().change, 1.625);
  st.update(0, 1.0, ind({0.0, -0.25, 0.0}));  // whole row consolidates: nothing
  EXPECT_EQ(st.energy().change, 1.625);
  EXPECT_EQ(st.energy().total(), 3.5 + 1.625);
}

TEST(CachedStoreChangeCost, ChargesNetChangeOfTheStep) {
  // Two changes in one step, (1, 0) and 0.5 * (-1, 1): the net change (0.5, 0.5) costs
  // b * 1, not b * (1 + 0.5 + 0.5).
  CachedStore st(1, 2, make_params(Rule::neuron, 10.0, kInf, 0.0, 0.5), ChangeCost(1.0));
  st.add(0, 1.0, ind({1.0, 0.0}));
  st.add(0, 0.5, in8({-1, 1}));
  st.apply_rule();
  EXPECT_EQ(st.energy().change, 0.5);
  st.update(0, 1.0, ind({0.0, -1.0}));  // + 0.5 * 1
  EXPECT_EQ(st.energy().change, 1.0);
}

TEST(CachedStoreChangeCost, LayerRuleChargesNothingWhenLayerConsolidates) {
  CachedStore st(2, 2, make_params(Rule::layer, 1.0, kInf, 0.0, 0.5), ChangeCost(1.0));
  st.add(0, 1.0, ind({0.5, 0.0}));
  st.add(1, 1.0, ind({0.0, 2.0}));
  st.apply_rule();  // |2| > 1: both rows consolidate, no change cost
  EXPECT_EQ(st.energy().change, 0.0);
  EXPECT_EQ(st.energy().consolidation, 2.5);
  st.update(0, 1.0, ind({0.25, 0.0}));  // stays: 0.5 * 0.25
  EXPECT_EQ(st.energy().change, 0.125);
}

TEST(CachedStoreChangeCost, NotChargedForChangesConsolidatedByConsolidateAll) {
  CachedStore st(1, 2, make_params(Rule::neuron, 10.0, kInf, 0.0, 0.5), ChangeCost(1.0));
  st.add(0, 1.0, ind({1.0, -1.0}));
  st.consolidate_all();
  st.apply_rule();
  EXPECT_EQ(st.energy().change, 0.0);
  EXPECT_EQ(st.energy().consolidation, 2.0);
}

// ---------------------------------------------------------------------------------------
// 5. finish() and consolidate_all()

TEST(CachedStoreFinish, EverythingRemainingConsolidates) {
  for (double alpha : {1.0, 2.0}) {
    SCOPED_TRACE("alpha=" + std::to_string(alpha));
    CachedStore st(2, 3, make_params(Rule::neuron, 10.0), ChangeCost(alpha));
    st.update(0, 1.0, ind({1.0, -2.0, 0.5}));
    st.update(1, -0.5, in8({0, 1, 0}));
    EXPECT_EQ(st.energy().consolidation, 0.0);
    st.finish();
    EXPECT_EQ(st.persistent(0, 0), 1.0);
    EXPECT_EQ(st.persistent(0, 1), -2.0);
    EXPECT_EQ(st.persistent(0, 2), 0.5);
    EXPECT_EQ(st.persistent(1, 1), -0.5);
    EXPECT_EQ(st.transient_abs_sum(), 0.0);
    for (std::size_t k = 0; k < 6; ++k) EXPECT_EQ(st.transient(k / 3, k % 3), 0.0);
    EXPECT_EQ(st.consolidation_events(), 4);
    // alpha 1: 1 + 2 + 0.5 + 0.5 = 4; alpha 2: 1 + 4 + 0.25 + 0.25 = 5.5
    EXPECT_EQ(st.energy().consolidation, alpha == 1.0 ? 4.0 : 5.5);
    st.finish();  // idempotent
    EXPECT_EQ(st.energy().consolidation, alpha == 1.0 ? 4.0 : 5.5);
    EXPECT_EQ(st.consolidation_events(), 4);
  }
}

TEST(CachedStoreFinish, ConsolidatesDecayedValues) {
  // tau = 2: one decay halves s = (1, -2, 0.5) to (0.5, -1, 0.25): M_cons = 1.75.
  CachedStore st(1, 3, make_params(Rule::synapse, 10.0, 2.0), ChangeCost(1.0));
  st.update(0, 1.0, ind({1.0, -2.0, 0.5}));
  st.decay();
  st.consolidate_all();
  EXPECT_EQ(st.persistent(0, 1), -1.0);
  EXPECT_EQ(st.energy().consolidation, 1.75);
  EXPECT_EQ(st.weight(0, 1), -1.0);
}

TEST(CachedStoreFinish, ConsolidateRowLeavesOtherRows) {
  CachedStore st(2, 2, make_params(Rule::neuron, 10.0), ChangeCost(1.0));
  st.add(0, 1.0, ind({1.0, 2.0}));
  st.add(1, 1.0, ind({3.0, 0.0}));
  st.apply_rule();
  st.consolidate_row(1);
  EXPECT_EQ(st.persistent(1, 0), 3.0);
  EXPECT_EQ(st.transient(0, 1), 2.0);
  EXPECT_EQ(st.transient_abs_sum(), 3.0);
  EXPECT_EQ(st.energy().consolidation, 3.0);
  EXPECT_EQ(st.consolidation_events(), 1);
}

// ---------------------------------------------------------------------------------------
// 6. Properties on random sequences

struct DecayCase {
  double tau;
  DecayForm form;
};
const DecayCase kDecays[] = {
    {kInf, DecayForm::linear}, {40.0, DecayForm::linear}, {25.0, DecayForm::exponential}};

// (a) The fused add(row, scale, Input) and the general add(row, dw) give the same store.
TEST(StoreProperty, FusedAddEqualsGeneralAdd) {
  for (Rule rule : kRules) {
    for (bool integer_valued : {true, false}) {
      const double theta = rule == Rule::sum ? 5.0 : 1.6;
      SCOPED_TRACE(describe(rule, theta, kInf, DecayForm::linear) +
                   (integer_valued ? " integer" : " real"));
      const CacheParams p = make_params(rule, theta, kInf, 0.01, 0.2);
      CachedStore fused(3, 9, p, ChangeCost(1.0)), general(3, 9, p, ChangeCost(1.0));
      std::mt19937_64 rng(7);
      std::bernoulli_distribution coin(0.6);
      for (int t = 0; t < 300; ++t) {
        fused.begin_step();
        general.begin_step();
        for (std::size_t r = 0; r < 3; ++r) {
          if (!coin(rng)) continue;
          RandomChange ch = random_change(rng, 9, integer_valued);
          if (ch.kind == RandomChange::general) {  // the fused path needs an input: signs of dw
            ch.kind = RandomChange::int8_input;
            for (double& v : ch.dw) {
              const int sgn = (v > 0.0) - (v < 0.0);
              ch.x8.push_back(static_cast<std::int8_t>(sgn));
              v = ch.scale * sgn;
            }
          }
          apply(fused, r, ch);
          general.add(r, ch.dw.data());
        }
        fused.apply_rule();
        general.apply_rule();
        for (std::size_t k = 0; k < 27; ++k) {
          ASSERT_EQ(fused.persistent(k / 9, k % 9), general.persistent(k / 9, k % 9)) << t;
          ASSERT_EQ(fused.transient(k / 9, k % 9), general.transient(k / 9, k % 9)) << t;
        }
      }
      fused.finish();
      general.finish();
      const EnergyTally &ef = fused.energy(), &eg = general.energy();
      EXPECT_EQ(ef.consolidation, eg.consolidation);
      EXPECT_EQ(ef.change, eg.change);
      EXPECT_EQ(fused.consolidation_events(), general.consolidation_events());
      if (integer_valued) {  // every partial sum is an exact integer (times 0.01 for c)
        EXPECT_EQ(ef.classic, eg.classic);
        EXPECT_EQ(ef.maintenance, eg.maintenance);
      } else {  // the two paths may sum |x| in different orders
        EXPECT_TRUE(close(ef.classic, eg.classic, 1e-14, "classic"));
        EXPECT_TRUE(close(ef.maintenance, eg.maintenance, 1e-14, "maintenance"));
      }
      EXPECT_GT(fused.consolidation_events(), 0);
    }
  }
}

// (a') With decay, the two paths agree to rounding.
TEST(StoreProperty, FusedAddMatchesGeneralAddWithDecay) {
  for (const DecayCase& dc : kDecays) {
    for (Rule rule : kRules) {
      const double theta = rule == Rule::sum ? 5.0 : 1.6;
      SCOPED_TRACE(describe(rule, theta, dc.tau, dc.form));
      const CacheParams p = make_params(rule, theta, dc.tau, 0.01, 0.2, dc.form);
      CachedStore fused(3, 9, p, ChangeCost(0.5)), general(3, 9, p, ChangeCost(0.5));
      RefCache ref(3, 9, rule, theta, ref_factor(dc.tau, dc.form), 0.01, 0.2, RefCost{0.5});
      std::mt19937_64 rng(8);
      std::bernoulli_distribution coin(0.6);
      for (int t = 0; t < 300; ++t) {
        fused.begin_step();
        general.begin_step();
        ref.decay();
        ref.maintenance();
        for (std::size_t r = 0; r < 3; ++r) {
          if (!coin(rng)) continue;
          RandomChange ch = random_change(rng, 9, false);
          if (ch.kind == RandomChange::general) continue;
          apply(fused, r, ch);
          general.add(r, ch.dw.data());
          ref.add(r, ch.dw);
        }
        fused.apply_rule();
        general.apply_rule();
        ref.apply_rule();
      }
      fused.finish();
      general.finish();
      ref.finish();
      ASSERT_TRUE(matches(fused, ref, 1e-12));
      ASSERT_TRUE(matches(general, ref, 1e-12));
    }
  }
}

// (b) theta below the update size: caching degenerates to classic learning.
TEST(StoreProperty, SmallThresholdEqualsClassicLearning) {
  const std::pair<double, bool> costs[] = {
      {1.0, false}, {0.5, false}, {2.0, false}, {0.0, false}, {1.0, true}};
  for (Rule rule : kRules) {
    for (const auto& [alpha, pot] : costs) {
      SCOPED_TRACE(describe(rule, 0.5, kInf, DecayForm::linear) +
                   " alpha=" + std::to_string(alpha) + (pot ? " pot" : ""));
      const ChangeCost cost(alpha, pot);
      CachedStore cached(3, 11, make_params(rule, 0.5, kInf, 0.1), cost);
      PlainStore<double> plain(3, 11, cost);
      PlainStore<std::int32_t> plain_int(3, 11, cost);
      std::mt19937_64 rng(5);
      std::uniform_int_distribution<int> pm(-1, 1), sign(0, 1);
      for (int t = 0; t < 200; ++t) {
        cached.begin_step();
        for (std::size_t r = 0; r < 3; ++r) {
          std::vector<std::int8_t> x(11);
          for (auto& v : x) v = static_cast<std::int8_t>(pm(rng));
          const int eta = sign(rng) ? 1 : -1;
          cached.add(r, eta, in8(x));
          plain.update(r, eta, in8(x));
          plain_int.update(r, eta, in8(x));
        }
        cached.apply_rule();
        for (std::size_t k = 0; k < 33; ++k) {
          ASSERT_EQ(cached.weight(k / 11, k % 11), plain.weight(k / 11, k % 11)) << t;
          ASSERT_EQ(cached.persistent(k / 11, k % 11), plain_int.weight(k / 11, k % 11)) << t;
          ASSERT_EQ(cached.transient(k / 11, k % 11), 0.0) << t;
        }
        ASSERT_EQ(cached.energy().consolidation, plain.energy().consolidation) << t;
      }
      cached.finish();
      EXPECT_EQ(cached.energy().consolidation, plain.energy().classic);
      EXPECT_EQ(cached.energy().consolidation, plain_int.energy().classic);
      EXPECT_EQ(cached.energy().classic, plain.energy().classic);
      EXPECT_EQ(cached.energy().maintenance, 0.0);  // nothing ever stays transient
      EXPECT_EQ(cached.energy().total(), plain.energy().total());
    }
  }
}

// (c) theta = inf, c = 0, no decay: the only consolidation is the final one, at cost
// sum_i |w_i(T)|^alpha, the minimal energy.
TEST(StoreProperty, InfiniteThresholdReachesMinimalEnergy) {
  for (Rule rule : kRules) {
    for (double alpha : {1.0, 0.5, 2.0}) {
      SCOPED_TRACE(describe(rule, kInf, kInf, DecayForm::linear) +
                   " alpha=" + std::to_string(alpha));
      CachedStore st(2, 13, make_params(rule, kInf), ChangeCost(alpha));
      std::vector<double> w(26, 0.0);
      std::mt19937_64 rng(99);
      for (int t = 0; t < 300; ++t) {
        st.begin_step();
        const std::size_t r = static_cast<std::size_t>(t % 2);
        const RandomChange ch = random_change(rng, 13, false);
        apply(st, r, ch);
        st.apply_rule();
        for (std::size_t i = 0; i < 13; ++i) w[r * 13 + i] += ch.dw[i];
      }
      EXPECT_EQ(st.energy().consolidation, 0.0);
      st.finish();
      double minimal = 0.0;
      std::int64_t nonzero = 0;
      for (double v : w) {
        minimal += std::pow(std::fabs(v), alpha);
        nonzero += v != 0.0;
      }
      EXPECT_TRUE(close(st.energy().total(), minimal, 1e-12, "total"));
      EXPECT_EQ(st.consolidation_events(), nonzero);
      for (std::size_t k = 0; k < 26; ++k) EXPECT_NEAR(st.persistent(k / 13, k % 13), w[k], 1e-12);
    }
  }
}

// (d) Without decay the total weight l + s follows classic learning whatever the rule.
TEST(StoreProperty, TotalWeightFollowsClassicTrajectory) {
  for (Rule rule : kRules) {
    for (double theta : {0.0, 0.5, 1.0, 2.5, 4.0, 7.0, kInf}) {
      SCOPED_TRACE(describe(rule, theta, kInf, DecayForm::linear));
      CachedStore cached(3, 7, make_params(rule, theta, kInf, 0.05, 0.3), ChangeCost(1.0));
      PlainStore<double> plain(3, 7, ChangeCost(1.0));
      PlainStore<std::int32_t> plain_int(3, 7, ChangeCost(1.0));
      std::mt19937_64 rng(2024);
      std::bernoulli_distribution coin(0.5);
      std::uniform_int_distribution<int> pm(-1, 1), mag(1, 3), sign(0, 1);
      for (int t = 0; t < 300; ++t) {
        cached.begin_step();
        for (std::size_t r = 0; r < 3; ++r) {
          if (!coin(rng)) continue;
          std::vector<std::int8_t> x(7);
          for (auto& v : x) v = static_cast<std::int8_t>(pm(rng));
          const int eta = sign(rng) ? mag(rng) : -mag(rng);
          if (coin(rng)) {
            cached.add(r, eta, in8(x));
          } else {
            std::vector<double> dw(7);
            for (std::size_t i = 0; i < 7; ++i) dw[i] = eta * x[i];
            cached.add(r, dw.data());
          }
          plain.update(r, static_cast<double>(eta), in8(x));
          plain_int.update(r, eta, in8(x));
        }
        cached.apply_rule();
        for (std::size_t k = 0; k < 21; ++k) {
          ASSERT_EQ(cached.weight(k / 7, k % 7), plain.weight(k / 7, k % 7)) << t;
          ASSERT_EQ(cached.weight(k / 7, k % 7), plain_int.weight(k / 7, k % 7)) << t;
        }
      }
      EXPECT_EQ(cached.energy().classic, plain.energy().classic);
      cached.finish();
      for (std::size_t k = 0; k < 21; ++k)
        EXPECT_EQ(cached.persistent(k / 7, k % 7), plain.weight(k / 7, k % 7));
    }
  }
}

// (e) The store against the scalar reference model, in the perceptron's step order.
TEST(StoreProperty, MatchesReferenceModel) {
  struct CostCase {
    double alpha;
    bool pot;
  };
  const CostCase costs[] = {{1.0, false}, {0.5, false}, {2.0, true}};
  for (const DecayCase& dc : kDecays) {
    for (Rule rule : kRules) {
      for (double theta_unit : {0.8, 2.3}) {
        for (const CostCase& cc : costs) {
          const double theta = rule == Rule::sum ? 3.0 * theta_unit : theta_unit;
          SCOPED_TRACE(describe(rule, theta, dc.tau, dc.form) +
                       " alpha=" + std::to_string(cc.alpha) + (cc.pot ? " pot" : ""));
          const double c = 0.02, b = 0.3;
          CachedStore st(3, 6, make_params(rule, theta, dc.tau, c, b, dc.form),
                         ChangeCost(cc.alpha, cc.pot));
          RefCache ref(3, 6, rule, theta, ref_factor(dc.tau, dc.form), c, b,
                       RefCost{cc.alpha, cc.pot});
          std::mt19937_64 rng(31337);
          std::bernoulli_distribution coin(0.6);
          for (int t = 0; t < 300; ++t) {
            if (t % 2 == 0) {
              st.begin_step();
            } else {
              st.decay();
              st.charge_maintenance();
            }
            ref.decay();
            ref.maintenance();
            bool any = false;
            for (std::size_t r = 0; r < 3; ++r) {
              if (!coin(rng)) continue;
              const RandomChange ch = random_change(rng, 6, false);
              apply(st, r, ch);
              ref.add(r, ch.dw);
              any = true;
            }
            if (any) {
              st.apply_rule();
              ref.apply_rule();
            }
            ASSERT_TRUE(matches(st, ref, 1e-9)) << "step " << t;
          }
          st.finish();
          ref.finish();
          ASSERT_TRUE(matches(st, ref, 1e-9));
          EXPECT_GT(ref.events, 0);
        }
      }
    }
  }
}

// The MNIST order (docs/model.md section 3): add, rule, maintenance on what stays, then decay.
TEST(StoreProperty, MatchesReferenceModelInMnistOrder) {
  for (Rule rule : kRules) {
    const double theta = rule == Rule::sum ? 4.0 : 1.2;
    SCOPED_TRACE(describe(rule, theta, 50.0, DecayForm::exponential));
    CachedStore st(4, 5, make_params(rule, theta, 50.0, 0.01, 0.0, DecayForm::exponential),
                   ChangeCost(1.0));
    RefCache ref(4, 5, rule, theta, ref_factor(50.0, DecayForm::exponential), 0.01, 0.0, RefCost{});
    std::mt19937_64 rng(4242);
    for (int t = 0; t < 300; ++t) {
      for (std::size_t r = 0; r < 4; ++r) {
        const RandomChange ch = random_change(rng, 5, false);
        apply(st, r, ch);
        ref.add(r, ch.dw);
      }
      st.apply_rule();
      ref.apply_rule();
      st.charge_maintenance();
      ref.maintenance();
      st.decay();
      ref.decay();
      ASSERT_TRUE(matches(st, ref, 1e-9)) << "step " << t;
    }
    st.finish();
    ref.finish();
    ASSERT_TRUE(matches(st, ref, 1e-9));
    EXPECT_GT(ref.events, 0);
  }
}

// Rows longer than the kernels' vector blocks, and the field l.x + s.x, against the reference.
TEST(StoreProperty, WideRowsAndFieldMatchReference) {
  const std::size_t cols = 150;
  for (Rule rule : kRules) {
    const double theta = rule == Rule::sum ? 60.0 : 1.9;
    SCOPED_TRACE(describe(rule, theta, 30.0, DecayForm::exponential));
    CachedStore st(2, cols, make_params(rule, theta, 30.0, 0.01, 0.2, DecayForm::exponential),
                   ChangeCost(1.0));
    RefCache ref(2, cols, rule, theta, ref_factor(30.0, DecayForm::exponential), 0.01, 0.2,
                 RefCost{});
    std::mt19937_64 rng(77);
    for (int t = 0; t < 120; ++t) {
      st.begin_step();
      ref.decay();
      ref.maintenance();
      const std::size_t r = static_cast<std::size_t>(t % 2);
      const RandomChange probe = random_change(rng, cols, false);
      if (probe.kind != RandomChange::general) {  // field of the probe's input x
        const bool is8 = probe.kind == RandomChange::int8_input;
        double h = 0.0;
        for (std::size_t i = 0; i < cols; ++i) {
          const double x = is8 ? probe.x8[i] : probe.xd[i];
          h += (ref.l[r * cols + i] + ref.s[r * cols + i]) * x;
        }
        const double f = is8 ? st.field(r, in8(probe.x8)) : st.field(r, ind(probe.xd));
        ASSERT_TRUE(close(f, h, 1e-9, "field")) << t;
      }
      apply(st, r, probe);
      ref.add(r, probe.dw);
      st.apply_rule();
      ref.apply_rule();
      ASSERT_TRUE(matches(st, ref, 1e-9)) << "step " << t;
    }
    st.finish();
    ref.finish();
    ASSERT_TRUE(matches(st, ref, 1e-9));
    EXPECT_GT(ref.events, 0);
  }
}

// ---------------------------------------------------------------------------------------
// 7. Invalid parameters

void expect_invalid(const CacheParams& p, const std::string& option) {
  SCOPED_TRACE(option);
  try {
    CachedStore st(1, 2, p, ChangeCost(1.0));
    (void)st;
    ADD_FAILURE() << "no exception";
  } catch (const syncache::ParamError& e) {  // keyed by the parameter's name
    EXPECT_EQ(e.key(), option) << e.what();
  }
}

TEST(CachedStoreParams, InvalidValuesThrowNamingTheOption) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  expect_invalid(make_params(Rule::neuron, -0.1), "theta");
  expect_invalid(make_params(Rule::synapse, nan), "theta");
  expect_invalid(make_params(Rule::neuron, 1.0, 0.0), "tau");
  expect_invalid(make_params(Rule::neuron, 1.0, -5.0), "tau");
  expect_invalid(make_params(Rule::neuron, 1.0, 0.5), "tau");  // linear needs tau >= 1
  expect_invalid(make_params(Rule::neuron, 1.0, nan), "tau");
  expect_invalid(make_params(Rule::neuron, 1.0, 0.0, 0, 0, DecayForm::exponential), "tau");
  expect_invalid(make_params(Rule::neuron, 1.0, -1.0, 0, 0, DecayForm::exponential), "tau");
  expect_invalid(make_params(Rule::sum, 1.0, kInf, -0.01), "c");
  expect_invalid(make_params(Rule::sum, 1.0, kInf, nan), "c");
  expect_invalid(make_params(Rule::layer, 1.0, kInf, 0.0, -1.0), "b");
  expect_invalid(make_params(Rule::layer, 1.0, kInf, 0.0, nan), "b");
  expect_invalid(make_params(Rule::classic, 1.0), "rule");
  expect_invalid(make_params(Rule::classic, -1.0), "rule");
}

TEST(CachedStoreParams, BoundaryValuesAreAccepted) {
  const CacheParams ok[] = {
      make_params(Rule::neuron, 0.0),
      make_params(Rule::synapse, kInf),
      make_params(Rule::sum, 1.0, 1.0),  // linear tau = 1: s is wiped every step
      make_params(Rule::layer, 1.0, 0.5, 0, 0, DecayForm::exponential),
      make_params(Rule::neuron, 1.0, kInf, 0.0, 0.0),
  };
  for (const CacheParams& p : ok) EXPECT_NO_THROW(CachedStore(1, 2, p, ChangeCost(1.0)));
}

TEST(CachedStoreParams, LinearTauOneClearsTransientEveryStep) {
  CachedStore st(1, 2, make_params(Rule::neuron, 10.0, 1.0, 1.0), ChangeCost(1.0));
  st.update(0, 1.0, ind({2.0, -1.0}));
  st.begin_step();  // s -> 0, maintenance 0
  EXPECT_EQ(st.transient(0, 0), 0.0);
  EXPECT_EQ(st.energy().maintenance, 0.0);
  st.update(0, 1.0, ind({0.5, 0.0}));
  EXPECT_EQ(st.transient(0, 0), 0.5);
  st.finish();
  EXPECT_EQ(st.energy().consolidation, 0.5);
}

}  // namespace
}  // namespace syncache

TEST(CachedStore, SparseAddEqualsDenseAdd) {
  // add_at(row, cols, dw) must leave exactly the state a dense add() with zeros elsewhere
  // leaves: weights, statistics (hence rule decisions) and every energy term, bit for bit,
  // except the classic energy's rounding (below).
  for (auto rule : {syncache::Rule::synapse, syncache::Rule::neuron, syncache::Rule::sum,
                    syncache::Rule::layer}) {
    syncache::CacheParams cp;
    cp.rule = rule;
    cp.theta = rule == syncache::Rule::sum ? 1.5 : 0.4;
    cp.tau = 300.0;
    cp.c = 0.01;
    cp.b = 0.2;
    cp.decay = syncache::DecayForm::exponential;
    syncache::CachedStore dense(3, 40, cp, syncache::ChangeCost()),
        sparse(3, 40, cp, syncache::ChangeCost());
    std::mt19937_64 gen(11);
    std::uniform_real_distribution<double> change(-0.2, 0.2);
    std::uniform_int_distribution<std::size_t> col(0, 39), row(0, 2);
    for (int step = 0; step < 3000; ++step) {
      const std::size_t r = row(gen);
      std::vector<std::size_t> cols = {col(gen), col(gen), col(gen)};
      std::sort(cols.begin(), cols.end());
      cols.erase(std::unique(cols.begin(), cols.end()), cols.end());
      std::vector<double> vals, full(40, 0.0);
      for (std::size_t c : cols) {
        vals.push_back(change(gen));
        full[c] = vals.back();
      }
      dense.add(r, full.data());
      sparse.add_at(r, cols.data(), vals.data(), cols.size());
      dense.apply_rule();
      sparse.apply_rule();
      dense.charge_maintenance();
      sparse.charge_maintenance();
      dense.decay();
      sparse.decay();
    }
    for (std::size_t r = 0; r < 3; ++r) {
      for (std::size_t i = 0; i < 40; ++i) {
        ASSERT_EQ(dense.persistent(r, i), sparse.persistent(r, i));
        ASSERT_EQ(dense.transient(r, i), sparse.transient(r, i));
      }
    }
    // The classic energy is summed in the dense kernel's lane order by add(), in column
    // order by add_at(): equal to rounding (each of the 3000 sums has at most 3 terms).
    EXPECT_NEAR(dense.energy().classic, sparse.energy().classic, 1e-12 * dense.energy().classic);
    EXPECT_EQ(dense.energy().consolidation, sparse.energy().consolidation);
    EXPECT_EQ(dense.energy().maintenance, sparse.energy().maintenance);
    EXPECT_EQ(dense.energy().change, sparse.energy().change);
    EXPECT_GT(dense.consolidation_events(), 0);
    EXPECT_EQ(dense.consolidation_events(), sparse.consolidation_events());
  }
}

TEST(CachedStore, NudgeBringsRoundedSumsInsideTheBounds) {
  // l + s rounded can exceed a bound that l + (clipped change) should meet exactly; the
  // nudge moves s by units in the last place until l + g s lies inside [lo, hi].
  syncache::CacheParams cp;
  cp.rule = syncache::Rule::neuron;
  cp.theta = 100.0;  // nothing consolidates
  std::mt19937_64 gen(3);
  std::uniform_real_distribution<double> u(0.0, 2.5);
  int nudged = 0;
  for (int t = 0; t < 20000; ++t) {
    syncache::CachedStore st(1, 1, cp, syncache::ChangeCost());
    const double l = u(gen), w = u(gen);
    const std::size_t c0 = 0;
    double d = l;  // make l the persistent part: add then consolidate
    st.add_at(0, &c0, &d, 1);
    st.consolidate_all();
    d = w - l;  // s so that l + s ~ w
    st.add_at(0, &c0, &d, 1);
    d = 2.5 - st.weight(0, 0);  // the clipped change to the upper bound
    st.add_at(0, &c0, &d, 1);
    nudged += st.nudge_into(0, 0, 0.0, 2.5) > 0;
    ASSERT_LE(st.weight(0, 0), 2.5);
    ASSERT_GE(st.weight(0, 0), 2.5 - 1e-12);
    d = -st.weight(0, 0);  // and to the lower bound
    st.add_at(0, &c0, &d, 1);
    nudged += st.nudge_into(0, 0, 0.0, 2.5) > 0;
    ASSERT_GE(st.weight(0, 0), 0.0);
    ASSERT_LE(st.weight(0, 0), 1e-12);
  }
  EXPECT_GT(nudged, 0);  // the rounding case does occur (1-5 % of these changes)
}
