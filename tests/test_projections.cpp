// Pattern projections of the cached store (O(1) fields through the overlap matrix) must
// reproduce the direct computation: exactly with integer values, to rounding otherwise.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

#include "syncache/models/decision_fields.hpp"
#include "syncache/models/perceptron.hpp"

namespace syncache {
namespace {

PerceptronConfig cfg(Rule rule, double theta, double tau, double c, std::int64_t proj) {
  PerceptronConfig k;
  k.N = 300;
  k.P = 280;
  k.seed = 17;
  k.cache.rule = rule;
  k.cache.theta = theta;
  k.cache.tau = tau;
  k.cache.c = c;
  k.max_epochs = 400;
  k.projection_epoch = proj;
  return k;
}

TEST(Projections, ExactWithoutDecay) {
  for (Rule rule : {Rule::neuron, Rule::sum}) {
    const auto direct = run_perceptron(cfg(rule, 6.0, INFINITY, 0.0, 0));
    const auto proj = run_perceptron(cfg(rule, 6.0, INFINITY, 0.0, 1));
    EXPECT_EQ(proj.epochs, direct.epochs);
    EXPECT_EQ(proj.updates, direct.updates);
    EXPECT_EQ(proj.weights, direct.weights);
    EXPECT_EQ(proj.energy.consolidation, direct.energy.consolidation);
  }
}

TEST(Projections, MatchDirectFieldsWithDecayAndMaintenance) {
  // Thresholds that keep values transient for a while (the sum rule sums 301 synapses):
  // when every update consolidates at once, l holds integers up to rounding and fields of
  // exactly zero become ties decided by rounding noise, in either computation.
  for (Rule rule : {Rule::neuron, Rule::sum}) {
    const double theta = rule == Rule::sum ? 1500.0 : 4.0;
    for (double tau : {50.0, 1000.0}) {
      const auto direct = run_perceptron(cfg(rule, theta, tau, 0.01, 0));
      const auto proj = run_perceptron(cfg(rule, theta, tau, 0.01, 1));
      const auto late = run_perceptron(cfg(rule, theta, tau, 0.01, 5));
      for (const auto* r : {&proj, &late}) {
        // Fields differ from the direct sums by rounding only (~1e-13 relative), far below
        // the spacing of distinct fields, so every decision and count is the same.
        EXPECT_EQ(r->epochs, direct.epochs) << rule_name(rule) << " tau " << tau;
        EXPECT_EQ(r->updates, direct.updates);
        EXPECT_EQ(r->consolidation_events, direct.consolidation_events);
        EXPECT_NEAR(r->energy.total(), direct.energy.total(), 1e-9 * direct.energy.total());
        EXPECT_NEAR(r->minimal, direct.minimal, 1e-9 * direct.minimal);
      }
    }
  }
}

TEST(Projections, FieldsEqualDirectDotProductsStepByStep) {
  // Drive two identical stores with the same updates; one with projections. After every
  // step, the projected field of each pattern equals the direct dot product.
  const auto ps = random_patterns(100, 40, 3);
  CacheParams p;
  p.rule = Rule::neuron;
  p.theta = 3.0;
  p.tau = 20.0;  // fast decay: the gain g shrinks quickly and is renormalised
  p.c = 0.1;
  CachedStore direct(1, ps.stride(), p, ChangeCost());
  CachedStore proj(1, ps.stride(), p, ChangeCost());
  DecisionFields fields(proj);
  std::vector<Input<std::int8_t>> inputs;
  for (std::size_t q = 0; q < ps.P(); ++q) inputs.push_back(ps.input(q));
  ASSERT_TRUE(fields.attach_inputs(inputs));
  for (int t = 0; t < 4000; ++t) {
    const std::size_t q = static_cast<std::size_t>(t * 7 % 40);
    direct.begin_step();
    proj.begin_step();
    const double scale = (t % 3 == 0) ? -1.0 : 1.0;
    direct.update(0, scale, ps.input(q));
    proj.update(0, scale, ps.input(q));
    if (t % 97 == 0) {
      for (std::size_t k = 0; k < ps.P(); ++k) {
        Input<std::int8_t> plain = ps.input(k);
        plain.index = -1;  // forces the direct dot product
        const double f = direct.field(0, plain);
        EXPECT_NEAR(fields.field(0, ps.input(k)), f, 1e-9 * (1.0 + std::fabs(f))) << "t " << t;
      }
    }
  }
  EXPECT_EQ(proj.consolidation_events(), direct.consolidation_events());
}

TEST(Projections, RefusedWhereTheyCannotFollowTheStore) {
  const auto ps = random_patterns(50, 10, 1);
  std::vector<Input<std::int8_t>> inputs;
  for (std::size_t q = 0; q < ps.P(); ++q) inputs.push_back(ps.input(q));
  CacheParams p;
  p.theta = 2.0;
  p.rule = Rule::synapse;  // per-synapse consolidation: not a whole-row rule
  CachedStore syn(1, ps.stride(), p, ChangeCost());
  EXPECT_FALSE(DecisionFields(syn).attach_inputs(inputs));
  p.rule = Rule::neuron;
  CachedStore two_rows(2, ps.stride(), p, ChangeCost());
  EXPECT_FALSE(DecisionFields(two_rows).attach_inputs(inputs));
  CachedStore ok(1, ps.stride(), p, ChangeCost());
  DecisionFields ok_fields(ok);
  EXPECT_FALSE(ok_fields.attach_inputs(inputs, 5));  // more inputs than allowed
  EXPECT_TRUE(ok_fields.attach_inputs(inputs));
}

}  // namespace
}  // namespace syncache

namespace syncache {
namespace {

// Float mirrors decide with float sums only when the float result is farther from zero
// than its rigorous error bound; otherwise they fall back to the double field. Whole runs
// must therefore be bit-identical with and without them.
template <class MakeStore>
PerceptronResult train_with(const PatternSet<std::int8_t>& ps, MakeStore make, bool mirrors,
                            std::int64_t* fallbacks = nullptr) {
  CachedStore store = make(ps.stride());
  DecisionFields fields(store);
  auto r = train_perceptron(ps, store, fields, 1.0, 300, nullptr, 0, nullptr, mirrors);
  if (fallbacks) *fallbacks = fields.exact_fallbacks();
  return r;
}

TEST(FloatMirrors, RunsAreBitIdenticalWithAndWithout) {
  const auto ps = random_patterns(250, 230, 21);
  for (Rule rule : {Rule::synapse, Rule::neuron, Rule::sum}) {
    for (double tau : {static_cast<double>(INFINITY), 300.0, 20.0}) {
      CacheParams p;
      p.rule = rule;
      p.theta = rule == Rule::sum ? 400.0 : 3.0;
      p.tau = tau;
      p.c = 0.01;
      auto make = [p](std::size_t cols) { return CachedStore(1, cols, p, ChangeCost()); };
      std::int64_t fallbacks = 0;
      const auto with = train_with(ps, make, true, &fallbacks);
      const auto without = train_with(ps, make, false);
      EXPECT_EQ(with.epochs, without.epochs) << rule_name(rule) << " tau " << tau;
      EXPECT_EQ(with.updates, without.updates);
      EXPECT_EQ(with.weights, without.weights);
      EXPECT_EQ(with.energy.total(), without.energy.total());
      EXPECT_EQ(with.energy.maintenance, without.energy.maintenance);
      if (std::isinf(tau)) {
        // Integer-valued fields: exact zeros occur (the first presentation has h = 0) and
        // must be decided by the double fallback.
        EXPECT_GT(fallbacks, 0);
      }
    }
  }
}

TEST(FloatMirrors, SignBitsDecideLikeTheExactField) {
  // Random states with magnitudes spread over many decades; every decision value must
  // have the sign of the exact field (and be exactly 0 where the field is 0).
  const auto ps = random_patterns(200, 50, 9);
  std::vector<Input<std::int8_t>> inputs;
  for (std::size_t q = 0; q < ps.P(); ++q) inputs.push_back(ps.input(q));
  CacheParams p;
  p.rule = Rule::neuron;
  p.theta = 1e300;
  p.tau = 50.0;
  CachedStore store(1, ps.stride(), p, ChangeCost());
  DecisionFields fields(store);
  ASSERT_TRUE(fields.enable_float_mirrors());
  ASSERT_TRUE(fields.attach_sign_bits(inputs));
  std::uint64_t state = 7;
  auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) * 0x1p-53;
  };
  std::vector<double> dw(ps.stride(), 0.0);
  for (int round = 0; round < 200; ++round) {
    for (std::size_t i = 0; i <= ps.N(); ++i) dw[i] = (next() - 0.5) * std::pow(10.0, 6.0 * next());
    store.begin_step();
    store.add(0, dw.data());
    if (round % 3 == 0) store.consolidate_all();
    for (std::size_t k = 0; k < ps.P(); ++k) {
      Input<std::int8_t> plain = ps.input(k);
      plain.index = -1;
      const double exact = store.field(0, plain);
      const double fast = fields.decision_field(0, ps.input(k));
      EXPECT_EQ(exact > 0, fast > 0) << "round " << round;
      EXPECT_EQ(exact < 0, fast < 0) << "round " << round;
    }
  }
}

TEST(FloatMirrors, SignBitsRefusedForInputsWithInnerZeros) {
  const std::size_t n = 64;
  std::vector<std::int8_t> x(n, 0);
  for (std::size_t i = 0; i < 10; ++i) x[i] = 1;
  x[3] = 0;  // a zero inside the +-1 prefix
  CacheParams p;
  p.rule = Rule::neuron;
  p.theta = 1.0;
  CachedStore store(1, n, p, ChangeCost());
  DecisionFields fields(store);
  ASSERT_TRUE(fields.enable_float_mirrors());
  EXPECT_FALSE(fields.attach_sign_bits({Input<std::int8_t>{x.data(), n, 9, 0, 0}}));
}

TEST(FloatMirrors, ErrorBoundHoldsForAdversarialMagnitudes) {
  // Large persistent weights with small transient parts: the float field loses the
  // transient part, and the bound must then send the decision to the double path.
  const std::size_t n = 128;
  std::vector<std::int8_t> x(n, 1);
  for (std::size_t i = 0; i < n; i += 2) x[i] = -1;
  CacheParams p;
  p.rule = Rule::neuron;
  p.theta = 1e9;
  CachedStore store(1, n, p, ChangeCost());
  DecisionFields fields(store);
  ASSERT_TRUE(fields.enable_float_mirrors());
  std::vector<double> dw(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) dw[i] = (i % 2 ? 1e7 : 1e7 + 1e-3);  // sum x dw = -64e-3
  store.add(0, dw.data());
  store.consolidate_all();  // l holds the big values, s = 0
  const Input<std::int8_t> in{x.data(), n, 64, 64, -1};
  const double exact = store.field(0, in);
  const double fast = fields.decision_field(0, in);
  EXPECT_LT(exact, 0.0);
  EXPECT_LT(fast, 0.0);
  EXPECT_EQ(fields.exact_fallbacks(), 1);  // float cannot resolve 1e-3 against 1e7
}

}  // namespace
}  // namespace syncache

namespace syncache {
namespace {

// DecisionFields follows its store through every kind of change the store's Listener
// reports, not only the perceptron's: after each, the projected field equals the direct
// one and the mirrored decision has the exact field's sign. A low threshold makes rows
// consolidate; an unreachable one with fast decay makes the gain renormalise.
TEST(DecisionFields, FollowEveryKindOfChange) {
  const auto ps = random_patterns(100, 12, 5);
  std::vector<Input<std::int8_t>> inputs;
  for (std::size_t q = 0; q < ps.P(); ++q) inputs.push_back(ps.input(q));
  for (const auto& [theta, tau] : {std::pair{1.2, 30.0}, std::pair{1e9, 2.0}}) {
    CacheParams p;
    p.rule = Rule::neuron;
    p.theta = theta;
    p.tau = tau;
    CachedStore proj_store(1, ps.stride(), p, ChangeCost());
    CachedStore mirror_store(1, ps.stride(), p, ChangeCost());
    DecisionFields proj(proj_store), mirror(mirror_store);
    ASSERT_TRUE(proj.attach_inputs(inputs));
    ASSERT_TRUE(mirror.enable_float_mirrors());
    ASSERT_TRUE(mirror.attach_sign_bits(inputs));
    std::vector<double> xd(ps.stride(), 0.0), dw(ps.stride(), 0.0);
    int renormalised = 0;
    for (int t = 0; t < 300; ++t) {
      const Input<std::int8_t> in = ps.input(static_cast<std::size_t>(t) % ps.P());
      for (std::size_t i = 0; i < ps.stride(); ++i) {
        xd[i] = 0.25 * in.x[i];
        dw[i] = i % 7 == 0 ? 0.5 * in.x[i] : 0.0;
      }
      const std::size_t cols[2] = {static_cast<std::size_t>(t) % 50,
                                   50 + static_cast<std::size_t>(t) % 50};
      const double vals[2] = {0.75, -0.5};
      for (CachedStore* st : {&proj_store, &mirror_store}) {
        st->begin_step();
        if (st == &proj_store && t > 0 && st->gain() == 1.0 &&
            st->scaled_transient_abs_sum(0) > 0) {
          ++renormalised;
        }
        switch (t % 5) {
          case 0:
            st->add(0, t % 2 ? 1.0 : -1.0, in);  // added
            break;
          case 1:
            st->add(0, 1.0, Input<double>{xd.data(), xd.size()});  // transient_changed
            break;
          case 2:
            st->add(0, dw.data());
            break;
          case 3:
            st->add_at(0, cols, vals, 2);
            break;
          case 4:
            st->nudge_into(0, cols[0], -1e9, 1e9);
            break;
        }
        st->apply_rule();  // consolidated
      }
      for (std::size_t k = 0; k < ps.P(); ++k) {
        Input<std::int8_t> plain = ps.input(k);
        plain.index = -1;
        const double f = proj_store.field(0, plain);
        EXPECT_NEAR(proj.field(0, ps.input(k)), f, 1e-9 * (1.0 + std::fabs(f))) << "t " << t;
        const double exact = mirror_store.field(0, plain);
        const double fast = mirror.decision_field(0, ps.input(k));
        EXPECT_EQ(exact > 0, fast > 0) << "t " << t;
        EXPECT_EQ(exact < 0, fast < 0) << "t " << t;
      }
    }
    if (theta < 2.0) {
      EXPECT_GT(proj_store.consolidation_events(), 0);
    } else {
      EXPECT_GT(renormalised, 0);
    }
  }
}

TEST(DecisionFields, OneListenerPerStoreNotCarriedByCopies) {
  CacheParams p;
  p.rule = Rule::neuron;
  p.theta = 1.0;
  CachedStore store(1, 64, p, ChangeCost());
  {
    DecisionFields fields(store);
    EXPECT_THROW(DecisionFields second(store), std::logic_error);
    CachedStore copy = store;
    DecisionFields on_copy(copy);  // the copy starts without a listener
  }
  DecisionFields again(store);  // the first one detached when it ended
}

}  // namespace
}  // namespace syncache
