// Energy accounting of synaptic plasticity (docs/model.md section 1; paper Eq. 1).
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "syncache/io/params.hpp"

namespace syncache {

// The largest energy exponent: the paper's Eq. 1 takes alpha in [0, 2]; up to 4 shows
// where even a random walk costs less than setting the weights directly (Figure 1—
// supplement 1 extended).
inline constexpr double kMaxAlpha = 4.0;

/// Cost of one weight change Delta: |Delta|^alpha (Eq. 1). alpha = 0 counts non-zero
/// changes; with potentiation_only, only Delta > 0 costs.
class ChangeCost {
 public:
  explicit ChangeCost(double alpha = 1.0, bool potentiation_only = false)
      : alpha_(alpha), potentiation_only_(potentiation_only) {
    if (!(alpha >= 0.0 && alpha <= kMaxAlpha)) {
      throw ParamError("alpha", "must lie in [0, 4] (got " + std::to_string(alpha) + ")");
    }
  }

  double operator()(double delta) const {
    if (delta == 0.0 || (potentiation_only_ && delta < 0.0)) return 0.0;
    const double a = std::fabs(delta);
    if (alpha_ == 1.0) return a;
    if (alpha_ == 0.0) return 1.0;
    if (alpha_ == 2.0) return a * a;
    return std::pow(a, alpha_);
  }

  // True when cost(delta) == |delta| for every delta, which allows fast paths.
  bool is_absolute() const { return alpha_ == 1.0 && !potentiation_only_; }
  double alpha() const { return alpha_; }
  bool potentiation_only() const { return potentiation_only_; }

 private:
  double alpha_;
  bool potentiation_only_;
};

/// The one energy record of every model (perceptron, MNIST network, spiking neuron; docs/model.md
/// section 1), accumulated in double precision with every term reported separately. A
/// weight store's running tally (CachedStore::energy(), PlainStore::energy()) fills the four
/// costs classic, consolidation, maintenance and change; a model's result or snapshot also
/// fills pending, minimal and the counts.
///
/// Reporting convention: a final result counts the final consolidation of every remaining
/// transient weight in `consolidation` (and `consolidation_events`), so its pending is 0;
/// pending is non-zero only in snapshots taken during learning (the MNIST network's
/// learning curve), which count the transient weight "as if consolidated now".
struct EnergyTally {
  double classic = 0.0;        // sum |Delta w|^alpha of every proposed change (classic M)
  double consolidation = 0.0;  // M_cons: sum |Delta l|^alpha over consolidations
  double maintenance = 0.0;    // M_trans: c sum_t sum_i |s_i(t)|
  double change = 0.0;   // M_change: b sum |Delta s| of changes not consolidated in the same step
  double pending = 0.0;  // sum_i |s_i|^alpha still transient (0 in a final result)
  double minimal = 0.0;  // M_min: sum_i |w_i(T) - w_i(0)|^alpha
  // Counts. updates: the perceptron's K (presentations that changed the weights); the
  // MNIST network's and the spiking neuron's non-zero synaptic changes (the alpha = 0
  // energy of the learning rule). consolidation_events: synapse consolidations, one
  // synapse consolidating once counts 1 (the alpha = 0 consolidation energy).
  std::int64_t updates = 0;
  std::int64_t consolidation_events = 0;

  // M_cache = M_cons + M_trans + M_change, plus the pending transient weight "as if
  // consolidated now" (0 in a final result). Not classic (what learning without caching
  // would cost) and not minimal; for classic learning consolidation = classic, the other
  // terms are 0. Summed in this order: consolidation, maintenance, change, pending.
  double total() const { return consolidation + maintenance + change + pending; }
};

}  // namespace syncache
