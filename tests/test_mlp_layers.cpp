// Energies and counts per layer of the MNIST network (Mlp::layer_energy; docs/beyond.md).
// Expectations come from the weights themselves: the synapses of each layer that moved
// (updates, consolidation events), sum |Delta l| (consolidation), c sum |s| before each
// decay (maintenance), sum |w - w(0)| (minimal; with theta = tau = inf and
// c = 0 also the pending energy), the sum of |Delta w| step by step (classic energy), and
// the totals of Mlp::energy().
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "helpers/random_data.hpp"
#include "syncache/models/mlp.hpp"

namespace syncache {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
using Matrix = Mlp::Matrix;
using testing::Data;
using testing::random_data;

// Back-propagation, each competitive restriction, lazy learning, lazy + synapse.
struct Algo {
  Restriction r;
  double keep;
  bool lazy;
};
constexpr Algo kAlgos[] = {{Restriction::none, 1.0, false},   {Restriction::synapse, 0.2, false},
                           {Restriction::neuron, 0.4, false}, {Restriction::path, 0.5, false},
                           {Restriction::none, 1.0, true},    {Restriction::synapse, 0.2, true}};

MlpConfig config(const Algo& a, Rule rule, bool dense) {
  MlpConfig cfg;
  cfg.inputs = 30;
  cfg.hidden = 9;
  cfg.outputs = 4;
  cfg.eta = 0.5;
  cfg.restriction = a.r;
  cfg.keep = a.keep;
  cfg.lazy = a.lazy;
  cfg.dense_reference = dense;
  cfg.cache.rule = rule;
  if (rule != Rule::classic) {
    cfg.cache.theta = 0.01;
    cfg.cache.tau = 80.0;
    cfg.cache.c = 0.002;
  }
  return cfg;
}

std::string name(const Algo& a, Rule rule, bool dense) {
  return std::string(rule_name(rule)) + " " + restriction_name(a.r) + (a.lazy ? " lazy" : "") +
         (dense ? " dense" : " sparse");
}

std::int64_t count_changed(const Matrix& before, const Matrix& after) {
  return (before.array() != after.array()).count();
}

// The totals from the layers: exact for the cached stores' terms and the counts; the
// classic energy and M_min are one sum over both layers' terms, so to rounding.
void expect_layers_add_up(const Mlp& m) {
  const EnergyTally e = m.energy(), h = m.layer_energy(0), o = m.layer_energy(1);
  EXPECT_EQ(h.updates + o.updates, e.updates);
  EXPECT_EQ(h.consolidation_events + o.consolidation_events, e.consolidation_events);
  EXPECT_EQ(h.change + o.change, e.change);
  if (m.config().cache.rule == Rule::classic) {
    EXPECT_NEAR(h.consolidation + o.consolidation, e.consolidation, 1e-13 * e.consolidation);
    EXPECT_EQ(h.maintenance + o.maintenance + h.pending + o.pending, 0.0);
  } else {
    EXPECT_EQ(h.consolidation + o.consolidation, e.consolidation);
    EXPECT_EQ(h.maintenance + o.maintenance, e.maintenance);
    EXPECT_EQ(h.pending + o.pending, e.pending);
  }
  EXPECT_NEAR(h.minimal + o.minimal, e.minimal, 1e-13 * e.minimal);
  EXPECT_NEAR(h.total() + o.total(), e.total(), 1e-13 * e.total());
}

TEST(MlpLayers, EnergiesAndCountsAddUpToTheTotals) {
  const Data d = random_data(30, 240, 4, 17, 0.35);
  for (Rule rule : {Rule::classic, Rule::synapse, Rule::neuron, Rule::sum, Rule::layer}) {
    for (const Algo& a : kAlgos) {
      for (bool dense : {false, true}) {
        SCOPED_TRACE(name(a, rule, dense));
        Mlp m(config(a, rule, dense));
        for (std::size_t i = 0; i < d.count; ++i) {
          m.train_sample(d.row(i), d.y[i]);
          if (i % 60 == 59) expect_layers_add_up(m);
        }
        EXPECT_GT(m.layer_energy(0).updates, 0);
        EXPECT_GT(m.layer_energy(1).updates, 0);
      }
    }
  }
}

// Each layer's counts and energies against its own weights, step by step.
TEST(MlpLayers, EachLayerAgainstItsWeights) {
  const Data d = random_data(30, 200, 4, 23, 0.35);
  for (const Algo& a : kAlgos) {
    for (bool dense : {false, true}) {
      SCOPED_TRACE(name(a, Rule::neuron, dense));
      Mlp classic(config(a, Rule::classic, dense));
      Mlp cache(config(a, Rule::neuron, dense));
      std::int64_t moved[2] = {0, 0}, consolidated[2] = {0, 0};
      double abs_change[2] = {0.0, 0.0}, abs_consolidated[2] = {0.0, 0.0}, held[2] = {0.0, 0.0};
      const double g = std::exp(-1.0 / cache.config().cache.tau);  // decay per sample
      for (std::size_t i = 0; i < d.count; ++i) {
        const Matrix w[2] = {classic.weights(0), classic.weights(1)};
        const Matrix l[2] = {cache.persistent(0), cache.persistent(1)};
        classic.train_sample(d.row(i), d.y[i]);
        cache.train_sample(d.row(i), d.y[i]);
        for (std::size_t k = 0; k < 2; ++k) {
          moved[k] += count_changed(w[k], classic.weights(k));
          consolidated[k] += count_changed(l[k], cache.persistent(k));
          abs_change[k] += (classic.weights(k) - w[k]).cwiseAbs().sum();
          abs_consolidated[k] += (cache.persistent(k) - l[k]).cwiseAbs().sum();
          // Maintenance is charged on s before the decay s <- g s.
          held[k] += cache.transient(k).cwiseAbs().sum() / g;
        }
      }
      // The totals: classic counts every update as persistent; pending synapses.
      EXPECT_EQ(classic.updates(), moved[0] + moved[1]);
      EXPECT_EQ(classic.consolidation_events(), moved[0] + moved[1]);
      EXPECT_EQ(cache.consolidation_events(), consolidated[0] + consolidated[1]);
      EXPECT_EQ(cache.pending_changes(), (cache.transient(0).array() != 0.0).count() +
                                             (cache.transient(1).array() != 0.0).count());
      EXPECT_EQ(classic.pending_changes(), 0);
      for (std::size_t k = 0; k < 2; ++k) {
        SCOPED_TRACE(k == 0 ? "hidden" : "output");
        const EnergyTally c = classic.layer_energy(k), e = cache.layer_energy(k);
        EXPECT_EQ(c.updates, moved[k]);
        EXPECT_EQ(c.consolidation_events, moved[k]);
        EXPECT_NEAR(c.consolidation, abs_change[k], 1e-12 * abs_change[k]);
        EXPECT_NEAR(c.minimal, (classic.weights(k) - classic.initial_weights(k)).cwiseAbs().sum(),
                    1e-12 * c.minimal);
        EXPECT_EQ(e.updates, c.updates);  // the same changes, transient or not
        EXPECT_GT(consolidated[k], 0);
        EXPECT_EQ(e.consolidation_events, consolidated[k]);
        EXPECT_NEAR(e.pending, cache.transient(k).cwiseAbs().sum(), 1e-12 * (e.pending + 1e-300));
        EXPECT_GT(e.consolidation, 0.0);
        EXPECT_NEAR(e.consolidation, abs_consolidated[k], 1e-9 * e.consolidation);
        EXPECT_NEAR(e.maintenance, cache.config().cache.c * held[k],
                    1e-9 * (e.maintenance + 1e-300));
      }
    }
  }
}

// theta = tau = inf, c = 0: nothing consolidates or decays, so each layer's pending energy
// is its M_min, sum |w - w(0)|.
TEST(MlpLayers, PendingIsEachLayersMinimalWithoutConsolidation) {
  const Data d = random_data(30, 150, 4, 29, 0.3);
  for (const Algo& a : kAlgos) {
    SCOPED_TRACE(name(a, Rule::neuron, false));
    MlpConfig cfg = config(a, Rule::neuron, false);
    cfg.cache.theta = kInf;
    cfg.cache.tau = kInf;
    cfg.cache.c = 0.0;
    Mlp m(cfg);
    m.train(d.x.data(), d.y.data(), d.count);
    for (std::size_t k = 0; k < 2; ++k) {
      const EnergyTally e = m.layer_energy(k);
      const double want = (m.weights(k) - m.initial_weights(k)).cwiseAbs().sum();
      EXPECT_GT(want, 0.0);
      EXPECT_NEAR(e.pending, want, 1e-12 * want);
      EXPECT_NEAR(e.minimal, want, 1e-12 * want);
      EXPECT_EQ(e.consolidation, 0.0);
      EXPECT_EQ(e.consolidation_events, 0);
    }
  }
}

}  // namespace
}  // namespace syncache
