#include "evaluation.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace syncache {

SparseImages SparseImages::from_dense(const float* images, std::size_t count, std::size_t pixels) {
  if (pixels > std::numeric_limits<std::uint32_t>::max()) {
    throw std::invalid_argument("SparseImages: more than 2^32 - 1 pixels per image");
  }
  SparseImages s;
  s.count = count;
  s.pixels = pixels;
  s.start.resize(count + 1, 0);
  for (std::size_t i = 0; i < count; ++i) {  // counted first, then written without branches
    const float* x = images + i * pixels;
    std::size_t m = 0;
    for (std::size_t k = 0; k < pixels; ++k) m += x[k] != 0.0f;  // -0 == 0
    s.start[i + 1] = s.start[i] + m;
  }
  s.index.resize(s.start[count]);
  s.value.resize(s.start[count]);
  for (std::size_t i = 0; i < count; ++i) {
    const float* x = images + i * pixels;
    std::size_t q = s.start[i];
    for (std::size_t k = 0; k < pixels && q < s.start[i + 1]; ++k) {
      s.index[q] = static_cast<std::uint32_t>(k);
      s.value[q] = x[k];
      q += x[k] != 0.0f;
    }
  }
  return s;
}

namespace evaluation {
namespace {

// Batched hidden-layer activities for evaluation: a_i = sigma(W x_i) for every image i, in
// float, with W stored transposed (inputs x hp, hp = H rounded up to a multiple of 8, zero
// padded). Each lane sums x_ik W_kj over the image's non-zero pixels k in increasing order,
// from 0, with separate multiply and add, and sigma is made of +, -, *, / only, so every
// clone gives the same bits (leaving out x_k = 0 changes nothing for finite w).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MLP_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define MLP_CLONES
#endif
#define MLP_INLINE __attribute__((always_inline))

typedef float v16f __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));
typedef std::int32_t v16i __attribute__((vector_size(64)));

// NV vectors of 16 lanes and, if Tail, one of 8: the columns [0, 16 NV + 8 Tail) of z.
template <int NV, bool Tail>
MLP_INLINE static inline void accumulate(const float* wt, std::size_t stride,
                                         const std::uint32_t* idx, const float* val, std::size_t m,
                                         float* z) {
  v16f acc[NV > 0 ? NV : 1];
  v8f tail;
  std::memcpy(acc, z, sizeof(v16f) * NV);
  if constexpr (Tail) std::memcpy(&tail, z + 16 * NV, sizeof tail);
  for (std::size_t q = 0; q < m; ++q) {
    const float* w = wt + std::size_t{idx[q]} * stride;
    const v16f xv = v16f{} + val[q];
    for (int v = 0; v < NV; ++v) {
      v16f wv;
      std::memcpy(&wv, w + 16 * v, sizeof wv);
      acc[v] += xv * wv;
    }
    if constexpr (Tail) {
      v8f wv;
      std::memcpy(&wv, w + 16 * NV, sizeof wv);
      tail += v8f{} + val[q] * wv;
    }
  }
  std::memcpy(z, acc, sizeof(v16f) * NV);
  if constexpr (Tail) std::memcpy(z + 16 * NV, &tail, sizeof tail);
}

template <bool Tail>
MLP_INLINE static inline void accumulate_columns(std::size_t nv, const float* wt,
                                                 std::size_t stride, const std::uint32_t* idx,
                                                 const float* val, std::size_t m, float* z) {
  switch (nv) {
    case 8:
      return accumulate<8, Tail>(wt, stride, idx, val, m, z);
    case 7:
      return accumulate<7, Tail>(wt, stride, idx, val, m, z);
    case 6:
      return accumulate<6, Tail>(wt, stride, idx, val, m, z);
    case 5:
      return accumulate<5, Tail>(wt, stride, idx, val, m, z);
    case 4:
      return accumulate<4, Tail>(wt, stride, idx, val, m, z);
    case 3:
      return accumulate<3, Tail>(wt, stride, idx, val, m, z);
    case 2:
      return accumulate<2, Tail>(wt, stride, idx, val, m, z);
    case 1:
      return accumulate<1, Tail>(wt, stride, idx, val, m, z);
    default:
      return accumulate<0, Tail>(wt, stride, idx, val, m, z);
  }
}

// sigma(z) = 1 / (1 + e^-z) in float: e^y = 2^n e^r with n = round(y / ln 2) and
// r = y - n ln 2 (ln 2 in two parts, n ln2_hi exact), |r| <= ln 2 / 2, e^r by its Taylor
// polynomial of degree 7 (truncation < 1e-8 relative); y = -z clamped to [-87, 88] so that
// 2^n stays a normal float (below z = -88, sigma < 7e-39 is returned as 1 / (1 + e^88)).
// Relative error a few float ulps (tests/test_mlp.cpp); NaN stays NaN. In place on 16
// values (by pointer: a vector argument would depend on the clone's ABI).
MLP_INLINE static inline void sigmoid(float* values) {
  v16f z;
  std::memcpy(&z, values, sizeof z);
  v16f y = -z;
  y = y > 88.0f ? v16f{} + 88.0f : y;
  y = y < -87.0f ? v16f{} - 87.0f : y;
  const v16f round = v16f{} + 0x1.8p23f;  // adding and subtracting rounds to an integer
  const v16f n = (y * 1.44269504f + round) - round;
  const v16f r = (y - n * 0.693359375f) - n * -2.12194440e-4f;
  v16f p = v16f{} + (1.0f / 5040.0f);
  p = p * r + (1.0f / 720.0f);
  p = p * r + (1.0f / 120.0f);
  p = p * r + (1.0f / 24.0f);
  p = p * r + (1.0f / 6.0f);
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const v16i bits = (__builtin_convertvector(n, v16i) + 127) << 23;
  v16f scale;
  std::memcpy(&scale, &bits, sizeof scale);
  z = 1.0f / (1.0f + p * scale);
  std::memcpy(values, &z, sizeof z);
}

}  // namespace

MLP_CLONES void sigmoid_floats(float* values, std::size_t count) {
  std::size_t i = 0;
  for (; i + 16 <= count; i += 16) sigmoid(values + i);
  if (i < count) {
    float last[16] = {};
    std::copy_n(values + i, count - i, last);
    sigmoid(last);
    std::copy_n(last, count - i, values + i);
  }
}

// a (count x hp) = sigma(images first .. first + count - 1 times wt (pixels x hp)); the
// padding columns hold sigma(0). The pixels are taken in blocks whose rows of W stay in
// the cache while every image passes over them (the partial sums are stored and reloaded
// exactly: the order of each sum is unchanged); cursor holds count values.
MLP_CLONES void hidden_activities(const SparseImages& x, std::size_t first, std::size_t count,
                                  const float* wt, std::size_t hp, float* a, std::size_t* cursor) {
  std::fill_n(a, count * hp, 0.0f);
  std::copy_n(x.start.begin() + static_cast<std::ptrdiff_t>(first), count, cursor);
  const std::size_t kb = std::max<std::size_t>(16, 16384 / hp);  // 64 KB of W per block
  for (std::size_t k1 = kb;; k1 += kb) {
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t b = cursor[i], e = x.start[first + i + 1];
      std::size_t q = b;
      while (q < e && x.index[q] < k1) ++q;
      cursor[i] = q;
      if (q == b) continue;
      for (std::size_t col = 0; col < hp;) {  // 8 vectors (128 columns) at a time
        const std::size_t nv = std::min<std::size_t>((hp - col) / 16, 8);
        const bool tail = nv < 8 && (hp - col) % 16 != 0;
        if (tail) {
          accumulate_columns<true>(nv, wt + col, hp, &x.index[b], &x.value[b], q - b,
                                   a + i * hp + col);
        } else {
          accumulate_columns<false>(nv, wt + col, hp, &x.index[b], &x.value[b], q - b,
                                    a + i * hp + col);
        }
        col += 16 * nv + (tail ? 8 : 0);
      }
    }
    if (k1 >= x.pixels) break;
  }
  sigmoid_floats(a, count * hp);
}

}  // namespace evaluation
}  // namespace syncache
