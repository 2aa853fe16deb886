// The perceptron (docs/model.md section 2; paper Eq. 8): fixed cyclic presentation order,
// an update Delta w = eta d x on every error (d (w.x) <= 0), until one whole epoch has
// no error or the epoch cap is reached. The learning rule does not know whether its
// weight store caches: it only calls begin_step(), update() and finish() on the store, and
// asks DecisionPaths (models/decision_fields.hpp) for the sign of the field.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "syncache/core/cached_store.hpp"
#include "syncache/core/energy.hpp"
#include "syncache/io/interrupt.hpp"
#include "syncache/models/decision_fields.hpp"
#include "syncache/models/patterns.hpp"

namespace syncache {

/// Cumulative state at the end of an epoch, for per-epoch observers (Figure 6).
struct EpochRecord {
  std::int64_t epoch = 0;          // 1-based
  std::int64_t errors = 0;         // updates in this epoch
  std::int64_t presentations = 0;  // cumulative
  EnergyTally energy;              // cumulative
  double transient_abs_sum = 0.0;  // sum_i |s_i| at the end of the epoch (0 if classic)
};
using EpochObserver = std::function<void(const EpochRecord&)>;
// Called after every presentation with the presentation count so far (1-based) and
// whether it updated the weights; the caller inspects its own store (Figure 2A traces).
using StepObserver = std::function<void(std::int64_t presentation, bool updated)>;

/// What a perceptron run returns: convergence, epochs, presentations T, updates K and the energy
/// record.
struct PerceptronResult {
  bool converged = false;
  std::int64_t epochs = 0;         // epochs run, counting the final error-free one
  std::int64_t presentations = 0;  // T
  std::int64_t updates = 0;        // K
  std::int64_t consolidation_events = 0;
  EnergyTally energy;
  double minimal = 0.0;         // M_min = sum_i |w_i(T) - w_i(0)|^alpha, w(0) = 0
  std::vector<double> weights;  // final w, N + 1 entries (bias last)

  // total / minimal; NaN when the minimal energy is zero.
  double inefficiency() const {
    return minimal > 0.0 ? energy.total() / minimal : std::numeric_limits<double>::quiet_NaN();
  }
};

// Epoch after which a cached store switches to pattern projections (O(1) fields, see
// DecisionFields::attach_inputs): building the P x P overlap matrix costs about P/8 epochs
// of direct fields, so only runs that are still learning by then take it.
inline std::int64_t auto_projection_epoch(std::size_t P) {
  return std::max<std::int64_t>(20, static_cast<std::int64_t>(P / 8));
}

// Trains one perceptron on `patterns` with weight store `store` (one row), deciding with
// `fields`, the decision paths of the store (DecisionPaths<Store, X>::type, following it).
// projection_epoch: for a cached store and +-1 patterns, use pattern projections from
// this epoch on (1 = from the start, 0 = never, -1 = auto_projection_epoch(P));
// use_float_mirrors: for those, decide from float mirrors where their error bound allows.
template <class Store, class Fields, class X>
PerceptronResult train_perceptron(const PatternSet<X>& patterns, Store& store, Fields& fields,
                                  typename Store::Weight eta, std::int64_t max_epochs,
                                  const EpochObserver* observer = nullptr,
                                  std::int64_t projection_epoch = -1,
                                  const StepObserver* on_step = nullptr,
                                  bool use_float_mirrors = true) {
  PerceptronResult res;
  const std::size_t P = patterns.P();
  if (projection_epoch < 0) projection_epoch = auto_projection_epoch(P);
  if (use_float_mirrors) fields.use_float_mirrors(patterns);
  while (res.epochs < max_epochs) {
    check_interrupt();
    ++res.epochs;
    if (res.epochs == projection_epoch) fields.use_projections(patterns);
    std::int64_t errors = 0;
    for (std::size_t p = 0; p < P; ++p) {
      store.begin_step();
      const Input<X> in = patterns.input(p);
      const int d = patterns.target(p);
      const auto h = fields.decision_field(0, in);  // exact sign; see DecisionPaths
      const bool error = !(d > 0 ? h > 0 : h < 0);  // d (w.x) <= 0, a zero field included
      if (error) {
        store.update(0, d > 0 ? eta : -eta, in);
        ++errors;
      }
      if (on_step != nullptr) {
        (*on_step)(res.presentations + static_cast<std::int64_t>(p) + 1, error);
      }
    }
    res.presentations += static_cast<std::int64_t>(P);
    res.updates += errors;
    if (observer != nullptr && *observer) {
      EpochRecord rec;
      rec.epoch = res.epochs;
      rec.errors = errors;
      rec.presentations = res.presentations;
      rec.energy = store.energy();
      rec.transient_abs_sum = store.transient_abs_sum();
      (*observer)(rec);
    }
    if (errors == 0) {
      res.converged = true;
      break;
    }
  }
  store.finish();
  res.energy = store.energy();
  res.consolidation_events = store.consolidation_events();
  const std::size_t n = patterns.N() + 1;
  res.weights.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    res.weights[i] = store.weight(0, i);
    res.minimal += store.cost()(res.weights[i]);
  }
  // The record carries M_min and the counts too; after finish() nothing is transient, so
  // its pending stays 0 (docs/model.md section 1).
  res.energy.minimal = res.minimal;
  res.energy.updates = res.updates;
  res.energy.consolidation_events = res.consolidation_events;
  return res;
}

// The same with the store's own decision paths (DecisionPaths, decision_fields.hpp).
template <class Store, class X>
PerceptronResult train_perceptron(const PatternSet<X>& patterns, Store& store,
                                  typename Store::Weight eta, std::int64_t max_epochs,
                                  const EpochObserver* observer = nullptr,
                                  std::int64_t projection_epoch = -1,
                                  const StepObserver* on_step = nullptr,
                                  bool use_float_mirrors = true) {
  typename DecisionPaths<Store, X>::type fields(store);
  return train_perceptron(patterns, store, fields, eta, max_epochs, observer, projection_epoch,
                          on_step, use_float_mirrors);
}

/// Everything one perceptron run needs; the CLI's options map onto these fields.
struct PerceptronConfig {
  std::size_t N = 1000;
  std::size_t P = 1000;
  std::uint64_t seed = 1;
  std::string patterns_file;  // when set, N and P come from the file
  bool zero_mean = false;
  // Caching: rule (classic = no caching), theta, tau in presentations with linear decay
  // s <- s (1 - 1/tau), c per |s| per presentation, b per |Delta s| left transient.
  CacheParams cache = no_caching(DecayForm::linear);
  double alpha = 1.0;
  bool potentiation_only = false;
  double eta = 1.0;
  std::int64_t max_epochs = 10000;
  std::int64_t projection_epoch = -1;  // see train_perceptron; -1 = automatic

  // Throws std::invalid_argument naming the option and the allowed values; for random
  // patterns also ResourceError (an invalid_argument) when N or P exceed
  // kMaxPerceptronSize or the run would not fit in memory (perceptron_memory_bytes).
  void validate() const;
};

inline constexpr std::size_t kMaxPerceptronSize = std::size_t{1} << 40;

// The perceptron's parameters, described once (io/params.hpp): the `syncache perceptron`
// options, the keys of sweep files and of stored runs, and the Python keywords are these
// names, read and range-checked by these descriptions (N, P, patterns, seed, zero_mean,
// rule, theta, tau, c, b, alpha, potentiation_only, eta, max_epochs). Checks that involve
// several parameters (theta required unless classic, memory) are PerceptronConfig::validate.
std::span<const ParamSpec> perceptron_parameters();

// Estimated peak memory, in bytes, of a run on P random patterns of N inputs: the
// patterns (padded rows, a double copy with zero_mean), the store and, when cached, the
// overlap matrix of the pattern projections.
double perceptron_memory_bytes(std::size_t N, std::size_t P, bool zero_mean, bool cached);

// Builds the patterns and the store (exact integer weights when the inputs are +-1 and
// eta is an integer, doubles otherwise) and trains. N and P of the result's patterns
// are returned through the out-parameters when read from a file.
PerceptronResult run_perceptron(const PerceptronConfig& config, std::size_t* N_out = nullptr,
                                std::size_t* P_out = nullptr,
                                const EpochObserver* observer = nullptr);
// The same on given patterns (the Python package's arrays; the semantics of a pattern
// file): config.N, P, seed, zero_mean and patterns_file are not used.
PerceptronResult run_perceptron(const PerceptronConfig& config, const PatternSet<double>& patterns,
                                const EpochObserver* observer = nullptr);

}  // namespace syncache
