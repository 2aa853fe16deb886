// Training the MNIST network until a stopping rule fires (docs/model.md section 3): a target
// test accuracy, no improvement for `patience` epochs, or a maximum number of epochs. The
// `syncache mlp` command and the MNIST figures (5A, 5B, 5C, 3-supplement 1B) share it, and
// the figures run it through the runner and the results store (run_mlp_curves).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "syncache/core/energy.hpp"
#include "syncache/experiments/experiment.hpp"
#include "syncache/io/mnist.hpp"
#include "syncache/models/mlp.hpp"

namespace syncache {

/// The stopping rule of an MNIST run: epoch limit, patience, target accuracy, evaluation interval.
struct TrainingOptions {
  std::int64_t max_epochs = 30;  // >= 1
  // Epochs whose end-of-epoch accuracy does not beat the best end-of-epoch accuracy so far
  // before stopping (authors: 3); 0 = never stop for that reason.
  std::int64_t patience = 3;
  std::optional<double> target;    // stop at the first evaluation with accuracy >= target
  std::int64_t eval_every = 1000;  // samples between evaluations (authors: 1000); >= 1

  // Throws ParamError keyed by the parameter (epochs, patience, target_accuracy,
  // eval_every) with what is allowed.
  void validate() const;
};

// The stopping rule's parameters, described once: the `syncache mlp` options epochs,
// target_accuracy, patience and eval_every, read by training_options_from_json.
std::span<const ParamSpec> training_parameters();
TrainingOptions training_options_from_json(const nlohmann::json& params);

/// Why an MNIST run stopped: its target accuracy, the patience rule or the epoch limit.
enum class StopReason { target, patience, max_epochs };
const char* stop_reason_name(StopReason r);  // "target", "patience", "max_epochs"

/// One evaluation of a learning curve: after `samples` training samples, during epoch
/// `epoch` (from 1). (The optimiser's point of a theta curve is CurvePoint.)
struct LearningPoint {
  std::int64_t samples = 0, epoch = 0;
  double accuracy = 0.0;  // on the whole test set given
  // Mlp::energy(): a snapshot during learning, so pending is the transient weight "as if
  // consolidated now"; with the counts (alpha = 0) updates and consolidation_events.
  EnergyTally energy;
  // More counts: Mlp::pending_changes(), plastic_samples(). Results stored before these
  // (or energy.updates and energy.consolidation_events) existed read them back as -1.
  std::int64_t pending_changes = 0, plastic_samples = 0;
  // Mlp::layer_energy of the hidden (0) and output (1) layer. Results stored before these
  // existed read them back as 0 terms and -1 counts.
  std::array<EnergyTally, 2> layers{};
};

// The layers' names in results: "hidden" (inputs -> H, layer 0), "output" (H -> outputs).
inline constexpr const char* kMlpLayerNames[2] = {"hidden", "output"};

/// An MNIST run's learning curve and why it stopped.
struct TrainingResult {
  std::vector<LearningPoint> curve;
  StopReason stop = StopReason::max_epochs;
};

// Trains `net` on `train` in file order, epoch after epoch. Evaluates on `test` whenever
// samples_seen() is a multiple of eval_every and after the last sample of each epoch (once
// when both hold); calls on_point (if set) with each point as it is made. Stops right
// after an evaluation that reaches the target; else, at the end of an epoch, when the
// patience rule fires; else after max_epochs epochs. train.count > 0, test.count > 0.
TrainingResult train_mlp(Mlp& net, const mnist::Dataset& train, const mnist::Dataset& test,
                         const TrainingOptions& opt,
                         const std::function<void(const LearningPoint&)>& on_point = nullptr);

// Index of the first point with accuracy >= target (the energy and time "to reach" a
// target are those of that evaluation), or nullopt when no point reaches it.
std::optional<std::size_t> first_reaching(const std::vector<LearningPoint>& curve, double target);

// A result as stored: arrays "samples", "epoch", "accuracy", "total", "consolidation",
// "maintenance", "pending", "minimal", "updates", "consolidation_events",
// "pending_changes", "plastic_samples", then per layer the same energies and counts
// prefixed "hidden_" and "output_" ("hidden_total", ..., "output_consolidation_events"),
// one entry per point, and "stop".
nlohmann::json training_json(const TrainingResult& r);
// The points back from training_json (for first_reaching on stored runs). "total" is not
// read: energy.total() recomputes it from its terms (the same sum, so the same number);
// energy.classic is not stored and reads back as 0.
std::vector<LearningPoint> curve_from_json(const nlohmann::json& r);

// ---- Runs through the runner and the results store ----

/// One MNIST run as the runner and the results store key it: the network and its training.
struct MlpRun {
  MlpConfig net;  // net.seed is the run's seed
  TrainingOptions training;
};

/// Where the MNIST files are, and how many images of each set to use.
struct MlpDataOptions {
  std::string dir;                              // empty: mnist::default_dir()
  std::size_t train_limit = 0, test_limit = 0;  // 0 = all images
};

// The key of one run (experiment "mlp"): network, caching and stopping settings, limits;
// "lazy" (with "lazy_margin") and "restrict" (with "keep", and "keep_output" and
// "keep_rounding" when set) only when they are on, so that
// the keys of plain runs are those stored before they existed.
nlohmann::json mlp_run_params(const MlpRun& run, const MlpDataOptions& data);

// Runs every configuration in parallel (results in input order); runs already in env's
// store are reused, and the MNIST files are read only if some run has to be computed.
std::vector<nlohmann::json> run_mlp_curves(const std::vector<MlpRun>& runs,
                                           const MlpDataOptions& data, const ExperimentEnv& env,
                                           const std::string& label);

}  // namespace syncache
