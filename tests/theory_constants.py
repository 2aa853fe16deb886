#!/usr/bin/python3
"""Regenerates every high-precision constant of tests/test_theory.cpp with mpmath
(Debian's python3-mpmath), independently of the library:

  python3 tests/theory_constants.py            # print the values
  python3 tests/theory_constants.py --check    # also compare with the literals in the test

Formulas (docs/model.md section 2, docs/theory.md): Eq. 3 M/M_min = sqrt(pi P)/(2 - P/N);
K = 2P/(2 - P/N)^2, T = P^(3/2)/(2 - P/N)^2; theta_hat^2 = 3 K eta^2/(1 + cT); the caching
inefficiency sqrt(2 pi/3 (1 + cT)) capped at Eq. 3; M_cons = eta^2 N K/theta + N theta/3,
M_trans = c N T theta/3 (no decay). The transient weight with decay: sigma_s^2 = p eta^2,
sigma^2 = tau sigma_s^2, u = theta/sigma; the flux solution
P(s) = C int_|s|^theta exp((y^2 - s^2)/sigma^2) dy gives
<|s|> = int s P / int P and r = sigma_s^2 C (Fick's law at +-theta, C normalising P);
the closed form (Eq. 6 corrected): Z = 2 sigma int_0^u e^(-x^2) [erfi(x) - erfi(u)] dx,
<|s|> = [2 theta sigma/sqrt(pi) - sigma^2 erfi(u)]/Z, r = -2 sigma/(tau Z sqrt(pi)).
"""
import re
import sys
from pathlib import Path

import mpmath as mp

mp.mp.dps = 60


def perceptron_points():
    out = []

    def point(N, P, c, eta, theta=None):
        N, P, c, eta = map(mp.mpf, (N, P, c, eta))
        a = 2 - P / N
        eq3 = mp.sqrt(mp.pi * P) / a
        K = 2 * P / a**2
        T = P**mp.mpf(1.5) / a**2
        theta_hat = mp.sqrt(3 * K * eta**2 / (1 + c * T))
        caching = min(eq3, mp.sqrt(2 * mp.pi / 3 * (1 + c * T)))
        return eq3, K, T, theta_hat, caching

    eq3, K, T, th0, ca0 = point(1000, 1000, 0, 1)
    out.append(("classic_inefficiency(1000, 1000)", eq3))
    out.append(("theta_opt(1000, 1000, 0, 1)", th0))
    out.append(("caching_inefficiency(1000, 1000, 0)", ca0))
    _, _, _, th1, ca1 = point(1000, 1000, 0.01, 1)
    out.append(("caching_inefficiency(1000, 1000, 0.01)", ca1))
    out.append(("theta_opt(1000, 1000, 0.01, 1)", th1))
    _, _, _, _, ca2 = point(1000, 1000, 0.1, 1)
    out.append(("caching_inefficiency(1000, 1000, 0.1)", ca2))
    eq3, K, T, _, _ = point(100, 50, 0, 1)
    out.append(("classic_inefficiency(100, 50)", eq3))
    out.append(("updates(100, 50)", K))
    out.append(("presentations(100, 50)", T))
    _, _, _, th, _ = point(100, 50, 0.05, 0.5)
    out.append(("theta_opt(100, 50, 0.05, 0.5)", th))
    N, P, theta, eta = 1000, 1000, 10, 1
    K = mp.mpf(2 * P) / (2 - mp.mpf(P) / N) ** 2
    out.append(("consolidation_energy_no_decay(1000, 1000, 10, 1)", eta**2 * N * K / theta + N * mp.mpf(theta) / 3))
    return out


def flux_reference(theta, tau, p, eta):
    """<|s|> and r from the flux solution by numerical double integration."""
    theta, tau, p, eta = map(mp.mpf, (theta, tau, p, eta))
    ss2 = p * eta**2
    sig2 = tau * ss2

    def unnorm(s):  # P(s) / C for s >= 0
        return mp.quad(lambda y: mp.exp((y * y - s * s) / sig2), [s, theta])

    mass = 2 * mp.quad(unnorm, [0, theta])
    first = 2 * mp.quad(lambda s: s * unnorm(s), [0, theta])
    return first / mass, ss2 / mass


def closed_form(theta, tau, p, eta):
    """<|s|> and r from Z (Eq. 6 corrected, docs/theory.md), erfi in high precision."""
    theta, tau, p, eta = map(mp.mpf, (theta, tau, p, eta))
    sigma = mp.sqrt(tau * p * eta**2)
    u = theta / sigma
    Z = 2 * sigma * mp.quad(lambda x: mp.exp(-x * x) * (mp.erfi(x) - mp.erfi(u)), [0, u])
    mean = (2 * theta * sigma / mp.sqrt(mp.pi) - sigma**2 * mp.erfi(u)) / Z
    r = -2 * sigma / (tau * Z * mp.sqrt(mp.pi))
    return mean, r


REF = [(3, 200, 0.5, 0.2), (5, 1000, 0.5, 0.1), (1, 1, 1, 1), (2, 4, 1, 0.5), (1, 16, 1, 1)]
REFU = ["1e-4", "0.01", "0.3", "5", "7.999999", "8.000001", "12", "25"]


def main():
    check = "--check" in sys.argv
    values = []  # (label, value) in the order of the test's literals
    print("# TEST(TheoryPerceptron, HandComputedPoints)")
    for label, v in perceptron_points():
        print(f"{label} = {mp.nstr(v, 15)}")
        values.append((label, v))
    print("# TEST(TheoryErfi, KnownValuesAndBoost1F1)")
    for x in ("1.0", "0.5", "2.0"):
        v = mp.erfi(mp.mpf(x))
        print(f"erfi({x}) = {mp.nstr(v, 17)}")
        values.append((f"erfi({x})", v))
    print("# TEST(TheoryTransient, ReferenceValues): Ref{theta, tau, p, eta, mean, r}")
    for theta, tau, p, eta in REF:
        mean, r = flux_reference(theta, tau, p, eta)
        m2, r2 = closed_form(theta, tau, p, eta)
        assert abs(mean / m2 - 1) < mp.mpf("1e-25") and abs(r / r2 - 1) < mp.mpf("1e-25")
        print(f"Ref{{{theta}, {tau}, {p}, {eta}, {mp.nstr(mean, 17)}, {mp.nstr(r, 17)}}}")
        values += [(f"Ref {theta},{tau} mean", mean), (f"Ref {theta},{tau} r", r)]
    print("# RefU{u, mean, r}: sigma = 1, theta = u, tau = 1")
    mp.mp.dps = 80
    for u in REFU:
        mean, r = closed_form(mp.mpf(u), 1, 1, 1)
        print(f"RefU{{{u}, {mp.nstr(mean, 17)}, {mp.nstr(r, 17)}}}")
        values += [(f"RefU {u} mean", mean), (f"RefU {u} r", r)]
    if not check:
        return 0
    # Compare with the literals: every value must appear in tests/test_theory.cpp as a
    # literal that agrees to the digits written there.
    text = (Path(__file__).parent / "test_theory.cpp").read_text()
    literals = re.findall(r"(?<![\w.])\d+\.\d{6,}(?:e-?\d+)?", text)

    def agrees(lit, v):  # to within half a unit in the literal's last significant digit
        digits = len(lit.split("e")[0].replace(".", "").lstrip("0"))
        return abs(mp.mpf(lit) / v - 1) <= 5 * mp.mpf(10) ** (-digits + 1)

    bad = 0
    for label, v in values:
        if not any(agrees(lit, v) for lit in literals):
            print(f"MISMATCH {label}: no literal in test_theory.cpp agrees with {mp.nstr(v, 17)}")
            bad += 1
    print("check:", "all values found" if bad == 0 else f"{bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
