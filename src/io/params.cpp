#include "syncache/io/params.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "syncache/io/text_input.hpp"

namespace syncache {

ParamError::ParamError(std::string key, std::string message)
    : std::invalid_argument(key + ": " + message),
      key_(std::move(key)),
      message_(std::move(message)) {}

namespace {

// Shortest text that reads back as v ("1", "0.5", "1e+12").
std::string number_text(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

// A range end as an int64 (ends beyond int64's range are its limits).
std::int64_t to_int64(double x) {
  if (x >= 9223372036854775807.0) return std::numeric_limits<std::int64_t>::max();
  if (x <= -9223372036854775808.0) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(x);
}

std::string choices_text(std::string_view choices) {
  std::string s;
  for (char ch : choices) s += ch == '|' ? std::string(", ") : std::string(1, ch);
  return s;
}

}  // namespace

std::string ParamSpec::range_text() const {
  if (kind == ParamKind::text)
    return choices.empty() ? "a text" : "one of " + choices_text(choices);
  if (kind == ParamKind::flag) return "true or false";
  if (kind == ParamKind::seed) return "an integer in [0, 18446744073709551615]";
  const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
  std::string s;
  if (kind == ParamKind::integer) {
    s = "an integer in [" + std::to_string(to_int64(lo)) + ", " + std::to_string(to_int64(hi)) +
        "]";
  } else if (has_lo && has_hi) {
    s = "in " + std::string(lo_open ? "(" : "[") + number_text(lo) + ", " + number_text(hi) +
        (hi_open ? ")" : "]");
  } else if (has_lo) {
    s = std::string(lo_open ? "> " : ">= ") + number_text(lo);
  } else if (has_hi) {
    s = std::string(hi_open ? "< " : "<= ") + number_text(hi);
  } else {
    s = "a number";
  }
  if (kind == ParamKind::real) {
    if (!unit.empty()) {
      s += ' ';
      s.append(unit);
    }
    s += allow_inf ? ", or inf" : (has_hi ? "" : " and finite");
  }
  return s;
}

double ParamSpec::check(double v) const {
  const bool ok =
      (allow_inf && v == kUnbounded) ||
      (std::isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi));
  if (!ok)
    throw ParamError(std::string(name),
                     "must be " + range_text() + " (got " + number_text(v) + ")");
  return v;
}

std::int64_t ParamSpec::check(std::int64_t v) const {
  if (!(static_cast<double>(v) >= lo && static_cast<double>(v) <= hi)) {
    throw ParamError(std::string(name),
                     "must be " + range_text() + " (got " + std::to_string(v) + ")");
  }
  return v;
}

double ParamSpec::read_real(std::string_view text) const {
  const auto v = syncache::read_real(text, allow_inf);
  if (!v) {
    throw ParamError(std::string(name), "'" + shown(text) + "' is not a " +
                                            (allow_inf ? "number or inf" : "finite number"));
  }
  return check(*v);
}

std::int64_t ParamSpec::read_integer(std::string_view text) const {
  // lo and hi are integers of int64's range by construction of the tables.
  const auto v = syncache::read_integer(text, to_int64(lo), to_int64(hi));
  if (!v) {
    throw ParamError(std::string(name), "must be " + range_text() + " (got '" + shown(text) + "')");
  }
  return *v;
}

std::uint64_t ParamSpec::read_seed(std::string_view text) const {
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    throw ParamError(std::string(name), "must be " + range_text() + " (got '" + shown(text) + "')");
  }
  return v;
}

std::string ParamSpec::read_text(std::string_view text) const {
  if (choices.empty()) return std::string(text);
  std::string_view rest = choices;
  while (true) {
    const auto bar = rest.find('|');
    if (rest.substr(0, bar) == text) return std::string(text);
    if (bar == std::string_view::npos) break;
    rest.remove_prefix(bar + 1);
  }
  throw ParamError(std::string(name),
                   "unknown value '" + shown(text) + "' (allowed: " + choices_text(choices) + ")");
}

double ParamSpec::read_json_real(const nlohmann::json& v) const {
  if (v.is_number()) return check(v.get<double>());
  if (allow_inf && v.is_string() && v.get<std::string>() == "inf") return kUnbounded;
  throw ParamError(std::string(name), std::string("expected a number") +
                                          (allow_inf ? " or \"inf\"" : "") + ", got " +
                                          shown(v.dump()));
}

std::int64_t ParamSpec::read_json_integer(const nlohmann::json& v) const {
  const std::string key(name);
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t{1} << 62) {
    throw ParamError(key, "integer too large, got " + shown(v.dump()));
  }
  if (v.is_number_integer()) return check(v.get<std::int64_t>());
  // A float that holds an integer; converted only inside int64's range (|x| <= 2^62).
  if (v.is_number_float() && v.get<double>() == std::floor(v.get<double>())) {
    if (std::fabs(v.get<double>()) > 4611686018427387904.0) {
      throw ParamError(key, "integer too large, got " + shown(v.dump()));
    }
    return check(static_cast<std::int64_t>(v.get<double>()));
  }
  throw ParamError(key, "expected an integer, got " + shown(v.dump()));
}

std::uint64_t ParamSpec::read_json_seed(const nlohmann::json& v) const {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(v.get<std::int64_t>());
  }
  throw ParamError(std::string(name), "must be " + range_text() + ", got " + shown(v.dump()));
}

bool ParamSpec::read_json_flag(const nlohmann::json& v) const {
  if (!v.is_boolean()) {
    throw ParamError(std::string(name), "expected true or false, got " + shown(v.dump()));
  }
  return v.get<bool>();
}

std::string ParamSpec::read_json_text(const nlohmann::json& v) const {
  if (!v.is_string()) {
    throw ParamError(std::string(name), "expected a string, got " + shown(v.dump()));
  }
  return read_text(v.get<std::string>());
}

const ParamSpec* find_param(std::span<const ParamSpec> specs, std::string_view name) {
  for (const auto& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string param_names(std::span<const ParamSpec> specs) {
  std::string s;
  for (const auto& p : specs) s += (s.empty() ? "" : ", ") + std::string(p.name);
  return s;
}

std::string option_spelling(std::string_view key) {
  std::string s;
  bool start = true;
  for (char ch : key) {
    if (start) s += "--";
    start = ch == '/';
    s += ch == '_' ? '-' : ch;
  }
  return s;
}

}  // namespace syncache
