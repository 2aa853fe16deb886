// The commands, as functions from their parameters to what they print: the command line
// (apps/syncache.cpp) and the Python package (python/) are two front ends of these.
// Parameters are a JSON object keyed by the names of the models' parameter tables (the
// same keys as experiment files and stored runs); a bad value throws ParamError keyed by
// its parameter, and each front end spells the key its own way (option or keyword).
// Nothing here writes to standard output.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "syncache/io/params.hpp"
#include "syncache/models/patterns.hpp"

namespace syncache {

struct EnergyTally;
struct LearningPoint;

namespace commands {

using Json = nlohmann::ordered_json;

// {classic, consolidation, maintenance, change, total, minimal} of a final result.
Json energy_json(const EnergyTally& e);

// `syncache perceptron`: the keys of perceptron_parameters() (seed included). With
// `patterns` (given as arrays), N, P, seed, zero_mean and a patterns file are refused
// (ParamError keyed by them) and the given set is trained on as it is. Returns N, P, rule,
// seed, the caching parameters (not for classic), alpha, potentiation_only, eta, converged,
// epochs, presentations, updates, consolidation_events, energy (energy_json), inefficiency
// (null when the minimal energy is 0) and version.
Json perceptron(const nlohmann::json& given, const PatternSet<double>* patterns = nullptr);

// `syncache spiking`: the keys of spiking::spiking_parameters(); spiking::result_json.
// `record` (may be null) receives the last round's steps as CSV (spiking::write_record_csv).
Json spiking(const nlohmann::json& given, std::ostream* record = nullptr);

// `syncache theory perceptron` (N, P, c, eta) and `syncache theory transient` (theta,
// tau, p, eta, N, c): the closed forms of models/theory.hpp with their inputs echoed.
std::span<const ParamSpec> theory_perceptron_parameters();
std::span<const ParamSpec> theory_transient_parameters();
Json theory_perceptron(const nlohmann::json& given);
Json theory_transient(const nlohmann::json& given);

// `syncache mlp`: the keys of mlp_parameters() and training_parameters(), plus
// train_limit and test_limit (0 = all) and data (the MNIST folder; "" = the default).
// Every evaluation of the learning curve is passed to `on_point` as it is made.
std::span<const ParamSpec> mlp_data_parameters();
void mlp(const nlohmann::json& given, const std::function<void(const LearningPoint&)>& on_point);
// The CSV columns of the learning curve, and one point as a CSV line (shortest round-trip
// numbers, no newline): the totals, then the same energies and counts of the hidden and
// the output layer (LearningPoint::layers).
inline constexpr const char* kMlpColumns =
    "samples,epoch,accuracy,energy_total,energy_consolidation,energy_maintenance,"
    "energy_pending,energy_minimal,updates,consolidation_events,"
    "hidden_energy_total,hidden_energy_consolidation,hidden_energy_maintenance,"
    "hidden_energy_pending,hidden_energy_minimal,hidden_updates,hidden_consolidation_events,"
    "output_energy_total,output_energy_consolidation,output_energy_maintenance,"
    "output_energy_pending,output_energy_minimal,output_updates,output_consolidation_events";
std::string mlp_csv_line(const LearningPoint& p);

}  // namespace commands
}  // namespace syncache
