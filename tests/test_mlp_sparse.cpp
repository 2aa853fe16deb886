// The column-major kernels (kernels::ColumnInput) and the cached store laid out by input
// (CachedColumnStore) that the MNIST network's sparse first layer uses, against the row
// kernels and CachedStore they reproduce: the same values, bit for bit where no zero of
// either sign can differ (sums of |.|), else compared with == (+0 == -0: the exactness
// argument in kernels.hpp allows a zero to come out with the other sign).
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

#include "syncache/core/cached_column_store.hpp"
#include "syncache/core/cached_store.hpp"
#include "syncache/core/kernels.hpp"

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
// a row for its max) or add_at on one row; then the rule, maintenance and decay.
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
