// SPDX-License-Identifier: Apache-2.0
#include "sluice/parse/json.hpp"

#include <simdjson.h>

#include <cstring>

#include "scan.hpp"
#include "sluice/parse/timestamp.hpp"

namespace sluice {

struct JsonParser::Impl {
  simdjson::ondemand::parser parser;
};

namespace {

namespace od = simdjson::ondemand;

enum class HeaderSlot : std::uint8_t { none, time, host, app, procid, message };

/// Which header field a flattened name feeds (json.hpp lists the names).
HeaderSlot header_slot(std::string_view name) {
  if (name.empty() || name.size() > 13) return HeaderSlot::none;
  switch (name[0]) {
    case '@':
      if (name == "@timestamp") return HeaderSlot::time;
      break;
    case 't':
      if (name == "timestamp" || name == "time" || name == "ts") return HeaderSlot::time;
      break;
    case 'd':
      if (name == "date") return HeaderSlot::time;
      break;
    case 'h':
      if (name == "host" || name == "hostname" || name == "host.name" || name == "host.hostname")
        return HeaderSlot::host;
      break;
    case 'c':
      if (name == "computer_name") return HeaderSlot::host;
      break;
    case 'a':
      if (name == "app" || name == "appname" || name == "app_name") return HeaderSlot::app;
      break;
    case 'p':
      if (name == "program" || name == "process.name") return HeaderSlot::app;
      if (name == "pid" || name == "process.pid") return HeaderSlot::procid;
      break;
    case 's':
      if (name == "service") return HeaderSlot::app;
      break;
    case 'i':
      if (name == "ident") return HeaderSlot::app;
      break;
    case 'm':
      if (name == "message" || name == "msg") return HeaderSlot::message;
      break;
    case 'l':
      if (name == "log") return HeaderSlot::message;
      break;
    default:
      break;
  }
  return HeaderSlot::none;
}

/// Seconds since the epoch with an optional fraction (`1521911747.733658`); values from 1e11
/// are taken as milliseconds (JavaScript `Date.now()`).
bool epoch_number(std::string_view text, std::int64_t& ns) {
  std::size_t i = 0;
  std::int64_t whole = 0;
  while (i < text.size() && detail::is_digit(text[i])) {
    if (i >= 16) return false;
    whole = whole * 10 + (text[i] - '0');
    ++i;
  }
  if (i == 0) return false;
  std::int64_t frac = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    int n = 0;
    while (i < text.size() && detail::is_digit(text[i])) {
      if (n < 9) {
        frac = frac * 10 + (text[i] - '0');
        ++n;
      }
      ++i;
    }
    for (; n < 9; ++n)
      frac *= 10;
  }
  if (i != text.size()) return false;
  // Bounds keep the result inside int64 nanoseconds (until 2255); the gap between them is
  // ambiguous (seconds in the year 2255+ or milliseconds in 1973) and rejected.
  if (whole < 9'000'000'000) {
    ns = whole * ns_per_second + frac;
  } else if (whole >= 100'000'000'000 && whole < 9'000'000'000'000) {
    ns = whole * 1'000'000 + frac / 1000;
  } else {
    return false;
  }
  return true;
}

/// True when `text` is a JSON number (RFC 8259 section 6). On-Demand does not check a number it
/// is not asked to convert, and we keep numbers as text, so big and out-of-range ones stay valid.
bool json_number(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (i < n && text[i] == '-') ++i;
  if (i >= n) return false;
  if (text[i] == '0') {
    ++i;
  } else if (text[i] >= '1' && text[i] <= '9') {
    while (i < n && detail::is_digit(text[i]))
      ++i;
  } else {
    return false;
  }
  if (i < n && text[i] == '.') {
    const std::size_t begin = ++i;
    while (i < n && detail::is_digit(text[i]))
      ++i;
    if (i == begin) return false;
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    const std::size_t begin = i;
    while (i < n && detail::is_digit(text[i]))
      ++i;
    if (i == begin) return false;
  }
  return i == n;
}

struct Flattener {
  Event& event;
  Arena& arena;
  FieldScratch& fields;
  const ParserConfig& config;
  UnparsedReason error = UnparsedReason::none;
  bool have_time = false;

  bool fail(UnparsedReason reason) {
    error = reason;
    return false;
  }
  bool fail(simdjson::error_code code) {
    return fail(code == simdjson::DEPTH_ERROR ? UnparsedReason::too_deep
                                              : UnparsedReason::bad_json);
  }

  std::string_view join(std::string_view prefix, std::string_view key) {
    if (prefix.empty()) return key;
    auto* p = static_cast<char*>(arena.allocate(prefix.size() + 1 + key.size(), 1));
    std::memcpy(p, prefix.data(), prefix.size());
    p[prefix.size()] = '.';
    std::memcpy(p + prefix.size() + 1, key.data(), key.size());
    return {p, prefix.size() + 1 + key.size()};
  }

  std::string_view join_index(std::string_view prefix, std::size_t index) {
    char digits[20];
    std::size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + index % 10);
      index /= 10;
    } while (index != 0);
    auto* p = static_cast<char*>(arena.allocate(prefix.size() + 1 + n, 1));
    std::memcpy(p, prefix.data(), prefix.size());
    p[prefix.size()] = '.';
    for (std::size_t i = 0; i < n; ++i)
      p[prefix.size() + 1 + i] = digits[n - 1 - i];
    return {p, prefix.size() + 1 + n};
  }

  void emit(std::string_view name, std::string_view value, bool is_string) {
    fields.push(name, value);
    switch (header_slot(name)) {
      case HeaderSlot::none:
        break;
      case HeaderSlot::time:
        if (!have_time) {
          ParsedTime t;
          std::int64_t ns = 0;
          if (is_string && scan_rfc3339(value, config.default_tz_offset_minutes, true, t) != 0) {
            event.event_time_ns = t.utc_ns;
            event.tz_offset_minutes = t.tz_offset_minutes;
            have_time = true;
          } else if (!is_string && epoch_number(value, ns)) {
            event.event_time_ns = ns;
            have_time = true;
          }
        }
        break;
      case HeaderSlot::host:
        if (event.host.empty()) event.host = value;
        break;
      case HeaderSlot::app:
        if (event.app.empty()) event.app = value;
        break;
      case HeaderSlot::procid:
        if (event.procid.empty()) event.procid = value;
        break;
      case HeaderSlot::message:
        if (event.message.empty()) event.message = value;
        break;
    }
  }

  /// The key of `field` as a stable view: into the padded copy when it has no escapes, else
  /// unescaped and copied into the arena.
  bool key(od::field& field, std::string_view& out) {
    const char* begin = field.key().raw();
    // The structural pass validated the string, so its closing quote is the first '"' not
    // escaped; without a backslash before it, it is simply the first '"'.
    const char* quote = begin;
    while (*quote != '"' && *quote != '\\')
      ++quote;
    if (*quote == '"') {
      out = {begin, static_cast<std::size_t>(quote - begin)};
      return true;
    }
    std::string_view unescaped;
    if (auto code = field.unescaped_key().get(unescaped)) return fail(code);
    out = arena.copy(unescaped);
    return true;
  }

  bool object(od::object obj, std::string_view prefix, std::uint32_t depth) {
    for (auto item : obj) {
      od::field field;
      if (auto code = std::move(item).get(field)) return fail(code);
      std::string_view k;
      if (!key(field, k)) return false;
      if (!value(field.value(), join(prefix, k), depth)) return false;
    }
    return true;
  }

  bool value(od::value v, std::string_view name, std::uint32_t depth) {
    od::json_type type;
    if (auto code = v.type().get(type)) return fail(code);
    switch (type) {
      case od::json_type::object: {
        if (depth + 1 > config.max_json_depth) return fail(UnparsedReason::too_deep);
        od::object obj;
        if (auto code = v.get_object().get(obj)) return fail(code);
        return object(obj, name, depth + 1);
      }
      case od::json_type::array: {
        if (depth + 1 > config.max_json_depth) return fail(UnparsedReason::too_deep);
        od::array arr;
        if (auto code = v.get_array().get(arr)) return fail(code);
        std::size_t index = 0;
        for (auto item : arr) {
          od::value element;
          if (auto code = std::move(item).get(element)) return fail(code);
          if (!value(element, join_index(name, index++), depth + 1)) return false;
        }
        return true;
      }
      case od::json_type::string: {
        std::string_view token = detail::trim_right(v.raw_json_token());
        if (token.size() < 2) return fail(UnparsedReason::bad_json);
        std::string_view text = token.substr(1, token.size() - 2);
        if (std::memchr(text.data(), '\\', text.size()) != nullptr) {
          std::string_view unescaped;
          if (auto code = v.get_string().get(unescaped)) return fail(code);
          text = arena.copy(unescaped);
        }
        emit(name, text, true);
        return true;
      }
      case od::json_type::number: {
        const std::string_view token = detail::trim_right(v.raw_json_token());
        if (!json_number(token)) return fail(UnparsedReason::bad_json);
        emit(name, token, false);
        return true;
      }
      case od::json_type::boolean: {
        bool b = false;
        if (auto code = v.get_bool().get(b)) return fail(code);
        emit(name, b ? "true" : "false", false);
        return true;
      }
      case od::json_type::null: {
        bool is_null = false;
        if (auto code = v.is_null().get(is_null)) return fail(code);
        return is_null || fail(UnparsedReason::bad_json);
      }
    }
    return fail(UnparsedReason::bad_json);
  }
};

}  // namespace

JsonParser::JsonParser() : impl_(std::make_unique<Impl>()) {}
JsonParser::~JsonParser() = default;
JsonParser::JsonParser(JsonParser&&) noexcept = default;
JsonParser& JsonParser::operator=(JsonParser&&) noexcept = default;

UnparsedReason JsonParser::parse(std::string_view line, Event& event, Arena& arena,
                                 FieldScratch& fields, const ParserConfig& config) {
  event.format = InputFormat::json;
  if (line.empty() || line.front() != '{') return UnparsedReason::bad_json;
  // simdjson reads SIMDJSON_PADDING bytes past the end; the raw view promises no such slack.
  const std::size_t padded = line.size() + simdjson::SIMDJSON_PADDING;
  auto* buffer = static_cast<char*>(arena.allocate(padded, 64));
  std::memcpy(buffer, line.data(), line.size());
  std::memset(buffer + line.size(), 0, simdjson::SIMDJSON_PADDING);

  od::document doc;
  if (auto code = impl_->parser.iterate(buffer, line.size(), padded).get(doc))
    return code == simdjson::DEPTH_ERROR ? UnparsedReason::too_deep : UnparsedReason::bad_json;
  od::object obj;
  if (doc.get_object().get(obj)) return UnparsedReason::bad_json;
  Flattener flat{event, arena, fields, config};
  if (!flat.object(obj, {}, 1)) return flat.error;
  // Anything after the object (a second object, garbage) makes the record invalid.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) return UnparsedReason::bad_json;
  if (!flat.have_time) {
    event.event_time_ns = event.receive_time_ns;
    event.flags |= event_flag_time_from_receive;
  }
  return UnparsedReason::none;
}

}  // namespace sluice
