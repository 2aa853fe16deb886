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

// One fused pass over a row of transient weights: s_i += a x_i, returning
// sum_i |s_i| and max_i |s_i| after the update, and sum_i |a x_i|.
struct RowStats {
  double sum = 0.0;  // sum_i s_i (add_and_stats_mirror only)
  double sum_abs = 0.0;
  double max_abs = 0.0;
  double sum_abs_delta = 0.0;
};
RowStats add_and_stats(double* s, double a, const std::int8_t* x, std::size_t n);
RowStats add_and_stats(double* s, double a, const double* x, std::size_t n);

// Consolidation of a row: l_i += g s_i, s_i = 0. Returns sum_i |g s_i| and the number of
// non-zero s_i (for the event count).
struct Consolidated {
  double sum_abs = 0.0;
  std::int64_t nonzero = 0;
};
Consolidated consolidate(double* l, double* s, double g, std::size_t n);

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

// vf_i = float(v_i); returns sum_i v_i and sum_i |v_i|.
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
