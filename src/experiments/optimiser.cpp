#include "syncache/experiments/optimiser.hpp"

#include <cmath>
#include <iterator>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>

#include "syncache/io/format.hpp"
#include "syncache/io/params.hpp"

namespace syncache {

namespace {

std::string num(double x) {
  return round_trip(x);
}

// Refine-grid points this close (relative) to an evaluated theta are that theta.
constexpr double kSnap = 1e-10;

// n >= 2 log-spaced points over [a, b], ends exact.
std::vector<double> log_grid(double a, double b, int n) {
  std::vector<double> g(static_cast<std::size_t>(n));
  const double la = std::log(a), step = (std::log(b) - la) / (n - 1);
  for (int k = 0; k < n; ++k) g[static_cast<std::size_t>(k)] = std::exp(la + k * step);
  g.front() = a;
  g.back() = b;
  return g;
}

class Search {
 public:
  // margin < 0: minimise_threshold_batched (every value finite, no bound).
  Search(const BoundedBatchObjective& evaluate, int seeds, double margin)
      : evaluate_(evaluate), seeds_(seeds), margin_(margin) {}

  // Evaluates every seed at the thetas of `grid` (ascending) not yet in the curve.
  void run_grid(const std::vector<double>& grid) {
    std::vector<double> fresh;
    for (double t : grid) {
      const double c = snap(t);
      if (curve_.count(c) == 0 && (fresh.empty() || !close(fresh.back(), c))) fresh.push_back(c);
    }
    if (fresh.empty()) return;
    std::vector<std::pair<double, int>> pts;
    pts.reserve(fresh.size() * static_cast<std::size_t>(seeds_));
    for (double t : fresh)
      for (int s = 0; s < seeds_; ++s) pts.emplace_back(t, s);
    const bool bounded = margin_ >= 0.0;
    const double bound = bounded && !curve_.empty() && std::isfinite(best()->second.mean)
                             ? (1.0 + margin_) * best()->second.mean
                             : std::numeric_limits<double>::infinity();
    const std::vector<double> v = evaluate_(pts, bound);
    if (v.size() != pts.size()) {
      throw std::runtime_error("minimise_threshold: evaluate returned " + std::to_string(v.size()) +
                               " values for " + std::to_string(pts.size()) + " points");
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (bounded && v[i] == std::numeric_limits<double>::infinity()) continue;
      if (!std::isfinite(v[i])) {
        throw std::runtime_error("minimise_threshold: objective returned " + num(v[i]) +
                                 " at theta = " + num(pts[i].first) + " (seed " +
                                 std::to_string(pts[i].second) + ")");
      }
    }
    evaluations_ += static_cast<long>(v.size());
    for (std::size_t j = 0; j < fresh.size(); ++j) {
      const double* x = v.data() + j * static_cast<std::size_t>(seeds_);
      double sum = 0.0;
      for (int s = 0; s < seeds_; ++s) sum += x[s];
      const double mean = sum / seeds_;
      double ss = 0.0;
      for (int s = 0; s < seeds_; ++s) ss += (x[s] - mean) * (x[s] - mean);
      const double se = seeds_ > 1 ? std::sqrt(ss / (seeds_ - 1) / seeds_) : 0.0;
      if (bounded && (std::isinf(mean) || mean > bound)) {  // +inf among the values, or above
        curve_.emplace(fresh[j], CurvePoint{fresh[j], std::numeric_limits<double>::infinity(), 0.0,
                                            seeds_, true});
      } else {
        curve_.emplace(fresh[j], CurvePoint{fresh[j], mean, se, seeds_});
      }
    }
  }

  // Lowest mean; ties -> smallest theta (map order, strict comparison).
  std::map<double, CurvePoint>::const_iterator best() const {
    auto b = curve_.begin();
    for (auto it = curve_.begin(); it != curve_.end(); ++it)
      if (it->second.mean < b->second.mean) b = it;
    return b;
  }

  const std::map<double, CurvePoint>& curve() const { return curve_; }
  long evaluations() const { return evaluations_; }

 private:
  static bool close(double a, double b) { return std::fabs(a - b) <= kSnap * std::fabs(b); }

  double snap(double t) const {
    auto it = curve_.lower_bound(t);
    if (it != curve_.end() && close(it->first, t)) return it->first;
    if (it != curve_.begin() && close(std::prev(it)->first, t)) return std::prev(it)->first;
    return t;
  }

  const BoundedBatchObjective& evaluate_;
  int seeds_;
  double margin_;
  std::map<double, CurvePoint> curve_;
  long evaluations_ = 0;
};

}  // namespace

void OptimiserOptions::validate() const {
  if (!(lo > 0.0) || !std::isfinite(lo))
    throw ParamError("lo", "must be a finite number > 0 (got " + num(lo) + ")");
  if (!(hi > lo) || !std::isfinite(hi)) {
    throw ParamError("hi", "must be a finite number > lo = " + num(lo) + " (got " + num(hi) + ")");
  }
  if (grid_points < 3) {
    throw ParamError("grid_points",
                     "must be an integer >= 3 (got " + std::to_string(grid_points) + ")");
  }
  if (refine_rounds < 0) {
    throw ParamError("refine_rounds",
                     "must be an integer >= 0 (got " + std::to_string(refine_rounds) + ")");
  }
  if (refine_points < 3) {
    throw ParamError("refine_points",
                     "must be an integer >= 3 (got " + std::to_string(refine_points) + ")");
  }
  if (seeds < 1) {
    throw ParamError("seeds", "must be an integer >= 1 (got " + std::to_string(seeds) + ")");
  }
}

namespace {

OptimiserResult search_threshold(const BoundedBatchObjective& evaluate, const OptimiserOptions& opt,
                                 double margin) {
  Search search(evaluate, opt.seeds, margin);
  search.run_grid(log_grid(opt.lo, opt.hi, opt.grid_points));
  if (!std::isfinite(search.best()->second.mean)) {
    throw std::runtime_error(
        "minimise_threshold: no theta of the first grid has finite values for every seed "
        "(e.g. every threshold has a run that did not converge)");
  }

  const auto& curve = search.curve();
  // Neighbours of the best point in the curve (the point itself at an end).
  auto bracket = [&](std::map<double, CurvePoint>::const_iterator b) {
    const double left = b == curve.begin() ? b->first : std::prev(b)->first;
    const double right = std::next(b) == curve.end() ? b->first : std::next(b)->first;
    return std::pair<double, double>(left, right);
  };
  for (int r = 0; r < opt.refine_rounds; ++r) {
    const auto [left, right] = bracket(search.best());
    search.run_grid(log_grid(left, right, opt.refine_points));
  }

  const auto b = search.best();
  OptimiserResult res;
  res.theta_hat = b->first;
  res.mean = b->second.mean;
  res.se = b->second.se;
  res.curve.reserve(curve.size());
  for (const auto& kv : curve) res.curve.push_back(kv.second);
  res.at_boundary = b->first == curve.begin()->first || b->first == curve.rbegin()->first;
  std::tie(res.bracket_lo, res.bracket_hi) = bracket(b);
  res.evaluations = search.evaluations();
  return res;
}

}  // namespace

OptimiserResult minimise_threshold_batched(const BatchObjective& evaluate,
                                           const OptimiserOptions& opt) {
  opt.validate();
  if (!evaluate) throw std::invalid_argument("minimise_threshold: empty objective");
  return search_threshold(
      [&evaluate](const std::vector<std::pair<double, int>>& pts, double) { return evaluate(pts); },
      opt, -1.0);
}

OptimiserResult minimise_threshold_bounded(const BoundedBatchObjective& evaluate,
                                           const OptimiserOptions& opt, double margin) {
  opt.validate();
  if (!evaluate) throw std::invalid_argument("minimise_threshold: empty objective");
  if (!(margin >= 0.0) || !std::isfinite(margin)) {
    throw ParamError("margin", "must be a finite number >= 0 (got " + num(margin) + ")");
  }
  return search_threshold(evaluate, opt, margin);
}

OptimiserResult minimise_threshold(const std::function<double(double, int)>& objective,
                                   const OptimiserOptions& opt) {
  if (!objective) throw std::invalid_argument("minimise_threshold: empty objective");
  const BatchObjective batch = [&objective](const std::vector<std::pair<double, int>>& pts) {
    std::vector<double> v;
    v.reserve(pts.size());
    for (const auto& [theta, seed] : pts) {
      v.push_back(objective(theta, seed));
      if (!std::isfinite(v.back())) break;  // reported by the caller, naming theta
    }
    v.resize(pts.size(), 0.0);
    return v;
  };
  return minimise_threshold_batched(batch, opt);
}

}  // namespace syncache
