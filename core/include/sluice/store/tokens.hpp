// SPDX-License-Identifier: Apache-2.0
/// Tokens: the unit that the store's block filters index and that search terms are matched on.
///
/// A token is a maximal run of ASCII letters, digits and `_`, lower-cased. Every other byte
/// (punctuation, spaces, control bytes and all bytes >= 0x80) separates tokens. This is exactly
/// what `LC_ALL=C grep -w` calls a word, so a search term matches where `grep -iw` would, and a
/// block whose filter lacks one of a term's tokens cannot hold a match.
#pragma once

#include <cstddef>
#include <string_view>

namespace sluice {

/// True for the bytes a token is made of: [A-Za-z0-9_].
constexpr bool is_token_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/// ASCII lower case of a token byte; other bytes unchanged.
constexpr char token_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Calls `visit(std::string_view token)` for every token of `text`, in order, as views into
/// `text` (not lower-cased: callers fold case while hashing, so nothing is copied).
/// Does not allocate.
template <typename Visit>
void for_each_token(std::string_view text, Visit&& visit) {
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    while (i < n && !is_token_byte(static_cast<unsigned char>(text[i])))
      ++i;
    const std::size_t start = i;
    while (i < n && is_token_byte(static_cast<unsigned char>(text[i])))
      ++i;
    if (i > start) visit(text.substr(start, i - start));
  }
}

}  // namespace sluice
