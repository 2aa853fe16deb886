// CachedStore::state() and the constructor that takes it back: a store rebuilt from the
// state of another, between steps, continues exactly as the original (the checkpoints of
// the Python package and syncache.torch); PlainStore::set_energy likewise.
#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "syncache/core/cached_store.hpp"
#include "syncache/core/energy.hpp"
#include "syncache/core/plain_store.hpp"
#include "syncache/core/rule.hpp"

namespace syncache {
namespace {

// A fixed change of step t for synapse i (no random stream: the same everywhere).
double change(int t, std::size_t i) {
  const double v = 0.01 * static_cast<double>((t * 7 + static_cast<int>(i) * 13) % 11) - 0.05;
  return (i + static_cast<std::size_t>(t)) % 3 == 0 ? 0.0 : v;
}

// The MNIST network's order per step: add, rule, maintenance, decay.
void drive(CachedStore& store, int from, int to) {
  std::vector<double> dw(store.cols());
  for (int t = from; t < to; ++t) {
    for (std::size_t r = 0; r < store.rows(); ++r) {
      for (std::size_t i = 0; i < dw.size(); ++i) dw[i] = change(t, r * dw.size() + i);
      store.add(r, dw.data());
    }
    store.apply_rule();
    store.charge_maintenance();
    store.decay();
  }
}

void expect_same(const CachedStore& a, const CachedStore& b) {
  EXPECT_EQ(a.energy().classic, b.energy().classic);
  EXPECT_EQ(a.energy().consolidation, b.energy().consolidation);
  EXPECT_EQ(a.energy().maintenance, b.energy().maintenance);
  EXPECT_EQ(a.energy().change, b.energy().change);
  EXPECT_EQ(a.consolidation_events(), b.consolidation_events());
  for (std::size_t r = 0; r < a.rows(); ++r) {
    for (std::size_t c = 0; c < a.cols(); ++c) {
      EXPECT_EQ(a.persistent(r, c), b.persistent(r, c));
      EXPECT_EQ(a.transient(r, c), b.transient(r, c));
    }
  }
}

TEST(CachedStoreState, RestoredStoreContinuesBitForBit) {
  int decayed = 0;  // states with a gain != 1 (some transient weight decayed)
  for (Rule rule : {Rule::synapse, Rule::neuron, Rule::sum, Rule::layer}) {
    CacheParams p;
    p.rule = rule;
    p.theta = 0.12;
    p.tau = 7.0;
    p.c = 0.01;
    p.b = 0.2;
    p.decay = DecayForm::exponential;
    const ChangeCost cost(1.0);
    CachedStore whole(3, 20, p, cost), first(3, 20, p, cost);
    drive(whole, 0, 30);
    drive(first, 0, 11);
    CachedStore resumed(3, 20, p, cost, first.state());
    if (resumed.gain() != 1.0) ++decayed;
    drive(resumed, 11, 30);
    expect_same(whole, resumed);
    whole.finish();
    resumed.finish();
    expect_same(whole, resumed);
  }
  EXPECT_GT(decayed, 0);
}

TEST(CachedStoreState, StateOfAnotherShapeIsRefused) {
  CacheParams p;
  p.theta = 1.0;
  CachedStore a(2, 3, p, ChangeCost(1.0));
  EXPECT_THROW(CachedStore(3, 2, p, ChangeCost(1.0), a.state()), std::invalid_argument);
}

TEST(PlainStoreState, WeightsAndEnergyContinue) {
  const ChangeCost cost(0.5);
  PlainStore<double> whole(2, 4, cost), first(2, 4, cost);
  std::vector<double> dw(4);
  const auto step = [&](PlainStore<double>& s, int t) {
    for (std::size_t r = 0; r < 2; ++r) {
      for (std::size_t i = 0; i < 4; ++i) dw[i] = change(t, r * 4 + i);
      s.add(r, dw.data());
    }
  };
  for (int t = 0; t < 9; ++t) step(whole, t);
  for (int t = 0; t < 4; ++t) step(first, t);
  std::vector<double> w;
  for (std::size_t r = 0; r < 2; ++r)
    for (std::size_t c = 0; c < 4; ++c) w.push_back(first.weight(r, c));
  PlainStore<double> resumed(2, 4, cost);
  resumed.set_weights(w.data());
  resumed.set_energy(first.energy());
  for (int t = 4; t < 9; ++t) step(resumed, t);
  EXPECT_EQ(whole.energy().classic, resumed.energy().classic);
  for (std::size_t r = 0; r < 2; ++r)
    for (std::size_t c = 0; c < 4; ++c) EXPECT_EQ(whole.weight(r, c), resumed.weight(r, c));
}

}  // namespace
}  // namespace syncache
