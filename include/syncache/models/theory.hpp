// Analytical results of Li & van Rossum (eLife 2020), Materials and methods.
// Every function names the equation it implements; docs/theory.md derives the
// corrected forms of the decaying-transient theory (Eqs. 5-7).
#pragma once

namespace syncache::theory {

// ---- Classic perceptron (random +-1 patterns, N inputs, P patterns) ----

// Eq. 3: M_perc / M_min = sqrt(pi P) / (2 - P/N). Requires 0 < P < 2N.
double classic_inefficiency(double N, double P);
// Numerical fit quoted in the paper: K = 2P / (2 - P/N)^2 updates.
double updates(double N, double P);
// Numerical fit quoted in the paper: T = P^{3/2} / (2 - P/N)^2 presentations.
double presentations(double N, double P);

// ---- Caching without decay ----
// theta_hat^2 = 3 K eta^2 / (1 + c T).
double theta_opt(double N, double P, double c, double eta);
// M_cache / M_min = min( sqrt(2 pi / 3 (1 + c T)), sqrt(pi K / 2) ).
double caching_inefficiency(double N, double P, double c);
// M_cons = eta^2 N K / theta + N theta / 3 ; M_trans = c N T theta / 3 (Eq. 4).
double consolidation_energy_no_decay(double N, double P, double theta, double eta);
double maintenance_energy_no_decay(double N, double P, double theta, double c);

/// The classic perceptron's closed forms for N and P: Eq. 3, K, T, theta_hat and the caching gain.
struct PerceptronTheory {
  double inefficiency;          // Eq. 3
  double updates;               // K
  double presentations;         // T
  double theta_opt;             // theta_hat
  double caching_inefficiency;  // M_cache / M_min at theta_hat
};
PerceptronTheory perceptron(double N, double P, double c = 0.0, double eta = 1.0);

/// ---- Decaying transient weight (Fokker-Planck, Eqs. 5-7, corrected) ----
/// A transient weight s takes steps +-eta with probability p/2 each per time step
/// (sigma_s^2 = p eta^2), decays with time constant tau, and is reset to 0 when
/// |s| reaches theta. sigma^2 = tau sigma_s^2 is the width of the stationary density.
struct TransientTheory {
  double sigma;                // sqrt(tau p) eta ; +inf for tau = inf
  double mean_abs_s;           // <|s|> per synapse
  double consolidation_rate;   // r: consolidations per synapse per time step
  double maintenance_power;    // m_trans = c N <|s|>          (Eq. 5/6)
  double consolidation_power;  // m_cons  = N theta r           (Eq. 7)
};
// tau may be +infinity (no decay). Requires theta > 0, tau > 0, 0 <= p <= 1, eta > 0.
TransientTheory transient(double theta, double tau, double p, double eta = 1.0, double N = 1.0,
                          double c = 0.0);
// Stationary density P_s(s) on [-theta, theta] (integrates to 1); sigma = +inf gives
// the triangular no-decay limit (theta - |s|) / theta^2.
double transient_density(double s, double theta, double sigma);

// erfi(x) = -i erf(i x), the imaginary error function.
double erfi(double x);

}  // namespace syncache::theory
