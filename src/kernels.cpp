#include "syncache/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

// GCC builds one clone per listed target and dispatches through an ifunc at load time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SYNCACHE_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define SYNCACHE_CLONES
#endif
// Helpers are forced inline so that each clone compiles them for its own target.
#define SYNCACHE_INLINE __attribute__((always_inline))

namespace syncache::kernels {

SYNCACHE_CLONES std::int32_t dot(const std::int32_t* w, const std::int8_t* x, std::size_t n) {
  // Unsigned lanes: wrap-around is defined, and the caller's bound makes the result exact.
  std::uint32_t acc = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc += static_cast<std::uint32_t>(w[i]) * static_cast<std::uint32_t>(std::int32_t{x[i]});
  }
  return static_cast<std::int32_t>(acc);
}

SYNCACHE_CLONES std::int32_t dot(const std::int8_t* a, const std::int8_t* b, std::size_t n) {
  // 16-bit lanes: with |a_i b_i| <= 128^2 a block of 2 products per lane cannot overflow;
  // for +-1/0 inputs (the perceptron) blocks of 16384 stay exact, which is what we use.
  std::int32_t acc = 0;
  constexpr std::size_t kChunk = 16384;
  for (std::size_t start = 0; start < n; start += kChunk) {
    const std::size_t end = std::min(n, start + kChunk);
    std::uint16_t part = 0;  // modular arithmetic; exact when |sum| < 2^15
    for (std::size_t i = start; i < end; ++i) {
      part = static_cast<std::uint16_t>(part + static_cast<std::uint16_t>(a[i] * b[i]));
    }
    acc += static_cast<std::int16_t>(part);
  }
  return acc;
}

SYNCACHE_CLONES void axpy(double* y, double a, const std::int16_t* c, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] += a * c[i];
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

// Floating-point reductions use GCC/Clang vector extensions with several independent
// 8-lane accumulators; the summation order is fixed by the code (and contraction into
// FMA is disabled for the library), so every clone gives bit-identical results.
typedef double v8d __attribute__((vector_size(64)));
typedef std::int8_t v8b __attribute__((vector_size(8)));
typedef std::int32_t v8i __attribute__((vector_size(32)));

SYNCACHE_INLINE static inline v8d load8(const double* p) {
  v8d v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
SYNCACHE_INLINE static inline void store8(double* p, v8d v) { std::memcpy(p, &v, sizeof v); }
SYNCACHE_INLINE static inline double hsum(v8d v) {
  return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}
typedef std::uint64_t v8u __attribute__((vector_size(64)));
// |v| by clearing the sign bits (one AND instead of compare, negate and blend).
SYNCACHE_INLINE static inline v8d vabs(v8d v) {
  v8u bits;
  std::memcpy(&bits, &v, sizeof v);
  bits &= 0x7fffffffffffffffULL;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}
SYNCACHE_INLINE static inline v8d vmax(v8d a, v8d b) { return a > b ? a : b; }

// int8 -> double in blocks: GCC's loop vectoriser widens int8 to double with vector
// instructions, whereas converting an 8-lane vector-extension value goes lane by lane.
constexpr std::size_t kBlock = 64;
SYNCACHE_INLINE static inline const double* widen(const std::int8_t* x, std::size_t n,
                                                  double* buf) {
  for (std::size_t j = 0; j < n; ++j) buf[j] = x[j];
  return buf;
}
SYNCACHE_INLINE static inline const double* widen(const double* x, std::size_t, double*) {
  return x;
}

template <class X>
SYNCACHE_INLINE static inline double dot_impl(const double* w, const X* x, std::size_t n) {
  alignas(64) double buf[kBlock];
  v8d a0 = {}, a1 = {}, a2 = {}, a3 = {};
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    const double* xd = widen(x + i, kBlock, buf);
    for (std::size_t j = 0; j < kBlock; j += 32) {
      a0 += load8(w + i + j) * load8(xd + j);
      a1 += load8(w + i + j + 8) * load8(xd + j + 8);
      a2 += load8(w + i + j + 16) * load8(xd + j + 16);
      a3 += load8(w + i + j + 24) * load8(xd + j + 24);
    }
  }
  double tail = 0.0;
  for (; i < n; ++i) tail += w[i] * x[i];
  return (hsum(a0) + hsum(a1)) + (hsum(a2) + hsum(a3)) + tail;
}

SYNCACHE_CLONES double dot(const double* w, const std::int8_t* x, std::size_t n) {
  return dot_impl(w, x, n);
}

SYNCACHE_CLONES double dot(const double* w, const double* x, std::size_t n) {
  return dot_impl(w, x, n);
}

SYNCACHE_CLONES void axpy(double* w, double a, const std::int8_t* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) w[i] += a * x[i];
}

SYNCACHE_CLONES void axpy(double* w, double a, const double* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) w[i] += a * x[i];
}

template <class X>
SYNCACHE_INLINE static inline double dot2_impl(const double* l, const double* s, double g,
                                               const X* x, std::size_t n) {
  alignas(64) double buf[kBlock];
  v8d a0 = {}, a1 = {}, b0 = {}, b1 = {};
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    const double* xd = widen(x + i, kBlock, buf);
    for (std::size_t j = 0; j < kBlock; j += 16) {
      const v8d x0 = load8(xd + j), x1 = load8(xd + j + 8);
      a0 += load8(l + i + j) * x0;
      a1 += load8(l + i + j + 8) * x1;
      b0 += load8(s + i + j) * x0;
      b1 += load8(s + i + j + 8) * x1;
    }
  }
  double ta = 0.0, tb = 0.0;
  for (; i < n; ++i) {
    ta += l[i] * x[i];
    tb += s[i] * x[i];
  }
  return (hsum(a0) + hsum(a1) + ta) + g * (hsum(b0) + hsum(b1) + tb);
}

SYNCACHE_CLONES double dot2(const double* l, const double* s, double g, const std::int8_t* x,
                            std::size_t n) {
  return dot2_impl(l, s, g, x, n);
}

SYNCACHE_CLONES double dot2(const double* l, const double* s, double g, const double* x,
                            std::size_t n) {
  return dot2_impl(l, s, g, x, n);
}

template <bool kDelta, class X>
SYNCACHE_INLINE static inline RowStats add_and_stats_impl(double* s, double a, const X* x,
                                                          std::size_t n) {
  alignas(64) double buf[kBlock];
  v8d sum0 = {}, sum1 = {}, mx0 = {}, mx1 = {}, d0 = {}, d1 = {};
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    const double* xd = widen(x + i, kBlock, buf);
    for (std::size_t j = 0; j < kBlock; j += 16) {
      const v8d e0 = a * load8(xd + j), e1 = a * load8(xd + j + 8);
      const v8d s0 = load8(s + i + j) + e0, s1 = load8(s + i + j + 8) + e1;
      store8(s + i + j, s0);
      store8(s + i + j + 8, s1);
      const v8d v0 = vabs(s0), v1 = vabs(s1);
      sum0 += v0;
      sum1 += v1;
      mx0 = vmax(mx0, v0);
      mx1 = vmax(mx1, v1);
      if constexpr (kDelta) {
        d0 += vabs(e0);
        d1 += vabs(e1);
      }
    }
  }
  double ts = 0.0, tm = 0.0, td = 0.0;
  for (; i < n; ++i) {
    const double e = a * x[i];
    s[i] += e;
    const double v = std::fabs(s[i]);
    ts += v;
    tm = std::max(tm, v);
    td += std::fabs(e);
  }
  const v8d m = vmax(mx0, mx1);
  double mx = tm;
  for (int k = 0; k < 8; ++k) mx = std::max(mx, m[k]);
  RowStats r;
  r.sum_abs = hsum(sum0) + hsum(sum1) + ts;
  r.max_abs = mx;
  r.sum_abs_delta = hsum(d0) + hsum(d1) + td;
  return r;
}

SYNCACHE_CLONES RowStats add_and_stats(double* s, double a, const std::int8_t* x, std::size_t n) {
  return add_and_stats_impl<true>(s, a, x, n);
}

SYNCACHE_CLONES RowStats add_and_stats(double* s, double a, const double* x, std::size_t n) {
  return add_and_stats_impl<true>(s, a, x, n);
}

SYNCACHE_CLONES Consolidated consolidate(double* l, double* s, double g, std::size_t n) {
  double sum = 0.0;
  std::int64_t nonzero = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = g * s[i];
    l[i] += v;
    sum += std::fabs(v);
    nonzero += s[i] != 0.0;
    s[i] = 0.0;
  }
  return Consolidated{sum, nonzero};
}

typedef float v16f __attribute__((vector_size(64)));
SYNCACHE_INLINE static inline v16f load16(const float* p) {
  v16f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
SYNCACHE_INLINE static inline double hsum16(v16f v) {
  // pairwise, 4 levels
  const float s8[8] = {v[0] + v[8], v[1] + v[9], v[2] + v[10], v[3] + v[11],
                       v[4] + v[12], v[5] + v[13], v[6] + v[14], v[7] + v[15]};
  const float s4[4] = {s8[0] + s8[4], s8[1] + s8[5], s8[2] + s8[6], s8[3] + s8[7]};
  const float s2[2] = {s4[0] + s4[2], s4[1] + s4[3]};
  return static_cast<double>(s2[0] + s2[1]);
}

SYNCACHE_CLONES void dot2f(const float* l, const float* s, const std::int8_t* x, std::size_t n,
                           double* a, double* b) {
  alignas(64) float buf[kBlock];
  v16f a0 = {}, a1 = {}, b0 = {}, b1 = {};
  for (std::size_t i = 0; i + kBlock <= n; i += kBlock) {
    for (std::size_t j = 0; j < kBlock; ++j) buf[j] = x[i + j];
    for (std::size_t j = 0; j < kBlock; j += 32) {
      const v16f x0 = load16(buf + j), x1 = load16(buf + j + 16);
      a0 += load16(l + i + j) * x0;
      a1 += load16(l + i + j + 16) * x1;
      b0 += load16(s + i + j) * x0;
      b1 += load16(s + i + j + 16) * x1;
    }
  }
  *a = hsum16(a0 + a1);
  *b = hsum16(b0 + b1);
}

double dot2f_error_factor(std::size_t n) {
  // Depth of the float summation: n/32 additions per lane, 1 to combine the two
  // accumulators, 4 in hsum16, plus the rounding of each l_i to float: gamma_(n/32+6)
  // with gamma_k = k u / (1 - k u), u = 2^-24; a margin of 2 levels and 1 % on top.
  const double u = 0x1p-24;
  const double k = static_cast<double>(n) / 32.0 + 8.0;
  return 1.01 * k * u / (1.0 - k * u);
}

SYNCACHE_CLONES RowStats add_and_stats_mirror(double* s, float* sf, double a,
                                              const std::int8_t* x, std::size_t n) {
  // sum_abs_delta is not computed here: int8 callers price changes from the +-1 counts.
  const RowStats r = add_and_stats_impl<false>(s, a, x, n);
  for (std::size_t i = 0; i < n; ++i) sf[i] = static_cast<float>(s[i]);
  return r;
}

}  // namespace syncache::kernels
