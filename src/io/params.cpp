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
    s = "an integer in [" + number_text(lo) + ", " + number_text(hi) + "]";
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
  const auto v =
      syncache::read_integer(text, static_cast<std::int64_t>(lo), static_cast<std::int64_t>(hi));
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
