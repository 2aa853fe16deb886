#include "syncache/io/text_input.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace syncache {

std::string shown(std::string_view text, std::size_t max) {
  std::string out;
  const std::size_t n = std::min(text.size(), max);
  for (std::size_t i = 0; i < n; ++i) {
    const auto ch = static_cast<unsigned char>(text[i]);
    if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
      out += static_cast<char>(ch);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", ch);
      out += buf;
    }
  }
  if (text.size() > max) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

std::string_view without_bom(std::string_view text) {
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF) {
    text.remove_prefix(3);
  }
  return text;
}

namespace {
std::string_view trimmed(std::string_view t) {
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  return t;
}
}  // namespace

std::optional<double> read_real(std::string_view text, bool allow_inf) {
  text = trimmed(text);
  if (text.empty() || text.size() > 400) return std::nullopt;
  if (allow_inf && (text == "inf" || text == "Inf" || text == "infinity")) {
    return std::numeric_limits<double>::infinity();
  }
  // Only the characters of a decimal number: strtod would also take hex floats, "nan"
  // and "inf" spellings, which are not numbers here.
  for (char ch : text) {
    const bool ok =
        (ch >= '0' && ch <= '9') || ch == '.' || ch == 'e' || ch == 'E' || ch == '+' || ch == '-';
    if (!ok) return std::nullopt;
  }
  const std::string s(text);
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  // ERANGE with a finite result is an underflow (a subnormal or zero): the value stands.
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<std::int64_t> read_integer(std::string_view text, std::int64_t lo, std::int64_t hi) {
  if (text.empty()) return std::nullopt;
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

}  // namespace syncache
