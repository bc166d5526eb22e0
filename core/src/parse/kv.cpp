// SPDX-License-Identifier: Apache-2.0
#include "sluice/parse/kv.hpp"

#include <array>
#include <cstring>

namespace sluice {
namespace {

/// `[A-Za-z0-9_.-]`, as a table: this runs for every byte walked back from each '='.
constexpr auto key_chars = [] {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c)
    t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c)
    t[c] = true;
  for (int c = '0'; c <= '9'; ++c)
    t[c] = true;
  t['_'] = t['.'] = t['-'] = true;
  return t;
}();

constexpr bool is_key_char(char c) {
  return key_chars[static_cast<unsigned char>(c)];
}

constexpr bool is_key_boundary(char c) {
  return c == ' ' || c == '\t' || c == ',' || c == ';' || c == '(' || c == '[' || c == '{';
}

}  // namespace

std::size_t extract_key_values(std::string_view text, FieldScratch& fields) {
  const char* const begin = text.data();
  const std::size_t size = text.size();
  std::size_t added = 0;
  std::size_t pos = 0;  // where the search for the next '=' starts; nothing before it is a key
  std::size_t key_floor = 0;  // keys may not reach back before this (end of the previous value)
  while (pos < size && added < max_key_value_fields && !fields.full()) {
    const void* hit = std::memchr(begin + pos, '=', size - pos);
    if (hit == nullptr) break;
    const std::size_t eq = static_cast<std::size_t>(static_cast<const char*>(hit) - begin);
    std::size_t k = eq;
    while (k > key_floor && is_key_char(begin[k - 1]))
      --k;
    if (k == eq || (k > 0 && !is_key_boundary(begin[k - 1]))) {
      // Not a key (`a==b`, `x:y=z`): skip this '=' and keep looking.
      pos = eq + 1;
      continue;
    }
    std::size_t v = eq + 1;
    std::size_t value_begin = v;
    std::size_t value_end = v;
    std::size_t next = v;
    if (v < size && (begin[v] == '"' || begin[v] == '\'')) {
      const char quote = begin[v];
      value_begin = v + 1;
      std::size_t i = value_begin;
      while (i < size && begin[i] != quote)
        i += (begin[i] == '\\' && i + 1 < size) ? 2 : 1;
      value_end = i < size ? i : size;
      next = i < size ? i + 1 : size;
    } else {
      std::size_t i = v;
      while (i < size && begin[i] != ' ' && begin[i] != '\t')
        ++i;
      value_end = i;
      if (value_end > value_begin && (begin[value_end - 1] == ',' || begin[value_end - 1] == ';'))
        --value_end;
      next = i;
    }
    fields.push({begin + k, eq - k}, {begin + value_begin, value_end - value_begin});
    ++added;
    pos = next;
    key_floor = next;
  }
  // Stopped at a cap with text left that still holds a '=': say that pairs may have been lost.
  if ((added == max_key_value_fields || fields.full()) && pos < size &&
      std::memchr(begin + pos, '=', size - pos) != nullptr)
    fields.note_dropped();
  return added;
}

}  // namespace sluice
