// Analytical results of Li & van Rossum (eLife 2020), Materials and methods.
// The decaying-transient formulas (Eqs. 5-7) are the corrected forms derived in
// docs/theory.md, rewritten so that they stay finite for every u = theta / sigma.
#include "syncache/models/theory.hpp"

#include <algorithm>
#include <boost/math/special_functions/erf.hpp>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

#include "syncache/io/params.hpp"

namespace syncache::theory {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kSqrtPi = 1.7724538509055160273;  // sqrt(pi)

// Below this u every O(u^2) correction to the no-decay limit is under 1e-18.
constexpr double kTinyU = 1e-9;
// At and above this u the power series are replaced by asymptotic forms; the
// neglected terms are O(exp(-u^2)) ~ 1e-28 relative.
constexpr double kLargeU = 8.0;
// Dawson series / asymptotic switch (smallest asymptotic term ~ exp(-49)).
constexpr double kDawsonSwitch = 7.0;

[[noreturn]] void fail(const std::string& what) {
  throw std::invalid_argument("syncache::theory: " + what);
}

void check_N_P(double N, double P) {
  if (!(N > 0.0) || !std::isfinite(N))
    fail("N must be a finite number > 0, got " + std::to_string(N));
  if (!(P > 0.0) || !std::isfinite(P))
    fail("P must be a finite number > 0, got " + std::to_string(P));
  if (!(P < 2.0 * N))
    fail("P must be below the capacity 2N (P/N < 2), got P/N = " + std::to_string(P / N));
}
void check_c(double c) {
  if (!(c >= 0.0) || !std::isfinite(c))
    fail("maintenance cost c must be finite and >= 0, got " + std::to_string(c));
}
void check_eta(double eta) {
  if (!(eta > 0.0) || !std::isfinite(eta))
    fail("learning rate eta must be finite and > 0, got " + std::to_string(eta));
}
void check_theta(double theta) {
  if (!(theta > 0.0) || !std::isfinite(theta))
    fail("threshold theta must be finite and > 0, got " + std::to_string(theta));
}

// exp(-x^2) without the O(eps x^2) error of rounding x^2 first.
double exp_neg_sq(double x) {
  const double h = x * x;
  const double l = std::fma(x, x, -h);  // exact: x^2 = h + l
  return std::exp(-h) * (1.0 - l);
}

// sum_{n>=0} x^{2n+1} / (n! (2n+1)) = (sqrt(pi)/2) erfi(x); all terms positive.
double erfi_series_half(double x) {
  const double v = x * x;
  double term = x;  // x^{2n+1}/n!
  double sum = x;
  for (int n = 1; n < 1000; ++n) {
    term *= v / n;
    const double add = term / (2.0 * n + 1.0);
    sum += add;
    if (add <= sum * 1e-17) break;
  }
  return sum;
}

// Dawson function F(x) = exp(-x^2) int_0^x exp(t^2) dt = (sqrt(pi)/2) exp(-x^2) erfi(x), x >= 0.
double dawson_pos(double x) {
  if (x < kDawsonSwitch) return exp_neg_sq(x) * erfi_series_half(x);
  // Asymptotic: F(x) ~ (1/(2x)) sum_n (2n-1)!! / (2x^2)^n, truncated at its smallest term.
  const double w = 1.0 / (2.0 * x * x);
  double term = 1.0;
  double sum = 1.0;
  for (int n = 1; n < 200; ++n) {
    const double next = term * (2.0 * n - 1.0) * w;
    if (next >= term) break;
    term = next;
    sum += term;
    if (term <= sum * 1e-17) break;
  }
  return sum / (2.0 * x);
}

// Power series for small and moderate u (v = u^2), no cancellation:
//  g(v) = sum_n 2^n v^n / ((2n+1)!! (2n+2)),  so G(u) = int_0^u e^{y^2} erf(y) dy = (2/sqrt(pi))
//  u^2 g; a(v) = sum_{n>=1} v^{n-1} / (n! (2n+1)),   so sqrt(pi) erfi(u)/2 - u = u^3 a.
double series_g(double v) {
  double term = 0.5;
  double sum = 0.5;
  for (int n = 1; n < 2000; ++n) {
    term *= 2.0 * v / (2.0 * n + 1.0) * (2.0 * n) / (2.0 * n + 2.0);
    sum += term;
    if (term <= sum * 1e-17) break;
  }
  return sum;
}
double series_a(double v) {
  double term = 1.0 / 3.0;
  double sum = term;
  for (int n = 2; n < 2000; ++n) {
    term *= v * (2.0 * n - 1.0) / (n * (2.0 * n + 1.0));
    sum += term;
    if (term <= sum * 1e-17) break;
  }
  return sum;
}

}  // namespace

// ---------------------------------------------------------------- perceptron

double classic_inefficiency(double N, double P) {  // Eq. 3
  check_N_P(N, P);
  return std::sqrt(std::numbers::pi * P) / (2.0 - P / N);
}

double updates(double N, double P) {
  check_N_P(N, P);
  const double d = 2.0 - P / N;
  return 2.0 * P / (d * d);
}

double presentations(double N, double P) {
  check_N_P(N, P);
  const double d = 2.0 - P / N;
  return std::pow(P, 1.5) / (d * d);
}

double theta_opt(double N, double P, double c, double eta) {
  check_c(c);
  check_eta(eta);
  return eta * std::sqrt(3.0 * updates(N, P) / (1.0 + c * presentations(N, P)));
}

double caching_inefficiency(double N, double P, double c) {
  check_c(c);
  const double with_cache =
      std::sqrt(2.0 * std::numbers::pi / 3.0 * (1.0 + c * presentations(N, P)));
  const double cap = std::sqrt(std::numbers::pi * updates(N, P) / 2.0);  // = Eq. 3
  return std::min(with_cache, cap);
}

double consolidation_energy_no_decay(double N, double P, double theta, double eta) {
  check_theta(theta);
  check_eta(eta);
  return eta * eta * N * updates(N, P) / theta + N * theta / 3.0;
}

double maintenance_energy_no_decay(double N, double P, double theta, double c) {  // Eq. 4
  check_theta(theta);
  check_c(c);
  return c * N * presentations(N, P) * theta / 3.0;
}

PerceptronTheory perceptron(double N, double P, double c, double eta) {
  PerceptronTheory t{};
  t.inefficiency = classic_inefficiency(N, P);
  t.updates = updates(N, P);
  t.presentations = presentations(N, P);
  t.theta_opt = theta_opt(N, P, c, eta);
  t.caching_inefficiency = caching_inefficiency(N, P, c);
  // Never a non-finite prediction: inputs so large that a formula overflows are refused.
  for (double v :
       {t.inefficiency, t.updates, t.presentations, t.theta_opt, t.caching_inefficiency}) {
    if (!std::isfinite(v)) {
      throw ParamError("N/P", "too large; the theory's values overflow the double range");
    }
  }
  return t;
}

// ------------------------------------------------------- decaying transient

double erfi(double x) {
  if (std::isnan(x)) return x;
  const double ax = std::fabs(x);
  double y;
  if (ax < kDawsonSwitch) {
    y = 2.0 / kSqrtPi * erfi_series_half(ax);
  } else {
    // (2/sqrt(pi)) exp(x^2) F(x), with exp(x^2) = E^2 (1 + l) split so that the
    // product overflows to +inf only when erfi does (x > ~26.65).
    const double h = ax * ax;
    const double l = std::fma(ax, ax, -h);
    const double E = std::exp(0.5 * h);
    y = (E * (2.0 / kSqrtPi * dawson_pos(ax) * (1.0 + l))) * E;
  }
  return x < 0.0 ? -y : y;
}

TransientTheory transient(double theta, double tau, double p, double eta, double N, double c) {
  check_theta(theta);
  if (!(tau > 0.0))
    fail("decay time constant tau must be > 0 (may be +inf), got " + std::to_string(tau));
  if (!(p >= 0.0 && p <= 1.0))
    fail("update probability p must lie in [0, 1], got " + std::to_string(p));
  check_eta(eta);
  if (!(N > 0.0) || !std::isfinite(N))
    fail("N must be a finite number > 0, got " + std::to_string(N));
  check_c(c);

  TransientTheory t{};
  if (p == 0.0) {
    // No updates: s stays at 0 (the density is a delta at 0); sigma is 0, also for tau = inf.
    t.sigma = 0.0;
    t.mean_abs_s = 0.0;
    t.consolidation_rate = 0.0;
  } else {
    const double var_s = p * eta * eta;                         // sigma_s^2
    t.sigma = std::isinf(tau) ? kInf : std::sqrt(tau * var_s);  // sigma^2 = tau sigma_s^2
    const double u = theta / t.sigma;
    if (u < kTinyU) {
      // No-decay limit: triangular density, <|s|> = theta/3, r = sigma_s^2 / theta^2.
      t.mean_abs_s = theta / 3.0;
      t.consolidation_rate = var_s / (theta * theta);
    } else if (u < kLargeU) {
      // Eq. 6 and r = -2 sigma / (tau Z sqrt(pi)) with Z = -2 sigma G(u), G = (2/sqrt(pi)) u^2 g:
      //   <|s|> = theta a / (2 g),   r = sigma_s^2 / (2 theta^2 g).
      const double v = u * u;
      const double g = series_g(v);
      t.mean_abs_s = theta * series_a(v) / (2.0 * g);
      t.consolidation_rate = var_s / (2.0 * theta * theta * g);
    } else {
      // Same quantities scaled by exp(-u^2): exp(-u^2) G = erf(u) F(u) + O(exp(-u^2) ln u),
      // exp(-u^2) u^3 a = F(u) - u exp(-u^2)   (F = Dawson function).
      const double F = dawson_pos(u);
      const double eu = exp_neg_sq(u);
      const double B = boost::math::erf(u) * F;
      t.mean_abs_s = t.sigma * (F - u * eu) / (kSqrtPi * B);  // -> sigma/sqrt(pi) (OU)
      t.consolidation_rate = eu / (tau * kSqrtPi * B);        // -> 0
    }
  }
  t.maintenance_power = c * N * t.mean_abs_s;                // Eq. 5/6
  t.consolidation_power = N * theta * t.consolidation_rate;  // Eq. 7
  return t;
}

double transient_density(double s, double theta, double sigma) {
  check_theta(theta);
  if (!(sigma >= 0.0)) fail("sigma must be >= 0 (may be +inf), got " + std::to_string(sigma));
  if (std::isnan(s)) return s;
  const double as = std::fabs(s);
  if (as >= theta) return 0.0;
  if (sigma == 0.0) return as == 0.0 ? kInf : 0.0;  // delta at 0 (p = 0)
  const double u = theta / sigma;
  if (u < kTinyU) return (theta - as) / (theta * theta);  // no-decay triangle
  // P_s = exp(-x^2) [erfi(u) - erfi(x)] / (2 sigma G(u)),  x = |s|/sigma.
  // Multiplying numerator and denominator by (sqrt(pi)/2) exp(-u^2):
  //   P_s = [exp(-x^2) F(u) - exp(-u^2) F(x)] / (sqrt(pi) sigma exp(-u^2) G(u)).
  const double x = as / sigma;
  const double eu = exp_neg_sq(u);
  const double num = exp_neg_sq(x) * dawson_pos(u) - eu * dawson_pos(x);
  double den;  // sqrt(pi) sigma exp(-u^2) G(u)
  if (u < kLargeU) {
    den = 2.0 * theta * u * series_g(u * u) * eu;  // sigma u^2 = theta u
  } else {
    den = kSqrtPi * sigma * boost::math::erf(u) * dawson_pos(u);
  }
  return std::max(0.0, num / den);
}

}  // namespace syncache::theory
