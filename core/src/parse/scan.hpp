// SPDX-License-Identifier: Apache-2.0
/// Small byte-scanning helpers shared by the parsers in this folder (private). Everything is
/// inline, allocation-free and bounds-checked against the view it is given.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

namespace sluice::detail {

/// Space, tab, or any other C0 control character or DEL: what is trimmed from record ends.
inline constexpr bool is_trim_char(unsigned char c) {
  return c <= 0x20 || c == 0x7f;
}

inline constexpr bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// `text` without trailing spaces and control characters (CR, LF, NUL, ...).
inline std::string_view trim_right(std::string_view text) {
  std::size_t n = text.size();
  while (n > 0 && is_trim_char(static_cast<unsigned char>(text[n - 1])))
    --n;
  return text.substr(0, n);
}

/// `text` without leading spaces and control characters.
inline std::string_view trim_left(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && is_trim_char(static_cast<unsigned char>(text[i])))
    ++i;
  return text.substr(i);
}

/// Index of the first ' ' at or after `from`, or `text.size()`.
inline std::size_t find_space(std::string_view text, std::size_t from) {
  if (from >= text.size()) return text.size();
  const void* p = std::memchr(text.data() + from, ' ', text.size() - from);
  return p == nullptr ? text.size()
                      : static_cast<std::size_t>(static_cast<const char*>(p) - text.data());
}

/// Index of the first byte after `from` that is not ' '.
inline std::size_t skip_spaces(std::string_view text, std::size_t from) {
  while (from < text.size() && text[from] == ' ')
    ++from;
  return from;
}

/// Parses exactly `n` decimal digits at `p` into `out`; false when any is not a digit.
inline bool digits(const char* p, std::size_t n, unsigned& out) {
  unsigned v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned d = static_cast<unsigned char>(p[i]) - '0';
    if (d > 9) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

}  // namespace sluice::detail
