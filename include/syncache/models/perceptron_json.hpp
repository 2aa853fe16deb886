// JSON forms of a perceptron run: its parameters (the key of a stored run; the names are
// the `syncache perceptron` option names) and its result (the command's output).
#pragma once

#include <nlohmann/json.hpp>

#include "syncache/models/perceptron.hpp"

namespace syncache {

// Revision of the perceptron's results: part of every stored run's key, raised whenever a
// change of the code changes what a run computes, so that a results store never serves
// runs computed by older code. 2: every eta simulated at eta = 1 (exact zero fields);
// 3: consolidation energy summed in vector lanes (last-digit changes); 4: the cached
// store's gain returns to 1 while no transient weight is left (with decay: exact changes
// into an empty store; theta below the update size now learns exactly as classic).
inline constexpr int kPerceptronRevision = 4;

// Every parameter that changes the result, with the command-line names (N, P, rule,
// theta, tau, c, b, alpha, potentiation_only, eta, max_epochs, zero_mean; patterns for a
// file). tau = inf and theta = inf are written as the string "inf". The seed is not
// included (it is the store's separate key); "revision" (kPerceptronRevision) is.
nlohmann::json perceptron_params_json(const PerceptronConfig& cfg);

// The inverse, for sweep files, stored runs and the command line: every key is read and
// range-checked by its description in perceptron_parameters(); an unknown key, a wrong
// type or a bad value throws ParamError keyed by it. Absent keys keep the defaults of
// PerceptronConfig.
PerceptronConfig perceptron_config_from_json(const nlohmann::json& params);

// converged, epochs, presentations, updates, consolidation_events, energy {classic,
// consolidation, maintenance, change, total, minimal}, inefficiency (null if undefined).
nlohmann::json perceptron_result_json(const PerceptronResult& r);
// Throws std::invalid_argument saying what is wrong unless `j` has the shape of
// perceptron_result_json's result (a stored run read back).
void check_perceptron_result(const nlohmann::json& j);

}  // namespace syncache
