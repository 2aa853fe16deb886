// The MNIST network's sparse first layer: weights kept by input (kernels::ColumnInput,
// CachedColumnStore) and only the non-zero inputs touched, against the dense reference
// (MlpConfig::dense_reference: the row kernels over every input). The claim is equality:
// every weight, every energy term and count, every evaluation, compared with == (which
// takes +0 and -0 as equal: the exactness argument in kernels.hpp allows a zero to come out
// with the other sign, and nothing reported depends on it); sums of |.| bit for bit.
// Expectations are the reference path's own results; the column kernels are also checked
// one by one against the row kernels they reproduce, and the column store against
// CachedStore.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <limits>
#include <pcg_random.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers/mnist_data.hpp"
#include "helpers/random_data.hpp"
#include "syncache/core/cached_column_store.hpp"
#include "syncache/core/cached_store.hpp"
#include "syncache/core/kernels.hpp"
#include "syncache/experiments/mlp_training.hpp"
#include "syncache/io/mnist.hpp"
#include "syncache/models/mlp.hpp"

namespace syncache {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Equal, or both NaN (only the runs that overflow on purpose produce NaN).
bool same(double a, double b) {
  return a == b || (std::isnan(a) && std::isnan(b));
}

std::string full(double v) {
  std::ostringstream os;
  os << std::setprecision(17) << v;
  return os.str();
}

void expect_same_matrix(const Mlp::Matrix& a, const Mlp::Matrix& b, const std::string& what) {
  ASSERT_EQ(a.rows(), b.rows()) << what;
  ASSERT_EQ(a.cols(), b.cols()) << what;
  for (Eigen::Index r = 0; r < a.rows(); ++r) {
    for (Eigen::Index c = 0; c < a.cols(); ++c) {
      if (!same(a(r, c), b(r, c))) {
        ADD_FAILURE() << what << " (" << r << ", " << c << "): dense " << full(a(r, c))
                      << ", sparse " << full(b(r, c));
        return;
      }
    }
  }
}

void expect_same_tally(const EnergyTally& a, const EnergyTally& b) {
  EXPECT_TRUE(same(a.classic, b.classic)) << full(a.classic) << " " << full(b.classic);
  EXPECT_TRUE(same(a.consolidation, b.consolidation))
      << full(a.consolidation) << " " << full(b.consolidation);
  EXPECT_TRUE(same(a.maintenance, b.maintenance))
      << full(a.maintenance) << " " << full(b.maintenance);
  EXPECT_TRUE(same(a.change, b.change)) << full(a.change) << " " << full(b.change);
  EXPECT_TRUE(same(a.pending, b.pending)) << full(a.pending) << " " << full(b.pending);
  EXPECT_TRUE(same(a.minimal, b.minimal)) << full(a.minimal) << " " << full(b.minimal);
  EXPECT_EQ(a.updates, b.updates);
  EXPECT_EQ(a.consolidation_events, b.consolidation_events);
}

// Everything the network reports.
void expect_same_networks(const Mlp& dense, const Mlp& sparse) {
  for (std::size_t l = 0; l < 2; ++l) {
    const std::string layer = "layer " + std::to_string(l);
    expect_same_matrix(dense.weights(l), sparse.weights(l), layer + " w");
    expect_same_matrix(dense.persistent(l), sparse.persistent(l), layer + " l");
    expect_same_matrix(dense.transient(l), sparse.transient(l), layer + " s");
  }
  expect_same_tally(dense.energy(), sparse.energy());
  EXPECT_EQ(dense.samples_seen(), sparse.samples_seen());
  EXPECT_EQ(dense.updates(), sparse.updates());
  EXPECT_EQ(dense.plastic_samples(), sparse.plastic_samples());
  EXPECT_EQ(dense.consolidation_events(), sparse.consolidation_events());
  EXPECT_EQ(dense.pending_changes(), sparse.pending_changes());
}

// The same network on both paths.
struct Pair {
  Mlp dense, sparse;
  static MlpConfig with(MlpConfig cfg, bool reference) {
    cfg.dense_reference = reference;
    return cfg;
  }
  explicit Pair(const MlpConfig& cfg) : dense(with(cfg, true)), sparse(with(cfg, false)) {}
  void train(const float* x, int label) {
    dense.train_sample(x, label);
    sparse.train_sample(x, label);
  }
};

MlpConfig network(std::size_t inputs, std::size_t hidden, double eta) {
  MlpConfig cfg;
  cfg.inputs = inputs;
  cfg.hidden = hidden;
  cfg.outputs = 10;
  cfg.eta = eta;
  cfg.seed = 11;
  return cfg;
}

MlpConfig cached(MlpConfig cfg, Rule rule, double theta, double tau, double c) {
  cfg.cache.rule = rule;
  cfg.cache.theta = theta;
  cfg.cache.tau = tau;
  cfg.cache.c = c;
  return cfg;
}

MlpConfig restricted(MlpConfig cfg, Restriction r, double keep) {
  cfg.restriction = r;
  cfg.keep = keep;
  return cfg;
}

MlpConfig lazy(MlpConfig cfg, double margin) {
  cfg.lazy = true;
  cfg.lazy_margin = margin;
  return cfg;
}

struct Case {
  std::string name;
  MlpConfig cfg;
};

// Classic and cached learning (every rule; decay or not; maintenance cost or not; a
// threshold that is crossed often, rarely, always (0) or never (inf)), the authors'
// back-propagation, lazy learning and every restriction, with a learning rate that moves
// the weights enough for many consolidations.
std::vector<Case> cases(std::size_t inputs) {
  const MlpConfig base = network(inputs, 30, 0.5);
  std::vector<Case> v = {{"classic", base}, {"classic_eta_0.1", network(inputs, 30, 0.1)}};
  MlpConfig authors = cached(base, Rule::neuron, 0.02, 300.0, 0.0);
  authors.authors_backprop = true;
  v.push_back({"authors_backprop_neuron", authors});
  for (Rule rule : {Rule::synapse, Rule::neuron, Rule::sum, Rule::layer}) {
    const std::string r(rule_name(rule));
    const double theta = rule == Rule::sum ? 0.2 : 0.01;  // sum |s| grows faster than max |s|
    v.push_back({r, cached(base, rule, theta, kInf, 0.0)});
    v.push_back({r + "_decay", cached(base, rule, theta, 50.0, 0.0)});
    v.push_back({r + "_decay_cost", cached(base, rule, theta, 200.0, 0.01)});
    v.push_back({r + "_small_theta", cached(base, rule, theta / 20.0, 30.0, 0.001)});
    v.push_back({r + "_theta_0", cached(base, rule, 0.0, 100.0, 0.0)});
    // tau = 2: the gain falls below 1e-20 every ~90 samples (renormalisation)
    v.push_back({r + "_theta_inf_renormalise", cached(base, rule, kInf, 2.0, 0.0)});
  }
  v.push_back({"lazy_classic", lazy(base, 0.3)});
  v.push_back({"lazy_neuron_cost", lazy(cached(base, Rule::neuron, 0.01, 100.0, 0.01), 0.0)});
  v.push_back({"restrict_neuron_classic", restricted(base, Restriction::neuron, 0.3)});
  v.push_back({"restrict_neuron_sum",
               restricted(cached(base, Rule::sum, 0.2, 100.0, 0.01), Restriction::neuron, 0.2)});
  v.push_back({"restrict_synapse_classic", restricted(base, Restriction::synapse, 0.02)});
  v.push_back({"restrict_synapse_neuron", restricted(cached(base, Rule::neuron, 0.01, 50.0, 0.0),
                                                     Restriction::synapse, 0.05)});
  v.push_back(
      {"restrict_synapse_synapse_cost",
       restricted(cached(base, Rule::synapse, 0.01, kInf, 0.01), Restriction::synapse, 0.03)});
  v.push_back({"restrict_synapse_all_kept",  // every change kept: the plain change
               restricted(cached(base, Rule::layer, 0.05, 50.0, 0.0), Restriction::synapse, 1.0)});
  v.push_back({"restrict_path_classic", restricted(base, Restriction::path, 0.5)});
  v.push_back({"restrict_path_layer",
               restricted(cached(base, Rule::layer, 0.05, 50.0, 0.001), Restriction::path, 0.3)});
  v.push_back(
      {"lazy_restrict_path_synapse",
       lazy(restricted(cached(base, Rule::synapse, 0.01, 100.0, 0.0), Restriction::path, 0.5),
            0.5)});
  return v;
}

// Trains both paths sample by sample on (images, labels), comparing every `every` samples
// and at the end, with the outputs and the accuracy on the test images.
void train_and_compare(const MlpConfig& cfg, const float* images, const std::uint8_t* labels,
                       std::size_t count, const float* test, const std::uint8_t* test_labels,
                       std::size_t test_count, std::size_t every) {
  Pair p(cfg);
  EXPECT_FALSE(p.dense.sparse_first_layer());
  expect_same_networks(p.dense, p.sparse);
  for (std::size_t i = 0; i < count; ++i) {
    p.train(images + i * cfg.inputs, labels[i]);
    if ((i + 1) % every == 0 || i + 1 == count) {
      SCOPED_TRACE("after " + std::to_string(i + 1) + " samples");
      expect_same_networks(p.dense, p.sparse);
      EXPECT_EQ(p.dense.accuracy(test, test_labels, test_count),
                p.sparse.accuracy(test, test_labels, test_count));
      EXPECT_TRUE(p.dense.outputs(test, test_count) == p.sparse.outputs(test, test_count));
      if (::testing::Test::HasFailure()) return;  // one report per case
    }
  }
  EXPECT_TRUE(p.sparse.sparse_first_layer());  // never left the sparse path
}

// Synthetic images of 100 inputs (n % 64 = 36: the kernels' sequential tail is used, and
// consolidate's lanes end at 96): 80 % zeros, some negative inputs and some -0, and now
// and then a blank image.
testing::Data synthetic(std::size_t count, std::uint64_t seed) {
  testing::Data d = testing::random_data(100, count, 10, seed, 0.8);
  pcg32 rng(seed + 1);
  for (std::size_t i = 0; i < d.count; ++i) {
    float* x = d.x.data() + i * d.n;
    if (rng() % 17 == 0) {
      std::fill_n(x, d.n, 0.0f);
      continue;
    }
    for (std::size_t k = 0; k < d.n; ++k) {
      if (x[k] != 0.0f && rng() % 5 == 0) x[k] = -x[k];
      if (x[k] == 0.0f && rng() % 7 == 0) x[k] = -0.0f;
    }
  }
  return d;
}

TEST(MlpSparse, DefaultIsTheSparsePath) {
  EXPECT_FALSE(MlpConfig{}.dense_reference);
}

TEST(MlpSparse, EqualsTheDenseReferenceOnMnist) {
  mnist::Mnist data;
  if (!syncache::testing::load_small_mnist(data)) GTEST_SKIP() << "no MNIST data";
  for (const Case& c : cases(784)) {
    SCOPED_TRACE(c.name);
    train_and_compare(c.cfg, data.train.images.data(), data.train.labels.data(), data.train.count,
                      data.test.images.data(), data.test.labels.data(), data.test.count, 100);
  }
}

TEST(MlpSparse, EqualsTheDenseReferenceOnSyntheticSparseInputs) {
  const testing::Data train = synthetic(300, 5), test = synthetic(50, 6);
  for (const Case& c : cases(100)) {
    SCOPED_TRACE(c.name);
    train_and_compare(c.cfg, train.x.data(), train.y.data(), train.count, test.x.data(),
                      test.y.data(), test.count, 60);
  }
}

TEST(MlpSparse, EqualsTheDenseReferenceWithFewInputs) {
  // Fewer inputs than one vector block: every input is in the kernels' sequential tail.
  const testing::Data train = testing::random_data(6, 200, 10, 9, 0.5);
  for (const MlpConfig& cfg :
       {network(6, 12, 1.0), cached(network(6, 12, 1.0), Rule::neuron, 0.05, 20.0, 0.01)}) {
    train_and_compare(cfg, train.x.data(), train.y.data(), train.count, train.x.data(),
                      train.y.data(), 20, 50);
  }
}

// A learning-curve run of the training loop: every point (accuracy, energies, counts).
TEST(MlpSparse, LearningCurveEqualsTheDenseReference) {
  mnist::Mnist data;
  if (!syncache::testing::load_small_mnist(data)) GTEST_SKIP() << "no MNIST data";
  TrainingOptions opt;
  opt.max_epochs = 2;
  opt.patience = 0;
  opt.eval_every = 100;
  for (const MlpConfig& cfg :
       {network(784, 30, 0.5), cached(network(784, 30, 0.5), Rule::neuron, 0.01, 100.0, 0.001),
        cached(network(784, 30, 0.5), Rule::synapse, 0.01, kInf, 0.0)}) {
    Pair p(cfg);
    const TrainingResult d = train_mlp(p.dense, data.train, data.test, opt);
    const TrainingResult s = train_mlp(p.sparse, data.train, data.test, opt);
    ASSERT_EQ(d.curve.size(), 6u);
    ASSERT_EQ(s.curve.size(), d.curve.size());
    for (std::size_t i = 0; i < d.curve.size(); ++i) {
      SCOPED_TRACE("point " + std::to_string(i));
      EXPECT_EQ(d.curve[i].samples, s.curve[i].samples);
      EXPECT_EQ(d.curve[i].accuracy, s.curve[i].accuracy);
      expect_same_tally(d.curve[i].energy, s.curve[i].energy);
      EXPECT_EQ(d.curve[i].pending_changes, s.curve[i].pending_changes);
      EXPECT_EQ(d.curve[i].plastic_samples, s.curve[i].plastic_samples);
    }
  }
}

TEST(MlpSparse, GradientEqualsTheDenseReference) {
  const testing::Data d = synthetic(20, 3);
  for (const MlpConfig& cfg :
       {network(100, 30, 0.5), cached(network(100, 30, 0.5), Rule::neuron, 0.01, 20.0, 0.01)}) {
    Pair p(cfg);
    for (std::size_t i = 0; i < d.count; ++i) {
      const Mlp::Gradient a = p.dense.gradient(d.row(i), d.y[i]);
      const Mlp::Gradient b = p.sparse.gradient(d.row(i), d.y[i]);
      expect_same_matrix(a.layer0, b.layer0, "dE/dW0");
      expect_same_matrix(a.layer1, b.layer1, "dE/dW1");
      EXPECT_EQ(a.loss, b.loss);
      p.train(d.row(i), d.y[i]);
    }
  }
}

// Past the bound on the weights (an absurd learning rate) and with an input of inf or NaN,
// the first layer goes back to the row-major reference in the state it reached: results
// stay equal even once the weights overflow (NaN compared as equal to NaN).
TEST(MlpSparse, OverflowAndNonFiniteInputsTakeTheReferencePath) {
  testing::Data d = synthetic(60, 4);
  for (const MlpConfig& base :
       {network(100, 30, 1.0), cached(network(100, 30, 1.0), Rule::neuron, 0.05, 20.0, 0.01)}) {
    {
      SCOPED_TRACE("eta = 1e300");
      MlpConfig cfg = base;
      cfg.eta = 1e300;
      Pair p(cfg);
      p.train(d.row(0), d.y[0]);
      EXPECT_FALSE(p.sparse.sparse_first_layer());  // the first change would pass the bound
      for (std::size_t i = 1; i < d.count; ++i) p.train(d.row(i), d.y[i]);
      expect_same_networks(p.dense, p.sparse);
      const Mlp::Matrix w = p.dense.weights(0);
      EXPECT_TRUE(!w.allFinite() || w.cwiseAbs().maxCoeff() > 1e250);
    }
    for (float bad : {std::numeric_limits<float>::infinity(), std::nanf("")}) {
      SCOPED_TRACE(bad);
      testing::Data e = d;
      Pair p(base);
      for (std::size_t i = 0; i < 20; ++i) p.train(e.row(i), e.y[i]);
      // The forward pass of a non-finite input (without a change) by column, then the
      // change, which hands the layer over.
      e.x[20 * e.n + 7] = bad;
      const Mlp::Gradient a = p.dense.gradient(e.row(20), e.y[20]);
      const Mlp::Gradient b = p.sparse.gradient(e.row(20), e.y[20]);
      expect_same_matrix(a.layer0, b.layer0, "dE/dW0");
      EXPECT_TRUE(same(a.loss, b.loss));
      EXPECT_TRUE(p.sparse.sparse_first_layer());
      for (std::size_t i = 20; i < e.count; ++i) p.train(e.row(i), e.y[i]);
      EXPECT_FALSE(p.sparse.sparse_first_layer());
      expect_same_networks(p.dense, p.sparse);
    }
  }
}

// ---- The column kernels against the row kernels they reproduce ----

struct ColumnData {
  std::size_t rows, hp, n;
  std::vector<double> x;               // the whole input
  std::vector<std::uint32_t> nz, all;  // non-zero inputs, every input
  std::vector<double> nz_value;
  std::vector<std::uint32_t> lane_index;
  std::vector<double> lane_value;
  AlignedDoubles l, s;                          // column-major
  std::vector<std::vector<double>> lrow, srow;  // the same row by row
};

ColumnData column_data(std::size_t rows, std::size_t n, std::uint64_t seed) {
  pcg32 rng(seed);
  auto uniform = [&] { return (static_cast<double>(rng() >> 5) * 0x1p-27) * 2.0 - 1.0; };
  ColumnData d;
  d.rows = rows;
  d.hp = padded_rows(rows);
  d.n = n;
  d.x.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    d.x[k] = rng() % 4 == 0 ? uniform() : (rng() % 3 == 0 ? -0.0 : 0.0);
    if (d.x[k] != 0.0) {
      d.nz.push_back(static_cast<std::uint32_t>(k));
      d.nz_value.push_back(d.x[k]);
    }
    d.all.push_back(static_cast<std::uint32_t>(k));
  }
  d.lane_index.resize(n);
  d.lane_value.resize(n);
  d.l.assign(n * d.hp, 0.0);
  d.s.assign(n * d.hp, 0.0);
  d.lrow.assign(rows, std::vector<double>(n));
  d.srow.assign(rows, std::vector<double>(n));
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t k = 0; k < n; ++k) {
      d.lrow[r][k] = d.l[k * d.hp + r] = uniform();
      d.srow[r][k] = d.s[k * d.hp + r] = rng() % 3 == 0 ? 0.0 : uniform() * 1e-3;
    }
  }
  return d;
}

std::uint64_t bits(double v) {
  std::uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

TEST(ColumnKernels, ColumnInputGroupsByLaneInAscendingOrder) {
  const ColumnData d = column_data(3, 200, 1);
  std::vector<std::uint32_t> li(d.n);
  std::vector<double> lv(d.n);
  const kernels::ColumnInput in =
      kernels::column_input(d.nz.data(), d.nz_value.data(), d.nz.size(), d.n, li.data(), lv.data());
  ASSERT_EQ(in.count(), d.nz.size());
  for (std::size_t L = 0; L < kernels::kLanes; ++L) {
    for (std::uint32_t q = in.begin[L]; q < in.begin[L + 1]; ++q) {
      EXPECT_EQ(kernels::lane_of(li[q], d.n), L);
      EXPECT_EQ(lv[q], d.x[li[q]]);
      if (q > in.begin[L]) {
        EXPECT_LT(li[q - 1], li[q]);
      }
    }
  }
  // lanes: k % 16 below n - n % 64 = 192, then 16
  EXPECT_EQ(kernels::lane_of(191, 200), 15u);
  EXPECT_EQ(kernels::lane_of(192, 200), 16u);
  EXPECT_EQ(kernels::lane_of(5, 6), 16u);
}

TEST(ColumnKernels, WidenNonzerosListsTheNonZeroInputs) {
  std::vector<float> x = {0.0f, 1.5f, -0.0f, -2.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 3.0f, 0.0f};
  x.push_back(std::nanf(""));
  x.push_back(std::numeric_limits<float>::infinity());
  x.push_back(1e-40f);  // subnormal: not zero
  std::vector<double> xd(x.size()), value(x.size());
  std::vector<std::uint32_t> index(x.size());
  const std::size_t m =
      kernels::widen_nonzeros(x.data(), x.size(), xd.data(), index.data(), value.data());
  const std::vector<std::uint32_t> want = {1, 3, 9, 11, 12, 13};
  ASSERT_EQ(m, want.size());
  for (std::size_t q = 0; q < m; ++q) {
    EXPECT_EQ(index[q], want[q]);
    EXPECT_EQ(bits(value[q]), bits(static_cast<double>(x[want[q]])));
  }
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(bits(xd[i]), bits(static_cast<double>(x[i])));
  }
}

TEST(ColumnKernels, MatchTheRowKernels) {
  for (std::size_t n : {5u, 64u, 100u, 200u, 784u}) {
    for (std::size_t rows : {1u, 13u, 100u}) {
      SCOPED_TRACE("n = " + std::to_string(n) + ", rows = " + std::to_string(rows));
      ColumnData d = column_data(rows, n, n * 1000 + rows);
      // The listed inputs: the non-zero ones, and all of them (the same operations plus
      // the +-0 terms).
      for (bool every : {false, true}) {
        const auto& idx = every ? d.all : d.nz;
        const double* val = every ? d.x.data() : d.nz_value.data();
        std::vector<double> vals(val, val + (every ? d.n : d.nz.size()));
        const kernels::ColumnInput in = kernels::column_input(
            idx.data(), vals.data(), idx.size(), d.n, d.lane_index.data(), d.lane_value.data());
        const std::vector<double> zeros(n, 0.0);
        AlignedDoubles a(d.hp), b(d.hp);
        // dot2 with s = 0 (the classic field) and dot2 of l and s~
        kernels::column_dot(d.l.data(), d.hp, in, a.data());
        for (std::size_t r = 0; r < rows; ++r) {
          EXPECT_EQ(a[r], kernels::dot2(d.lrow[r].data(), zeros.data(), 1.0, d.x.data(), n));
        }
        const double g = 0.75;
        kernels::column_dot2(d.l.data(), d.s.data(), d.hp, in, a.data(), b.data());
        for (std::size_t r = 0; r < rows; ++r) {
          EXPECT_EQ(a[r] + g * b[r],
                    kernels::dot2(d.lrow[r].data(), d.srow[r].data(), g, d.x.data(), n));
        }
        // add_and_stats: the changed values, sum |a x| bit for bit, max over the listed
        AlignedDoubles scale(d.hp, 0.0), delta(d.hp), mx(d.hp);
        for (std::size_t r = 0; r < rows; ++r) scale[r] = (r % 3 == 0 ? -1e-3 : 2e-3) * (r + 1);
        AlignedDoubles s = d.s;
        kernels::column_add(s.data(), d.hp, scale.data(), in, delta.data(), mx.data());
        for (std::size_t r = 0; r < rows; ++r) {
          std::vector<double> row = d.srow[r];
          const kernels::RowStats st = kernels::add_and_stats(row.data(), scale[r], d.x.data(), n);
          double changed_max = 0.0;
          for (std::size_t k = 0; k < n; ++k) {
            EXPECT_EQ(s[k * d.hp + r], row[k]);
            if (std::find(idx.begin(), idx.end(), k) != idx.end()) {
              changed_max = std::max(changed_max, std::fabs(row[k]));
            }
          }
          EXPECT_EQ(bits(delta[r]), bits(st.sum_abs_delta));
          EXPECT_EQ(mx[r], changed_max);
          // sum |s| in add_and_stats' lanes, the sequential sum, the max
          AlignedDoubles lanes(d.hp), seq(d.hp), m(d.hp), scratch(kernels::kLanes * d.hp);
          kernels::column_abs_sums(s.data(), d.hp, n, lanes.data(), seq.data(), m.data(),
                                   scratch.data());
          double sequential = 0.0;
          for (double v : row) sequential += std::fabs(v);
          EXPECT_EQ(bits(lanes[r]), bits(st.sum_abs));
          EXPECT_EQ(bits(seq[r]), bits(sequential));
          EXPECT_EQ(m[r], st.max_abs);
        }
      }
      // consolidate on every other row
      std::vector<std::int64_t> keep(d.hp, 0);
      for (std::size_t r = 0; r < rows; r += 2) keep[r] = -1;
      AlignedDoubles l = d.l, s = d.s, sum(d.hp);
      std::vector<std::int64_t> nonzero(d.hp);
      const double g = 0.3;
      kernels::column_consolidate(l.data(), s.data(), d.hp, n, g, keep.data(), sum.data(),
                                  nonzero.data());
      for (std::size_t r = 0; r < rows; ++r) {
        std::vector<double> lr = d.lrow[r], sr = d.srow[r];
        if (keep[r] != 0) {
          const kernels::Consolidated c = kernels::consolidate(lr.data(), sr.data(), g, n);
          EXPECT_EQ(bits(sum[r]), bits(c.sum_abs));
          EXPECT_EQ(nonzero[r], c.nonzero);
        }
        for (std::size_t k = 0; k < n; ++k) {
          EXPECT_EQ(bits(l[k * d.hp + r]), bits(lr[k]));
          EXPECT_EQ(bits(s[k * d.hp + r]), bits(sr[k]));
        }
      }
    }
  }
}

// ---- The column store against CachedStore ----

void expect_same_stores(const CachedStore& a, const CachedColumnStore& b) {
  ASSERT_EQ(a.gain(), b.gain());
  for (std::size_t r = 0; r < a.rows(); ++r) {
    for (std::size_t c = 0; c < a.cols(); ++c) {
      ASSERT_EQ(a.persistent(r, c), b.persistent(r, c)) << r << ", " << c;
      ASSERT_EQ(a.transient(r, c), b.transient(r, c)) << r << ", " << c;
    }
  }
  expect_same_tally(a.energy(), b.energy());
  EXPECT_EQ(a.consolidation_events(), b.consolidation_events());
  EXPECT_EQ(bits(a.transient_abs_sum()), bits(b.transient_abs_sum()));
}

// Random steps on both stores: sparse changes of a random set of rows (CachedStore::add
// row by row), now and then a second change before the rule (the column store then scans
// a row for its max), add_at on one row or a full change vector of one row; then the rule,
// maintenance and decay.
void random_steps(CachedStore& a, CachedColumnStore& b, std::size_t steps, std::uint64_t seed) {
  const std::size_t rows = a.rows(), n = a.cols(), hp = b.padded();
  pcg32 rng(seed);
  auto uniform = [&] { return static_cast<double>(rng() >> 5) * 0x1p-27; };
  std::vector<double> x(n), scale(hp, 0.0), dw;
  std::vector<std::uint32_t> nz, li(n);
  std::vector<double> nzv, lv(n);
  std::vector<char> mask(rows);
  std::vector<std::size_t> cols;
  for (std::size_t t = 0; t < steps; ++t) {
    const int changes = rng() % 5 == 0 ? 2 : 1;
    for (int c = 0; c < changes; ++c) {
      nz.clear();
      nzv.clear();
      for (std::size_t k = 0; k < n; ++k) {
        x[k] = rng() % 3 == 0 ? uniform() * (rng() % 4 == 0 ? -1.0 : 1.0) : 0.0;
        if (x[k] != 0.0) {
          nz.push_back(static_cast<std::uint32_t>(k));
          nzv.push_back(x[k]);
        }
      }
      const bool all_rows = rng() % 2 == 0;
      for (std::size_t r = 0; r < rows; ++r) {
        mask[r] = all_rows || rng() % 3 != 0;
        scale[r] = (uniform() - 0.5) * 0.02;
        if (mask[r]) a.add(r, scale[r], Input<double>{x.data(), n});
      }
      b.add(scale.data(), all_rows ? nullptr : mask.data(),
            kernels::column_input(nz.data(), nzv.data(), nz.size(), n, li.data(), lv.data()));
    }
    if (rng() % 4 == 0) {
      const std::size_t r = rng() % rows;
      cols.clear();
      dw.clear();
      for (std::size_t k = 0; k < n; ++k) {
        if (rng() % 6 == 0) {
          cols.push_back(k);
          dw.push_back((uniform() - 0.5) * 0.01);
        }
      }
      a.add_at(r, cols.data(), dw.data(), cols.size());
      b.add_at(r, cols.data(), dw.data(), cols.size());
    }
    if (rng() % 5 == 0) {  // a whole change vector of one row (how w(0) is loaded)
      const std::size_t r = rng() % rows;
      dw.assign(n, 0.0);
      for (std::size_t k = 0; k < n; ++k) dw[k] = (uniform() - 0.5) * 0.01;
      a.add(r, dw.data());
      b.add(r, dw.data());
    }
    a.apply_rule();
    b.apply_rule();
    a.charge_maintenance();
    b.charge_maintenance();
    a.decay();
    b.decay();
    expect_same_stores(a, b);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(CachedColumnStore, EqualsCachedStore) {
  for (Rule rule : {Rule::synapse, Rule::neuron, Rule::sum, Rule::layer}) {
    for (double theta : {0.0, 0.004, 0.02, kInf}) {
      for (double tau : {kInf, 3.0, 40.0}) {
        for (double c : {0.0, 0.5}) {
          SCOPED_TRACE(std::string(rule_name(rule)) + " theta " + full(theta) + " tau " +
                       full(tau) + " c " + full(c));
          CacheParams p;
          p.rule = rule;
          p.theta = rule == Rule::sum ? theta * 10.0 : theta;
          p.tau = tau;
          p.c = c;
          p.decay = DecayForm::exponential;
          for (std::size_t n : {70u, 130u}) {
            CachedStore a(11, n, p, ChangeCost{});
            CachedColumnStore b(11, n, p);
            random_steps(a, b, 120, n + static_cast<std::size_t>(rule) * 7);
            // The state handed to a new CachedStore goes on as the column store does.
            CachedStore back(11, n, p, ChangeCost{}, b.state());
            random_steps(back, b, 30, 99);
          }
        }
      }
    }
  }
}

TEST(CachedColumnStore, AChangeThatCancelsEmptiesTheStore) {
  // s~ = a x, then a change of -a x leaves every entry exactly 0: the store is empty and
  // the gain returns to 1, as in CachedStore (a = 2^-3 keeps a x and a g / g exact).
  CacheParams p;
  p.rule = Rule::neuron;
  p.theta = kInf;
  p.tau = 5.0;
  p.decay = DecayForm::exponential;
  const std::size_t n = 40;
  CachedStore a(2, n, p, ChangeCost{});
  CachedColumnStore b(2, n, p);
  std::vector<double> x(n, 0.0);
  std::vector<std::uint32_t> nz, li(n);
  std::vector<double> nzv, lv(n);
  for (std::size_t k = 3; k < n; k += 5) {
    x[k] = 0.1 * static_cast<double>(k);
    nz.push_back(static_cast<std::uint32_t>(k));
    nzv.push_back(x[k]);
  }
  const kernels::ColumnInput in =
      kernels::column_input(nz.data(), nzv.data(), nz.size(), n, li.data(), lv.data());
  std::vector<double> scale(b.padded(), 0.0);
  for (double sign : {1.0, -1.0}) {
    for (std::size_t r = 0; r < 2; ++r) {
      scale[r] = sign * 0x1p-3 * a.gain();
      a.add(r, scale[r], Input<double>{x.data(), n});
    }
    b.add(scale.data(), nullptr, in);
    a.apply_rule();
    b.apply_rule();
    a.decay();
    b.decay();
    expect_same_stores(a, b);
  }
  EXPECT_EQ(a.gain(), 1.0);
  EXPECT_EQ(a.transient_abs_sum(), 0.0);
}

TEST(CachedColumnStore, RejectsWhatItDoesNotModel) {
  CacheParams p;
  p.rule = Rule::neuron;
  p.theta = 0.1;
  p.b = 0.5;
  EXPECT_THROW(CachedColumnStore(2, 3, p), std::invalid_argument);
  p.b = 0.0;
  p.rule = Rule::classic;
  EXPECT_THROW(CachedColumnStore(2, 3, p), ParamError);
  p.rule = Rule::neuron;
  CachedStore::State wrong;
  EXPECT_THROW(CachedStore(2, 3, p, ChangeCost{}, wrong), std::invalid_argument);
}

}  // namespace
}  // namespace syncache
