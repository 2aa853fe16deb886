#include "syncache/core/rule.hpp"

#include <stdexcept>

namespace syncache {

std::string_view rule_name(Rule r) {
  switch (r) {
    case Rule::classic:
      return "classic";
    case Rule::synapse:
      return "synapse";
    case Rule::neuron:
      return "neuron";
    case Rule::sum:
      return "sum";
    case Rule::layer:
      return "layer";
  }
  return "?";
}

Rule parse_rule(std::string_view name) {
  for (Rule r : {Rule::classic, Rule::synapse, Rule::neuron, Rule::sum, Rule::layer}) {
    if (rule_name(r) == name) return r;
  }
  throw std::invalid_argument("--rule: unknown rule '" + std::string(name) +
                              "' (allowed: classic, synapse, neuron, sum, layer)");
}

}  // namespace syncache
