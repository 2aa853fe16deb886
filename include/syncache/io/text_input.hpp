// Reading numbers from user text, and showing user text in a one-line error: one way for
// every input surface (command line, CSV, TOML, IDX file names, stored results).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace syncache {

// `text` as it may appear inside a one-line error message: bytes outside printable ASCII
// (control bytes, NUL, any byte >= 0x80) shown as \xNN, at most `max` characters of the
// input, then "..." and the input's length in bytes.
std::string shown(std::string_view text, std::size_t max = 40);

// `text` without a leading UTF-8 byte-order mark (EF BB BF).
std::string_view without_bom(std::string_view text);

// A finite decimal number that fills `text` (blanks and tabs around it allowed); values
// too small for a normal double (e.g. 1e-310) are kept as the nearest subnormal or zero,
// values too large for a double are refused. With allow_inf, "inf", "Inf" and
// "infinity" give +infinity. nullopt when the text is not such a number.
std::optional<double> read_real(std::string_view text, bool allow_inf = false);

// A decimal integer in [lo, hi] that fills `text` (no sign other than a leading '-',
// no blanks, no exponent). nullopt when it is not an integer or lies outside [lo, hi]
// (never wraps around).
std::optional<std::int64_t> read_integer(std::string_view text, std::int64_t lo, std::int64_t hi);

}  // namespace syncache
