// CachedStore's model (docs/model.md section 2: w = l + s, s = g s~ with one common gain
// that carries the decay, a consolidation rule, maintenance c sum |s|) for a layer whose
// inputs are mostly zero (the MNIST network's first layer: 81 % of the pixels are 0). The
// weights are laid out by input (kernels::ColumnInput: the weights from one input to every
// row contiguous), so a sample's fields and change read and write only the non-zero inputs'
// weights, and every row is handled at once.
//
// Every value equals CachedStore's after the same calls (tests/test_mlp_sparse.cpp): the
// weights, every energy term and the consolidation events. The arithmetic is the same,
// with the same roundings in the same order per row (the column kernels' lanes) and across
// rows (row order), as long as the weights, the scales and the inputs are finite (the
// column kernels' condition). What differs is how the row statistics that the rules read
// are kept, without a pass over every row after each change:
// - max |s~| of a row is not kept exactly; a bound U >= max |s~| is. After apply_rule
//   every row has g U <= theta under a max rule (the rows above it consolidated), and
//   until the next check g only falls (a renormalisation keeps the product g U); so
//   whether a row changed by one add since the last check exceeds theta is decided by the
//   largest |s~| among the entries that add changed (rounding is monotone: g max |s~| is
//   the max of the g |s~|). A row changed twice is scanned.
//   Whether the store is empty (the gain's return to 1) is read from U = 0: a change that
//   leaves an entry it touched non-zero keeps the row non-empty; when one leaves all of
//   them at 0 (or a renormalisation may have rounded entries to 0), the rows are scanned
//   the next time emptiness is asked.
// - sum |s~| of a row is computed when it is read (in CachedStore's order: add_and_stats'
//   lanes after add, refresh_row_stats' sequential sum after add_at), or after each add
//   when the rule or the maintenance cost reads it every step.
// Restricted to what the network uses: change cost |Delta| (alpha = 1, both signs), b = 0
// (std::invalid_argument otherwise) and no listener.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include "syncache/core/cached_store.hpp"
#include "syncache/core/energy.hpp"
#include "syncache/core/kernels.hpp"
#include "syncache/core/rule.hpp"

namespace syncache {

/// std::allocator with 64-byte alignment (one cache line, one 8-double vector).
template <class T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{64}));
  }
  void deallocate(T* p, std::size_t) { ::operator delete (p, std::align_val_t{64}); }
  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const {
    return true;
  }
};
using AlignedDoubles = std::vector<double, CacheLineAllocator<double>>;

// The padded row count of a column-major matrix: rows rounded up to a multiple of 8.
inline std::size_t padded_rows(std::size_t rows) {
  return (rows + 7) / 8 * 8;
}

/// CachedStore's model laid out by input, for layers whose inputs are mostly zero: a sample
/// reads and writes only the non-zero inputs' weights, and every value equals CachedStore's.
class CachedColumnStore {
 public:
  CachedColumnStore(std::size_t rows, std::size_t cols, CacheParams params);

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  std::size_t padded() const { return hp_; }  // padded_rows(rows())
  const CacheParams& params() const { return params_; }

  // CachedStore::field of every row: out[r] = sum_i l_ri x_i + g sum_i s~_ri x_i for
  // r < padded() (out holds padded() values), x given by its listed entries.
  void fields(const kernels::ColumnInput& x, double* out);
  // CachedStore::add(r, scale[r], x) for every row r with row_mask[r] != 0 (every row when
  // row_mask is null), in row order. scale holds padded() values.
  void add(const double* scale, const char* row_mask, const kernels::ColumnInput& x);
  // CachedStore::add(row, dw) (dw: cols() values) and add_at.
  void add(std::size_t row, const double* dw);
  void add_at(std::size_t row, const std::size_t* cols, const double* dw, std::size_t n);
  // CachedStore's apply_rule, charge_maintenance, decay and consolidate_all.
  void apply_rule();
  void charge_maintenance();
  void decay();
  void consolidate_all();

  double gain() const { return g_; }
  double persistent(std::size_t row, std::size_t col) const { return l_[col * hp_ + row]; }
  double transient(std::size_t row, std::size_t col) const { return g_ * s_[col * hp_ + row]; }
  double weight(std::size_t row, std::size_t col) const {
    return persistent(row, col) + transient(row, col);
  }
  // sum over all rows and synapses of |s_i| (CachedStore::transient_abs_sum).
  double transient_abs_sum() const;
  // The state of the CachedStore that the same calls would have made (between steps: no
  // row changed since apply_rule), to continue the run in one; the weights must be finite.
  CachedStore::State state() const;
  const EnergyTally& energy() const { return energy_; }
  std::int64_t consolidation_events() const { return events_; }

 private:
  // How row_sum_ relates to the row: current, or to be computed in add_and_stats' lanes
  // (after add) or refresh_row_stats' sequential order (after add_at).
  enum class Sum : char { current, lanes, sequential };
  // The sums of the stale rows as CachedStore would hold them (sums: padded() values, the
  // current ones copied).
  void current_sums(double* sums) const;
  void settle_sums();                 // current_sums into row_sum_
  bool exceeds_max(std::size_t row);  // g max |s~_row| > theta, for a row touched once
  void consolidate_rows(const std::vector<std::int64_t>& keep);
  void consolidate_synapses(std::size_t row);
  void renormalise();
  bool reset_gain_if_empty();
  void after_change(std::size_t row, double changed_max);

  std::size_t rows_, cols_, hp_;
  CacheParams params_;
  const RuleInfo* rule_ = nullptr;
  double factor_;
  double g_ = 1.0;
  AlignedDoubles l_, s_;         // cols x hp, column-major
  std::vector<double> row_sum_;  // sum |s~| per row, when row_sum_kind_ is current
  std::vector<Sum> row_sum_kind_;
  std::vector<double> bound_;        // U >= max |s~| per row
  std::vector<double> changed_max_;  // max |s~| of the entries changed since the last check
  std::vector<int> adds_;            // changes since the last check (touched: adds_ > 0)
  bool zeroed_ = false;              // a row with U > 0 may have become empty
  bool eager_sums_ = false;          // the rule or the maintenance cost reads sum |s~|
  EnergyTally energy_;
  std::int64_t events_ = 0;
  // Scratch.
  AlignedDoubles scale_, lanes_, row_values_;
  std::vector<std::int64_t> keep_, nonzero_;
};

}  // namespace syncache
