#include "syncache/kernels.hpp"

#include <algorithm>
#include <cmath>

// GCC builds one clone per listed target and dispatches through an ifunc at load time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SYNCACHE_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define SYNCACHE_CLONES
#endif

namespace syncache::kernels {

SYNCACHE_CLONES std::int32_t dot(const std::int32_t* w, const std::int8_t* x, std::size_t n) {
  // Unsigned lanes: wrap-around is defined, and the caller's bound makes the result exact.
  std::uint32_t acc = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc += static_cast<std::uint32_t>(w[i]) * static_cast<std::uint32_t>(std::int32_t{x[i]});
  }
  return static_cast<std::int32_t>(acc);
}

SYNCACHE_CLONES std::int64_t dot_wide(const std::int32_t* w, const std::int8_t* x,
                                      std::size_t n) {
  std::int64_t acc = 0;
  for (std::size_t i = 0; i < n; ++i) acc += std::int64_t{w[i]} * x[i];
  return acc;
}

SYNCACHE_CLONES void axpy(std::int32_t* w, std::int32_t a, const std::int8_t* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) w[i] += a * x[i];
}

SYNCACHE_CLONES std::int64_t sum_abs(const std::int32_t* w, std::size_t n) {
  std::int64_t acc = 0;
  for (std::size_t i = 0; i < n; ++i) acc += std::abs(std::int64_t{w[i]});
  return acc;
}

// Floating-point reductions are written with four independent partial sums so the
// compiler may vectorise them without -ffast-math; the summation order is fixed, hence
// results are identical on every machine and with every clone.
SYNCACHE_CLONES double dot(const double* w, const std::int8_t* x, std::size_t n) {
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 += w[i] * x[i];
    a1 += w[i + 1] * x[i + 1];
    a2 += w[i + 2] * x[i + 2];
    a3 += w[i + 3] * x[i + 3];
  }
  for (; i < n; ++i) a0 += w[i] * x[i];
  return (a0 + a1) + (a2 + a3);
}

SYNCACHE_CLONES double dot(const double* w, const double* x, std::size_t n) {
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 += w[i] * x[i];
    a1 += w[i + 1] * x[i + 1];
    a2 += w[i + 2] * x[i + 2];
    a3 += w[i + 3] * x[i + 3];
  }
  for (; i < n; ++i) a0 += w[i] * x[i];
  return (a0 + a1) + (a2 + a3);
}

SYNCACHE_CLONES void axpy(double* w, double a, const std::int8_t* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) w[i] += a * x[i];
}

SYNCACHE_CLONES void axpy(double* w, double a, const double* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) w[i] += a * x[i];
}

SYNCACHE_CLONES double dot2(const double* l, const double* s, double g, const std::int8_t* x,
                            std::size_t n) {
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  double b0 = 0, b1 = 0, b2 = 0, b3 = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 += l[i] * x[i];
    a1 += l[i + 1] * x[i + 1];
    a2 += l[i + 2] * x[i + 2];
    a3 += l[i + 3] * x[i + 3];
    b0 += s[i] * x[i];
    b1 += s[i + 1] * x[i + 1];
    b2 += s[i + 2] * x[i + 2];
    b3 += s[i + 3] * x[i + 3];
  }
  for (; i < n; ++i) {
    a0 += l[i] * x[i];
    b0 += s[i] * x[i];
  }
  return ((a0 + a1) + (a2 + a3)) + g * ((b0 + b1) + (b2 + b3));
}

SYNCACHE_CLONES double dot2(const double* l, const double* s, double g, const double* x,
                            std::size_t n) {
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  double b0 = 0, b1 = 0, b2 = 0, b3 = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 += l[i] * x[i];
    a1 += l[i + 1] * x[i + 1];
    a2 += l[i + 2] * x[i + 2];
    a3 += l[i + 3] * x[i + 3];
    b0 += s[i] * x[i];
    b1 += s[i + 1] * x[i + 1];
    b2 += s[i + 2] * x[i + 2];
    b3 += s[i + 3] * x[i + 3];
  }
  for (; i < n; ++i) {
    a0 += l[i] * x[i];
    b0 += s[i] * x[i];
  }
  return ((a0 + a1) + (a2 + a3)) + g * ((b0 + b1) + (b2 + b3));
}

template <class X>
static inline RowStats add_and_stats_impl(double* s, double a, const X* x, std::size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  double m0 = 0, m1 = 0, m2 = 0, m3 = 0;
  double d0 = 0, d1 = 0, d2 = 0, d3 = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const double e0 = a * x[i], e1 = a * x[i + 1], e2 = a * x[i + 2], e3 = a * x[i + 3];
    s[i] += e0;
    s[i + 1] += e1;
    s[i + 2] += e2;
    s[i + 3] += e3;
    const double v0 = std::fabs(s[i]), v1 = std::fabs(s[i + 1]);
    const double v2 = std::fabs(s[i + 2]), v3 = std::fabs(s[i + 3]);
    s0 += v0;
    s1 += v1;
    s2 += v2;
    s3 += v3;
    m0 = std::max(m0, v0);
    m1 = std::max(m1, v1);
    m2 = std::max(m2, v2);
    m3 = std::max(m3, v3);
    d0 += std::fabs(e0);
    d1 += std::fabs(e1);
    d2 += std::fabs(e2);
    d3 += std::fabs(e3);
  }
  for (; i < n; ++i) {
    const double e = a * x[i];
    s[i] += e;
    const double v = std::fabs(s[i]);
    s0 += v;
    m0 = std::max(m0, v);
    d0 += std::fabs(e);
  }
  RowStats r;
  r.sum_abs = (s0 + s1) + (s2 + s3);
  r.max_abs = std::max(std::max(m0, m1), std::max(m2, m3));
  r.sum_abs_delta = (d0 + d1) + (d2 + d3);
  return r;
}

SYNCACHE_CLONES RowStats add_and_stats(double* s, double a, const std::int8_t* x, std::size_t n) {
  return add_and_stats_impl(s, a, x, n);
}

SYNCACHE_CLONES RowStats add_and_stats(double* s, double a, const double* x, std::size_t n) {
  return add_and_stats_impl(s, a, x, n);
}

}  // namespace syncache::kernels
