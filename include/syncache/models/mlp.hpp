// Multilayer network inputs - H - outputs trained by per-sample back-propagation, with or
// without synaptic caching (docs/model.md section 3; paper Figure 5). Logistic units, no bias,
// initial weights N(0, 0.01^2), one-hot targets 0.01 / 0.99, squared error
// E = 1/2 sum_k (t_k - o_k)^2. Each layer's weights live in one CachedStore (rows =
// postsynaptic neurons), so the consolidation rules are those of the perceptron.
// Optionally the per-sample change is restricted before the store sees it (docs/beyond.md):
// lazy learning (Pache & van Rossum 2023, arXiv 2303.16067) and competitive plasticity
// (van Rossum & Pache 2024, PLoS Comput Biol 20:e1012553).
#pragma once

#include <Eigen/Core>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "syncache/core/cached_column_store.hpp"
#include "syncache/core/cached_store.hpp"
#include "syncache/core/energy.hpp"
#include "syncache/core/rule.hpp"
#include "syncache/models/sparse_images.hpp"

namespace syncache {

/// Which part of the back-propagated change a sample may make (van Rossum & Pache 2024):
/// none: all of it; synapse: per layer the ceil(F n_l) largest |Delta w| of the layer's n_l
/// synapses; neuron: per layer the changes into the ceil(F rows) postsynaptic units with the
/// largest |delta|; path: a fixed seed-drawn set of round(F H) hidden units is the only
/// plastic part of layer 0 and the only source of changes in layer 1.
enum class Restriction { none, synapse, neuron, path };
const char* restriction_name(Restriction r);  // "none", "synapse", "neuron", "path"
// The restriction of a name; throws ParamError("restrict", ...) otherwise.
Restriction parse_restriction(const std::string& name);
/// How a keep fraction F of n elements becomes a count k. ceil: k = ceil(F n), exactly k
/// kept (equal sizes: lower index first). authors (van Rossum & Pache 2024, their code's
/// thr_array): k = n - round((1 - F)(n - 1)) with round half to even (Python's and NumPy's
/// round), and every element equal to the k-th largest is kept too.
enum class KeepRounding { ceil, authors };
const char* keep_rounding_name(KeepRounding r);  // "ceil", "authors"
// ceil: ceil(F n) of n items (at least 1, at most n), with F n taken to be an integer when
// it is within 1e-9 of one (so that 0.07 * 100 keeps 7, not 8). authors: n - round((1 -
// F)(n - 1)) in double precision, as NumPy computes it. 0 < F <= 1, n >= 1.
std::size_t keep_count(double keep, std::size_t n, KeepRounding rounding = KeepRounding::ceil);

// theta, tau and c with the network's time unit (samples), as MlpConfig::validate checks
// them.
std::span<const ParamSpec> mlp_caching_parameters();

/// The MNIST network's parameters: sizes, learning rate, caching, restriction, seed.
struct MlpConfig {
  std::size_t inputs = 784, hidden = 100, outputs = 10;
  double eta = 0.1;  // learning rate
  // Caching: rule (classic = no caching), theta, tau in samples with exponential decay
  // s <- s exp(-1/tau), c per |s| per sample (b is not used by the network).
  CacheParams cache = no_caching(DecayForm::exponential);
  bool authors_backprop = false;  // delta_hidden from e = t - o, without o(1 - o)
  std::uint64_t seed = 1;         // initial weights (and the path units)
  // Lazy learning: change the weights only on samples whose largest output (the first of
  // equal maxima) is not the label, or whose label output is below lazy_margin.
  bool lazy = false;
  double lazy_margin = 0.0;  // in [0, 1]; 0 = errors only
  Restriction restriction = Restriction::none;
  // The fraction F, 0 < F <= 1: of the hidden layer (layer 0), and of the output layer
  // unless keep_output is set (synapse and neuron only; path has one F, its hidden units).
  double keep = 1.0;
  std::optional<double> keep_output;
  KeepRounding keep_rounding = KeepRounding::ceil;  // synapse and neuron
  double keep_of(std::size_t layer) const {
    return layer == 1 && keep_output ? *keep_output : keep;
  }
  // false (the default): the first layer's weights are kept by input, and its forward pass
  // and change touch only the inputs that are not 0 (kernels::ColumnInput), with the same
  // results; true: every weight row by row through the dense kernels, the reference the
  // sparse path is tested against. Not a model parameter: no result depends on it.
  bool dense_reference = false;

  // Throws ParamError keyed by the parameter (inputs, hidden, outputs, eta, theta, tau, c,
  // rule, lazy_margin, keep, keep_rounding) with what is allowed.
  void validate() const;
};

// The network's parameters, described once (io/params.hpp): the `syncache mlp` options
// and the keys mlp_config_from_json reads (hidden, eta, rule, theta, tau, c, seed,
// backprop, lazy, lazy_margin, restrict, keep, keep_rounding). keep is one fraction (both
// layers) or, on the command line "F0,F1" and in JSON [F0, F1], one per layer (hidden,
// output).
std::span<const ParamSpec> mlp_parameters();

// A network from its parameters (the command line's values): every key read and
// range-checked by mlp_parameters(); a bad or unknown key throws ParamError keyed by it;
// absent keys keep MlpConfig's defaults. Also checked: theta is required for a caching
// rule, lazy_margin needs lazy, keep and a restriction go together. The result is
// validated.
MlpConfig mlp_config_from_json(const nlohmann::json& params);

/// The network inputs - H - outputs trained by per-sample back-propagation, with or without caching
/// (docs/model.md section 3).
class Mlp {
 public:
  // Row-major: layer 0 is hidden x inputs, layer 1 is outputs x hidden.
  using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  /// dE/dW for one sample (the authors' variant: the update direction it uses, -dW / eta).
  struct Gradient {
    Matrix layer0, layer1;
    double loss = 0.0;  // E = 1/2 sum_k (t_k - o_k)^2
  };

  explicit Mlp(const MlpConfig& config);

  const MlpConfig& config() const { return cfg_; }

  // One per-sample step: forward and backward with w = l + s; then per layer: s += Delta w,
  // consolidation rule (M_cons), maintenance c sum |s| on what stays transient, decay.
  // x holds config().inputs values; 0 <= label < config().outputs.
  void train_sample(const float* x, int label);
  // train_sample over count samples in order (images row-major, count x inputs()).
  void train(const float* images, const std::uint8_t* labels, std::size_t count);
  std::int64_t samples_seen() const { return samples_; }

  // Fraction of images whose largest output is the label (the first of equal maxima).
  // Batched: one product per layer over all images, in float (sigma(W0 x) by a kernel over
  // the non-zero inputs, with its own sigmoid: src/models/evaluation.hpp; W1 a by Eigen).
  // count > 0.
  double accuracy(const float* images, const std::uint8_t* labels, std::size_t count) const;
  // The same for images already held by their non-zero pixels (images.pixels == inputs,
  // labels holds images.count values): the same value, without finding the zeros again.
  double accuracy(const SparseImages& images, const std::uint8_t* labels) const;
  // The outputs o = sigma(W1 sigma(W0 x)) of count images (count x outputs), as above.
  MatrixF outputs(const float* images, std::size_t count) const;

  // Energies so far (docs/model.md section 1), all with alpha = 1, as a learning-curve
  // snapshot: consolidation = sum |Delta l| (classic: sum |Delta w| of every update),
  // maintenance c sum_t sum_i |s_i(t)|, change 0 (b = 0), pending = sum |s| still transient
  // "as if consolidated now" (classic: 0), minimal = sum |w - w(0)| over both layers,
  // classic = sum |Delta w| of every change made, updates() and consolidation_events().
  // The loading of w(0) into the stores is not charged.
  EnergyTally energy() const;
  // Non-zero synaptic changes eta delta_i x_j made so far (delta_i != 0 and x_j != 0): the
  // alpha = 0 energy of the learning rule, transient or not.
  std::int64_t updates() const { return layer_[0].updates + layer_[1].updates; }
  // Synapse consolidations so far, each synapse consolidating once counts 1 (the alpha = 0
  // consolidation energy); classic: every update is written into the persistent weight,
  // so this equals updates().
  std::int64_t consolidation_events() const;
  // The same terms and counts of one layer (0: hidden, inputs -> H; 1: output, H ->
  // outputs). For the cached rules energy()'s consolidation, maintenance and pending are
  // exactly layer 0's plus layer 1's; classic energy and M_min are summed term by term
  // over both layers in one sum, so they may differ from the layers' sum in the last bits.
  // updates and consolidation_events add up exactly.
  EnergyTally layer_energy(std::size_t layer) const;
  std::int64_t layer_consolidation_events(std::size_t layer) const;
  // Synapses whose transient weight is non-zero now (classic: 0).
  std::int64_t pending_changes() const;
  // Samples on which the weights changed (lazy learning skips the others).
  std::int64_t plastic_samples() const { return plastic_samples_; }
  // Restriction path: the plastic hidden units in ascending order; otherwise all of them.
  const std::vector<std::size_t>& plastic_units() const { return path_units_; }

  // For tests and inspection.
  // Whether the first layer runs on the sparse path (by input) now: not with
  // dense_reference, nor after it was handed back to the dense reference (check_column_bound).
  bool sparse_first_layer() const { return layer_[0].by_column(); }
  Matrix weights(std::size_t layer) const;     // l + s
  Matrix persistent(std::size_t layer) const;  // l (classic: w)
  Matrix transient(std::size_t layer) const;   // s (classic: 0)
  const Matrix& initial_weights(std::size_t layer) const { return w0_.at(layer); }
  Gradient gradient(const float* x, int label) const;
  double loss(const float* x, int label) const { return gradient(x, label).loss; }

 private:
  struct Layer {
    std::size_t rows = 0, cols = 0;
    Matrix w;                                  // classic: the weights
    mutable std::optional<CachedStore> store;  // cached: l and s (field() is non-const)
    // The first layer on the sparse path, column-major (cols x padded_rows(rows)):
    AlignedDoubles wt;                                // classic: the weights
    mutable std::optional<CachedColumnStore> cstore;  // cached: l and s
    double init_consolidation = 0.0;  // M_cons of loading w(0) into the store, not charged
    double init_classic = 0.0;        // its sum |Delta w|, not charged either
    double classic_abs = 0.0;         // classic: sum |Delta w| of this layer's changes
    std::int64_t updates = 0;         // this layer's non-zero changes (Mlp::updates)
    bool by_column() const { return !wt.empty() || cstore.has_value(); }
    double field(std::size_t row, const double* x, const double* zeros) const;  // row-major
    double weight(std::size_t row, std::size_t col) const;
    double persistent(std::size_t row, std::size_t col) const;
    double transient(std::size_t row, std::size_t col) const;
    const EnergyTally* tally() const;  // the store's energies (classic: null)
  };
  struct Pass {  // one sample: input, activations, deltas (delta = -dE/dfield)
    std::vector<double> x, h, o, delta_h, delta_o, back;
    double loss = 0.0;
    // The first layer by column: the non-zero inputs (index, value, ascending), the input
    // handed to the column kernels (those, or every input when one is not finite; lane by
    // lane in lane_index, lane_value), sum_i |x_i|, the number of non-zero x_i, whether
    // every x_i is finite; the fields.
    std::vector<std::uint32_t> nz_index, lane_index;
    std::vector<double> nz_value, lane_value;
    kernels::ColumnInput in;
    double x_abs_sum = 0.0;
    std::int64_t x_nonzero = 0;
    bool x_finite = true;
    AlignedDoubles z;
  };
  void forward_backward(const float* x, int label, Pass& p) const;
  bool wants_update(const Pass& p, int label) const;  // lazy learning's test
  void change_layer(int l, const Pass& p);
  // The first layer's change by column (row_mask as dense_change).
  void column_change(Layer& L, const std::vector<double>& delta, const char* row_mask,
                     const Pass& p);
  // Before the first layer changes by column: keeps the bound drift_ on its weights, or
  // hands the layer back to the row-major reference (see the definition).
  void check_column_bound(const Pass& p);
  void to_row_major(Layer& L);
  // Delta w_rc = eta delta_r v_c on the rows r with row_mask[r] (all rows if null).
  void dense_change(Layer& L, const std::vector<double>& delta, const double* v,
                    const char* row_mask);
  void synapse_change(std::size_t l, const std::vector<double>& delta, const double* v,
                      const Pass& p);
  std::size_t keep_count_of(std::size_t layer, std::size_t n) const;  // F of the layer
  Pass make_pass() const;
  void check_label(int label) const;
  void add_minimal(std::size_t layer, double& sum) const;   // sum += |w - w(0)| of the layer
  MatrixF output_fields(const SparseImages& images) const;  // W1 sigma(W0 x)

  MlpConfig cfg_;
  std::array<Layer, 2> layer_;
  std::array<Matrix, 2> w0_;
  std::vector<double> zeros_;  // s = 0 row for the classic forward (same kernel as cached)
  std::vector<std::uint32_t> all_inputs_;  // 0 .. inputs - 1
  double drift_ = 0.0;                     // bound on |w| of the first layer by column
  double classic_energy_ = 0.0;            // classic: sum |Delta w|
  std::int64_t samples_ = 0;
  std::int64_t plastic_samples_ = 0;
  std::array<std::int64_t, 2> init_events_{};  // consolidations of loading w(0), not counted
  std::vector<std::size_t> path_units_;        // plastic hidden units
  std::vector<char> path_mask_;                // 1 for a plastic hidden unit
  Pass pass_;                                  // scratch of train_sample
  // Scratch of the restrictions.
  std::vector<char> row_keep_;
  std::vector<double> masked_, dw_;
  AlignedDoubles scale_;  // eta delta of the first layer by column
  std::vector<std::size_t> order_, nz_rows_, cols_;
  std::vector<std::pair<double, std::size_t>> by_a_, by_v_;  // (|a_r|, r), (|v_c|, c)
};

}  // namespace syncache
