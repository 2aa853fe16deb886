// Robust 1-D minimiser of the mean over seeds of a noisy objective, used to find the
// energy-optimal consolidation threshold theta_hat (docs/model.md section 2). Generic: it knows
// nothing about perceptrons, only a function of (theta, seed_index).
//
// Method: evaluate all seeds on a log-spaced grid over [lo, hi]; take the point with the
// lowest mean (ties: the smaller theta); then, refine_rounds times, evaluate a finer
// log-spaced grid of refine_points over [left neighbour, right neighbour] of the current
// best point (the best point itself when it is an end of [lo, hi]) and re-select the best
// over every point evaluated so far. A grid search, not a descent, so flat stretches and
// steps (theta below eta all alike; jumps where ceil(theta/eta) changes) cannot stall it.
#pragma once

#include <functional>
#include <utility>
#include <vector>

namespace syncache {

/// The threshold optimiser's search: interval, initial grid and refinement rounds.
struct OptimiserOptions {
  double lo = 0.5, hi = 1000.0;  // search interval, 0 < lo < hi, both finite
  int grid_points = 13;          // initial log-spaced grid over [lo, hi], >= 3
  int refine_rounds = 2;         // >= 0; each: a finer log grid over the best point's neighbours
  int refine_points = 7;         // points of each refine grid, ends included, >= 3
  // Seeds are 0..seeds-1; the objective receives (theta, seed_index). >= 1.
  int seeds = 3;

  // Throws std::invalid_argument naming the option, its value and what is allowed.
  void validate() const;
};

/// One evaluated threshold: the mean over seeds of the objective, its standard error and count.
struct CurvePoint {
  double theta;
  double mean;  // mean over seeds, summed in seed order (+inf when excluded)
  double se;    // standard error of the mean (sample SD / sqrt(count)); 0 when count == 1
  int count;    // number of seeds evaluated (== seeds)
  // minimise_threshold_bounded only: the point cannot be theta_hat (a seed's value was
  // +inf, or its mean exceeded the bound of its grid); mean is +inf, se 0.
  bool excluded = false;
};

/// The threshold optimiser's result: theta_hat, its mean and standard error, and every point
/// evaluated.
struct OptimiserResult {
  double theta_hat;  // evaluated theta with the lowest mean; ties -> the smallest theta
  double mean;
  double se;
  std::vector<CurvePoint> curve;  // every theta evaluated, sorted by theta, no duplicates
  bool at_boundary;               // theta_hat == lo or hi: the caller should widen the interval
  // Neighbours of theta_hat in the curve (theta_hat itself at an end of [lo, hi]): for a
  // unimodal mean they bracket the true minimiser; their spacing is the final resolution.
  double bracket_lo;
  double bracket_hi;
  long evaluations;  // (theta, seed) pairs evaluated == curve.size() * seeds
};

// objective(theta, seed_index) -> energy (finite). No (theta, seed) pair is evaluated
// twice: values are memoised by exact theta, and refine-grid points within a relative
// 1e-10 of an evaluated theta reuse it. Throws std::invalid_argument for bad options or an
// empty function, std::runtime_error naming theta and seed for a non-finite value;
// exceptions thrown by the objective propagate unchanged.
OptimiserResult minimise_threshold(const std::function<double(double, int)>& objective,
                                   const OptimiserOptions& opt);

// Batched variant: evaluate(points) receives every new (theta, seed_index) pair of one grid
// (sorted by theta, then seed) and returns the values in the same order, so the caller may
// evaluate them in parallel. Same result as minimise_threshold for the same objective.
// Throws std::runtime_error if the returned vector has the wrong size.
using BatchObjective =
    std::function<std::vector<double>(const std::vector<std::pair<double, int>>&)>;
OptimiserResult minimise_threshold_batched(const BatchObjective& evaluate,
                                           const OptimiserOptions& opt);

// With early abandonment. evaluate(points, bound) also receives the bound of its grid:
// (1 + margin) times the lowest mean of the grids before it (+inf for the first grid).
// A theta whose mean over seeds exceeds the bound cannot be theta_hat, so the caller may
// stop its runs as soon as they prove that (the values only grow during a run, so
// sum over seeds of the values reached so far > seeds * bound proves it) and return +inf
// for them; +inf also marks a value that must never win (a run that did not converge).
// Such a theta is `excluded` in the curve, and so is every theta whose mean exceeds its
// bound even when all its runs finished, so the result does not depend on which runs were
// stopped in time. Excluded points keep their place in the curve (the refine grids are
// those of the exhaustive search), so theta_hat, its mean, se and bracket equal those of
// minimise_threshold_batched on the full values whenever some theta of the first grid is
// not excluded (else std::runtime_error: no theta at which every value is finite). With
// margin >= the tolerance of a flat band, every theta within that band of the minimum
// keeps its mean. margin must be >= 0.
using BoundedBatchObjective =
    std::function<std::vector<double>(const std::vector<std::pair<double, int>>&, double bound)>;
OptimiserResult minimise_threshold_bounded(const BoundedBatchObjective& evaluate,
                                           const OptimiserOptions& opt, double margin);

}  // namespace syncache
