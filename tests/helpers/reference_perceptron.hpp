// A plain, slow reference perceptron with (or without) synaptic caching, written from
// docs/model.md sections 1 and 2 alone: vectors of doubles, every transient weight
// multiplied out every step, no CachedStore, no kernels, no rescaling of eta. The tests
// compare the library with it run for run (tests/test_reference_caching.cpp) and derive
// the figures' values from it (tests/test_figure_values.cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "syncache/core/rule.hpp"
#include "syncache/models/patterns.hpp"

namespace syncache::testing {

// |Delta|^alpha of docs/model.md section 1 (paper Eq. 1): alpha = 0 counts non-zero
// changes; with potentiation only, Delta <= 0 costs nothing.
inline double change_cost(double delta, double alpha, bool potentiation_only) {
  if (delta == 0.0) return 0.0;
  if (potentiation_only && delta < 0.0) return 0.0;
  if (alpha == 0.0) return 1.0;
  return std::pow(std::fabs(delta), alpha);
}

struct RefParams {
  Rule rule = Rule::neuron;  // classic: every change goes straight to l
  double eta = 1.0, theta = 3.0, tau = std::numeric_limits<double>::infinity(), c = 0.0, b = 0.0,
         alpha = 1.0;
  bool potentiation_only = false;
  long max_epochs = 2000;
};

inline std::string describe(const RefParams& p) {
  return std::string(rule_name(p.rule)) + " eta " + std::to_string(p.eta) + " theta " +
         std::to_string(p.theta) + " tau " + std::to_string(p.tau) + " c " + std::to_string(p.c) +
         " b " + std::to_string(p.b) + " alpha " + std::to_string(p.alpha) +
         (p.potentiation_only ? " potentiation-only" : "");
}

struct RefResult {
  bool converged = false;
  long epochs = 0, presentations = 0, updates = 0, events = 0;
  // classic: sum |Delta w|^alpha of every update; the cached terms of section 1.
  double classic = 0.0, consolidation = 0.0, maintenance = 0.0, change = 0.0, minimal = 0.0;
  std::vector<double> w;  // final weights (N + 1, bias last)
  double total() const { return consolidation + maintenance + change; }
  double inefficiency() const { return total() / minimal; }
};

// Called after every presentation t (1-based) with whether it updated, l and s.
using RefStepObserver = std::function<void(long t, bool updated, const std::vector<double>& l,
                                           const std::vector<double>& s)>;

template <class X>
RefResult reference_cached_perceptron(const PatternSet<X>& ps, const RefParams& q,
                                      const RefStepObserver& on_step = nullptr) {
  RefResult r;
  const std::size_t n = ps.N() + 1;  // N inputs and the bias
  std::vector<double> l(n, 0.0), s(n, 0.0);
  const bool caching = q.rule != Rule::classic;
  // Linear decay, step (1): s <- s (1 - 1/tau); tau = inf: none.
  const double f = std::isinf(q.tau) || !caching ? 1.0 : 1.0 - 1.0 / q.tau;
  auto consolidate = [&](std::size_t i) {  // l_i += s_i, M_cons += |s_i|^alpha
    if (s[i] != 0.0) {
      l[i] += s[i];
      r.consolidation += change_cost(s[i], q.alpha, q.potentiation_only);
      ++r.events;
    }
    s[i] = 0.0;
  };
  while (r.epochs < q.max_epochs) {
    ++r.epochs;
    long errors = 0;
    for (std::size_t p = 0; p < ps.P(); ++p) {
      ++r.presentations;
      const X* x = ps.row(p);
      for (std::size_t i = 0; i < n; ++i) s[i] *= f;  // (1) decay
      double abs_s = 0.0;                             // (2) M_trans += c sum|s|
      for (std::size_t i = 0; i < n; ++i) abs_s += std::fabs(s[i]);
      if (caching) r.maintenance += q.c * abs_s;
      double h = 0.0;  // (3) field from w = l + s; an error when d h <= 0
      for (std::size_t i = 0; i < n; ++i) h += (l[i] + s[i]) * static_cast<double>(x[i]);
      const double d = ps.target(p);
      const bool error = !(d * h > 0.0);
      if (error) {
        ++errors;
        std::vector<double> dw(n);
        for (std::size_t i = 0; i < n; ++i) {
          dw[i] = q.eta * d * static_cast<double>(x[i]);  // paper Eq. 8
          r.classic += change_cost(dw[i], q.alpha, q.potentiation_only);
          s[i] += dw[i];
        }
        // (4) the consolidation rule, strict comparisons; classic: everything, at once.
        std::vector<char> cons(n, 0);
        double mx = 0.0, sum = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
          mx = std::max(mx, std::fabs(s[i]));
          sum += std::fabs(s[i]);
        }
        for (std::size_t i = 0; i < n; ++i) {
          if (q.rule == Rule::classic) cons[i] = 1;
          if (q.rule == Rule::synapse) cons[i] = std::fabs(s[i]) > q.theta;
          if (q.rule == Rule::neuron) cons[i] = mx > q.theta;
          if (q.rule == Rule::sum) cons[i] = sum > q.theta;
        }
        for (std::size_t i = 0; i < n; ++i) {
          if (cons[i]) {
            consolidate(i);
          } else {
            r.change += q.b * std::fabs(dw[i]);  // M_change: changes left transient
          }
        }
      }
      if (on_step) on_step(r.presentations, error, l, s);
    }
    r.updates += errors;
    if (errors == 0) {
      r.converged = true;
      break;
    }
  }
  for (std::size_t i = 0; i < n; ++i) consolidate(i);  // (5) the final consolidation
  r.w = l;
  for (double v : r.w) r.minimal += change_cost(v, q.alpha, q.potentiation_only);  // w(0) = 0
  return r;
}

}  // namespace syncache::testing
