// SPDX-License-Identifier: Apache-2.0
#include "sluice/parse/parser.hpp"

#include <simdjson.h>

#include <cstring>

#include "scan.hpp"
#include "sluice/common/assert.hpp"
#include "sluice/parse/access_log.hpp"
#include "sluice/parse/cef.hpp"
#include "sluice/parse/field_scratch.hpp"
#include "sluice/parse/json.hpp"
#include "sluice/parse/kv.hpp"
#include "sluice/parse/rfc3164.hpp"
#include "sluice/parse/rfc5424.hpp"

namespace sluice {

struct Parser::State {
  FieldScratch fields;
  JsonParser json;
};

bool parse_format_name(std::string_view name, ParseFormat& out) {
  if (name == "auto") {
    out = ParseFormat::auto_detect;
  } else if (name == "rfc3164") {
    out = ParseFormat::rfc3164;
  } else if (name == "rfc5424") {
    out = ParseFormat::rfc5424;
  } else if (name == "json") {
    out = ParseFormat::json;
  } else if (name == "cef") {
    out = ParseFormat::cef;
  } else if (name == "raw") {
    out = ParseFormat::raw;
  } else {
    return false;
  }
  return true;
}

Parser::Parser(ParserConfig config) : config_(config), state_(std::make_unique<State>()) {}
Parser::~Parser() = default;
Parser::Parser(Parser&&) noexcept = default;
Parser& Parser::operator=(Parser&&) noexcept = default;

namespace {

/// Clears everything a parser writes; keeps what the source wrote (raw, receive time, line,
/// listener, peer, the truncated flag).
void reset_outputs(Event& e) {
  e.event_time_ns = 0;
  e.facility = no_facility;
  e.severity = no_severity;
  e.format = InputFormat::unknown;
  e.status = ParseStatus::pending;
  e.reason = UnparsedReason::none;
  e.flags &= event_flag_truncated;
  e.tz_offset_minutes = 0;
  e.host = {};
  e.app = {};
  e.procid = {};
  e.msgid = {};
  e.message = {};
  e.structured_data = {};
  e.fields = {};
}

/// True when `text` is valid UTF-8. ASCII, by far the common case, is settled eight bytes at a
/// time without calling into simdjson's dispatcher.
bool valid_utf8(std::string_view text) {
  const char* p = text.data();
  std::size_t n = text.size();
  std::uint64_t high = 0;
  while (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    high |= word;
    p += 8;
    n -= 8;
  }
  for (std::size_t i = 0; i < n; ++i)
    high |= static_cast<unsigned char>(p[i]);
  if ((high & 0x8080808080808080ULL) == 0) return true;
  return simdjson::validate_utf8(text.data(), text.size());
}

/// Parses one record with a fixed or detected format; shared state lives in `Parser::State`.
class Dispatch {
 public:
  Dispatch(const ParserConfig& config, FieldScratch& fields, JsonParser& json, Event& event,
           Arena& arena)
      : config_(config), fields_(fields), json_(json), event_(event), arena_(arena) {}

  UnparsedReason run(std::string_view body) {
    switch (config_.format) {
      case ParseFormat::auto_detect:
        return detect(body);
      case ParseFormat::rfc3164:
        return syslog(parse_rfc3164(body, event_, config_), false);
      case ParseFormat::rfc5424:
        return syslog(parse_rfc5424(body, event_, arena_, fields_, config_), false);
      case ParseFormat::json:
        return json_.parse(body, event_, arena_, fields_, config_);
      case ParseFormat::cef:
        return cef_only(body);
      case ParseFormat::raw:
        return raw(body);
    }
    SLUICE_UNREACHABLE();
  }

 private:
  /// Auto-detection (parser.hpp documents the rules). Each test looks at a byte or two.
  UnparsedReason detect(std::string_view body) {
    const char c = body[0];
    if (c == '{') return json_.parse(body, event_, arena_, fields_, config_);
    if (c == '<') {
      if (body.size() < 2 || !detail::is_digit(body[1])) return raw(body);
      if (looks_like_rfc5424(body))
        return syslog(parse_rfc5424(body, event_, arena_, fields_, config_), true);
      return syslog(parse_rfc3164(body, event_, config_), true);
    }
    if (starts_with_cef(body)) return standalone_cef(body);
    if (looks_like_rfc5424(body)) {
      if (syslog(parse_rfc5424(body, event_, arena_, fields_, config_), true) ==
          UnparsedReason::none)
        return UnparsedReason::none;
      return fall_back_to_raw(body);
    }
    if (syslog(parse_rfc3164(body, event_, config_), true) == UnparsedReason::none)
      return UnparsedReason::none;
    return fall_back_to_raw(body);
  }

  /// After a syslog header: a CEF payload (when `detect_cef`), else key=value pairs.
  UnparsedReason syslog(UnparsedReason header, bool detect_cef) {
    if (header != UnparsedReason::none) return header;
    if (detect_cef && starts_with_cef(event_.message)) {
      const bool have_time = (event_.flags & event_flag_time_from_receive) == 0;
      return parse_cef(event_.message, event_, arena_, fields_, have_time);
    }
    // An access-log line carried in syslog keeps the syslog header's time.
    std::int64_t request_time = 0;
    if (extract_access_log(event_.message, fields_, request_time)) return UnparsedReason::none;
    if (config_.extract_key_values) extract_key_values(event_.message, fields_);
    return UnparsedReason::none;
  }

  UnparsedReason standalone_cef(std::string_view body) {
    return parse_cef(body, event_, arena_, fields_, false);
  }

  /// `ParseFormat::cef`: CEF on its own or after an RFC 3164 / 5424 header; anything else is
  /// `bad_cef`.
  UnparsedReason cef_only(std::string_view body) {
    if (starts_with_cef(body)) return standalone_cef(body);
    const UnparsedReason header = looks_like_rfc5424(body)
                                      ? parse_rfc5424(body, event_, arena_, fields_, config_)
                                      : parse_rfc3164(body, event_, config_);
    if (header != UnparsedReason::none || !starts_with_cef(event_.message)) {
      event_.format = InputFormat::cef;
      return UnparsedReason::bad_cef;
    }
    const bool have_time = (event_.flags & event_flag_time_from_receive) == 0;
    return parse_cef(event_.message, event_, arena_, fields_, have_time);
  }

  UnparsedReason fall_back_to_raw(std::string_view body) {
    reset_outputs(event_);
    fields_.clear();
    return raw(body);
  }

  /// The whole line is the message; time is the receive time.
  UnparsedReason raw(std::string_view body) {
    event_.format = InputFormat::raw;
    event_.message = body;
    event_.event_time_ns = event_.receive_time_ns;
    event_.flags |= event_flag_time_from_receive;
    std::int64_t request_time = 0;
    if (extract_access_log(body, fields_, request_time)) {
      // A raw access-log line carries its own time: use it.
      event_.event_time_ns = request_time;
      event_.flags &= static_cast<std::uint8_t>(~event_flag_time_from_receive);
      return UnparsedReason::none;
    }
    if (config_.extract_key_values) extract_key_values(body, fields_);
    return UnparsedReason::none;
  }

  const ParserConfig& config_;
  FieldScratch& fields_;
  JsonParser& json_;
  Event& event_;
  Arena& arena_;
};

}  // namespace

void Parser::parse(Event& event, Arena& arena) {
  reset_outputs(event);
  FieldScratch& fields = state_->fields;
  fields.clear();
  const std::string_view body = detail::trim_left(detail::trim_right(event.raw));
  UnparsedReason reason = UnparsedReason::empty;
  if (!body.empty()) {
    reason = Dispatch(config_, fields, state_->json, event, arena).run(body);
  }
  if (reason != UnparsedReason::none) {
    const InputFormat tried = event.format;
    reset_outputs(event);
    event.format = tried;
    event.status = ParseStatus::unparsed;
    event.reason = reason;
    return;
  }
  if (!valid_utf8(event.message)) event.flags |= event_flag_invalid_utf8;
  event.fields = fields.commit(arena);
  if (fields.dropped() != 0) event.flags |= event_flag_fields_dropped;
  event.status = ParseStatus::parsed;
}

}  // namespace sluice
