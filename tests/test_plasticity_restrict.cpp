// Lazy learning and competitive plasticity on the MNIST network (docs/beyond.md; Pache & van
// Rossum 2023, arXiv 2303.16067; van Rossum & Pache 2024, PLoS Comput Biol 20:e1012553).
// Expectations come from a reference forward and backward pass on Eigen matrices written
// here, brute-force sorts of the changes, and counts of the weights that moved.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <pcg_random.hpp>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "helpers/random_data.hpp"
#include "syncache/models/mlp.hpp"

namespace syncache {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
using Matrix = Mlp::Matrix;
using Vec = Eigen::VectorXd;

MlpConfig small(std::size_t n, std::size_t h, std::size_t k, Restriction r = Restriction::none,
                double keep = 1.0, bool lazy = false) {
  MlpConfig cfg;
  cfg.inputs = n;
  cfg.hidden = h;
  cfg.outputs = k;
  cfg.eta = 0.5;
  cfg.restriction = r;
  cfg.keep = keep;
  cfg.lazy = lazy;
  return cfg;
}

MlpConfig cached(MlpConfig cfg, double theta, double tau, double c) {
  cfg.cache.rule = Rule::neuron;
  cfg.cache.theta = theta;
  cfg.cache.tau = tau;
  cfg.cache.c = c;
  return cfg;
}

using testing::Data;
using testing::random_data;

Vec sigma(const Vec& z) {
  return (1.0 + (-z.array()).exp()).inverse().matrix();
}

// Reference pass with the weights w0, w1: activations, deltas (delta = -dE/dfield for
// E = 1/2 sum (t - o)^2, t = 0.99 / 0.01) and the unrestricted changes eta delta input^T.
struct Reference {
  Vec x, h, o, dh, dout;
  Matrix change[2];
};
Reference reference(const Matrix& w0, const Matrix& w1, const float* xin, int label, double eta) {
  Reference r;
  r.x = Vec(w0.cols());
  for (Eigen::Index i = 0; i < w0.cols(); ++i) r.x(i) = xin[i];
  r.h = sigma(w0 * r.x);
  r.o = sigma(w1 * r.h);
  Vec t = Vec::Constant(w1.rows(), 0.01);
  t(label) = 0.99;
  r.dout = ((t - r.o).array() * r.o.array() * (1.0 - r.o.array())).matrix();
  r.dh = ((w1.transpose() * r.dout).array() * r.h.array() * (1.0 - r.h.array())).matrix();
  r.change[0] = eta * r.dh * r.x.transpose();
  r.change[1] = eta * r.dout * r.h.transpose();
  return r;
}

// Index of the largest output, the first of equal maxima.
Eigen::Index argmax(const Vec& o) {
  Eigen::Index best = 0;
  for (Eigen::Index k = 1; k < o.size(); ++k) {
    if (o(k) > o(best)) best = k;
  }
  return best;
}

std::int64_t count_changed(const Matrix& before, const Matrix& after) {
  return (before.array() != after.array()).count();
}

bool bit_equal(const Matrix& a, const Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::equal(a.data(), a.data() + a.size(), b.data(), [](double u, double v) {
           return std::bit_cast<std::uint64_t>(u) == std::bit_cast<std::uint64_t>(v);
         });
}

// ---------------------------------------------------------------------------------------

TEST(Restriction, NamesKeepCountAndValidation) {
  for (Restriction r :
       {Restriction::none, Restriction::synapse, Restriction::neuron, Restriction::path}) {
    EXPECT_EQ(parse_restriction(restriction_name(r)), r);
  }
  EXPECT_THROW(parse_restriction("bogus"), std::invalid_argument);
  // ceil(F n), at least 1; F n within 1e-9 of an integer counts as that integer.
  EXPECT_EQ(keep_count(0.07, 100), 7u);  // 0.07 * 100 = 7.000000000000001 in double
  EXPECT_EQ(keep_count(0.1, 78400), 7840u);
  EXPECT_EQ(keep_count(0.5, 3), 2u);
  EXPECT_EQ(keep_count(0.34, 10), 4u);
  EXPECT_EQ(keep_count(1e-6, 10), 1u);
  EXPECT_EQ(keep_count(1.0, 12345), 12345u);

  auto expect_error = [](const MlpConfig& cfg, const std::string& option) {
    try {
      Mlp m(cfg);
      ADD_FAILURE() << "accepted a bad " << option;
    } catch (const syncache::ParamError& e) {  // keyed by the parameter's name
      EXPECT_EQ(e.key(), option) << e.what();
    }
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (double keep : {0.0, -0.1, 1.0000001, kInf, nan}) {
    expect_error(small(5, 4, 3, Restriction::synapse, keep), "keep");
  }
  for (double margin : {-0.01, 1.5, kInf, nan}) {
    MlpConfig c = small(5, 4, 3, Restriction::none, 1.0, true);
    c.lazy_margin = margin;
    expect_error(c, "lazy_margin");
  }
  MlpConfig c = small(5, 4, 3);
  c.restriction = static_cast<Restriction>(7);
  expect_error(c, "restrict");
}

// F = 1 with lazy learning off: every restriction is plain back-propagation, bit for bit
// (weights, stores and every energy), with and without caching.
TEST(Restriction, KeepOneIsPlainBackpropBitForBit) {
  const Data d = random_data(30, 300, 4, 11, 0.4);
  for (bool with_cache : {false, true}) {
    auto cfg = [&](Restriction r) {
      MlpConfig c = small(30, 9, 4, r, 1.0);
      c.seed = 5;
      return with_cache ? cached(c, 0.05, 200.0, 0.01) : c;
    };
    Mlp plain(cfg(Restriction::none));
    plain.train(d.x.data(), d.y.data(), d.count);
    for (Restriction r : {Restriction::synapse, Restriction::neuron, Restriction::path}) {
      SCOPED_TRACE(std::string(restriction_name(r)) + (with_cache ? " cached" : " classic"));
      Mlp m(cfg(r));
      m.train(d.x.data(), d.y.data(), d.count);
      for (std::size_t l = 0; l < 2; ++l) {
        EXPECT_TRUE(bit_equal(m.weights(l), plain.weights(l)));
        EXPECT_TRUE(bit_equal(m.persistent(l), plain.persistent(l)));
        EXPECT_TRUE(bit_equal(m.transient(l), plain.transient(l)));
      }
      const EnergyTally a = m.energy(), b = plain.energy();
      EXPECT_EQ(a.total(), b.total());
      EXPECT_EQ(a.consolidation, b.consolidation);
      EXPECT_EQ(a.maintenance, b.maintenance);
      EXPECT_EQ(a.pending, b.pending);
      EXPECT_EQ(a.minimal, b.minimal);
      EXPECT_EQ(m.updates(), plain.updates());
      EXPECT_EQ(m.consolidation_events(), plain.consolidation_events());
      EXPECT_EQ(m.plastic_samples(), static_cast<std::int64_t>(d.count));
    }
  }
}

// synapse: per layer and sample exactly ceil(F n_l) weights move (n_l = rows x cols, no
// biases), the ones a brute-force sort of |Delta w| (ties: lower row-major index first)
// puts first, each by the reference change.
TEST(Restriction, SynapseKeepsTheLargestChangesByBruteForce) {
  for (double keep : {0.05, 0.3, 0.62}) {
    SCOPED_TRACE("F = " + std::to_string(keep));
    const Data d = random_data(12, 60, 3, 21, 0.3);
    Mlp m(small(12, 6, 3, Restriction::synapse, keep));
    std::int64_t expected_updates = 0;
    for (std::size_t i = 0; i < d.count; ++i) {
      const Matrix w[2] = {m.weights(0), m.weights(1)};
      const Reference ref = reference(w[0], w[1], d.row(i), d.y[i], 0.5);
      m.train_sample(d.row(i), d.y[i]);
      for (int l = 0; l < 2; ++l) {
        const Matrix& dw = ref.change[l];
        std::vector<std::tuple<double, Eigen::Index>> all;  // (-|dw|, row-major index)
        for (Eigen::Index q = 0; q < dw.size(); ++q) {
          const double v = dw(q / dw.cols(), q % dw.cols());
          if (v != 0.0) all.emplace_back(-std::fabs(v), q);
        }
        std::sort(all.begin(), all.end());
        const std::size_t k = std::min<std::size_t>(
            all.size(),
            static_cast<std::size_t>(std::ceil(keep * static_cast<double>(dw.size()) - 1e-9)));
        expected_updates += static_cast<std::int64_t>(k);
        Matrix want = Matrix::Zero(dw.rows(), dw.cols());
        for (std::size_t j = 0; j < k; ++j) {
          const Eigen::Index q = std::get<1>(all[j]);
          want(q / dw.cols(), q % dw.cols()) = dw(q / dw.cols(), q % dw.cols());
        }
        const Matrix got = m.weights(static_cast<std::size_t>(l)) - w[l];
        EXPECT_EQ(count_changed(w[l], m.weights(static_cast<std::size_t>(l))),
                  static_cast<std::int64_t>(k))
            << "sample " << i << " layer " << l;
        ASSERT_TRUE(((got.array() != 0.0) == (want.array() != 0.0)).all())
            << "sample " << i << " layer " << l;
        EXPECT_LE((got - want).cwiseAbs().maxCoeff(), 1e-12);
      }
    }
    EXPECT_EQ(m.updates(), expected_updates);
  }
}

// Equal |Delta w| are taken in row-major order: with every input equal, each row's changes
// tie, and the kept ones are the lowest column indices of the last row that is cut.
TEST(Restriction, SynapseTiesGoToTheLowerIndex) {
  const std::vector<float> x(10, 0.5f);
  Mlp m(small(10, 4, 2, Restriction::synapse, 0.25));  // layer 0: keep 10 of 40
  const Matrix w0 = m.weights(0), w1 = m.weights(1);
  const Reference ref = reference(w0, w1, x.data(), 1, 0.5);
  m.train_sample(x.data(), 1);
  // Rows by |delta_h| (distinct for these weights).
  std::vector<Eigen::Index> rows = {0, 1, 2, 3};
  std::sort(rows.begin(), rows.end(), [&](Eigen::Index a, Eigen::Index b) {
    return std::fabs(ref.dh(a)) > std::fabs(ref.dh(b));
  });
  const Matrix moved = (m.weights(0).array() != w0.array()).cast<double>().matrix();
  EXPECT_EQ(moved.row(rows[0]).sum(), 10.0);  // the top row takes all 10
  for (int j = 1; j < 4; ++j) EXPECT_EQ(moved.row(rows[static_cast<std::size_t>(j)]).sum(), 0.0);
  // Keep 13: the top row (10) and the first 3 columns of the second.
  Mlp m2(small(10, 4, 2, Restriction::synapse, 13.0 / 40.0));
  m2.train_sample(x.data(), 1);
  const Matrix moved2 = (m2.weights(0).array() != w0.array()).cast<double>().matrix();
  EXPECT_EQ(moved2.row(rows[0]).sum(), 10.0);
  for (Eigen::Index c = 0; c < 10; ++c) EXPECT_EQ(moved2(rows[1], c), c < 3 ? 1.0 : 0.0);
}

// neuron: only the ceil(F rows) units with the largest |delta| (hidden delta from the
// unrestricted output error) change their incoming weights, by the reference change.
TEST(Restriction, NeuronChangesOnlyTheSelectedUnits) {
  const Data d = random_data(15, 80, 5, 31, 0.3);
  const double keep = 0.3;  // hidden: ceil(0.3 * 8) = 3 of 8; outputs: ceil(1.5) = 2 of 5
  Mlp m(small(15, 8, 5, Restriction::neuron, keep));
  for (std::size_t i = 0; i < d.count; ++i) {
    const Matrix w[2] = {m.weights(0), m.weights(1)};
    const Reference ref = reference(w[0], w[1], d.row(i), d.y[i], 0.5);
    m.train_sample(d.row(i), d.y[i]);
    const Vec* delta[2] = {&ref.dh, &ref.dout};
    const std::size_t want_rows[2] = {3, 2};
    for (int l = 0; l < 2; ++l) {
      const Vec& dl = *delta[l];
      std::vector<Eigen::Index> order(static_cast<std::size_t>(dl.size()));
      for (std::size_t r = 0; r < order.size(); ++r) order[r] = static_cast<Eigen::Index>(r);
      std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) {
        return std::fabs(dl(a)) > std::fabs(dl(b));
      });
      const Matrix got = m.weights(static_cast<std::size_t>(l)) - w[l];
      for (std::size_t j = 0; j < order.size(); ++j) {
        const Eigen::Index r = order[j];
        if (j < want_rows[l]) {
          EXPECT_LE((got.row(r) - ref.change[l].row(r)).cwiseAbs().maxCoeff(), 1e-12);
        } else {
          EXPECT_EQ(got.row(r).cwiseAbs().maxCoeff(), 0.0) << "sample " << i << " layer " << l;
        }
      }
    }
  }
}

// path: round(F H) hidden units drawn from the seed; over a whole run (with a cache that
// decays and costs maintenance too) no other unit's incoming or outgoing weight moves.
TEST(Restriction, PathNeverChangesTheOtherUnits) {
  const Data d = random_data(20, 400, 4, 41, 0.3);
  for (bool with_cache : {false, true}) {
    SCOPED_TRACE(with_cache ? "cached" : "classic");
    MlpConfig cfg = small(20, 10, 4, Restriction::path, 0.34);  // round(3.4) = 3 units
    cfg.seed = 3;
    if (with_cache) cfg = cached(cfg, 0.02, 50.0, 0.01);
    Mlp m(cfg);
    ASSERT_EQ(m.plastic_units().size(), 3u);
    std::vector<bool> plastic(10, false);
    for (std::size_t j : m.plastic_units()) plastic.at(j) = true;
    m.train(d.x.data(), d.y.data(), d.count);
    const Matrix w0 = m.weights(0), w1 = m.weights(1);
    for (Eigen::Index j = 0; j < 10; ++j) {
      const bool moved0 = (w0.row(j).array() != m.initial_weights(0).row(j).array()).any();
      const bool moved1 = (w1.col(j).array() != m.initial_weights(1).col(j).array()).any();
      EXPECT_EQ(moved0, plastic[static_cast<std::size_t>(j)]) << "unit " << j;
      EXPECT_EQ(moved1, plastic[static_cast<std::size_t>(j)]) << "unit " << j;
    }
  }
  // The set depends on the seed only (the same for the same seed, drawn in its own stream:
  // the initial weights do not change).
  MlpConfig a = small(20, 50, 4, Restriction::path, 0.2);
  MlpConfig b = a;
  b.seed = 2;
  EXPECT_EQ(Mlp(a).plastic_units(), Mlp(a).plastic_units());
  EXPECT_NE(Mlp(a).plastic_units(), Mlp(b).plastic_units());
  EXPECT_TRUE(bit_equal(Mlp(a).initial_weights(0), Mlp(small(20, 50, 4)).initial_weights(0)));
}

// Lazy learning: the weights change exactly on the samples a reference evaluation of the
// current weights gets wrong (or, with a margin, whose label output is below it).
TEST(Lazy, LearnsExactlyOnTheMisclassifiedSamples) {
  Data d = random_data(16, 1500, 3, 51, 0.2);
  for (std::size_t i = 0; i < d.count; ++i) {  // learnable: the largest of the first 3 inputs
    const float* x = d.row(i);
    d.y[i] = static_cast<std::uint8_t>(std::max_element(x, x + 3) - x);
  }
  for (double margin : {0.0, 0.5}) {
    SCOPED_TRACE("margin " + std::to_string(margin));
    MlpConfig cfg = small(16, 7, 3, Restriction::none, 1.0, true);
    cfg.lazy_margin = margin;
    Mlp m(cfg);
    std::int64_t wrong = 0, changed = 0, skipped = 0;
    for (std::size_t i = 0; i < d.count; ++i) {
      const Matrix w0 = m.weights(0), w1 = m.weights(1);
      const Reference ref = reference(w0, w1, d.row(i), d.y[i], 0.5);
      const bool learn = argmax(ref.o) != d.y[i] || ref.o(d.y[i]) < margin;
      wrong += learn;
      m.train_sample(d.row(i), d.y[i]);
      const bool moved = count_changed(w0, m.weights(0)) + count_changed(w1, m.weights(1)) > 0;
      EXPECT_EQ(moved, learn) << "sample " << i;
      changed += moved;
      skipped += !learn;
    }
    EXPECT_EQ(m.plastic_samples(), wrong);
    EXPECT_EQ(changed, wrong);
    EXPECT_GT(skipped, 50);  // the test says something: both kinds of samples occur
    EXPECT_GT(wrong, 50);
  }
}

// A skipped sample costs no plasticity, but time passes: the transient weights decay and
// cost maintenance.
TEST(Lazy, SkippedSamplesStillDecayAndPayMaintenance) {
  const Data d = random_data(16, 400, 3, 61, 0.2);
  const double tau = 30.0, c = 0.01;
  Mlp m(cached(small(16, 7, 3, Restriction::none, 1.0, true), kInf, tau, c));
  int checked = 0;
  for (std::size_t i = 0; i < d.count; ++i) {
    const Matrix w0 = m.weights(0), w1 = m.weights(1);
    const Reference ref = reference(w0, w1, d.row(i), d.y[i], 0.5);
    const Matrix s0 = m.transient(0), s1 = m.transient(1);
    const double maint = m.energy().maintenance, cons = m.energy().consolidation;
    const std::int64_t updates = m.updates();
    m.train_sample(d.row(i), d.y[i]);
    if (argmax(ref.o) != d.y[i]) continue;
    ++checked;
    EXPECT_EQ(m.updates(), updates);
    EXPECT_EQ(m.energy().consolidation, cons);
    // Maintenance c sum |s| charged on the unchanged transient weights, then decay.
    const double expect_maint = c * (s0.cwiseAbs().sum() + s1.cwiseAbs().sum());
    EXPECT_NEAR(m.energy().maintenance - maint, expect_maint, 1e-9 * expect_maint);
    EXPECT_LE((m.transient(0) - s0 * std::exp(-1.0 / tau)).cwiseAbs().maxCoeff(), 1e-15);
    EXPECT_LE((m.transient(1) - s1 * std::exp(-1.0 / tau)).cwiseAbs().maxCoeff(), 1e-15);
  }
  EXPECT_GT(checked, 20);
}

// The counts against the weights that moved, per layer and in total: test_mlp_layers.cpp.

// No consolidation, no decay, no maintenance: the energy is the minimal one for every
// algorithm (all changes stay transient, and sum |s| = sum |w - w(0)|).
TEST(Counts, ThetaInfinityCostsTheMinimalEnergyForEveryAlgorithm) {
  const Data d = random_data(40, 300, 4, 81, 0.3);
  struct Algo {
    Restriction r;
    double keep;
    bool lazy;
  };
  const Algo algos[] = {{Restriction::none, 1.0, false},   {Restriction::synapse, 0.1, false},
                        {Restriction::neuron, 0.3, false}, {Restriction::path, 0.3, false},
                        {Restriction::none, 1.0, true},    {Restriction::synapse, 0.1, true}};
  for (const Algo& a : algos) {
    SCOPED_TRACE(std::string(restriction_name(a.r)) + (a.lazy ? " lazy" : ""));
    Mlp m(cached(small(40, 12, 4, a.r, a.keep, a.lazy), kInf, kInf, 0.0));
    m.train(d.x.data(), d.y.data(), d.count);
    const EnergyTally e = m.energy();
    EXPECT_EQ(e.consolidation, 0.0);
    EXPECT_EQ(e.maintenance, 0.0);
    EXPECT_GT(e.minimal, 0.1);
    EXPECT_NEAR(e.total(), e.minimal, 1e-12 * e.minimal);
    EXPECT_EQ(m.consolidation_events(), 0);
  }
}

}  // namespace
}  // namespace syncache
