// Consolidation rules of synaptic caching (docs/model.md section 2; paper Figure 4A).
#pragma once

#include <string>
#include <string_view>

namespace syncache {

enum class Rule {
  classic,  // no caching: every change goes straight to the persistent weight
  synapse,  // |s_i| > theta consolidates synapse i only
  neuron,   // max_i |s_i| > theta consolidates the whole row (postsynaptic neuron)
  sum,      // sum_i |s_i| > theta consolidates the whole row
  layer,    // any |s_i| > theta in the store consolidates every row
};

std::string_view rule_name(Rule r);
// Throws std::invalid_argument naming the allowed values.
Rule parse_rule(std::string_view name);

}  // namespace syncache
