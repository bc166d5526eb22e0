// SPDX-License-Identifier: Apache-2.0
#include "sluice/parse/cef.hpp"

#include <array>
#include <cstring>

#include "scan.hpp"

namespace sluice {
namespace {

constexpr std::array<std::string_view, 7> header_names = {
    "cef.version",      "cef.device_vendor", "cef.device_product", "cef.device_version",
    "cef.signature_id", "cef.name",          "cef.severity"};

/// Extension key characters. The CEF guide allows alphanumerics; `_`, `.`, `-` appear in vendor
/// keys in the wild.
bool key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

/// Unescapes a header field (`\|` and `\\`) or an extension value (`\=`, `\\`, `\n`, `\r`, and
/// leniently `\|`) into the arena. Any other backslash stays as written.
std::string_view unescape(std::string_view text, bool extension, Arena& arena) {
  auto* out = static_cast<char*>(arena.allocate(text.size(), 1));
  std::size_t n = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      const char next = text[i + 1];
      if (next == '\\' || next == '|') {
        c = next;
        ++i;
      } else if (extension && next == '=') {
        c = '=';
        ++i;
      } else if (extension && (next == 'n' || next == 'r')) {
        c = next == 'n' ? '\n' : '\r';
        ++i;
      }
    }
    out[n++] = c;
  }
  return {out, n};
}

bool has_backslash(std::string_view s) {
  return !s.empty() && std::memchr(s.data(), '\\', s.size()) != nullptr;
}

/// Milliseconds since the epoch (`rt=1516273673000`) as nanoseconds; false for anything else
/// (the guide also allows `MMM dd yyyy HH:mm:ss`, which we leave to the field).
bool epoch_millis(std::string_view text, std::int64_t& ns) {
  // Up to 9e12 ms (the year 2255) fits in int64 nanoseconds.
  if (text.empty() || text.size() > 13) return false;
  std::int64_t v = 0;
  for (char c : text) {
    if (!detail::is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  if (v >= 9'000'000'000'000) return false;
  ns = v * 1'000'000;
  return true;
}

}  // namespace

UnparsedReason parse_cef(std::string_view text, Event& event, Arena& arena, FieldScratch& fields,
                         bool have_time) {
  if (!starts_with_cef(text)) return UnparsedReason::bad_cef;
  event.format = InputFormat::cef;
  const std::size_t size = text.size();
  std::size_t pos = 4;
  std::array<std::string_view, 7> header{};
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::size_t begin = pos;
    bool escaped = false;
    while (pos < size && text[pos] != '|') {
      if (text[pos] == '\\') {
        escaped = true;
        ++pos;
      }
      ++pos;
    }
    // The last header field may end the record (no extension, no trailing '|').
    if (pos >= size && i + 1 < header.size()) return UnparsedReason::bad_cef;
    const std::size_t end = pos < size ? pos : size;
    header[i] = text.substr(begin, end - begin);
    if (escaped) header[i] = unescape(header[i], false, arena);
    fields.push(header_names[i], header[i]);
    pos = end + 1;
  }

  std::string_view message = header[5];
  std::string_view rt;
  // Extension: key=value pairs; a value runs until the space before the next "key=".
  std::size_t i = detail::skip_spaces(text, pos);
  while (i < size) {
    const std::size_t key_begin = i;
    while (i < size && key_char(text[i]))
      ++i;
    if (i == key_begin || i >= size || text[i] != '=') break;  // not a pair: ignore the rest
    const std::string_view key = text.substr(key_begin, i - key_begin);
    const std::size_t value_begin = ++i;
    std::size_t value_end = size;
    std::size_t next = size;
    bool escaped = false;
    for (std::size_t j = value_begin; j < size; ++j) {
      const char c = text[j];
      if (c == '\\') {
        escaped = true;
        ++j;
        continue;
      }
      if (c != '=') continue;
      std::size_t b = j;
      while (b > value_begin && key_char(text[b - 1]))
        --b;
      if (b < j && b > value_begin && text[b - 1] == ' ') {
        value_end = b - 1;
        next = b;
        break;
      }
    }
    while (value_end > value_begin && text[value_end - 1] == ' ')
      --value_end;
    std::string_view value = text.substr(value_begin, value_end - value_begin);
    if (escaped && has_backslash(value)) value = unescape(value, true, arena);
    fields.push(key, value);
    if (key == "msg") message = value;
    if (key == "rt") rt = value;
    i = next;
  }

  event.message = message;
  if (event.app.empty()) event.app = header[2];
  if (!have_time) {
    std::int64_t ns = 0;
    if (epoch_millis(rt, ns)) {
      event.event_time_ns = ns;
      event.flags &= static_cast<std::uint8_t>(~event_flag_time_from_receive);
    } else {
      event.event_time_ns = event.receive_time_ns;
      event.flags |= event_flag_time_from_receive;
    }
  }
  return UnparsedReason::none;
}

}  // namespace sluice
