// The parameter seam. Every model describes its parameters once, as a table of ParamSpec
// (name, kind, default, allowed range, unit, one line of documentation); the command line's
// options, the experiment files' keys (TOML), the stored parameters (JSON) and the Python
// keywords are all derived from these tables and read and range-checked by them. The
// library reports a bad value as a ParamError keyed by the parameter's name; each front
// end shows the key in its own spelling (on the command line with two dashes and dashes for
// underscores; `max_epochs` in TOML, JSON and Python).
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace syncache {

/// A bad parameter value: key() is the parameter's name ("theta"; "N/P" when the
/// combination of two is at fault), message() what is wrong with it. what() is
/// "key: message", the spelling of TOML, JSON and Python.
class ParamError : public std::invalid_argument {
 public:
  ParamError(std::string key, std::string message);
  const std::string& key() const noexcept { return key_; }
  const std::string& message() const noexcept { return message_; }

 private:
  std::string key_, message_;
};

/// The kind of value a parameter takes.
enum class ParamKind {
  integer,  // a signed 64-bit count in [lo, hi]
  seed,     // any unsigned 64-bit integer
  real,     // a finite number in [lo, hi] (ends open when lo_open/hi_open); inf if allow_inf
  flag,     // true or false (a switch on the command line)
  text,     // a string; one of `choices` ("a|b|c") when they are given
};

inline constexpr double kUnbounded = std::numeric_limits<double>::infinity();

/// Built as ParamSpec(name, kind, doc) and refined with the setters below, e.g.
///   ParamSpec("tau", ParamKind::real, "decay time constant").with_default("inf")
///       .in(1, kUnbounded).or_inf().in_unit("presentations")
struct ParamSpec {
  std::string_view name;
  ParamKind kind = ParamKind::real;
  std::string_view doc;           // one line
  std::string_view default_text;  // the default as the user would write it; "" = none
  double lo = -kUnbounded, hi = kUnbounded;
  bool lo_open = false, hi_open = false;
  bool allow_inf = false;    // real: +inf accepted besides [lo, hi]
  std::string_view unit;     // "" when dimensionless
  std::string_view choices;  // text: "a|b|c"; "" = any text
  // real: up to this many values ("a,b" on the command line, an array in JSON), read by
  // the table that owns the parameter.
  std::size_t max_values = 1;

  ParamSpec(std::string_view name_, ParamKind kind_, std::string_view doc_)
      : name(name_), kind(kind_), doc(doc_) {}
  ParamSpec with_default(std::string_view text) const {
    ParamSpec s = *this;
    s.default_text = text;
    return s;
  }
  // [lo, hi], or with open ends (lo, hi) etc.; an infinite end is open by nature.
  ParamSpec in(double lo_, double hi_, bool lo_open_ = false, bool hi_open_ = false) const {
    ParamSpec s = *this;
    s.lo = lo_, s.hi = hi_, s.lo_open = lo_open_, s.hi_open = hi_open_;
    return s;
  }
  ParamSpec or_inf() const {
    ParamSpec s = *this;
    s.allow_inf = true;
    return s;
  }
  ParamSpec in_unit(std::string_view u) const {
    ParamSpec s = *this;
    s.unit = u;
    return s;
  }
  ParamSpec up_to(std::size_t n) const {
    ParamSpec s = *this;
    s.max_values = n;
    return s;
  }
  ParamSpec one_of(std::string_view c) const {
    ParamSpec s = *this;
    s.choices = c;
    return s;
  }

  // The allowed values in words: "in [0, 2]", ">= 1, or inf", "> 0", "one of a, b".
  std::string range_text() const;
  // Range checks; throw ParamError(name, "must be ... (got v)").
  double check(double v) const;
  std::int64_t check(std::int64_t v) const;
  // Text as typed by a user (command line, TOML strings), read and checked.
  double read_real(std::string_view text) const;
  std::int64_t read_integer(std::string_view text) const;
  std::uint64_t read_seed(std::string_view text) const;
  std::string read_text(std::string_view text) const;  // checks the choices
  // A typed value (JSON: stored runs, sweep files, the command line's values), read and
  // checked the same way; a wrong type is a ParamError too. Reals may be "inf" when
  // allowed; integers may be written as floats that hold an integer (1e3).
  double read_json_real(const nlohmann::json& v) const;
  std::int64_t read_json_integer(const nlohmann::json& v) const;
  std::uint64_t read_json_seed(const nlohmann::json& v) const;
  bool read_json_flag(const nlohmann::json& v) const;
  std::string read_json_text(const nlohmann::json& v) const;
};

// The description of `name` in `specs`; nullptr when there is none.
const ParamSpec* find_param(std::span<const ParamSpec> specs, std::string_view name);
// The names of `specs`, comma separated (for "unknown key ... (allowed: ...)").
std::string param_names(std::span<const ParamSpec> specs);

// The command line's spelling of a key: two dashes before each name, dashes for
// underscores ("max_epochs" becomes the option max-epochs with two dashes; "N/P" two options).
std::string option_spelling(std::string_view key);

}  // namespace syncache
