#include "syncache/core/rule.hpp"

#include "syncache/io/params.hpp"
#include "syncache/io/text_input.hpp"

namespace syncache {

const RuleInfo& rule_info(Rule r) {
  for (const auto& info : kRules) {
    if (info.rule == r) return info;
  }
  throw ParamError("rule", "unknown rule");  // unreachable: every enumerator has a row
}

std::string_view rule_name(Rule r) {
  return rule_info(r).name;
}

std::string rule_names(unsigned model, std::string_view separator, bool caching_only) {
  std::string s;
  for (const auto& info : kRules) {
    if ((info.models & model) == 0 || (caching_only && info.scope == RuleScope::none)) continue;
    if (!s.empty()) s += separator;
    s += info.name;
  }
  return s;
}

std::optional<Rule> find_rule(std::string_view name, unsigned model) {
  for (const auto& info : kRules) {
    if (info.name == name && (info.models & model) != 0) return info.rule;
  }
  return std::nullopt;
}

Rule parse_rule(std::string_view name, unsigned model) {
  if (const auto r = find_rule(name, model)) return *r;
  throw ParamError("rule",
                   "unknown rule '" + shown(name) + "' (allowed: " + rule_names(model) + ")");
}

void require_rule(Rule r, unsigned model, std::string_view model_name) {
  if ((rule_info(r).models & model) != 0) return;
  throw ParamError("rule", std::string(model_name) + " does not take rule '" +
                               std::string(rule_name(r)) + "' (allowed: " + rule_names(model) +
                               ")");
}

}  // namespace syncache
