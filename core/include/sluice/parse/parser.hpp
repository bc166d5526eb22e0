// SPDX-License-Identifier: Apache-2.0
/// `Parser` turns the raw bytes of an `Event` into its fields, in place. It is the one entry point
/// workers call; the per-format parsers (rfc3164.hpp, rfc5424.hpp, json.hpp, cef.hpp, kv.hpp)
/// sit behind it.
///
/// Contract: `parse` never throws, never allocates from the heap (anything it must rewrite, such
/// as unescaped strings or field arrays, goes into the batch's arena), and always leaves the event
/// either `ParseStatus::parsed` or `ParseStatus::unparsed` with an `UnparsedReason`. The raw bytes
/// stay untouched. One `Parser` per worker thread: it may hold scratch state (simdjson's parser)
/// and is not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "sluice/event/arena.hpp"
#include "sluice/event/event.hpp"

namespace sluice {

/// Which parser(s) to apply. `auto_detect` picks per line, after trimming leading and trailing
/// whitespace and control characters (nothing left: unparsed `empty`), by the first bytes:
/// - `{` is JSON (invalid JSON: unparsed `bad_json` or `too_deep`);
/// - `<` and a digit is a syslog PRI: `<PRI>1 ` is RFC 5424, anything else RFC 3164; a malformed
///   PRI is unparsed `bad_priority`, a failed RFC 5424 header `bad_header`/`bad_structured_data`;
/// - `CEF:` is CEF, also as the message after an RFC 3164/5424 header (`bad_cef` when short);
/// - `1 ` and a digit or `-` is RFC 5424 without PRI; else a leading timestamp makes it RFC 3164
///   without PRI; if either fails the line is raw (below);
/// - anything else (Apache, Hadoop, `<` without a digit, ...) is `InputFormat::raw`, parsed:
///   message = the whole trimmed line, key=value pairs extracted, event time = receive time with
///   `event_flag_time_from_receive`. Nothing that has a byte other than whitespace or control
///   characters is lost to `no_format_matched` in auto mode.
/// An explicit format applies only that parser (`cef` also accepts a syslog header in front) and
/// a mismatch is unparsed with that parser's reason; `raw` always takes the raw path above.
enum class ParseFormat : std::uint8_t { auto_detect, rfc3164, rfc5424, json, cef, raw };

/// Parses "auto", "rfc3164", "rfc5424", "json", "cef", "raw"; false when unknown.
bool parse_format_name(std::string_view name, ParseFormat& out);

struct ParserConfig {
  ParseFormat format = ParseFormat::auto_detect;
  /// Extract `key=value` pairs from free-text messages into fields (for syslog and CEF-less lines).
  bool extract_key_values = true;
  /// Offset applied to timestamps that carry no zone (RFC 3164), in minutes east of UTC.
  std::int32_t default_tz_offset_minutes = 0;
  /// Deepest JSON nesting flattened into fields; deeper input is unparsed (`too_deep`).
  std::uint32_t max_json_depth = 64;
};

class Parser {
 public:
  explicit Parser(ParserConfig config = {});
  ~Parser();
  Parser(Parser&&) noexcept;
  Parser& operator=(Parser&&) noexcept;

  /// Parses `event.raw` into `event`; views point into `event.raw` or `arena`.
  /// Year-less timestamps take their year from `event.receive_time_ns` (a December message
  /// received in January belongs to the previous year).
  void parse(Event& event, Arena& arena);

  const ParserConfig& config() const { return config_; }

 private:
  struct State;
  ParserConfig config_;
  std::unique_ptr<State> state_;
};

}  // namespace sluice
