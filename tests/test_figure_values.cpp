// Value checks of the perceptron figures at a tiny scale: each figure runs from a tiny
// experiment file written here, and every row of its CSV that a model defines is
// recomputed independently -- the simulated rows from the reference perceptron of
// tests/helpers/reference_perceptron.hpp (docs/model.md sections 1-2, run seed by seed on
// the same patterns), the theory rows from the closed forms of docs/model.md section 2
// (paper Eq. 3, the fits for K and T, Eq. 4 and theta_hat^2 = 3 K eta^2 / (1 + cT)).
// Nothing is compared with stored output.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "helpers/mnist_data.hpp"
#include "helpers/reference_perceptron.hpp"
#include "helpers/temp_dir.hpp"
#include "syncache/experiments/experiment.hpp"
#include "syncache/experiments/figures.hpp"
#include "syncache/io/mnist.hpp"
#include "syncache/models/mlp.hpp"
#include "syncache/models/patterns.hpp"

namespace syncache {
namespace {

using testing::RefParams;
using testing::RefResult;
using testing::TempDir;

constexpr double kInf = std::numeric_limits<double>::infinity();
const double kNan = std::numeric_limits<double>::quiet_NaN();

// ---- The figure's CSV ----

struct Row {
  double mean = 0.0, se = 0.0;
  long n = 0;
};
using Key = std::tuple<std::string, std::string, double>;  // panel, series, x

struct Table {
  std::map<Key, Row> rows;
  std::vector<Key> order;
  const Row* find(const std::string& panel, const std::string& series, double x) const {
    const auto it = rows.find({panel, series, x});
    return it == rows.end() ? nullptr : &it->second;
  }
};

// Splits one CSV line (fields may be quoted, with "" inside quotes).
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        out.back() += ch;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      out.emplace_back();
    } else {
      out.back() += ch;
    }
  }
  return out;
}

Table run_figure_csv(const std::string& name, const std::string& toml, std::uint64_t master = 1) {
  TempDir dir;
  {
    std::ofstream out(dir.file(name + ".toml"));
    out << toml;
  }
  const FigureSpec* spec = find_figure(name);
  if (spec == nullptr) throw std::runtime_error("figure " + name + " not registered");
  FigureRunOptions opt;
  opt.out_dir = dir.file("out");
  opt.experiments_dir = dir.path().string();
  ExperimentEnv env;
  env.runner.threads = 2;
  env.runner.progress = false;
  env.master_seed = master;
  run_figure(*spec, opt, env);
  std::ifstream in(dir.file("out/" + name + ".csv"));
  Table t;
  std::string line;
  bool header = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (!header) {
      header = true;  // panel,series,x,mean,se,n
      continue;
    }
    const auto f = split_csv(line);
    if (f.size() != 6) throw std::runtime_error("bad CSV line: " + line);
    const Key k{f[0], f[1], std::strtod(f[2].c_str(), nullptr)};
    t.rows[k] = Row{std::strtod(f[3].c_str(), nullptr), std::strtod(f[4].c_str(), nullptr),
                    std::strtol(f[5].c_str(), nullptr, 10)};
    t.order.push_back(k);
  }
  return t;
}

// ---- Independent statistics: mean over the values that are not NaN, standard error
// with the sample standard deviation (n - 1), n the count of values used.

struct Stat {
  double mean = kNan, se = 0.0;
  long n = 0;
};
Stat stat(const std::vector<double>& v) {
  Stat s;
  double sum = 0.0;
  for (double x : v) {
    if (!std::isnan(x)) {
      sum += x;
      ++s.n;
    }
  }
  if (s.n == 0) return s;
  s.mean = sum / static_cast<double>(s.n);
  double ss = 0.0;
  for (double x : v) {
    if (!std::isnan(x)) ss += (x - s.mean) * (x - s.mean);
  }
  if (s.n > 1) s.se = std::sqrt(ss / static_cast<double>(s.n - 1) / static_cast<double>(s.n));
  return s;
}

// The row exists and agrees with the statistics of `values` (relative 1e-9: the library
// and the reference sum the same terms in a different order).
void expect_row(const Table& t, const std::string& panel, const std::string& series, double x,
                const std::vector<double>& values) {
  const Row* r = t.find(panel, series, x);
  ASSERT_NE(r, nullptr) << "missing row " << panel << " | " << series << " | " << x;
  const Stat s = stat(values);
  EXPECT_EQ(r->n, s.n) << panel << " | " << series << " | " << x;
  EXPECT_NEAR(r->mean, s.mean, 1e-9 * std::fabs(s.mean) + 1e-12)
      << panel << " | " << series << " | " << x;
  EXPECT_NEAR(r->se, s.se, 1e-6 * std::fabs(s.se) + 1e-9 * std::fabs(s.mean) + 1e-12)
      << panel << " | " << series << " | " << x;
}
void expect_value(const Table& t, const std::string& panel, const std::string& series, double x,
                  double value, double rel = 1e-12) {
  const Row* r = t.find(panel, series, x);
  ASSERT_NE(r, nullptr) << "missing row " << panel << " | " << series << " | " << x;
  EXPECT_NEAR(r->mean, value, rel * std::fabs(value) + 1e-300)
      << panel << " | " << series << " | " << x;
}

// ---- Reference runs, memoised ----

class Runs {
 public:
  Runs(std::size_t N, std::size_t P, std::uint64_t master, std::int64_t repeats)
      : N_(N), P_(P), seeds_(repeat_seeds(master, repeats)) {}
  const std::vector<std::uint64_t>& seeds() const { return seeds_; }
  const RefResult& get(std::size_t k, const RefParams& q) {
    const auto key = std::make_tuple(k, static_cast<int>(q.rule), q.eta, q.theta, q.tau, q.c, q.b,
                                     q.alpha, q.potentiation_only, q.max_epochs);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    if (patterns_.size() <= k) patterns_.resize(seeds_.size());
    if (patterns_[k].P() == 0) patterns_[k] = random_patterns(N_, P_, seeds_[k]);
    return cache_[key] = testing::reference_cached_perceptron(patterns_[k], q);
  }
  // One value per seed; runs that hit the epoch cap give NaN when `converged_only`.
  template <class F>
  std::vector<double> values(const RefParams& q, F f, bool converged_only = true) {
    std::vector<double> v;
    for (std::size_t k = 0; k < seeds_.size(); ++k) {
      const RefResult& r = get(k, q);
      v.push_back(converged_only && !r.converged ? kNan : f(r));
    }
    return v;
  }

 private:
  std::size_t N_, P_;
  std::vector<std::uint64_t> seeds_;
  std::vector<PatternSet<std::int8_t>> patterns_;
  std::map<std::tuple<std::size_t, int, double, double, double, double, double, double, bool, long>,
           RefResult>
      cache_;
};

// The rows of one panel and series, by x.
std::vector<std::pair<double, Row>> series_rows(const Table& t, const std::string& panel,
                                                const std::string& series) {
  std::vector<std::pair<double, Row>> out;
  for (const auto& [k, r] : t.rows) {
    if (std::get<0>(k) == panel && std::get<1>(k) == series) out.emplace_back(std::get<2>(k), r);
  }
  return out;
}

// The panels that start with `prefix`, with the number that follows it.
std::vector<std::pair<std::string, double>> panels_with(const Table& t, const std::string& prefix) {
  std::set<std::string> seen;
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [k, r] : t.rows) {
    const std::string& p = std::get<0>(k);
    if (p.rfind(prefix, 0) == 0 && seen.insert(p).second) {
      out.emplace_back(p, std::strtod(p.c_str() + prefix.size(), nullptr));
    }
  }
  return out;
}

// Paper's fits (docs/model.md section 2): K = 2P/(2 - P/N)^2, T = P^{3/2}/(2 - P/N)^2.
double fit_K(double N, double P) {
  return 2.0 * P / ((2.0 - P / N) * (2.0 - P / N));
}
double fit_T(double N, double P) {
  return std::pow(P, 1.5) / ((2.0 - P / N) * (2.0 - P / N));
}

// ---------------------------------------------------------------------------------------

TEST(FigureValues, Fig1s1InefficiencyVsAlpha) {
  // Classic learning priced with |Delta w|^alpha (Eq. 1), all changes or potentiation only.
  const std::size_t N = 30, P = 20;
  const Table t = run_figure_csv("fig1s1",
                                 "description = \"tiny\"\nmaster_seed = 1\nN = 30\nP = 20\n"
                                 "max_epochs = 500\nalpha_start = 0.0\nalpha_stop = 2.0\n"
                                 "alpha_step = 0.5\nrepeats = 3\n");
  Runs runs(N, P, 1, 3);
  std::vector<double> K;
  for (double alpha : {0.0, 0.5, 1.0, 1.5, 2.0}) {
    for (bool pot : {false, true}) {
      RefParams q;
      q.rule = Rule::classic;
      q.alpha = alpha;
      q.potentiation_only = pot;
      q.max_epochs = 500;
      const std::string series = pot ? "potentiation only" : "all changes";
      expect_row(t, "inefficiency", series, alpha,
                 runs.values(q, [](const RefResult& r) { return r.inefficiency(); }));
      expect_row(t, "energy", series, alpha,
                 runs.values(q, [](const RefResult& r) { return r.total(); }));
      expect_row(t, "minimal", series, alpha,
                 runs.values(q, [](const RefResult& r) { return r.minimal; }));
      if (alpha == 0.0 && !pot) {
        K = runs.values(q, [](const RefResult& r) { return static_cast<double>(r.updates); });
      }
    }
  }
  // Random-walk theory: K steps of size 1, final weights Gaussian with variance K:
  // M/M_min = K / E|w|^alpha with E|w|^alpha = (2K)^{alpha/2} Gamma((alpha+1)/2)/sqrt(pi).
  const double Km = stat(K).mean, Kf = fit_K(N, P);
  for (double alpha : {0.0, 0.5, 1.0, 1.5, 2.0}) {
    auto walk = [alpha](double k) {
      return k * std::sqrt(M_PI) / (std::pow(2.0 * k, alpha / 2.0) * std::tgamma((alpha + 1) / 2));
    };
    expect_value(t, "inefficiency", "random walk, fit K", alpha, walk(Kf));
    expect_value(t, "inefficiency", "random walk, measured K", alpha, walk(Km));
  }
  // At alpha = 1 the random walk is Eq. 3: sqrt(pi P) / (2 - P/N).
  expect_value(t, "inefficiency", "Eq. 3", 1.0, std::sqrt(M_PI * P) / (2.0 - 20.0 / 30.0));
  expect_value(t, "inefficiency", "random walk, fit K", 1.0,
               std::sqrt(M_PI * P) / (2.0 - 20.0 / 30.0));
}

TEST(FigureValues, Fig1s1CrossingBeyondAlphaTwo) {
  // Past alpha = 2 (up to the meter's limit 4) the inefficiency of all changes falls below
  // 1; the figure reports where, interpolating log(inefficiency) linearly between grid
  // points. Recomputed here from the reference runs' mean inefficiencies.
  const std::size_t N = 30, P = 20;
  const Table t = run_figure_csv("fig1s1",
                                 "description = \"tiny\"\nmaster_seed = 1\nN = 30\nP = 20\n"
                                 "max_epochs = 500\nalpha_start = 0.0\nalpha_stop = 4.0\n"
                                 "alpha_step = 0.5\nrepeats = 3\n");
  Runs runs(N, P, 1, 3);
  double prev_a = 0.0, prev_m = 0.0, expected = -1.0;
  for (double alpha = 0.0; alpha <= 4.0; alpha += 0.5) {
    RefParams q;
    q.rule = Rule::classic;
    q.alpha = alpha;
    q.max_epochs = 500;
    const double m = stat(runs.values(q, [](const RefResult& r) { return r.inefficiency(); })).mean;
    if (alpha > 0.0 && prev_m > 1.0 && m <= 1.0) {
      expected = prev_a + 0.5 * std::log(prev_m) / (std::log(prev_m) - std::log(m));
      break;
    }
    prev_a = alpha;
    prev_m = m;
  }
  ASSERT_GT(expected, 2.0) << "the tiny case should cross 1 between alpha = 2 and 4";
  ASSERT_LT(expected, 4.0);
  int found = 0;
  for (const auto& [key, row] : t.rows) {
    if (std::get<0>(key) != "crossing" || std::get<1>(key) != "inefficiency = 1") continue;
    ++found;
    EXPECT_NEAR(std::get<2>(key), expected, 1e-9);  // the means agree to rounding
    EXPECT_EQ(row.mean, 1.0);
  }
  EXPECT_EQ(found, 1);
}

TEST(FigureValues, Fig2aTracesOfTwoSynapses) {
  const std::size_t N = 30, P = 20;
  const Table t = run_figure_csv(
      "fig2a",
      "description = \"tiny\"\nmaster_seed = 1\nN = 30\nP = 20\nrule = \"neuron\"\ntheta = 3.0\n"
      "c = 0.01\ntau = 50.0\neta = 1.0\nmax_epochs = 500\nwindow_start = 5\nwindow_stop = 60\n"
      "synapses = [2, 30]\n");
  RefParams q;
  q.rule = Rule::neuron;
  q.theta = 3.0;
  q.tau = 50.0;
  q.c = 0.01;
  q.max_epochs = 500;
  const auto ps = random_patterns(N, P, repeat_seeds(1, 1).front());
  const std::size_t syn[2] = {2, 30};
  std::vector<double> prev_l(N + 1, 0.0);
  int rows = 0, consolidations = 0;
  const testing::RefStepObserver obs = [&](long step, bool, const std::vector<double>& l,
                                           const std::vector<double>& s) {
    const bool consolidated = l != prev_l;  // some l_i moved in this presentation
    if (step >= 5 && step <= 60) {
      const double x = static_cast<double>(step);
      for (int k = 0; k < 2; ++k) {
        const std::string series = "synapse " + std::to_string(k + 1);
        const std::size_t i = syn[k];
        expect_value(t, "transient", series, x, s[i], 1e-9);
        expect_value(t, "persistent", series, x, l[i], 1e-9);
        expect_value(t, "total", series, x, l[i] + s[i], 1e-9);
        const Row* c = t.find("consolidation", series, x);
        EXPECT_EQ(c != nullptr, consolidated) << "step " << step;
        if (c != nullptr && consolidated) {
          EXPECT_NEAR(c->mean, l[i] - prev_l[i], 1e-9) << "step " << step;
        }
        ++rows;
      }
      consolidations += consolidated;
    }
    prev_l = l;
  };
  testing::reference_cached_perceptron(ps, q, obs);
  EXPECT_EQ(rows, 2 * 56);
  EXPECT_GT(consolidations, 2);  // the window shows the rule at work
}

// The optimiser's curve "energy vs theta" of one (rule, c): every point is the mean total
// of the reference over the seeds at that theta; returns the curve's argmin.
double check_curve(const Table& t, const std::string& panel, const std::string& series, Runs& runs,
                   RefParams q) {
  const auto curve = series_rows(t, panel, series);
  EXPECT_GE(curve.size(), 3u) << panel;
  double best = kNan, best_mean = kInf;
  for (const auto& [theta, row] : curve) {
    q.theta = theta;
    expect_row(t, panel, series, theta,
               runs.values(
                   q, [](const RefResult& r) { return r.total(); }, false));
    if (row.mean < best_mean) {
      best_mean = row.mean;
      best = theta;
    }
  }
  return best;
}

TEST(FigureValues, Fig2cCachingWithoutDecayVsC) {
  const std::size_t N = 30, P = 24;
  const Table t = run_figure_csv("fig2c",
                                 "description = \"tiny\"\nmaster_seed = 2\nN = 30\nP = 24\n"
                                 "eta = 1.0\nmax_epochs = 500\ntheta_lo = 0.5\ntheta_hi = 200.0\n"
                                 "flat_tolerance = 0.01\nrepeats = 3\nc_values = [1e-3, 0.1]\n"
                                 "grid_points = 7\nrefine_rounds = 1\nrefine_points = 3\n",
                                 2);
  Runs runs(N, P, 2, 3);
  RefParams classic;
  classic.rule = Rule::classic;
  classic.max_epochs = 500;
  const auto m_classic = runs.values(
      classic, [](const RefResult& r) { return r.total(); }, false);
  const auto m_min = runs.values(
      classic, [](const RefResult& r) { return r.minimal; }, false);
  const auto K = runs.values(
      classic, [](const RefResult& r) { return double(r.updates); }, false);
  const auto T = runs.values(
      classic, [](const RefResult& r) { return double(r.presentations); }, false);
  const auto panels = panels_with(t, "energy vs theta, c=");
  ASSERT_EQ(panels.size(), 3u);  // c = 0 and the two values
  for (const auto& [panel, c] : panels) {
    RefParams q;
    q.rule = Rule::neuron;
    q.c = c;
    q.max_epochs = 500;
    const double theta_hat = check_curve(t, panel, "mean total", runs, q);
    q.theta = theta_hat;
    const auto total = runs.values(
        q, [](const RefResult& r) { return r.total(); }, false);
    std::vector<double> ineff(total.size()), saving(total.size()), cl_ineff(total.size());
    for (std::size_t k = 0; k < total.size(); ++k) {
      ineff[k] = total[k] / m_min[k];
      saving[k] = total[k] / m_classic[k];
      cl_ineff[k] = m_classic[k] / m_min[k];
    }
    if (c == 0.0) {
      expect_value(t, "c0", "theta_hat", 0.0, theta_hat);
      expect_row(t, "c0", "total/minimal", 0.0, ineff);
      continue;
    }
    expect_value(t, "theta_hat", "simulation", c, theta_hat);
    expect_row(t, "energy", "caching", c, total);
    expect_row(t, "energy", "consolidation", c,
               runs.values(
                   q, [](const RefResult& r) { return r.consolidation; }, false));
    expect_row(t, "energy", "maintenance", c,
               runs.values(
                   q, [](const RefResult& r) { return r.maintenance; }, false));
    expect_row(t, "energy", "minimal", c, m_min);
    expect_row(t, "energy", "classic", c, m_classic);
    expect_row(t, "inefficiency", "caching", c, ineff);
    expect_row(t, "inefficiency", "classic", c, cl_ineff);
    expect_row(t, "saving", "caching/classic", c, saving);
    // Without decay caching never changes w = l + s, so K, T and M_min are the classic ones.
    EXPECT_EQ(runs.values(
                  q, [](const RefResult& r) { return double(r.updates); }, false),
              K);
  }
  // Theory rows (Materials and methods): with K, T from the fits or measured,
  // M_cache/M_min = min(sqrt(2 pi/3 (1 + cT)), sqrt(pi K / 2)), theta_hat^2 = 3K/(1 + cT).
  const double Kf = fit_K(N, P), Tf = fit_T(N, P), Km = stat(K).mean, Tm = stat(T).mean;
  const double Mmin = stat(m_min).mean;
  int theory_rows = 0;
  for (const auto& [c, row] : series_rows(t, "theta_hat", "theory (fit K, T)")) {
    EXPECT_NEAR(row.mean, std::sqrt(3.0 * Kf / (1.0 + c * Tf)), 1e-12 * row.mean);
    expect_value(t, "theta_hat", "theory (measured K, T)", c, std::sqrt(3.0 * Km / (1.0 + c * Tm)));
    const double fit = std::min(std::sqrt(2.0 * M_PI / 3.0 * (1.0 + c * Tf)),
                                std::sqrt(M_PI * P) / (2.0 - double(P) / N));
    const double measured =
        std::min(std::sqrt(2.0 * M_PI / 3.0 * (1.0 + c * Tm)), std::sqrt(M_PI * Km / 2.0));
    expect_value(t, "inefficiency", "theory (fit K, T)", c, fit);
    expect_value(t, "inefficiency", "theory (measured K, T)", c, measured);
    expect_value(t, "energy", "theory (measured K, T)", c, measured * Mmin, 1e-9);
    ++theory_rows;
  }
  EXPECT_GT(theory_rows, 10);
}

TEST(FigureValues, Fig2bEnergiesVsTheta) {
  const std::size_t N = 30, P = 24;
  const Table t = run_figure_csv(
      "fig2b",
      "description = \"tiny\"\nmaster_seed = 1\nN = 30\nP = 24\nrule = \"neuron\"\ntau = inf\n"
      "c = 0.01\neta = 1.0\nmax_epochs = 500\ntheta_lo = 0.5\ntheta_hi = 60.0\n"
      "grid_points = 7\nrefine_rounds = 1\nrefine_points = 3\nrepeats = 3\n");
  Runs runs(N, P, 1, 3);
  RefParams q;
  q.rule = Rule::neuron;
  q.c = 0.01;
  q.max_epochs = 500;
  const auto totals = series_rows(t, "energy", "total");
  ASSERT_GE(totals.size(), 5u);
  double best = kNan, best_mean = kInf;
  std::vector<double> K, T;
  for (const auto& [theta, row] : totals) {
    q.theta = theta;
    expect_row(t, "energy", "total", theta,
               runs.values(q, [](const RefResult& r) { return r.total(); }));
    expect_row(t, "energy", "consolidation", theta,
               runs.values(q, [](const RefResult& r) { return r.consolidation; }));
    expect_row(t, "energy", "maintenance", theta,
               runs.values(q, [](const RefResult& r) { return r.maintenance; }));
    expect_row(t, "energy", "no caching", theta,
               runs.values(q, [](const RefResult& r) { return r.classic; }));
    expect_row(t, "energy", "minimal", theta,
               runs.values(q, [](const RefResult& r) { return r.minimal; }));
    expect_row(t, "events", "consolidation events", theta,
               runs.values(q, [](const RefResult& r) { return double(r.events); }));
    expect_row(t, "epochs", "simulation", theta,
               runs.values(q, [](const RefResult& r) { return double(r.epochs); }));
    for (double k : runs.values(q, [](const RefResult& r) { return double(r.updates); })) {
      K.push_back(k);
    }
    for (double v : runs.values(q, [](const RefResult& r) { return double(r.presentations); })) {
      T.push_back(v);
    }
    if (row.mean < best_mean) {
      best_mean = row.mean;
      best = theta;
    }
  }
  // The optimum row is the curve's minimum.
  const auto opt = series_rows(t, "optimum", "theta_hat");
  ASSERT_EQ(opt.size(), 1u);
  EXPECT_EQ(opt[0].first, best);
  EXPECT_NEAR(opt[0].second.mean, best_mean, 1e-12 * best_mean);
  // Eq. 4 with the measured K and T over N + 1 weights: M_cons = K (N+1)/theta + (N+1)
  // theta/3, M_trans = c (N+1) T theta/3; theta_hat^2 = 3K/(1 + cT).
  const double Km = stat(K).mean, Tm = stat(T).mean, Nw = N + 1.0;
  int n = 0;
  for (const auto& [theta, row] : series_rows(t, "energy", "theory total")) {
    const double cons = Km * Nw / theta + Nw * theta / 3.0, maint = 0.01 * Nw * Tm * theta / 3.0;
    EXPECT_NEAR(row.mean, cons + maint, 1e-12 * row.mean);
    expect_value(t, "energy", "theory consolidation", theta, cons);
    expect_value(t, "energy", "theory maintenance", theta, maint);
    ++n;
  }
  EXPECT_EQ(n, 200);
  const double th = std::sqrt(3.0 * Km / (1.0 + 0.01 * Tm));
  expect_value(t, "optimum", "theory theta_hat", th,
               Km * Nw / th + Nw * th / 3.0 + 0.01 * Nw * Tm * th / 3.0);
}

TEST(FigureValues, Fig4bRulesVsC) {
  const std::size_t N = 30, P = 24;
  const Table t = run_figure_csv(
      "fig4b",
      "description = \"tiny\"\nmaster_seed = 1\nN = 30\nP = 24\neta = 1.0\nmax_epochs = 500\n"
      "rules = [\"synapse\", \"neuron\", \"sum\"]\ntheta_lo_synapse = 0.5\n"
      "theta_hi_synapse = 200.0\ntheta_lo_neuron = 0.5\ntheta_hi_neuron = 200.0\n"
      "theta_lo_sum = 15.0\ntheta_hi_sum = 3000.0\nflat_tolerance = 0.01\nrepeats = 3\n"
      "c_values = [0.01]\ngrid_points = 7\nrefine_rounds = 1\nrefine_points = 3\n");
  Runs runs(N, P, 1, 3);
  RefParams classic;
  classic.rule = Rule::classic;
  classic.max_epochs = 500;
  const auto m_classic = runs.values(
      classic, [](const RefResult& r) { return r.total(); }, false);
  const auto m_min = runs.values(
      classic, [](const RefResult& r) { return r.minimal; }, false);
  std::map<std::pair<std::string, double>, std::vector<double>> at_best;
  for (Rule rule : {Rule::synapse, Rule::neuron, Rule::sum}) {
    const std::string name(rule_name(rule));
    for (double c : {0.0, 0.01}) {
      RefParams q;
      q.rule = rule;
      q.c = c;
      q.max_epochs = 500;
      const std::string panel =
          "energy vs theta, " + name + ", c=" + (c == 0.0 ? std::string("0") : "0.01");
      const double theta_hat = check_curve(t, panel, "mean total", runs, q);
      q.theta = theta_hat;
      const auto total = runs.values(
          q, [](const RefResult& r) { return r.total(); }, false);
      at_best[{name, c}] = total;
      std::vector<double> ineff(total.size());
      for (std::size_t k = 0; k < total.size(); ++k) ineff[k] = total[k] / m_min[k];
      if (c == 0.0) {
        expect_row(t, "c0", name + " total/minimal", 0.0, ineff);
        expect_value(t, "c0", name + " theta_hat", 0.0, theta_hat);
      } else {
        expect_row(t, "energy", name, c, total);
        expect_row(t, "inefficiency", name, c, ineff);
        expect_value(t, "theta_hat", name, c, theta_hat);
      }
    }
  }
  expect_row(t, "energy", "minimal", 0.01, m_min);
  expect_row(t, "energy", "classic", 0.01, m_classic);
  double lo = kInf, hi = 0.0;
  for (const char* name : {"synapse", "neuron", "sum"}) {
    const auto& v = at_best[{name, 0.01}];
    const auto& ref = at_best[{"neuron", 0.01}];
    std::vector<double> rel(v.size());
    for (std::size_t k = 0; k < v.size(); ++k) rel[k] = v[k] / ref[k];
    expect_row(t, "relative to neuron", name, 0.01, rel);
    lo = std::min(lo, stat(v).mean);
    hi = std::max(hi, stat(v).mean);
  }
  expect_value(t, "spread", "(max - min)/min of the rules", 0.01, (hi - lo) / lo, 1e-9);
}

TEST(FigureValues, Fig3s1aLearningTimeVsEnergy) {
  const std::size_t N = 30, P = 24;
  const Table t = run_figure_csv(
      "fig3s1a",
      "description = \"tiny\"\nmaster_seed = 1\nN = 30\nP = 24\nrule = \"neuron\"\neta = 1.0\n"
      "tau = 60.0\nc = [0.0, 0.01]\ntheta_start = 1.0\ntheta_stop = 5.0\ntheta_step = 2.0\n"
      "max_epochs = 400\nrepeats = 3\n");
  Runs runs(N, P, 1, 3);
  RefParams classic;
  classic.rule = Rule::classic;
  classic.max_epochs = 400;
  expect_row(t, "energy", "classic", 0.0,
             runs.values(classic, [](const RefResult& r) { return r.total(); }));
  expect_row(t, "energy", "minimal (classic)", 0.0,
             runs.values(classic, [](const RefResult& r) { return r.minimal; }));
  expect_row(t, "epochs", "classic", 0.0,
             runs.values(classic, [](const RefResult& r) { return double(r.epochs); }));
  for (double theta : {1.0, 3.0, 5.0}) {
    for (double c : {0.0, 0.01}) {
      // The reference runs at this c itself (the figure reuses runs made at c = 1).
      RefParams q;
      q.rule = Rule::neuron;
      q.theta = theta;
      q.tau = 60.0;
      q.c = c;
      q.max_epochs = 400;
      const std::string series = c == 0.0 ? "c=0" : "c=0.01";
      expect_row(t, "energy", series, theta,
                 runs.values(q, [](const RefResult& r) { return r.total(); }));
      expect_row(t, "epochs", series, theta,
                 runs.values(q, [](const RefResult& r) { return double(r.epochs); }));
    }
  }
}

TEST(FigureValues, Fig3DecayRates) {
  const std::size_t N = 30, P = 24;
  const Table t = run_figure_csv(
      "fig3",
      "description = \"tiny\"\nmaster_seed = 1\nN = 30\nP = 24\nrule = \"neuron\"\neta = 1.0\n"
      "c = [0.0, 0.01]\ntheta_lo = 0.5\ntheta_hi = 64.0\ndecay_rates = [0.002, 0.05]\n"
      "repeats = 2\nmax_epochs = 300\ngrid_points = 5\nrefine_rounds = 1\nrefine_points = 3\n");
  Runs runs(N, P, 1, 2);
  RefParams classic;
  classic.rule = Rule::classic;
  classic.max_epochs = 300;
  for (double rate : {0.002, 0.05}) {
    expect_row(t, "energy", "classic", rate,
               runs.values(classic, [](const RefResult& r) { return r.total(); }));
    expect_row(t, "epochs", "classic", rate,
               runs.values(classic, [](const RefResult& r) { return double(r.epochs); }));
    for (double c : {0.0, 0.01}) {
      const std::string series = c == 0.0 ? "c=0" : "c=0.01";
      RefParams q;
      q.rule = Rule::neuron;
      q.tau = 1.0 / rate;
      q.c = c;
      q.max_epochs = 300;
      // The curve: thresholds at which every seed converged, each the mean total energy.
      const auto curve = series_rows(t, "energy_vs_theta",
                                     series + ", 1/tau=" + (rate == 0.002 ? "0.002" : "0.05"));
      ASSERT_GE(curve.size(), 2u) << series << " rate " << rate;
      double best = kNan, best_mean = kInf;
      for (const auto& [theta, row] : curve) {
        q.theta = theta;
        const auto v = runs.values(q, [](const RefResult& r) { return r.total(); });
        const Stat s = stat(v);
        EXPECT_EQ(s.n, 2) << "a curve point with a capped run";
        EXPECT_NEAR(row.mean, s.mean, 1e-9 * s.mean) << series << " theta " << theta;
        if (row.mean < best_mean) {
          best_mean = row.mean;
          best = theta;
        }
      }
      const Row* th = t.find("theta_hat", series, rate);
      ASSERT_NE(th, nullptr);
      EXPECT_EQ(th->mean, best) << series << " rate " << rate;
      q.theta = th->mean;
      expect_row(t, "energy", series, rate,
                 runs.values(q, [](const RefResult& r) { return r.total(); }));
      expect_row(t, "epochs", series, rate,
                 runs.values(q, [](const RefResult& r) { return double(r.epochs); }));
    }
  }
}

// The MNIST network on a few images, trained here sample by sample in file order
// (docs/model.md section 3) for `epochs` epochs; at every k-th sample: the test accuracy
// (argmax of the outputs against the label, over all test images) and the energies so
// far, the minimal energy recomputed as sum |w - w(0)|. (The network's own equations have
// their references in tests/test_mlp.cpp.)
struct CurvePt {
  double samples, accuracy;
  EnergyTally energy;
  double minimal;
};
std::vector<CurvePt> mlp_curve(const mnist::Mnist& data, const MlpConfig& cfg, int epochs,
                               long every) {
  Mlp m(cfg);
  std::vector<CurvePt> out;
  long samples = 0;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    for (std::size_t i = 0; i < data.train.count; ++i) {
      m.train_sample(data.train.image(i), data.train.labels[i]);
      if (++samples % every != 0) continue;
      const auto o = m.outputs(data.test.image(0), data.test.count);
      long right = 0;
      for (std::size_t j = 0; j < data.test.count; ++j) {
        Eigen::Index best = 0;
        o.row(static_cast<Eigen::Index>(j)).maxCoeff(&best);
        right += best == data.test.labels[j];
      }
      double moved = 0.0;
      for (std::size_t l = 0; l < 2; ++l) {
        moved += (m.weights(l) - m.initial_weights(l)).cwiseAbs().sum();
      }
      out.push_back({static_cast<double>(samples),
                     static_cast<double>(right) / static_cast<double>(data.test.count), m.energy(),
                     moved});
    }
  }
  return out;
}

// Figure 5A: energy (classic: M) and accuracy curves per eta.
TEST(FigureValues, Fig5aEnergyVsAccuracyPerEta) {
  mnist::Mnist data;
  if (!syncache::testing::load_small_mnist(data)) GTEST_SKIP() << "no MNIST data";
  const Table t = run_figure_csv(
      "fig5a",
      "description = \"tiny\"\nmaster_seed = 4\nhidden = 8\neval_every = 100\netas = [0.1, 1.0]\n"
      "max_epochs = 2\nrepeats = 2\ntrain_limit = 300\ntest_limit = 100\n",
      4);
  for (double eta : {0.1, 1.0}) {
    const std::string series = eta == 0.1 ? "eta=0.1" : "eta=1";
    std::map<double, std::vector<double>> acc, energy, minimal;
    for (std::uint64_t seed : repeat_seeds(4, 2)) {
      MlpConfig cfg;
      cfg.hidden = 8;
      cfg.eta = eta;
      cfg.seed = seed;
      for (const CurvePt& p : mlp_curve(data, cfg, 2, 100)) {
        acc[p.samples].push_back(p.accuracy);
        energy[p.samples].push_back(p.energy.consolidation);  // classic: M_cons = M
        minimal[p.samples].push_back(p.minimal);
      }
    }
    ASSERT_EQ(acc.size(), 6u);
    for (const auto& [x, v] : acc) {
      expect_row(t, "accuracy", series, x, v);
      expect_row(t, "energy", series, x, energy[x]);
      expect_row(t, "minimal", series, x, minimal[x]);
    }
  }
}

// Figure 3--supplement 1B: per theta, the energy M_cons + pending + c M_trans and the
// samples at the first evaluation that reaches the target accuracy, classic at x = 0.
// The networks here run at each c itself (the figure reuses runs made at c = 1).
TEST(FigureValues, Fig3s1bEnergyToTargetVsTheta) {
  mnist::Mnist data;
  if (!syncache::testing::load_small_mnist(data)) GTEST_SKIP() << "no MNIST data";
  const double target = 0.3;
  const Table t = run_figure_csv(
      "fig3s1b",
      "description = \"tiny\"\nmaster_seed = 2\nhidden = 8\neta = 1.0\neval_every = 100\n"
      "max_epochs = 2\nrepeats = 2\ntrain_limit = 300\ntest_limit = 100\nrule = \"neuron\"\n"
      "tau = 500.0\nc = [0.0, 0.01]\ntarget = 0.3\ntheta_start = 0.05\ntheta_stop = 0.25\n"
      "theta_step = 0.1\n",
      2);
  auto first_reaching = [target](const std::vector<CurvePt>& curve) -> const CurvePt* {
    for (const CurvePt& p : curve) {
      if (p.accuracy >= target) return &p;
    }
    return nullptr;
  };
  const auto seeds = repeat_seeds(2, 2);
  std::vector<double> cl_energy, cl_samples, cl_minimal;
  for (std::uint64_t seed : seeds) {
    MlpConfig cfg;
    cfg.hidden = 8;
    cfg.eta = 1.0;
    cfg.seed = seed;
    const auto curve = mlp_curve(data, cfg, 2, 100);
    const CurvePt* p = first_reaching(curve);
    cl_energy.push_back(p ? p->energy.total() : kNan);
    cl_minimal.push_back(p ? p->minimal : kNan);
    cl_samples.push_back(p ? p->samples : kNan);
  }
  expect_row(t, "energy", "classic", 0.0, cl_energy);
  expect_row(t, "minimal", "classic", 0.0, cl_minimal);
  expect_row(t, "samples", "classic", 0.0, cl_samples);
  int reached = 0;
  for (int k = 0; k < 3; ++k) {
    const double theta = 0.05 + k * 0.1;  // the grid theta_start + k theta_step
    for (double c : {0.0, 0.01}) {
      std::vector<double> energy, samples;
      for (std::uint64_t seed : seeds) {
        MlpConfig cfg;
        cfg.hidden = 8;
        cfg.eta = 1.0;
        cfg.seed = seed;
        cfg.cache.rule = Rule::neuron;
        cfg.cache.theta = theta;
        cfg.cache.tau = 500.0;
        cfg.cache.c = c;
        const auto curve = mlp_curve(data, cfg, 2, 100);
        const CurvePt* p = first_reaching(curve);
        // "As if all transient weight were consolidated now": M_cons + M_trans + sum|s|.
        energy.push_back(p ? p->energy.consolidation + p->energy.maintenance + p->energy.pending
                           : kNan);
        samples.push_back(p ? p->samples : kNan);
        reached += p != nullptr;
      }
      const std::string series = c == 0.0 ? "c=0" : "c=0.01";
      expect_row(t, "energy", series, theta, energy);
      expect_row(t, "samples", series, theta, samples);
    }
  }
  EXPECT_GT(reached, 6);  // most runs reach the target: the rows have values to check
}

}  // namespace
}  // namespace syncache
