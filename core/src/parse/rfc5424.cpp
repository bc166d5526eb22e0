// SPDX-License-Identifier: Apache-2.0
#include "sluice/parse/rfc5424.hpp"

#include <cstring>

#include "scan.hpp"
#include "sluice/parse/rfc3164.hpp"
#include "sluice/parse/timestamp.hpp"

namespace sluice {
namespace {

using detail::find_space;
using detail::is_digit;

/// Reads one header field (section 6: HOSTNAME, APP-NAME, PROCID, MSGID) that must be followed by
/// a space. NILVALUE gives an empty view. False when the field is empty or the line ends.
bool header_field(std::string_view line, std::size_t& pos, std::string_view& out) {
  const std::size_t end = find_space(line, pos);
  if (end == pos || end >= line.size()) return false;
  const std::string_view token = line.substr(pos, end - pos);
  out = token == "-" ? std::string_view{} : token;
  pos = end + 1;
  return true;
}

/// SD-NAME characters (section 6.3.2): PRINTUSASCII except '=', SP, ']' and '"'.
bool sd_name_char(char c) {
  return c > 0x20 && c < 0x7f && c != '=' && c != ']' && c != '"';
}

/// Unescapes a PARAM-VALUE (section 6.3.3): `\"`, `\\` and `\]` lose the backslash; a backslash
/// before anything else is kept as a normal character.
std::string_view unescape_sd(std::string_view value, Arena& arena) {
  auto* out = static_cast<char*>(arena.allocate(value.size(), 1));
  std::size_t n = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\\' && i + 1 < value.size()) {
      const char next = value[i + 1];
      if (next == '"' || next == '\\' || next == ']') {
        c = next;
        ++i;
      }
    }
    out[n++] = c;
  }
  return {out, n};
}

std::string_view join_name(std::string_view id, std::string_view param, Arena& arena) {
  auto* p = static_cast<char*>(arena.allocate(id.size() + 1 + param.size(), 1));
  std::memcpy(p, id.data(), id.size());
  p[id.size()] = '.';
  std::memcpy(p + id.size() + 1, param.data(), param.size());
  return {p, id.size() + 1 + param.size()};
}

/// Parses SD-ELEMENTs (section 6.3) starting at `line[pos] == '['`; advances `pos` past the last
/// one. False when malformed.
bool parse_structured_data(std::string_view line, std::size_t& pos, Arena& arena,
                           FieldScratch& fields) {
  const std::size_t size = line.size();
  while (pos < size && line[pos] == '[') {
    ++pos;
    const std::size_t id_begin = pos;
    while (pos < size && sd_name_char(line[pos]))
      ++pos;
    const std::string_view id = line.substr(id_begin, pos - id_begin);
    if (id.empty()) return false;
    for (;;) {
      if (pos >= size) return false;
      if (line[pos] == ']') {
        ++pos;
        break;
      }
      if (line[pos] != ' ') return false;
      while (pos < size && line[pos] == ' ')
        ++pos;  // lenient: extra spaces between params
      if (pos < size && line[pos] == ']') continue;
      const std::size_t name_begin = pos;
      while (pos < size && sd_name_char(line[pos]))
        ++pos;
      const std::string_view name = line.substr(name_begin, pos - name_begin);
      if (name.empty() || pos + 1 >= size || line[pos] != '=' || line[pos + 1] != '"') return false;
      pos += 2;
      const std::size_t value_begin = pos;
      bool escaped = false;
      while (pos < size && line[pos] != '"') {
        if (line[pos] == '\\') {
          escaped = true;
          ++pos;
        }
        ++pos;
      }
      if (pos >= size) return false;
      std::string_view value = line.substr(value_begin, pos - value_begin);
      ++pos;  // closing quote
      if (!fields.full()) {
        if (escaped) value = unescape_sd(value, arena);
        fields.push(join_name(id, name, arena), value);
      }
    }
  }
  return true;
}

}  // namespace

bool looks_like_rfc5424(std::string_view line) {
  if (!line.empty() && line[0] == '<') {
    unsigned pri = 0;
    const std::size_t n = scan_priority(line, pri);
    return n != 0 && n + 1 < line.size() && line[n] == '1' && line[n + 1] == ' ';
  }
  return line.size() > 2 && line[0] == '1' && line[1] == ' ' &&
         (is_digit(line[2]) || line[2] == '-');
}

UnparsedReason parse_rfc5424(std::string_view line, Event& event, Arena& arena,
                             FieldScratch& fields, const ParserConfig& config) {
  event.format = InputFormat::rfc5424;
  const std::size_t size = line.size();
  std::size_t pos = 0;
  if (!line.empty() && line[0] == '<') {
    unsigned pri = 0;
    pos = scan_priority(line, pri);
    if (pos == 0) return UnparsedReason::bad_priority;
    event.facility = static_cast<std::uint8_t>(pri >> 3);
    event.severity = static_cast<std::uint8_t>(pri & 7);
  } else if (!line.starts_with("1 ")) {
    return UnparsedReason::bad_priority;
  }

  // VERSION = NONZERO-DIGIT 0*2DIGIT (section 6.2.2).
  const std::size_t version_begin = pos;
  while (pos < size && is_digit(line[pos]) && pos - version_begin < 3)
    ++pos;
  if (pos == version_begin || line[version_begin] == '0' || pos >= size || line[pos] != ' ')
    return UnparsedReason::bad_header;
  ++pos;

  // TIMESTAMP (section 6.2.3).
  if (pos < size && line[pos] == '-') {
    ++pos;
    event.event_time_ns = event.receive_time_ns;
    event.flags |= event_flag_time_from_receive;
  } else {
    ParsedTime time;
    const std::size_t n =
        scan_rfc3339(line.substr(pos), config.default_tz_offset_minutes, false, time);
    if (n == 0) return UnparsedReason::bad_header;
    pos += n;
    event.event_time_ns = time.utc_ns;
    event.tz_offset_minutes = time.tz_offset_minutes;
  }
  if (pos >= size || line[pos] != ' ') return UnparsedReason::bad_header;
  ++pos;

  if (!header_field(line, pos, event.host) || !header_field(line, pos, event.app) ||
      !header_field(line, pos, event.procid) || !header_field(line, pos, event.msgid))
    return UnparsedReason::bad_header;

  // STRUCTURED-DATA (section 6.3).
  if (pos >= size) return UnparsedReason::bad_structured_data;
  if (line[pos] == '-') {
    ++pos;
  } else if (line[pos] == '[') {
    const std::size_t sd_begin = pos;
    if (!parse_structured_data(line, pos, arena, fields))
      return UnparsedReason::bad_structured_data;
    event.structured_data = line.substr(sd_begin, pos - sd_begin);
  } else {
    return UnparsedReason::bad_structured_data;
  }
  if (pos < size && line[pos] != ' ') return UnparsedReason::bad_structured_data;

  // MSG (section 6.4), without the BOM that marks it as UTF-8.
  if (pos < size) {
    std::string_view msg = line.substr(pos + 1);
    if (msg.starts_with("\xEF\xBB\xBF")) msg.remove_prefix(3);
    event.message = msg;
  }
  return UnparsedReason::none;
}

}  // namespace sluice
