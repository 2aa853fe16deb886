// Energy accounting of synaptic plasticity (docs/model.md section 1; paper Eq. 1).
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>
#include "syncache/io/params.hpp"

namespace syncache {

// Cost of one weight change Delta: |Delta|^alpha (Eq. 1). alpha = 0 counts non-zero
// changes; with potentiation_only, only Delta > 0 costs.
class ChangeCost {
 public:
  explicit ChangeCost(double alpha = 1.0, bool potentiation_only = false)
      : alpha_(alpha), potentiation_only_(potentiation_only) {
    if (!(alpha >= 0.0 && alpha <= 2.0)) {
      throw ParamError("alpha", "must lie in [0, 2] (got " + std::to_string(alpha) +
                                  ")");
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

// The energy terms, accumulated in double precision and reported separately.
struct EnergyTally {
  double classic = 0.0;        // sum |Delta w|^alpha of every proposed change (classic M)
  double consolidation = 0.0;  // sum |Delta l|^alpha over consolidations, incl. the final one
  double maintenance = 0.0;    // c sum_t sum_i |s_i(t)|
  double change = 0.0;         // b sum |Delta s| of changes not consolidated in the same step

  // M_cache = M_cons + M_trans + M_change. For classic learning M_cons = M.
  double total() const { return consolidation + maintenance + change; }
};

}  // namespace syncache
