// SPDX-License-Identifier: Apache-2.0
#include "sluice/parse/rfc3164.hpp"

#include "scan.hpp"
#include "sluice/parse/timestamp.hpp"

namespace sluice {
namespace {

using detail::find_space;
using detail::is_digit;
using detail::skip_spaces;

/// A token that cannot be a hostname because it is shaped like a tag (`app:`, `app[pid]...`).
bool tag_shaped(std::string_view token) {
  return !token.empty() && (token.back() == ':' || token.find('[') != std::string_view::npos);
}

/// Splits a tag body (`app`, `app[pid]`, `app(detail)[pid]`) into app and procid.
void split_tag(std::string_view body, Event& event) {
  if (body.back() == ']') {
    const std::size_t lb = body.rfind('[');
    if (lb != std::string_view::npos && lb > 0) {
      event.app = body.substr(0, lb);
      event.procid = body.substr(lb + 1, body.size() - lb - 2);
      return;
    }
  }
  event.app = body;
}

/// Recognises `token` as a tag (section 5.3: `app:`, `app[pid]:`, or `app[pid]` without the
/// colon) and fills app and procid. False when it is not one.
bool take_tag(std::string_view token, Event& event) {
  if (token.empty()) return false;
  std::string_view body;
  if (token.back() == ':') {
    body = token.substr(0, token.size() - 1);
  } else if (token.back() == ']' && token.find('[') != std::string_view::npos) {
    body = token;
  } else {
    return false;
  }
  // `[preauth]` or a bare `:` is message text, not a tag.
  if (body.empty() || body.front() == '[') return false;
  split_tag(body, event);
  return true;
}

/// `1.4.1:` — the version word of a two-word tag such as `syslogd 1.4.1:`.
bool version_word(std::string_view token) {
  if (token.size() < 2 || token.back() != ':' || !is_digit(token.front())) return false;
  for (std::size_t i = 0; i + 1 < token.size(); ++i)
    if (!is_digit(token[i]) && token[i] != '.') return false;
  return true;
}

}  // namespace

std::size_t scan_priority(std::string_view text, unsigned& pri) {
  // RFC 3164 section 4.1.1 / RFC 5424 section 6.2.1: "<" 1*3DIGIT ">", value 0..191.
  if (text.size() < 3 || text[0] != '<') return 0;
  unsigned v = 0;
  std::size_t i = 1;
  while (i < text.size() && i <= 3 && is_digit(text[i])) {
    v = v * 10 + static_cast<unsigned>(text[i] - '0');
    ++i;
  }
  if (i == 1 || i >= text.size() || text[i] != '>' || v > 191) return 0;
  pri = v;
  return i + 1;
}

UnparsedReason parse_rfc3164(std::string_view line, Event& event, const ParserConfig& config) {
  event.format = InputFormat::rfc3164;
  std::size_t pos = 0;
  bool has_pri = false;
  if (!line.empty() && line[0] == '<') {
    unsigned pri = 0;
    pos = scan_priority(line, pri);
    if (pos == 0) return UnparsedReason::bad_priority;
    event.facility = static_cast<std::uint8_t>(pri >> 3);
    event.severity = static_cast<std::uint8_t>(pri & 7);
    has_pri = true;
  }

  const std::string_view rest = line.substr(pos);
  ParsedTime time;
  std::size_t n =
      scan_bsd_timestamp(rest, event.receive_time_ns, config.default_tz_offset_minutes, time);
  if (n == 0 && !rest.empty() && is_digit(rest[0]))
    n = scan_rfc3339(rest, config.default_tz_offset_minutes, false, time);
  // Cisco writes "Jan 18 2024 11:07:53: %ASA-..."; the colon belongs to the timestamp.
  if (n != 0 && n < rest.size() && rest[n] == ':') ++n;
  if (n != 0 && n < rest.size() && rest[n] != ' ') n = 0;
  if (n == 0) {
    // Section 4.3.2/4.3.3: no valid timestamp; with a PRI the rest is content and the relay's
    // (our receive) time applies. Without a PRI nothing marks the line as syslog.
    if (!has_pri) return UnparsedReason::bad_header;
    event.event_time_ns = event.receive_time_ns;
    event.tz_offset_minutes = static_cast<std::int16_t>(config.default_tz_offset_minutes);
    event.flags |= event_flag_time_from_receive;
  } else {
    event.event_time_ns = time.utc_ns;
    event.tz_offset_minutes = time.tz_offset_minutes;
    pos += n;
  }
  pos = skip_spaces(line, pos);

  // HOSTNAME (section 4.1.2), unless missing: a tag-shaped first token is the tag. Without a
  // timestamp there is no header (section 4.3.3) and so no hostname either.
  std::size_t end = find_space(line, pos);
  if (n != 0 && end < line.size() && !tag_shaped(line.substr(pos, end - pos))) {
    event.host = line.substr(pos, end - pos);
    pos = skip_spaces(line, end);
    end = find_space(line, pos);
  }

  // TAG (section 5.3).
  if (take_tag(line.substr(pos, end - pos), event)) {
    pos = skip_spaces(line, end);
  } else if (end < line.size()) {
    // Two-word tags seen in real logs: "syslogd 1.4.1:" and "-- root[2421]:".
    const std::size_t second = skip_spaces(line, end);
    const std::size_t second_end = find_space(line, second);
    const std::string_view word = line.substr(second, second_end - second);
    if (end > pos && word.size() > 1 && word.back() == ':' &&
        (version_word(word) ||
         (word[word.size() - 2] == ']' && word.find('[') != std::string_view::npos))) {
      split_tag(line.substr(pos, second_end - 1 - pos), event);
      pos = skip_spaces(line, second_end);
    }
  }
  event.message = line.substr(pos);
  return UnparsedReason::none;
}

}  // namespace sluice
