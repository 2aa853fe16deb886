// Keep fractions per layer and the authors' keep rounding (docs/beyond.md; van Rossum &
// Pache 2024, whose code keeps n - round((1 - F)(n - 1)) elements and every one tied at the
// threshold, with NumPy's round half to even). Expectations: brute-force sorts of the
// reference changes, counts written out by hand, and unrestricted runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "helpers/random_data.hpp"
#include "syncache/models/mlp.hpp"

namespace syncache {
namespace {

using Matrix = Mlp::Matrix;
using testing::Data;
using testing::random_data;

MlpConfig small(Restriction r, double keep_hidden, std::optional<double> keep_output,
                KeepRounding rounding = KeepRounding::ceil) {
  MlpConfig cfg;
  cfg.inputs = 24;
  cfg.hidden = 10;
  cfg.outputs = 5;
  cfg.eta = 0.5;
  cfg.restriction = r;
  cfg.keep = keep_hidden;
  cfg.keep_output = keep_output;
  cfg.keep_rounding = rounding;
  return cfg;
}

// Round half to even of a non-negative x, written out: the nearest integer, and of two at
// the same distance the even one (Python's round, numpy.round).
double half_even(double x) {
  const double f = std::floor(x), d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1.0;
  return std::fmod(f, 2.0) == 0.0 ? f : f + 1.0;
}

TEST(KeepRounding, AuthorsCountsAgainstTheirFormula) {
  // The numbers: F = 0.3 keeps 31 of 100 hidden units and 4 of 10 outputs.
  EXPECT_EQ(keep_count(0.3, 100, KeepRounding::authors), 31u);
  EXPECT_EQ(keep_count(0.3, 10, KeepRounding::authors), 4u);
  EXPECT_EQ(keep_count(0.3, 100, KeepRounding::ceil), 30u);
  EXPECT_EQ(keep_count(0.3, 10, KeepRounding::ceil), 3u);
  // Halves go to the even neighbour: F = 0.5 of 10, (1 - F) 9 = 4.5 -> 4, keeps 6; of 8,
  // 3.5 -> 4, keeps 4; F = 0.75 of 3, 0.5 -> 0, keeps 3.
  EXPECT_EQ(keep_count(0.5, 10, KeepRounding::authors), 6u);
  EXPECT_EQ(keep_count(0.5, 8, KeepRounding::authors), 4u);
  EXPECT_EQ(keep_count(0.75, 3, KeepRounding::authors), 3u);
  EXPECT_EQ(keep_count(1.0, 7, KeepRounding::authors), 7u);
  EXPECT_EQ(keep_count(1e-6, 7, KeepRounding::authors), 1u);
  for (std::size_t n = 1; n <= 300; ++n) {
    for (int i = 1; i <= 100; ++i) {
      const double f = i / 100.0;
      const double r = half_even((1.0 - f) * static_cast<double>(n - 1));
      EXPECT_EQ(keep_count(f, n, KeepRounding::authors), n - static_cast<std::size_t>(r))
          << f << " of " << n;
    }
  }
}

// The reference change of both layers for one sample on the network's current weights.
struct Change {
  Matrix dw[2];
};
Eigen::VectorXd sigma(const Eigen::VectorXd& z) {
  return (1.0 + (-z.array()).exp()).inverse().matrix();
}
Change reference(const Mlp& m, const float* xin, int label) {
  const Matrix w0 = m.weights(0), w1 = m.weights(1);
  Eigen::VectorXd x(w0.cols());
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = xin[i];
  const Eigen::VectorXd h = sigma(w0 * x), o = sigma(w1 * h);
  Eigen::VectorXd t = Eigen::VectorXd::Constant(o.size(), 0.01);
  t(label) = 0.99;
  const Eigen::VectorXd dout = ((t - o).array() * o.array() * (1.0 - o.array())).matrix();
  const Eigen::VectorXd dh =
      ((w1.transpose() * dout).array() * h.array() * (1.0 - h.array())).matrix();
  const double eta = m.config().eta;
  return Change{{eta * dh * x.transpose(), eta * dout * h.transpose()}};
}

// The authors' selection, brute force: the threshold is the element at index
// round((1 - F)(n - 1)) of all n sizes sorted ascending; every size >= it is kept.
Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic> authors_kept(const Matrix& size, double f) {
  std::vector<double> v(size.data(), size.data() + size.size());
  std::sort(v.begin(), v.end());
  const auto idx =
      static_cast<std::size_t>(half_even((1.0 - f) * static_cast<double>(v.size() - 1)));
  return size.array() >= v[idx];
}

// Inputs of 0 and 1 only: |Delta w_rc| = |eta delta_r| for every x_c = 1, so each row's
// changes are tied, and the authors keep whole groups of equal sizes.
TEST(KeepRounding, AuthorsSynapseSelectionWithTiesAgainstBruteForce) {
  Data d = random_data(24, 40, 5, 7, 0.5);
  for (float& v : d.x) v = v != 0.0f ? 1.0f : 0.0f;
  for (double f : {0.05, 0.2, 0.3, 0.5}) {
    SCOPED_TRACE(f);
    Mlp m(small(Restriction::synapse, f, std::nullopt, KeepRounding::authors));
    for (std::size_t i = 0; i < d.count; ++i) {
      const Change ref = reference(m, d.row(i), d.y[i]);
      const Matrix before[2] = {m.weights(0), m.weights(1)};
      const std::int64_t updates = m.updates();
      m.train_sample(d.row(i), d.y[i]);
      std::int64_t want_updates = 0;
      for (std::size_t l = 0; l < 2; ++l) {
        const auto kept = authors_kept(ref.dw[l].cwiseAbs(), f);
        const Matrix got = m.weights(l) - before[l];
        for (Eigen::Index r = 0; r < got.rows(); ++r) {
          for (Eigen::Index c = 0; c < got.cols(); ++c) {
            if (kept(r, c)) {
              EXPECT_NEAR(got(r, c), ref.dw[l](r, c), 1e-12) << "layer " << l;
              want_updates += ref.dw[l](r, c) != 0.0;
            } else {
              EXPECT_EQ(got(r, c), 0.0) << "layer " << l << " sample " << i;
            }
          }
        }
      }
      EXPECT_EQ(m.updates() - updates, want_updates);
    }
  }
}

TEST(KeepRounding, AuthorsNeuronSelectionAgainstBruteForce) {
  const Data d = random_data(24, 40, 5, 9, 0.4);
  for (double f : {0.3, 0.5}) {
    Mlp m(small(Restriction::neuron, f, std::nullopt, KeepRounding::authors));
    for (std::size_t i = 0; i < d.count; ++i) {
      const Change ref = reference(m, d.row(i), d.y[i]);
      const Matrix before[2] = {m.weights(0), m.weights(1)};
      m.train_sample(d.row(i), d.y[i]);
      for (std::size_t l = 0; l < 2; ++l) {
        // |delta_r| by the row's largest |Delta w| over a common input: the row norms order
        // the rows as |delta_r| does.
        const Matrix size = ref.dw[l].rowwise().lpNorm<1>();
        const auto kept = authors_kept(size, f);
        const Matrix got = m.weights(l) - before[l];
        for (Eigen::Index r = 0; r < got.rows(); ++r) {
          if (kept(r, 0)) {
            EXPECT_LE((got.row(r) - ref.dw[l].row(r)).cwiseAbs().maxCoeff(), 1e-12);
          } else {
            EXPECT_EQ(got.row(r).cwiseAbs().maxCoeff(), 0.0);
          }
        }
      }
    }
  }
}

// F = 1 on one layer leaves that layer's change as without a restriction; the other
// layer's F still applies.
TEST(KeepPerLayer, FractionOneLeavesThatLayerUntouched) {
  const Data d = random_data(24, 5, 5, 13, 0.4);
  for (Restriction r : {Restriction::synapse, Restriction::neuron}) {
    for (KeepRounding rounding : {KeepRounding::ceil, KeepRounding::authors}) {
      SCOPED_TRACE(restriction_name(r));
      Mlp plain(small(Restriction::none, 1.0, std::nullopt));
      Mlp out_free(small(r, 0.3, 1.0, rounding)), hid_free(small(r, 1.0, 0.3, rounding));
      Mlp both(small(r, 0.3, std::nullopt, rounding));
      for (Mlp* m : {&plain, &out_free, &hid_free, &both}) m->train_sample(d.row(0), d.y[0]);
      const auto same = [](const Matrix& a, const Matrix& b) {
        return (a.array() == b.array()).all();
      };
      EXPECT_TRUE(same(out_free.weights(1), plain.weights(1)));
      EXPECT_TRUE(same(out_free.weights(0), both.weights(0)));
      EXPECT_FALSE(same(out_free.weights(0), plain.weights(0)));
      EXPECT_TRUE(same(hid_free.weights(0), plain.weights(0)));
      EXPECT_TRUE(same(hid_free.weights(1), both.weights(1)));
      EXPECT_FALSE(same(hid_free.weights(1), plain.weights(1)));
    }
  }
}

TEST(KeepPerLayer, ReadFromParameters) {
  MlpConfig c = mlp_config_from_json({{"restrict", "synapse"}, {"keep", {0.3, 1}}});
  EXPECT_EQ(c.keep, 0.3);
  ASSERT_TRUE(c.keep_output.has_value());
  EXPECT_EQ(*c.keep_output, 1.0);
  c = mlp_config_from_json({{"restrict", "neuron"}, {"keep", 0.4}, {"keep_rounding", "authors"}});
  EXPECT_EQ(c.keep, 0.4);
  EXPECT_FALSE(c.keep_output.has_value());
  EXPECT_EQ(c.keep_rounding, KeepRounding::authors);
  c = mlp_config_from_json({{"restrict", "neuron"}, {"keep", {0.4}}});
  EXPECT_FALSE(c.keep_output.has_value());
  for (const nlohmann::json& bad :
       {nlohmann::json{{"restrict", "synapse"}, {"keep", {0.3, 1, 1}}},
        nlohmann::json{{"restrict", "synapse"}, {"keep", {0.3, 0}}},
        nlohmann::json{{"restrict", "synapse"}, {"keep", nlohmann::json::array()}},
        nlohmann::json{{"restrict", "path"}, {"keep", {0.3, 1}}},
        nlohmann::json{{"restrict", "path"}, {"keep", 0.3}, {"keep_rounding", "authors"}},
        nlohmann::json{{"keep_rounding", "authors"}},
        nlohmann::json{{"restrict", "synapse"}, {"keep", 0.3}, {"keep_rounding", "floor"}}}) {
    SCOPED_TRACE(bad.dump());
    try {
      mlp_config_from_json(bad);
      ADD_FAILURE() << "accepted";
    } catch (const ParamError& e) {
      EXPECT_TRUE(e.key() == "keep" || e.key() == "keep_rounding") << e.key();
    }
  }
}

}  // namespace
}  // namespace syncache
