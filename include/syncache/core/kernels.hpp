// Vectorised inner loops shared by the weight stores. Each kernel is compiled for
// several instruction sets (AVX-512, AVX2, baseline) and chosen at run time, so one
// binary is fast on any x86-64 machine. Inputs are either int8 (+-1/0 patterns, the
// paper's perceptron) or double (pattern files, zero-mean patterns).
#pragma once

#include <cstddef>
#include <cstdint>

namespace syncache::kernels {

// sum_i w_i x_i, exact in 32-bit lanes; the caller guarantees sum_i |w_i| < 2^31.
std::int32_t dot(const std::int32_t* w, const std::int8_t* x, std::size_t n);
// sum_i w_i x_i with 64-bit accumulation (used when the 32-bit bound cannot be proven).
std::int64_t dot_wide(const std::int32_t* w, const std::int8_t* x, std::size_t n);
// sum_i a_i b_i of two vectors with entries in {-1, 0, +1} (exact for any n)
std::int32_t dot(const std::int8_t* a, const std::int8_t* b, std::size_t n);
// y_i += a c_i for an int16 row c (the overlap matrix of the pattern projections)
void axpy(double* y, double a, const std::int16_t* c, std::size_t n);
// w_i += a x_i
void axpy(std::int32_t* w, std::int32_t a, const std::int8_t* x, std::size_t n);
// sum_i |w_i|
std::int64_t sum_abs(const std::int32_t* w, std::size_t n);

double dot(const double* w, const std::int8_t* x, std::size_t n);
double dot(const double* w, const double* x, std::size_t n);
void axpy(double* w, double a, const std::int8_t* x, std::size_t n);
void axpy(double* w, double a, const double* x, std::size_t n);

// Persistent plus scaled transient field: returns sum_i l_i x_i + g sum_i s_i x_i.
double dot2(const double* l, const double* s, double g, const std::int8_t* x, std::size_t n);
double dot2(const double* l, const double* s, double g, const double* x, std::size_t n);

/// One fused pass over a row of transient weights: s_i += a x_i, returning
/// sum_i |s_i| and max_i |s_i| after the update, and sum_i |a x_i|.
struct RowStats {
  double sum = 0.0;  // sum_i s_i (add_and_stats_mirror only)
  double sum_abs = 0.0;
  double max_abs = 0.0;
  double sum_abs_delta = 0.0;
};
RowStats add_and_stats(double* s, double a, const std::int8_t* x, std::size_t n);
RowStats add_and_stats(double* s, double a, const double* x, std::size_t n);

/// Consolidation of a row: l_i += g s_i, s_i = 0. Returns sum_i |g s_i| and the number of
/// non-zero s_i (for the event count).
struct Consolidated {
  double sum_abs = 0.0;
  std::int64_t nonzero = 0;
};
Consolidated consolidate(double* l, double* s, double g, std::size_t n);

// Column-major matrices for mostly-zero double inputs (the MNIST network's first layer:
// 81 % of the pixels are 0). m[k * hp + r] is the weight from input k to row r; hp, a
// multiple of 8, is the number of rows padded with zero rows, so the weights of one input
// are contiguous.
//
// The row kernels above sum a row's n terms in 17 "lanes": term k of the first n - n % 64
// goes to lane k % 16 (the 16 vector lanes of dot2 and add_and_stats), the others to lane
// 16 (their sequential tail), each lane adding its terms in ascending k from +0; the lanes
// then combine as (hsum(lanes 0-7) + hsum(lanes 8-15)) + lane 16. The column kernels do the
// same for 8 rows per vector lane, taking the inputs lane by lane, so that every row gets
// the same operations in the same order; only the inputs not listed are left out.
//
// Why leaving out an input with x_k = +-0 changes nothing (the exactness argument, tested
// in tests/test_mlp_sparse.cpp): its product w * (+-0) with a finite w is +-0, and adding
// a zero leaves a non-zero lane exactly as it is and a zero lane zero; so every lane, and
// every sum combined from lanes, has the same value as with the term, only a zero may come
// out with the other sign. Likewise a change w += a * (+-0) with finite a changes no value
// (at most the sign of a zero w), and |a * (+-0)| = +0 added to a non-negative sum changes
// not even a bit. A zero's sign reaches no result: it vanishes in a sum with a non-zero
// term, |.|, == and > ignore it, and 1 / (1 + exp(-0)) = 1 / (1 + exp(+0)). So the column
// kernels equal the row kernels whenever the weights, the scales a and the inputs are
// finite; the caller sees to that (Mlp: a bound on the weights' growth).
inline constexpr std::size_t kLanes = 17;
/// The inputs a column kernel takes, grouped by lane (inputs not listed are taken to be
/// 0): entries [begin[L], begin[L + 1]) of index and value are lane L's, in ascending
/// input order; n is the length of the whole input vector (it fixes the lanes).
struct ColumnInput {
  const std::uint32_t* index = nullptr;
  const double* value = nullptr;
  std::uint32_t begin[kLanes + 1] = {};
  std::size_t n = 0;
  std::size_t count() const { return begin[kLanes]; }
};
// The lane of input k of n (see above).
inline std::size_t lane_of(std::size_t k, std::size_t n) {
  return k < n - n % 64 ? k % 16 : 16;
}
// xd_i = double(x_i) for i < n, and the non-zero entries (x_i != 0: -0 is left out, NaN
// is not) in ascending order: their indices and values. Returns their number.
std::size_t widen_nonzeros(const float* x, std::size_t n, double* xd, std::uint32_t* index,
                           double* value);
// The ColumnInput of `count` inputs listed in ascending order (index, value) of a vector of
// n, with lane_index and lane_value (count values each) receiving them lane by lane.
ColumnInput column_input(const std::uint32_t* index, const double* value, std::size_t count,
                         std::size_t n, std::uint32_t* lane_index, double* lane_value);
// out[r] = dot2's sum_k m_kr x_k (its lanes combined), for every row r < hp.
void column_dot(const double* m, std::size_t hp, const ColumnInput& x, double* out);
// The same for two matrices (l and s~ of a cached layer) in one pass.
void column_dot2(const double* l, const double* s, std::size_t hp, const ColumnInput& x,
                 double* out_l, double* out_s);
// m_kr += a_r x_k for the listed k (axpy on every row r at once).
void column_axpy(double* m, std::size_t hp, const double* a, const ColumnInput& x);
// add_and_stats on every row at once: s_kr += a_r x_k for the listed k; delta[r] = its
// sum_abs_delta (sum_k |a_r x_k|, its lanes combined), new_max[r] = max |s_kr| over the
// listed k after the change (0 if none).
void column_add(double* s, std::size_t hp, const double* a, const ColumnInput& x, double* delta,
                double* new_max);
// Over every input k < n, optional outputs (nullptr: skipped): lanes[r] = add_and_stats'
// sum_abs of row r (sum_k |s_kr| in its lanes, combined; scratch: kLanes x hp values),
// seq[r] = sum_k |s_kr| in ascending k from +0 (refresh_row_stats' sum), max[r] =
// max_k |s_kr|.
void column_abs_sums(const double* s, std::size_t hp, std::size_t n, double* lanes, double* seq,
                     double* max, double* scratch);
// consolidate on the rows r with keep[r] = -1 (0: untouched): l_kr += g s_kr, s_kr = 0;
// sum[r] = consolidate's sum_k |g s_kr| (its lanes: k < n - n % 16 in lane k % 16, the rest
// in order) and nonzero[r] = the number of s_kr != 0, for every row (meaningful where kept).
void column_consolidate(double* l, double* s, std::size_t hp, std::size_t n, double g,
                        const std::int64_t* keep, double* sum, std::int64_t* nonzero);

// Float mirror of the persistent-plus-transient field (n a multiple of 64):
// a = sum_i l_i x_i and b = sum_i s_i x_i accumulated in float. With the error bound
// below, the sign of a + g b decides a perceptron error exactly whenever
// |a + g b| > dot2f_error_factor(n) (sum|l| + g sum|s|) (see DecisionFields::decision_field).
void dot2f(const float* l, const float* s, const std::int8_t* x, std::size_t n, double* a,
           double* b);
// Bound factor e(n) with |a - sum_i l_i x_i| <= e(n) sum_i |l_i| for the doubles l_i that
// the floats mirror (conversion plus the n/32 + 5 sequential float additions of dot2f).
double dot2f_error_factor(std::size_t n);
// Packs the signs of x (n a multiple of 64) into bits (bit i set iff x_i = +1) and
// checks the layout the masked sums rely on: every entry in {-1, 0, +1}, the non-zero
// entries forming a prefix; *prefix receives its length. Returns false if not so.
bool pack_signs(const std::int8_t* x, std::size_t n, std::uint64_t* bits, std::size_t* prefix);

/// vf_i = float(v_i); returns sum_i v_i and sum_i |v_i|.
struct MirrorSums {
  double sum = 0.0, abs_sum = 0.0;
};
MirrorSums mirror(const double* v, float* vf, std::size_t n);

// Sums of the float mirrors over the synapses whose input is +1 (bit i % 64 of word
// i / 64 set), n a multiple of 64: a = sum l_i, b = sum s_i over those, in float, with the
// summation depth of dot2f. Uses AVX-512 masked adds; returns false (computing nothing)
// on machines without AVX-512F.
bool masked_sums(const float* l, const float* s, const std::uint64_t* bits, std::size_t n,
                 double* a, double* b);
// add_and_stats for int8 inputs that also refreshes the float mirror sf of s; its
// sum_abs_delta is left 0 (int8 callers price changes from the +-1 counts).
RowStats add_and_stats_mirror(double* s, float* sf, double a, const std::int8_t* x, std::size_t n);

}  // namespace syncache::kernels
