#include "syncache/core/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

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

SYNCACHE_CLONES std::int64_t dot_wide(const std::int32_t* w, const std::int8_t* x, std::size_t n) {
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
SYNCACHE_INLINE static inline void store8(double* p, v8d v) {
  std::memcpy(p, &v, sizeof v);
}
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
SYNCACHE_INLINE static inline v8d vmax(v8d a, v8d b) {
  return a > b ? a : b;
}

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

typedef float v8f __attribute__((vector_size(32)));

// kSigned: also sum_i s_i, and write the float mirror sf (when not null).
template <bool kDelta, class X, bool kSigned = false>
SYNCACHE_INLINE static inline RowStats add_and_stats_impl(double* s, double a, const X* x,
                                                          std::size_t n, float* sf = nullptr) {
  v8d sg0 = {}, sg1 = {};
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
      if constexpr (kSigned) {
        sg0 += s0;
        sg1 += s1;
        const v8f f0 = __builtin_convertvector(s0, v8f), f1 = __builtin_convertvector(s1, v8f);
        std::memcpy(sf + i + j, &f0, sizeof f0);
        std::memcpy(sf + i + j + 8, &f1, sizeof f1);
      }
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
  if constexpr (kSigned) {
    double tail = 0.0;
    for (std::size_t k = n - n % kBlock; k < n; ++k) {
      tail += s[k];
      sf[k] = static_cast<float>(s[k]);
    }
    r.sum = hsum(sg0) + hsum(sg1) + tail;
  }
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

// Column-major kernels (kernels.hpp: ColumnInput, and why they equal the row kernels).
// Rows are taken NV vectors (8 NV rows) at a time, the lane sums of each vector kept in
// registers while a lane's inputs pass: r[L][v] holds lane L of vector v. Blocks of 8, 4,
// 2 and 1 vectors cover any hp (a multiple of 8).
SYNCACHE_INLINE static inline v8d broadcast(double v) {
  return v8d{v, v, v, v, v, v, v, v};
}
// (hsum(lanes 0-7) + hsum(lanes 8-15)) + lane 16 of vector v, per row.
template <std::size_t NV>
SYNCACHE_INLINE static inline v8d combine(const v8d (&r)[kLanes][NV], std::size_t v) {
  const v8d h0 =
      ((r[0][v] + r[1][v]) + (r[2][v] + r[3][v])) + ((r[4][v] + r[5][v]) + (r[6][v] + r[7][v]));
  const v8d h1 = ((r[8][v] + r[9][v]) + (r[10][v] + r[11][v])) +
                 ((r[12][v] + r[13][v]) + (r[14][v] + r[15][v]));
  return (h0 + h1) + r[16][v];
}
// Calls block.template operator()<NV>(j0) over the rows [0, hp) in blocks of NV vectors.
template <class Block>
SYNCACHE_INLINE static inline void by_blocks(std::size_t hp, Block&& block) {
  std::size_t j0 = 0;
  for (; j0 + 64 <= hp; j0 += 64) block.template operator()<8>(j0);
  if (hp - j0 >= 32) {
    block.template operator()<4>(j0);
    j0 += 32;
  }
  if (hp - j0 >= 16) {
    block.template operator()<2>(j0);
    j0 += 16;
  }
  if (hp - j0 >= 8) block.template operator()<1>(j0);
}

static std::size_t widen_nonzeros_scalar(const float* x, std::size_t begin, std::size_t n,
                                         double* xd, std::uint32_t* index, double* value,
                                         std::size_t m) {
  for (std::size_t i = begin; i < n; ++i) {
    xd[i] = x[i];
    index[m] = static_cast<std::uint32_t>(i);
    value[m] = xd[i];
    m += xd[i] != 0.0;
  }
  return m;
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f,avx512vl"))) static std::size_t widen_nonzeros_avx512(
    const float* x, std::size_t n, double* xd, std::uint32_t* index, double* value) {
  std::size_t m = 0, i = 0;
  const __m256i step = _mm256_set1_epi32(8);
  __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (; i + 8 <= n; i += 8) {
    // (Converted by the vector extension: GCC 12's _mm512_cvtps_pd trips
    // -Wmaybe-uninitialized.)
    v8f f;
    std::memcpy(&f, x + i, sizeof f);
    const v8d d = __builtin_convertvector(f, v8d);
    std::memcpy(xd + i, &d, sizeof d);
    const __m512d v = _mm512_loadu_pd(xd + i);
    // not equal, or unordered (NaN): x != 0
    const __mmask8 nz = _mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_NEQ_UQ);
    if (nz != 0) {
      _mm512_mask_compressstoreu_pd(value + m, nz, v);
      _mm256_mask_compressstoreu_epi32(index + m, nz, idx);
      m += static_cast<std::size_t>(__builtin_popcount(nz));
    }
    idx = _mm256_add_epi32(idx, step);
  }
  return widen_nonzeros_scalar(x, i, n, xd, index, value, m);
}
#endif

std::size_t widen_nonzeros(const float* x, std::size_t n, double* xd, std::uint32_t* index,
                           double* value) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool available =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
  if (available) return widen_nonzeros_avx512(x, n, xd, index, value);
#endif
  return widen_nonzeros_scalar(x, 0, n, xd, index, value, 0);
}

ColumnInput column_input(const std::uint32_t* index, const double* value, std::size_t count,
                         std::size_t n, std::uint32_t* lane_index, double* lane_value) {
  // A stable counting sort by lane keeps each lane's inputs ascending.
  ColumnInput x;
  x.index = lane_index;
  x.value = lane_value;
  x.n = n;
  std::uint32_t counts[kLanes] = {};
  for (std::size_t q = 0; q < count; ++q) ++counts[lane_of(index[q], n)];
  for (std::size_t L = 0; L < kLanes; ++L) x.begin[L + 1] = x.begin[L] + counts[L];
  std::uint32_t next[kLanes];
  std::copy(x.begin, x.begin + kLanes, next);
  for (std::size_t q = 0; q < count; ++q) {
    const std::uint32_t at = next[lane_of(index[q], n)]++;
    lane_index[at] = index[q];
    lane_value[at] = value[q];
  }
  return x;
}

SYNCACHE_CLONES void column_dot(const double* m, std::size_t hp, const ColumnInput& x,
                                double* out) {
  by_blocks(hp, [&]<std::size_t NV>(std::size_t j0) SYNCACHE_INLINE {
    v8d r[kLanes][NV];
    for (std::size_t L = 0; L < kLanes; ++L) {
      v8d acc[NV] = {};
      for (std::uint32_t q = x.begin[L]; q < x.begin[L + 1]; ++q) {
        const double* w = m + std::size_t{x.index[q]} * hp + j0;
        const v8d xv = broadcast(x.value[q]);
        for (std::size_t v = 0; v < NV; ++v) acc[v] += load8(w + 8 * v) * xv;
      }
      for (std::size_t v = 0; v < NV; ++v) r[L][v] = acc[v];
    }
    for (std::size_t v = 0; v < NV; ++v) store8(out + j0 + 8 * v, combine(r, v));
  });
}

SYNCACHE_CLONES void column_dot2(const double* l, const double* s, std::size_t hp,
                                 const ColumnInput& x, double* out_l, double* out_s) {
  by_blocks(hp, [&]<std::size_t NV>(std::size_t j0) SYNCACHE_INLINE {
    v8d rl[kLanes][NV], rs[kLanes][NV];
    for (std::size_t L = 0; L < kLanes; ++L) {
      v8d al[NV] = {}, as[NV] = {};
      for (std::uint32_t q = x.begin[L]; q < x.begin[L + 1]; ++q) {
        const std::size_t at = std::size_t{x.index[q]} * hp + j0;
        const v8d xv = broadcast(x.value[q]);
        for (std::size_t v = 0; v < NV; ++v) {
          al[v] += load8(l + at + 8 * v) * xv;
          as[v] += load8(s + at + 8 * v) * xv;
        }
      }
      for (std::size_t v = 0; v < NV; ++v) {
        rl[L][v] = al[v];
        rs[L][v] = as[v];
      }
    }
    for (std::size_t v = 0; v < NV; ++v) {
      store8(out_l + j0 + 8 * v, combine(rl, v));
      store8(out_s + j0 + 8 * v, combine(rs, v));
    }
  });
}

SYNCACHE_CLONES void column_axpy(double* m, std::size_t hp, const double* a, const ColumnInput& x) {
  for (std::size_t q = 0; q < x.count(); ++q) {
    const v8d xv = broadcast(x.value[q]);
    double* w = m + std::size_t{x.index[q]} * hp;
    for (std::size_t j = 0; j < hp; j += 8) store8(w + j, load8(w + j) + load8(a + j) * xv);
  }
}

SYNCACHE_CLONES void column_add(double* s, std::size_t hp, const double* a, const ColumnInput& x,
                                double* delta, double* new_max) {
  by_blocks(hp, [&]<std::size_t NV>(std::size_t j0) SYNCACHE_INLINE {
    v8d r[kLanes][NV];
    v8d av[NV], mx[NV] = {};
    for (std::size_t v = 0; v < NV; ++v) av[v] = load8(a + j0 + 8 * v);
    for (std::size_t L = 0; L < kLanes; ++L) {
      v8d d[NV] = {};
      for (std::uint32_t q = x.begin[L]; q < x.begin[L + 1]; ++q) {
        double* sk = s + std::size_t{x.index[q]} * hp + j0;
        const v8d xv = broadcast(x.value[q]);
        for (std::size_t v = 0; v < NV; ++v) {
          const v8d e = av[v] * xv;
          const v8d after = load8(sk + 8 * v) + e;
          store8(sk + 8 * v, after);
          d[v] += vabs(e);
          mx[v] = vmax(mx[v], vabs(after));
        }
      }
      for (std::size_t v = 0; v < NV; ++v) r[L][v] = d[v];
    }
    for (std::size_t v = 0; v < NV; ++v) {
      store8(delta + j0 + 8 * v, combine(r, v));
      store8(new_max + j0 + 8 * v, mx[v]);
    }
  });
}

SYNCACHE_CLONES void column_abs_sums(const double* s, std::size_t hp, std::size_t n, double* lanes,
                                     double* seq, double* max, double* scratch) {
  if (lanes != nullptr) {
    // One pass in input order (a stream), the lanes in scratch.
    std::fill_n(scratch, kLanes * hp, 0.0);
    for (std::size_t k = 0; k < n; ++k) {
      const double* sk = s + k * hp;
      double* acc = scratch + lane_of(k, n) * hp;
      for (std::size_t j = 0; j < hp; j += 8) store8(acc + j, load8(acc + j) + vabs(load8(sk + j)));
    }
    for (std::size_t j = 0; j < hp; j += 8) {
      const double* p = scratch + j;
      const v8d h0 =
          ((load8(p) + load8(p + hp)) + (load8(p + 2 * hp) + load8(p + 3 * hp))) +
          ((load8(p + 4 * hp) + load8(p + 5 * hp)) + (load8(p + 6 * hp) + load8(p + 7 * hp)));
      const v8d h1 =
          ((load8(p + 8 * hp) + load8(p + 9 * hp)) + (load8(p + 10 * hp) + load8(p + 11 * hp))) +
          ((load8(p + 12 * hp) + load8(p + 13 * hp)) + (load8(p + 14 * hp) + load8(p + 15 * hp)));
      store8(lanes + j, (h0 + h1) + load8(p + 16 * hp));
    }
  }
  if (seq == nullptr && max == nullptr) return;
  by_blocks(hp, [&]<std::size_t NV>(std::size_t j0) SYNCACHE_INLINE {
    v8d sq[NV] = {}, mx[NV] = {};
    for (std::size_t k = 0; k < n; ++k) {
      const double* sk = s + k * hp + j0;
      for (std::size_t v = 0; v < NV; ++v) {
        const v8d a = vabs(load8(sk + 8 * v));
        sq[v] += a;
        mx[v] = vmax(mx[v], a);
      }
    }
    for (std::size_t v = 0; v < NV; ++v) {
      if (seq != nullptr) store8(seq + j0 + 8 * v, sq[v]);
      if (max != nullptr) store8(max + j0 + 8 * v, mx[v]);
    }
  });
}

SYNCACHE_CLONES void column_consolidate(double* l, double* s, std::size_t hp, std::size_t n,
                                        double g, const std::int64_t* keep, double* sum,
                                        std::int64_t* nonzero) {
  const std::size_t full = n - n % 16;  // consolidate's lanes
  const v8d one = broadcast(1.0);
  by_blocks(hp, [&]<std::size_t NV>(std::size_t j0) SYNCACHE_INLINE {
    v8d r[kLanes][NV];
    v8u kp[NV];
    for (std::size_t v = 0; v < NV; ++v) std::memcpy(&kp[v], keep + j0 + 8 * v, sizeof kp[v]);
    v8d nz[NV] = {};
    for (std::size_t L = 0; L < kLanes; ++L) {
      v8d acc[NV] = {};
      const std::size_t first = L < 16 ? L : full, last = L < 16 ? full : n;
      const std::size_t step = L < 16 ? 16 : 1;
      for (std::size_t k = first; k < last; k += step) {
        double* lk = l + k * hp + j0;
        double* sk = s + k * hp + j0;
        for (std::size_t v = 0; v < NV; ++v) {
          const v8d sv = load8(sk + 8 * v);
          const v8d gv = g * sv;
          acc[v] += vabs(gv);
          nz[v] += sv != 0.0 ? one : v8d{};
          // kept rows: l += g s, s = 0 (bitwise selects on the all-ones lanes of kp)
          const v8d lv = load8(lk + 8 * v), moved = lv + gv;
          v8u lb, mb, sb;
          std::memcpy(&lb, &lv, sizeof lb);
          std::memcpy(&mb, &moved, sizeof mb);
          std::memcpy(&sb, &sv, sizeof sb);
          lb = (mb & kp[v]) | (lb & ~kp[v]);
          sb &= ~kp[v];
          std::memcpy(lk + 8 * v, &lb, sizeof lb);
          std::memcpy(sk + 8 * v, &sb, sizeof sb);
        }
      }
      for (std::size_t v = 0; v < NV; ++v) r[L][v] = acc[v];
    }
    for (std::size_t v = 0; v < NV; ++v) {
      store8(sum + j0 + 8 * v, combine(r, v));
      for (int e = 0; e < 8; ++e) nonzero[j0 + 8 * v + e] = static_cast<std::int64_t>(nz[v][e]);
    }
  });
}

SYNCACHE_CLONES Consolidated consolidate(double* l, double* s, double g, std::size_t n) {
  typedef std::int64_t v8l __attribute__((vector_size(64)));
  v8d sum0 = {}, sum1 = {};
  v8l nz0 = {}, nz1 = {};
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const v8d s0 = load8(s + i), s1 = load8(s + i + 8);
    const v8d v0 = g * s0, v1 = g * s1;
    store8(l + i, load8(l + i) + v0);
    store8(l + i + 8, load8(l + i + 8) + v1);
    sum0 += vabs(v0);
    sum1 += vabs(v1);
    nz0 -= (s0 != 0.0);  // lanes of -1 where s != 0
    nz1 -= (s1 != 0.0);
    store8(s + i, v8d{});
    store8(s + i + 8, v8d{});
  }
  double tail = 0.0;
  std::int64_t nonzero = 0;
  for (; i < n; ++i) {
    const double v = g * s[i];
    l[i] += v;
    tail += std::fabs(v);
    nonzero += s[i] != 0.0;
    s[i] = 0.0;
  }
  for (int k = 0; k < 8; ++k) nonzero += nz0[k] + nz1[k];
  return Consolidated{hsum(sum0) + hsum(sum1) + tail, nonzero};
}

typedef float v16f __attribute__((vector_size(64)));
SYNCACHE_INLINE static inline v16f load16(const float* p) {
  v16f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
SYNCACHE_INLINE static inline double hsum16(v16f v) {
  // pairwise, 4 levels
  const float s8[8] = {v[0] + v[8],  v[1] + v[9],  v[2] + v[10], v[3] + v[11],
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

SYNCACHE_CLONES RowStats add_and_stats_mirror(double* s, float* sf, double a, const std::int8_t* x,
                                              std::size_t n) {
  // sum_abs_delta is not computed here: int8 callers price changes from the +-1 counts.
  return add_and_stats_impl<false, std::int8_t, true>(s, a, x, n, sf);
}

SYNCACHE_CLONES MirrorSums mirror(const double* v, float* vf, std::size_t n) {
  v8d s0 = {}, s1 = {}, a0 = {}, a1 = {};
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const v8d x0 = load8(v + i), x1 = load8(v + i + 8);
    s0 += x0;
    s1 += x1;
    a0 += vabs(x0);
    a1 += vabs(x1);
  }
  double ts = 0.0, ta = 0.0;
  for (; i < n; ++i) {
    ts += v[i];
    ta += std::fabs(v[i]);
  }
  for (std::size_t k = 0; k < n; ++k) vf[k] = static_cast<float>(v[k]);
  return MirrorSums{hsum(s0) + hsum(s1) + ts, hsum(a0) + hsum(a1) + ta};
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) static void masked_sums_avx512(const float* l, const float* s,
                                                                  const std::uint64_t* bits,
                                                                  std::size_t n, double* a,
                                                                  double* b) {
  // Four accumulators per sum (one masked add each per 64 synapses) keep the add latency
  // off the critical path; the summation depth, n/64 + 6, is within dot2f's bound.
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  __m512 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  for (std::size_t i = 0; i < n; i += 64) {
    const std::uint64_t w = bits[i / 64];
    const auto m0 = static_cast<__mmask16>(w), m1 = static_cast<__mmask16>(w >> 16),
               m2 = static_cast<__mmask16>(w >> 32), m3 = static_cast<__mmask16>(w >> 48);
    a0 = _mm512_mask_add_ps(a0, m0, a0, _mm512_loadu_ps(l + i));
    a1 = _mm512_mask_add_ps(a1, m1, a1, _mm512_loadu_ps(l + i + 16));
    a2 = _mm512_mask_add_ps(a2, m2, a2, _mm512_loadu_ps(l + i + 32));
    a3 = _mm512_mask_add_ps(a3, m3, a3, _mm512_loadu_ps(l + i + 48));
    b0 = _mm512_mask_add_ps(b0, m0, b0, _mm512_loadu_ps(s + i));
    b1 = _mm512_mask_add_ps(b1, m1, b1, _mm512_loadu_ps(s + i + 16));
    b2 = _mm512_mask_add_ps(b2, m2, b2, _mm512_loadu_ps(s + i + 32));
    b3 = _mm512_mask_add_ps(b3, m3, b3, _mm512_loadu_ps(s + i + 48));
  }
  a0 = _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3));
  b0 = _mm512_add_ps(_mm512_add_ps(b0, b1), _mm512_add_ps(b2, b3));
  // Tree reduction of both sums at once (depth 4, as hsum16): 16 -> 8 -> 4 -> 2 -> 1.
  // (Halves through memory: GCC 12's 512-bit extract intrinsics trip -Wuninitialized.)
  alignas(64) float va[16], vb[16];
  _mm512_store_ps(va, a0);
  _mm512_store_ps(vb, b0);
  const __m256 a8 = _mm256_add_ps(_mm256_load_ps(va), _mm256_load_ps(va + 8));
  const __m256 b8 = _mm256_add_ps(_mm256_load_ps(vb), _mm256_load_ps(vb + 8));
  const __m128 a4 = _mm_add_ps(_mm256_castps256_ps128(a8), _mm256_extractf128_ps(a8, 1));
  const __m128 b4 = _mm_add_ps(_mm256_castps256_ps128(b8), _mm256_extractf128_ps(b8, 1));
  const __m128 ab = _mm_hadd_ps(a4, b4);  // a0+a1, a2+a3, b0+b1, b2+b3
  const __m128 r = _mm_hadd_ps(ab, ab);   // a, b, a, b
  alignas(16) float out[4];
  _mm_store_ps(out, r);
  *a = static_cast<double>(out[0]);
  *b = static_cast<double>(out[1]);
}
#endif

static bool pack_signs_scalar(const std::int8_t* x, std::size_t n, std::uint64_t* bits,
                              std::size_t* prefix) {
  std::size_t k = 0;
  while (k < n && x[k] != 0) ++k;
  for (std::size_t w = 0; w < n / 64; ++w) {
    std::uint64_t word = 0;
    for (std::size_t j = 0; j < 64; ++j) {
      const std::int8_t v = x[w * 64 + j];
      if (v < -1 || v > 1 || (w * 64 + j >= k && v != 0)) return false;
      word |= std::uint64_t{v == 1} << j;
    }
    bits[w] = word;
  }
  *prefix = k;
  return true;
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static bool pack_signs_avx2(const std::int8_t* x, std::size_t n,
                                                            std::uint64_t* bits,
                                                            std::size_t* prefix) {
  const __m256i one = _mm256_set1_epi8(1), minus = _mm256_set1_epi8(-1),
                zero = _mm256_setzero_si256();
  bool in_prefix = true;  // still inside the non-zero prefix
  std::size_t k = 0;
  for (std::size_t w = 0; w < n / 64; ++w) {
    std::uint64_t pos = 0, nonzero = 0, valid = 0;
    for (std::size_t h = 0; h < 2; ++h) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + w * 64 + h * 32));
      const auto p = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, one)));
      const auto m = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, minus)));
      const auto z = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, zero)));
      pos |= std::uint64_t{p} << (32 * h);
      nonzero |= std::uint64_t{p | m} << (32 * h);
      valid |= std::uint64_t{p | m | z} << (32 * h);
    }
    if (valid != ~std::uint64_t{0}) return false;
    if (in_prefix) {
      if (nonzero == ~std::uint64_t{0}) {
        k += 64;
      } else {
        if ((nonzero & (nonzero + 1)) != 0) return false;  // not a run of ones from bit 0
        k += static_cast<std::size_t>(__builtin_popcountll(nonzero));
        in_prefix = false;
      }
    } else if (nonzero != 0) {
      return false;
    }
    bits[w] = pos;
  }
  *prefix = k;
  return true;
}
#endif

bool pack_signs(const std::int8_t* x, std::size_t n, std::uint64_t* bits, std::size_t* prefix) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool available = __builtin_cpu_supports("avx2");
  if (available) return pack_signs_avx2(x, n, bits, prefix);
#endif
  return pack_signs_scalar(x, n, bits, prefix);
}

bool masked_sums(const float* l, const float* s, const std::uint64_t* bits, std::size_t n,
                 double* a, double* b) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool available = __builtin_cpu_supports("avx512f");
  if (available) {
    masked_sums_avx512(l, s, bits, n, a, b);
    return true;
  }
#else
  (void)l, (void)s, (void)bits, (void)n, (void)a, (void)b;
#endif
  return false;
}

}  // namespace syncache::kernels
