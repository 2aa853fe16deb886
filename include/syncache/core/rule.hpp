// Consolidation rules of synaptic caching (docs/model.md section 2; paper Figure 4A), as
// data: one row of kRules per rule says what it looks at (its scope and statistic) and
// which models accept it. The cached store and every model's validation read this table;
// adding a rule is one enumerator and one row here, plus its test (docs/extending.md).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace syncache {

/// The consolidation rules; `classic` is learning without caching.
enum class Rule { classic, synapse, neuron, sum, layer };

/// What a rule compares with theta, and what consolidates when it is exceeded.
enum class RuleScope {
  none,     // no caching: every change goes straight to the persistent weights
  synapse,  // each synapse's own |s_i|; only that synapse consolidates
  row,      // a statistic of one row's |s_i| (a postsynaptic neuron); the row consolidates
  layer,    // the statistic over every row of the store; the whole store consolidates
};
/// The statistic of |s_i| a rule compares with theta: none, the maximum or the sum.
enum class RuleStatistic { none, max, sum };

// The models, as bits of RuleInfo::models.
enum ModelBit : unsigned { kPerceptron = 1u, kMlp = 2u, kSpiking = 4u };

/// One row of kRules: a rule's name, what it compares with theta, and the models that accept it.
struct RuleInfo {
  Rule rule;
  std::string_view name;
  RuleScope scope;
  RuleStatistic statistic;
  unsigned models;  // ModelBit mask of the models that accept it
  std::string_view doc;
};

// One-neuron models (the perceptron, the spiking neuron) have no layer to consolidate.
inline constexpr RuleInfo kRules[] = {
    {Rule::classic, "classic", RuleScope::none, RuleStatistic::none, kPerceptron | kMlp | kSpiking,
     "no caching: every change goes straight to the persistent weight"},
    {Rule::synapse, "synapse", RuleScope::synapse, RuleStatistic::max,
     kPerceptron | kMlp | kSpiking, "|s_i| > theta consolidates synapse i only"},
    {Rule::neuron, "neuron", RuleScope::row, RuleStatistic::max, kPerceptron | kMlp | kSpiking,
     "max_i |s_i| > theta consolidates the whole row (postsynaptic neuron)"},
    {Rule::sum, "sum", RuleScope::row, RuleStatistic::sum, kPerceptron | kMlp | kSpiking,
     "sum_i |s_i| > theta consolidates the whole row"},
    {Rule::layer, "layer", RuleScope::layer, RuleStatistic::max, kMlp,
     "any |s_i| > theta in the store consolidates every row"},
};

const RuleInfo& rule_info(Rule r);
std::string_view rule_name(Rule r);
// The names of the rules `model` accepts, separated by `separator` (classic first, or
// left out with caching_only).
std::string rule_names(unsigned model, std::string_view separator = ", ",
                       bool caching_only = false);
// The rule called `name` if `model` accepts it, else nullopt.
std::optional<Rule> find_rule(std::string_view name, unsigned model);
// The rule called `name`, if `model` accepts it; else throws ParamError("rule", ...)
// naming the allowed values.
Rule parse_rule(std::string_view name, unsigned model = kPerceptron | kMlp | kSpiking);
// Throws ParamError("rule", ...) unless `model` accepts `r`; `model_name` says who refuses.
void require_rule(Rule r, unsigned model, std::string_view model_name);

}  // namespace syncache
