// JSON and CSV forms of a spiking-neuron run (`syncache spiking`, Figure 2—supplement 1):
// the parameters that key a stored run, the result object, and the recorded trial.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <vector>

#include "syncache/models/spiking.hpp"

namespace syncache::spiking {

// Raised whenever a change of the code changes what a run computes (part of the key).
// 2: the cached store's gain returns to 1 while no transient weight is left (runs with
// decay, last-digit changes). 3: the final consolidation is counted in consolidation,
// pending is 0 (stored results of revision 2 kept the transient weights in pending).
inline constexpr int kSpikingRevision = 3;

// patterns, rule, theta, tau, c, max_rounds, background ("authors"|"shunting"), revision;
// infinite values as the string "inf". The seed is the store's separate key.
nlohmann::json params_json(const LearningConfig& cfg);

// A learning run from its parameters (the command line's values): every key read and
// range-checked by spiking_parameters(); a bad or unknown key throws ParamError keyed by
// it; absent keys keep LearningConfig's defaults; theta is required unless the rule is
// classic. The result is validated.
LearningConfig config_from_json(const nlohmann::json& params);

// patterns, seed, rule, theta, converged, rounds, counted_rounds, success (null when all
// patterns share a class), energy {classic, consolidation, maintenance, pending (0: the
// final consolidation is counted in consolidation), total, minimal}, saving
// (1 - total / classic), output_spikes, classes (per pattern, 1 = strong visual input) and
// responses (A_p = g_A . x_p on the final weights, nS).
nlohmann::json result_json(const LearningConfig& cfg, const LearningResult& r);

// The recorded steps as CSV: pattern,class,t_ms,v_mv,output_spike,visual_spikes,
// background_spikes, then input_k,spikes_k,g_k for each active input k = 1, 2, ... of the
// pattern (its index, the spikes arriving in the step, its weight in nS after the step),
// then energy_classic,energy_consolidation,consolidation_events (the store's, at the start
// of the step) and, in a trial's first row only, l_start,s_start: l and s of every
// auditory synapse at the start of the trial, space-separated (what a replay starts from).
void write_record_csv(std::ostream& out, const Params& p, const std::vector<Pattern>& patterns,
                      const std::vector<StepRecord>& steps);

}  // namespace syncache::spiking
