// The multilayer back-propagation network with synaptic caching (docs/model.md section 3).
// Expectations come from a plain reference forward pass on Eigen matrices written here
// (E = 1/2 sum_k (t_k - o_k)^2, o = sigma(W1 sigma(W0 x))), finite differences of it, the
// back-propagation formulas derived by hand, and the definitions of the caching rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <pcg_random.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "../src/models/evaluation.hpp"
#include "helpers/random_data.hpp"
#include "syncache/models/mlp.hpp"

namespace syncache {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
using Matrix = Mlp::Matrix;
using Vec = Eigen::VectorXd;

MlpConfig small(std::size_t n, std::size_t h, std::size_t k, Rule rule = Rule::classic,
                double theta = 0.0, double tau = kInf, double c = 0.0) {
  MlpConfig cfg;
  cfg.inputs = n;
  cfg.hidden = h;
  cfg.outputs = k;
  cfg.cache.rule = rule;
  cfg.cache.theta = theta;
  cfg.cache.tau = tau;
  cfg.cache.c = c;
  return cfg;
}

using testing::Data;
using testing::random_data;

Vec as_vec(const float* x, std::size_t n) {
  Vec v(static_cast<Eigen::Index>(n));
  for (std::size_t i = 0; i < n; ++i) v(static_cast<Eigen::Index>(i)) = x[i];
  return v;
}

Vec sigma(const Vec& z) {
  return (1.0 + (-z.array()).exp()).inverse().matrix();
}

Vec target(std::size_t k, int label) {
  Vec t = Vec::Constant(static_cast<Eigen::Index>(k), 0.01);
  t(label) = 0.99;
  return t;
}

// Reference forward pass and loss.
struct Forward {
  Vec h, o;
  double loss = 0.0;
};
Forward forward(const Matrix& w0, const Matrix& w1, const Vec& x, int label) {
  Forward f;
  f.h = sigma(w0 * x);
  f.o = sigma(w1 * f.h);
  f.loss = 0.5 * (target(static_cast<std::size_t>(w1.rows()), label) - f.o).squaredNorm();
  return f;
}

double max_abs(const Matrix& m) {
  return m.cwiseAbs().maxCoeff();
}

// ---------------------------------------------------------------------------------------
// Configuration and initial weights

TEST(MlpConfig, RejectsBadValuesNamingTheOption) {
  auto expect_error = [](MlpConfig cfg, const std::string& option) {
    try {
      Mlp m(cfg);
      ADD_FAILURE() << "accepted a bad " << option;
    } catch (const syncache::ParamError& e) {  // keyed by the parameter's name
      EXPECT_EQ(e.key(), option) << e.what();
    }
  };
  const MlpConfig ok = small(5, 4, 3, Rule::neuron, 0.1, 100.0, 0.01);
  EXPECT_NO_THROW(Mlp{ok});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  MlpConfig c = ok;
  c.inputs = 0;
  expect_error(c, "inputs");
  c = ok, c.hidden = 0;
  expect_error(c, "hidden");
  c = ok, c.outputs = 0;
  expect_error(c, "outputs");
  for (double eta : {0.0, -0.1, kInf, nan}) {
    c = ok, c.eta = eta;
    expect_error(c, "eta");
  }
  for (double theta : {-1e-9, nan}) {
    c = ok, c.cache.theta = theta;
    expect_error(c, "theta");
  }
  for (double tau : {0.0, -5.0, nan}) {
    c = ok, c.cache.tau = tau;
    expect_error(c, "tau");
  }
  for (double cc : {-0.5, kInf, nan}) {
    c = ok, c.cache.c = cc;
    expect_error(c, "c");
  }
  c = ok, c.cache.rule = static_cast<Rule>(99);
  expect_error(c, "rule");
  // Bad cache options are rejected with the classic rule too (never ignored silently).
  c = ok, c.cache.rule = Rule::classic, c.cache.tau = -1.0;
  expect_error(c, "tau");
  // theta = inf and tau = inf are allowed.
  c = ok, c.cache.theta = kInf, c.cache.tau = kInf;
  EXPECT_NO_THROW(Mlp{c});

  Mlp m(ok);
  const std::vector<float> x(5, 0.5f);
  EXPECT_THROW(m.train_sample(x.data(), 3), std::invalid_argument);
  EXPECT_THROW(m.train_sample(x.data(), -1), std::invalid_argument);
  const std::uint8_t label = 0;
  EXPECT_THROW(m.accuracy(x.data(), &label, 0), std::invalid_argument);
  EXPECT_THROW(m.weights(2), std::out_of_range);
}

TEST(MlpInit, BoxMullerStreamFromPcg32) {
  // w(0) = 0.01 z, z from Box-Muller on pcg32(seed): u = k 2^-53 with k = (a >> 5) 2^26 +
  // (b >> 6) from two raw outputs; u1 = (k1 + 1) 2^-53, u2 = k2 2^-53;
  // z = sqrt(-2 ln u1) cos(2 pi u2), then sqrt(-2 ln u1) sin(2 pi u2).
  pcg32 rng(42);
  auto k53 = [&] {
    const std::uint64_t a = rng() >> 5;
    const std::uint64_t b = rng() >> 6;
    return static_cast<double>(a * 67108864ULL + b);
  };
  std::vector<double> z;
  for (int pair = 0; pair < 3; ++pair) {
    const double u1 = (k53() + 1.0) / 9007199254740992.0;
    const double u2 = k53() / 9007199254740992.0;
    const double r = std::sqrt(-2.0 * std::log(u1));
    z.push_back(r * std::cos(2.0 * std::numbers::pi * u2));
    z.push_back(r * std::sin(2.0 * std::numbers::pi * u2));
  }
  MlpConfig cfg = small(4, 2, 3);
  cfg.seed = 42;
  const Mlp m(cfg);
  const Matrix& w0 = m.initial_weights(0);
  const Matrix& w1 = m.initial_weights(1);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(w0(i / 4, i % 4), 0.01 * z[static_cast<std::size_t>(i)]);
  EXPECT_EQ(m.weights(0), w0);
  EXPECT_EQ(m.weights(1), w1);
  // The stream continues into layer 1 (8 values of layer 0 before it).
  EXPECT_NE(w1(0, 0), w0(0, 0));
}

TEST(MlpInit, WeightsAreNormalWithSd001) {
  const Mlp m(MlpConfig{});  // 784 - 100 - 10
  const Matrix& w = m.initial_weights(0);
  const double n = static_cast<double>(w.size());
  const double mean = w.mean();
  const double sd = std::sqrt((w.array() - mean).square().sum() / (n - 1.0));
  EXPECT_LT(std::fabs(mean), 5.0 * 0.01 / std::sqrt(n));  // 5 standard errors
  EXPECT_NEAR(sd, 0.01, 5.0 * 0.01 / std::sqrt(2.0 * n));
  // Fraction within one SD: 0.6827 for a normal (binomial SE 0.0017).
  const double inside = static_cast<double>((w.array().abs() < 0.01).count()) / n;
  EXPECT_NEAR(inside, 0.6827, 0.01);
}

// ---------------------------------------------------------------------------------------
// Gradients

TEST(MlpGradient, ExactGradientMatchesFiniteDifferences) {
  const Data d = random_data(5, 40, 3, 7);
  MlpConfig cfg = small(5, 4, 3);
  cfg.eta = 2.0;  // move the weights away from the small initial values first
  Mlp m(cfg);
  m.train(d.x.data(), d.y.data(), 40);
  const Matrix w0 = m.weights(0), w1 = m.weights(1);
  ASSERT_GT(max_abs(w1), 0.1);
  for (std::size_t s = 0; s < 3; ++s) {
    const Vec x = as_vec(d.row(s), 5);
    const int label = d.y[s];
    const Mlp::Gradient g = m.gradient(d.row(s), label);
    EXPECT_NEAR(g.loss, forward(w0, w1, x, label).loss, 1e-14);
    const double h = 1e-6;
    auto check = [&](const Matrix& grad, bool layer1) {
      const double tol = 1e-7 * max_abs(grad) + 1e-11;
      for (Eigen::Index r = 0; r < grad.rows(); ++r) {
        for (Eigen::Index c = 0; c < grad.cols(); ++c) {
          Matrix a0 = w0, a1 = w1, b0 = w0, b1 = w1;
          (layer1 ? a1 : a0)(r, c) += h;
          (layer1 ? b1 : b0)(r, c) -= h;
          const double fd =
              (forward(a0, a1, x, label).loss - forward(b0, b1, x, label).loss) / (2.0 * h);
          EXPECT_NEAR(grad(r, c), fd, tol) << "layer " << layer1 << " (" << r << "," << c << ")";
        }
      }
    };
    check(g.layer0, false);
    check(g.layer1, true);
  }
}

TEST(MlpGradient, AuthorsVariantLacksOnlyTheOutputSigmoidDerivative) {
  const Data d = random_data(5, 1, 3, 11);
  MlpConfig cfg = small(5, 4, 3);
  const Mlp exact(cfg);
  cfg.authors_backprop = true;
  const Mlp authors(cfg);  // same seed: same weights
  const Matrix w0 = exact.weights(0), w1 = exact.weights(1);
  ASSERT_EQ(w0, authors.weights(0));
  const Vec x = as_vec(d.row(0), 5);
  const int label = d.y[0];
  const Forward f = forward(w0, w1, x, label);
  const Vec e = target(3, label) - f.o;
  const Vec dh = f.h.array() * (1.0 - f.h.array());
  const Vec delta_o = (e.array() * f.o.array() * (1.0 - f.o.array())).matrix();
  // Exact: dE/dW1 = -delta_o h^T, dE/dW0 = -((W1^T delta_o) .* h(1-h)) x^T.
  // Authors: dW0 direction -((W1^T e) .* h(1-h)) x^T; layer 1 unchanged.
  const Matrix g1 = -delta_o * f.h.transpose();
  const Matrix g0_exact =
      -((w1.transpose() * delta_o).array() * dh.array()).matrix() * x.transpose();
  const Matrix g0_authors = -((w1.transpose() * e).array() * dh.array()).matrix() * x.transpose();
  const Mlp::Gradient ge = exact.gradient(d.row(0), label);
  const Mlp::Gradient ga = authors.gradient(d.row(0), label);
  EXPECT_LT(max_abs(ge.layer1 - g1), 1e-15);
  EXPECT_LT(max_abs(ge.layer0 - g0_exact), 1e-15);
  EXPECT_LT(max_abs(ga.layer1 - g1), 1e-15);
  EXPECT_LT(max_abs(ga.layer0 - g0_authors), 1e-15);
  EXPECT_GT(max_abs(ga.layer0 - ge.layer0), 1e-6);  // they do differ

  // With one output unit the difference is exactly the factor o(1 - o).
  MlpConfig one = small(5, 4, 1);
  const Mlp e1(one);
  one.authors_backprop = true;
  const Mlp a1(one);
  const Forward f1 = forward(e1.weights(0), e1.weights(1), x, 0);
  const double deriv = f1.o(0) * (1.0 - f1.o(0));
  const Matrix ratio = e1.gradient(d.row(0), 0).layer0;
  const Matrix scaled = deriv * a1.gradient(d.row(0), 0).layer0;
  EXPECT_LT(max_abs(ratio - scaled), 1e-15 * max_abs(ratio) + 1e-300);
  EXPECT_EQ(e1.gradient(d.row(0), 0).layer1, a1.gradient(d.row(0), 0).layer1);
}

TEST(MlpGradient, TrainingStepIsMinusEtaTimesGradient) {
  const Data d = random_data(70, 2, 4, 5);
  MlpConfig cfg = small(70, 9, 4);
  cfg.eta = 0.3;
  Mlp m(cfg);
  const Matrix w0 = m.weights(0), w1 = m.weights(1);
  const Mlp::Gradient g = m.gradient(d.row(0), d.y[0]);
  m.train_sample(d.row(0), d.y[0]);
  EXPECT_LT(max_abs(m.weights(0) - (w0 - 0.3 * g.layer0)), 1e-16);
  EXPECT_LT(max_abs(m.weights(1) - (w1 - 0.3 * g.layer1)), 1e-16);
  // Classic energy: sum |Delta w| of the step.
  const double expected = 0.3 * (g.layer0.cwiseAbs().sum() + g.layer1.cwiseAbs().sum());
  EXPECT_NEAR(m.energy().consolidation, expected, 1e-14 * expected);
  EXPECT_NEAR(m.energy().minimal, expected, 1e-12 * expected);
  EXPECT_EQ(m.energy().maintenance, 0.0);
  EXPECT_EQ(m.energy().pending, 0.0);
}

// ---------------------------------------------------------------------------------------
// Caching properties

TEST(MlpCaching, ThetaZeroReproducesClassicExactly) {
  // Sizes with vector blocks and tails in every kernel (64-blocks, 16-lanes).
  const Data d = random_data(150, 300, 5, 3, 0.3);
  Mlp classic(small(150, 70, 5));
  classic.train(d.x.data(), d.y.data(), d.count);
  const EnergyTally ec = classic.energy();
  // Classic: every change is written into w, so classic = consolidation and every update is
  // a consolidation event; nothing is transient.
  EXPECT_EQ(ec.classic, ec.consolidation);
  EXPECT_EQ(ec.pending, 0.0);
  EXPECT_GT(ec.updates, 0);
  EXPECT_EQ(ec.consolidation_events, ec.updates);
  for (Rule rule : {Rule::synapse, Rule::neuron, Rule::sum, Rule::layer}) {
    SCOPED_TRACE(std::string(rule_name(rule)));
    Mlp cached(small(150, 70, 5, rule, 0.0, kInf, 0.3));
    cached.train(d.x.data(), d.y.data(), d.count);
    EXPECT_TRUE(cached.weights(0) == classic.weights(0));
    EXPECT_TRUE(cached.weights(1) == classic.weights(1));
    EXPECT_EQ(max_abs(cached.transient(0)), 0.0);
    EXPECT_EQ(max_abs(cached.transient(1)), 0.0);
    const EnergyTally e = cached.energy();
    EXPECT_NEAR(e.consolidation, ec.consolidation, 1e-12 * ec.consolidation);
    EXPECT_EQ(e.maintenance, 0.0);
    EXPECT_EQ(e.pending, 0.0);
    EXPECT_EQ(e.change, 0.0);
    EXPECT_EQ(e.minimal, ec.minimal);
    // The same changes are proposed (loading w(0) into the store is not charged).
    EXPECT_NEAR(e.classic, ec.classic, 1e-12 * ec.classic);
    EXPECT_EQ(e.updates, ec.updates);
    EXPECT_EQ(e.consolidation_events, ec.updates);
    EXPECT_EQ(cached.accuracy(d.x.data(), d.y.data(), d.count),
              classic.accuracy(d.x.data(), d.y.data(), d.count));
  }
  // With decay nothing changes either (nothing stays transient), up to rounding.
  Mlp decaying(small(150, 70, 5, Rule::neuron, 0.0, 50.0, 0.3));
  decaying.train(d.x.data(), d.y.data(), d.count);
  EXPECT_LT(max_abs(decaying.weights(0) - classic.weights(0)), 1e-12);
  EXPECT_LT(max_abs(decaying.weights(1) - classic.weights(1)), 1e-12);
}

TEST(MlpCaching, ThetaInfinityCostsTheMinimalEnergy) {
  const Data d = random_data(100, 400, 4, 9);
  for (Rule rule : {Rule::synapse, Rule::neuron, Rule::sum, Rule::layer}) {
    SCOPED_TRACE(std::string(rule_name(rule)));
    Mlp m(small(100, 20, 4, rule, kInf, kInf, 0.0));
    m.train(d.x.data(), d.y.data(), d.count);
    const EnergyTally e = m.energy();
    EXPECT_EQ(e.consolidation, 0.0);
    EXPECT_EQ(e.maintenance, 0.0);
    EXPECT_GT(e.minimal, 1.0);
    EXPECT_NEAR(e.total(), e.minimal, 1e-12 * e.minimal);
    EXPECT_EQ(e.total(), e.pending);
    for (std::size_t l = 0; l < 2; ++l) EXPECT_TRUE(m.persistent(l) == m.initial_weights(l));
  }
}

TEST(MlpCaching, StepOrderAddRuleMaintenanceDecay) {
  // Nothing consolidates (theta = inf): s(1) = Delta(1); maintenance c sum|s(1)|, then
  // s <- s exp(-1/tau). Step 2 uses w = l + s: Delta(2) = -eta grad at w = w0 + s, and
  // s(2) = (s(1) exp(-1/tau) + Delta(2)), maintenance c sum|s(2)|, then decay.
  const Data d = random_data(80, 2, 3, 21);
  const double eta = 0.5, c = 0.25, tau = 10.0, f = std::exp(-1.0 / tau);
  MlpConfig cfg = small(80, 6, 3, Rule::neuron, kInf, tau, c);
  cfg.eta = eta;
  Mlp m(cfg);
  const Matrix w0 = m.initial_weights(0), w1 = m.initial_weights(1);
  const Mlp::Gradient g1 = m.gradient(d.row(0), d.y[0]);
  m.train_sample(d.row(0), d.y[0]);
  const Matrix s0 = -eta * g1.layer0, s1 = -eta * g1.layer1;
  const double sum1 = s0.cwiseAbs().sum() + s1.cwiseAbs().sum();
  EXPECT_LT(max_abs(m.transient(0) - f * s0), 1e-15);
  EXPECT_LT(max_abs(m.transient(1) - f * s1), 1e-15);
  EnergyTally e = m.energy();
  EXPECT_NEAR(e.maintenance, c * sum1, 1e-13 * c * sum1);
  EXPECT_NEAR(e.pending, f * sum1, 1e-13 * sum1);
  EXPECT_EQ(e.consolidation, 0.0);

  // The gradient at the cached state is the reference gradient at w = l + s.
  const Matrix v0 = w0 + f * s0, v1 = w1 + f * s1;
  const Vec x = as_vec(d.row(1), 80);
  const int label = d.y[1];
  const Forward fw = forward(v0, v1, x, label);
  const Vec delta_o =
      ((target(3, label) - fw.o).array() * fw.o.array() * (1.0 - fw.o.array())).matrix();
  const Vec delta_h =
      ((v1.transpose() * delta_o).array() * fw.h.array() * (1.0 - fw.h.array())).matrix();
  const Mlp::Gradient g2 = m.gradient(d.row(1), label);
  EXPECT_LT(max_abs(g2.layer1 + delta_o * fw.h.transpose()), 1e-15);
  EXPECT_LT(max_abs(g2.layer0 + delta_h * x.transpose()), 1e-15);
  EXPECT_NEAR(g2.loss, fw.loss, 1e-14);

  m.train_sample(d.row(1), label);
  const Matrix t0 = f * s0 - eta * g2.layer0, t1 = f * s1 - eta * g2.layer1;
  const double sum2 = t0.cwiseAbs().sum() + t1.cwiseAbs().sum();
  EXPECT_LT(max_abs(m.transient(0) - f * t0), 1e-15);
  EXPECT_LT(max_abs(m.transient(1) - f * t1), 1e-15);
  e = m.energy();
  EXPECT_NEAR(e.maintenance, c * (sum1 + sum2), 1e-13 * c * (sum1 + sum2));
  EXPECT_NEAR(e.pending, f * sum2, 1e-13 * sum2);
  EXPECT_NEAR(e.total(), e.maintenance + e.pending, 1e-15 * e.total());
}

// One step from w(0) on a 3-3-2 network: Delta = -eta grad with x = (1, 0.5, 0), so in
// layer 0 the second column is half the first and the third is zero. At w(0) the output
// changes (~eta 0.12 h) dwarf the hidden ones (~eta 0.25 * 0.01 * 0.12). theta lies between
// the largest and the second largest |Delta| of layer 0: in layer 0 exactly one synapse
// exceeds it, in layer 1 every synapse does.
TEST(MlpRules, HandBuiltOneStep) {
  const float x[3] = {1.0f, 0.5f, 0.0f};
  const int label = 1;
  MlpConfig base = small(3, 3, 2);
  base.eta = 1.0;
  base.seed = 3;
  const Mlp probe(base);
  const Mlp::Gradient g = probe.gradient(x, label);
  const Matrix delta[2] = {-g.layer0, -g.layer1};
  for (Eigen::Index r = 0; r < 3; ++r) {
    EXPECT_EQ(delta[0](r, 2), 0.0);
    EXPECT_NEAR(delta[0](r, 1), 0.5 * delta[0](r, 0), 1e-18);
  }
  std::vector<double> mags(delta[0].data(), delta[0].data() + delta[0].size());
  for (double& v : mags) v = std::fabs(v);
  std::sort(mags.rbegin(), mags.rend());
  ASSERT_GT(mags[0], mags[1] * 1.01);
  const double theta = 0.5 * (mags[0] + mags[1]);
  ASSERT_GT(delta[1].cwiseAbs().minCoeff(), theta);
  Eigen::Index big_row = 0, big_col = 0;
  delta[0].cwiseAbs().maxCoeff(&big_row, &big_col);
  ASSERT_EQ(big_col, 0);

  // A second threshold between the layers: above every |Delta| of layer 0, below every
  // |Delta| of layer 1. Then only layer 1 crosses, and the layer rule must consolidate
  // layer 1 whole and leave layer 0 entirely transient (it tells one layer from both).
  const double theta_between = 0.5 * (mags[0] + delta[1].cwiseAbs().minCoeff());
  ASSERT_GT(theta_between, mags[0]);
  ASSERT_LT(theta_between, delta[1].cwiseAbs().minCoeff());
  for (const double theta_case : {theta, theta_between})
    for (Rule rule : {Rule::synapse, Rule::neuron, Rule::layer, Rule::sum}) {
      SCOPED_TRACE(std::string(rule_name(rule)) + (theta_case == theta ? "" : " theta between"));
      const bool between = theta_case != theta;
      MlpConfig cfg = base;
      cfg.cache.rule = rule;
      cfg.cache.theta = theta_case;
      Mlp m(cfg);
      m.train_sample(x, label);
      double consolidated = 0.0;
      for (std::size_t l = 0; l < 2; ++l) {
        const Matrix& w0 = m.initial_weights(l);
        const Matrix p = m.persistent(l), s = m.transient(l);
        for (Eigen::Index r = 0; r < p.rows(); ++r) {
          const double row_max = delta[l].row(r).cwiseAbs().maxCoeff();
          const double row_sum = delta[l].row(r).cwiseAbs().sum();
          for (Eigen::Index c = 0; c < p.cols(); ++c) {
            bool cons = false;  // the rule's definition
            switch (rule) {
              case Rule::synapse:
                cons = std::fabs(delta[l](r, c)) > theta_case;
                break;
              case Rule::neuron:
                cons = row_max > theta_case;
                break;
              case Rule::sum:
                cons = row_sum > theta_case;
                break;
              case Rule::layer:
                cons = max_abs(delta[l]) > theta_case;
                break;
              case Rule::classic:
                break;
            }
            const double dv = delta[l](r, c);
            EXPECT_NEAR(p(r, c), w0(r, c) + (cons ? dv : 0.0), 1e-17) << l << r << c;
            EXPECT_NEAR(s(r, c), cons ? 0.0 : dv, 1e-17) << l << r << c;
            if (cons) consolidated += std::fabs(dv);
          }
        }
      }
      const EnergyTally e = m.energy();
      EXPECT_NEAR(e.consolidation, consolidated, 1e-15);
      const double all = g.layer0.cwiseAbs().sum() + g.layer1.cwiseAbs().sum();
      EXPECT_NEAR(e.pending, all - consolidated, 1e-15);
      EXPECT_NEAR(e.total(), all, 1e-15);
      // In layer 0 the rules differ: one synapse, its row (two synapses), the whole layer.
      const double out = delta[1].cwiseAbs().sum();
      if (between) {
        if (rule != Rule::sum) {  // layer 1 alone: all of it, nothing of layer 0
          EXPECT_NEAR(consolidated, out, 1e-15);
          EXPECT_EQ(m.persistent(0), m.initial_weights(0));
          EXPECT_EQ(m.transient(1), Matrix::Zero(2, 3));
        }
      } else if (rule == Rule::synapse) {
        EXPECT_NEAR(consolidated, out + mags[0], 1e-15);
      } else if (rule == Rule::neuron) {
        EXPECT_NEAR(consolidated, out + 1.5 * mags[0], 1e-15);
      } else if (rule == Rule::layer) {
        EXPECT_NEAR(consolidated, out + delta[0].cwiseAbs().sum(), 1e-15);
      }
    }
}

TEST(MlpRules, LayerRuleConsolidatesOnlyTheLayerThatCrossed) {
  // Over many steps with a moderate theta, a layer that consolidates always does so as a
  // whole: after every step each layer is either entirely persistent or carries s != 0
  // below theta everywhere.
  const Data d = random_data(40, 200, 3, 17);
  Mlp m(small(40, 8, 3, Rule::layer, 0.02, kInf, 0.0));
  int events = 0;
  double last = 0.0;
  for (std::size_t i = 0; i < d.count; ++i) {
    m.train_sample(d.row(i), d.y[i]);
    for (std::size_t l = 0; l < 2; ++l) {
      const Matrix s = m.transient(l);
      EXPECT_LE(max_abs(s), 0.02);
    }
    const double cons = m.energy().consolidation;
    if (cons > last) {
      ++events;
      // At least one layer was emptied completely in this step.
      EXPECT_TRUE(max_abs(m.transient(0)) == 0.0 || max_abs(m.transient(1)) == 0.0);
    }
    last = cons;
  }
  EXPECT_GT(events, 0);
}

// ---------------------------------------------------------------------------------------
// Evaluation, learning, reproducibility

// Gaussian clusters (default: three in 20 dimensions): centres with coordinates 0.2 or 0.8
// at random, noise SD 0.1, clipped to [0, 1]. Linearly separable with a wide margin.
Data clusters(std::size_t count, std::uint64_t seed, std::size_t n = 20, std::size_t classes = 3) {
  pcg32 rng(1234);  // the same centres for every seed
  std::vector<double> centre(classes * n);
  for (double& v : centre) v = (rng() & 1u) ? 0.8 : 0.2;
  pcg32 noise(seed);
  auto normal = [&] {
    const double u1 = (static_cast<double>(noise() >> 8) + 1.0) * 0x1p-24;
    const double u2 = static_cast<double>(noise() >> 8) * 0x1p-24;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  };
  Data d{n, count, std::vector<float>(n * count), std::vector<std::uint8_t>(count)};
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t k = noise() % classes;
    d.y[i] = static_cast<std::uint8_t>(k);
    for (std::size_t j = 0; j < n; ++j) {
      d.x[i * n + j] = static_cast<float>(std::clamp(centre[k * n + j] + 0.1 * normal(), 0.0, 1.0));
    }
  }
  return d;
}

TEST(MlpAccuracy, BatchedEvaluationMatchesPerImageForward) {
  // Images with zero runs (skipped), -0 entries, sizes with partial blocks everywhere.
  // H = 8, 37, 128, 150: the kernel's columns as 0 + 8, 2 x 16 + 8, 8 x 16, 8 x 16 + 16 + 8.
  for (std::size_t hidden : {8u, 37u, 128u, 150u}) {
    SCOPED_TRACE(hidden);
    Data d = clusters(300, 31, 150, 6);  // learnable: the predictions depend on the input
    pcg32 rng(5);
    for (float& v : d.x) {
      if (rng() % 5 < 2) v = 0.0f;
    }
    for (std::size_t i = 0; i < d.count; i += 3) {
      std::fill_n(d.x.begin() + static_cast<std::ptrdiff_t>(i * d.n + 16), 40, 0.0f);
      d.x[i * d.n + 70] = -0.0f;
    }
    MlpConfig cfg = small(150, hidden, 6, Rule::neuron, 0.05, 200.0, 0.01);
    cfg.eta = 0.5;
    Mlp m(cfg);
    for (int epoch = 0; epoch < 8; ++epoch) m.train(d.x.data(), d.y.data(), d.count);
    // The batched outputs equal the reference outputs (double precision) to float accuracy
    // (worst seen 1.5e-7), also for images with one non-zero input at every position and an
    // all-zero image.
    const Matrix w0 = m.weights(0), w1 = m.weights(1);
    Data probe = d;
    for (std::size_t j = 0; j <= d.n; ++j) {
      probe.x.resize(probe.x.size() + d.n, 0.0f);
      if (j < d.n) probe.x[probe.count * d.n + j] = 1.0f;
      ++probe.count;
    }
    const Mlp::MatrixF out = m.outputs(probe.x.data(), probe.count);
    ASSERT_EQ(out.rows(), 451);
    ASSERT_EQ(out.cols(), 6);
    double worst = 0.0;
    for (std::size_t i = 0; i < probe.count; ++i) {
      const Vec o = forward(w0, w1, as_vec(probe.row(i), d.n), 0).o;
      for (Eigen::Index k = 0; k < 6; ++k) {
        worst = std::max(worst, std::fabs(out(static_cast<Eigen::Index>(i), k) - o(k)));
      }
    }
    EXPECT_LT(worst, 1e-6);
    // Labels = the reference's predicted class, leaving out images whose two best outputs
    // lie within 1e-5 of each other (float evaluation).
    Data keep{d.n, 0, {}, {}};
    for (std::size_t i = 0; i < d.count; ++i) {
      const Vec o = forward(w0, w1, as_vec(d.row(i), d.n), 0).o;
      Eigen::Index best = 0;
      o.maxCoeff(&best);
      Vec rest = o;
      rest(best) = -1.0;
      if (o(best) - rest.maxCoeff() < 1e-5) continue;
      keep.x.insert(keep.x.end(), d.row(i), d.row(i) + d.n);
      keep.y.push_back(static_cast<std::uint8_t>(best));
      ++keep.count;
    }
    ASSERT_GT(keep.count, 250u);
    std::vector<int> per_class(6, 0);
    for (auto y : keep.y) ++per_class[y];
    EXPECT_GE(std::count_if(per_class.begin(), per_class.end(), [](int c) { return c >= 10; }), 5);
    EXPECT_EQ(m.accuracy(keep.x.data(), keep.y.data(), keep.count), 1.0);
    for (auto& y : keep.y) y = static_cast<std::uint8_t>((y + 1) % 6);
    EXPECT_EQ(m.accuracy(keep.x.data(), keep.y.data(), keep.count), 0.0);
    // The same test set held by its non-zero pixels gives the same accuracy.
    const SparseImages sparse = SparseImages::from_dense(keep.x.data(), keep.count, keep.n);
    for (auto& y : keep.y) y = static_cast<std::uint8_t>((y + 5) % 6);  // back to the answers
    EXPECT_EQ(m.accuracy(sparse, keep.y.data()), 1.0);
  }
}

TEST(MlpAccuracy, SigmoidOfTheEvaluationKernel) {
  // Against 1 / (1 + exp(-z)) in double: relative error below 3e-7 (2.5 float ulps; worst
  // seen 1.25e-7 near z = -16.75) from z = -87 to 100 on a grid of 1e-3 and at the range
  // reduction's edges; below z = -88 (2^n would leave the normal floats) a value in
  // [0, 1.7e-38] (sigma(-87) = 1.65e-38); NaN stays NaN, sigma(+-inf) = 1, 6.05e-39. Odd
  // counts exercise the partial last vector.
  std::vector<float> z;
  for (int i = -87000; i <= 100000; ++i) z.push_back(static_cast<float>(i) * 1e-3f);
  for (float v : {0.0f, -0.0f, 0.34657359f, -0.34657359f, 1e-30f, -1e-30f, 87.0f, -87.0f}) {
    z.push_back(v);
  }
  std::vector<float> a = z;
  evaluation::sigmoid_floats(a.data(), a.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < z.size(); ++i) {
    const double ref = 1.0 / (1.0 + std::exp(-static_cast<double>(z[i])));
    worst = std::max(worst, std::fabs(a[i] - ref) / ref);
  }
  EXPECT_LT(worst, 3e-7);
  std::vector<float> tails = {-88.5f,
                              -100.0f,
                              -1e4f,
                              -std::numeric_limits<float>::infinity(),
                              std::numeric_limits<float>::infinity(),
                              std::numeric_limits<float>::quiet_NaN(),
                              1e4f};
  evaluation::sigmoid_floats(tails.data(), tails.size());
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_GE(tails[i], 0.0f);
    EXPECT_LE(tails[i], 1.7e-38f);
  }
  EXPECT_EQ(tails[4], 1.0f);
  EXPECT_TRUE(std::isnan(tails[5]));
  EXPECT_EQ(tails[6], 1.0f);
}

TEST(MlpAccuracy, SparseImagesHoldTheNonZeroPixelsInOrder) {
  // Three images of 5 pixels; -0 counts as 0; the second image is all zero.
  const std::vector<float> x = {0.0f, 0.5f, -0.0f, 0.0f, -2.0f,  //
                                0.0f, 0.0f, 0.0f,  0.0f, -0.0f,  //
                                1.0f, 0.0f, 3.0f,  4.0f, 0.0f};
  const SparseImages s = SparseImages::from_dense(x.data(), 3, 5);
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.pixels, 5u);
  EXPECT_EQ(s.start, (std::vector<std::size_t>{0, 2, 2, 5}));
  EXPECT_EQ(s.index, (std::vector<std::uint32_t>{1, 4, 0, 2, 3}));
  EXPECT_EQ(s.value, (std::vector<float>{0.5f, -2.0f, 1.0f, 3.0f, 4.0f}));
  const SparseImages none = SparseImages::from_dense(x.data(), 0, 5);
  EXPECT_EQ(none.start, (std::vector<std::size_t>{0}));
  EXPECT_TRUE(none.index.empty());

  Mlp m(small(5, 3, 2));
  const std::vector<std::uint8_t> labels = {0, 1, 0};
  // (The kernel's results on such sets are checked against the double-precision forward
  // pass in BatchedEvaluationMatchesPerImageForward; here only the set's checks.)
  EXPECT_NO_THROW(m.accuracy(s, labels.data()));
  EXPECT_THROW(m.accuracy(none, labels.data()), std::invalid_argument);
  const SparseImages wide = SparseImages::from_dense(x.data(), 1, 15);  // 15 pixels, 5 inputs
  EXPECT_THROW(m.accuracy(wide, labels.data()), std::invalid_argument);
}

TEST(MlpLearning, SeparableClustersAreLearnt) {
  // 600 training samples x 5 epochs, H = 10, eta = 0.5; test on 600 fresh samples.
  // Over seeds 1..20 every run, classic and neuron caching, reached 1.000 (after one epoch
  // already; before training at most 0.36, chance 1/3). Bound: 0.97.
  const Data train = clusters(600, 1), test = clusters(600, 2);
  for (Rule rule : {Rule::classic, Rule::neuron}) {
    SCOPED_TRACE(std::string(rule_name(rule)));
    for (std::uint64_t seed : {1u, 2u, 3u}) {
      MlpConfig cfg = small(20, 10, 3, rule, 0.05, 1000.0, 0.001);
      cfg.eta = 0.5;
      cfg.seed = seed;
      Mlp m(cfg);
      const double before = m.accuracy(test.x.data(), test.y.data(), test.count);
      for (int epoch = 0; epoch < 5; ++epoch) m.train(train.x.data(), train.y.data(), train.count);
      const double acc = m.accuracy(test.x.data(), test.y.data(), test.count);
      EXPECT_GE(acc, 0.97) << "seed " << seed << " (before training " << before << ")";
      const EnergyTally e = m.energy();
      EXPECT_GT(e.total(), e.minimal);
      EXPECT_NEAR(e.total(), e.consolidation + e.maintenance + e.pending, 1e-12 * e.total());
    }
  }
}

TEST(MlpSeed, SameSeedSameWeights) {
  const Data d = random_data(30, 100, 4, 8);
  for (Rule rule : {Rule::classic, Rule::synapse, Rule::neuron, Rule::layer}) {
    SCOPED_TRACE(std::string(rule_name(rule)));
    MlpConfig cfg = small(30, 12, 4, rule, 0.01, 300.0, 0.002);
    cfg.seed = 77;
    Mlp a(cfg), b(cfg);
    a.train(d.x.data(), d.y.data(), d.count);
    b.train(d.x.data(), d.y.data(), d.count);
    for (std::size_t l = 0; l < 2; ++l) {
      EXPECT_TRUE(a.persistent(l) == b.persistent(l));
      EXPECT_TRUE(a.transient(l) == b.transient(l));
    }
    EXPECT_EQ(a.energy().total(), b.energy().total());
    EXPECT_EQ(a.samples_seen(), 100);
    cfg.seed = 78;
    const Mlp c(cfg);
    EXPECT_FALSE(c.initial_weights(0) == a.initial_weights(0));
  }
}

}  // namespace
}  // namespace syncache
