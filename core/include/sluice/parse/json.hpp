// SPDX-License-Identifier: Apache-2.0
/// JSON lines (one object per record) via simdjson's On-Demand API.
///
/// - The top level must be an object (else `bad_json`); nested objects are flattened to dotted
///   names (`a.b.c`) and arrays to indexed names (`a.0`, `a.1`), so every scalar keeps its own
///   field and position; empty objects and arrays produce no field. Nesting deeper than
///   `ParserConfig::max_json_depth` is `too_deep`.
/// - Strings are unescaped into the arena; numbers keep their textual form; booleans are `true`
///   and `false`; `null` produces no field (absent and null are the same to a detection rule).
/// - Header fields come from the first match, at any depth, of: time `@timestamp`, `timestamp`,
///   `time`, `ts`, `date` (RFC 3339 string, or a number of seconds since the epoch); host `host`,
///   `hostname`, `host.name`, `host.hostname`, `computer_name`; app `app`, `program`,
///   `process.name`, `appname`, `app_name`, `service`, `ident`; procid `pid`, `process.pid`;
///   message `message`, `msg`, `log`. No time gives the receive time and
///   `event_flag_time_from_receive`.
/// - simdjson reads up to `SIMDJSON_PADDING` bytes past the input, so the record is copied into
///   the arena with that padding first (the raw view's memory is never read past its end); field
///   values that need no unescaping point into that copy.
///
/// One `JsonParser` per worker: it reuses simdjson's parser buffers and is not thread-safe. It
/// allocates from the heap only when a record is longer than any seen before.
#pragma once

#include <memory>
#include <string_view>

#include "sluice/event/arena.hpp"
#include "sluice/event/event.hpp"
#include "sluice/parse/field_scratch.hpp"
#include "sluice/parse/parser.hpp"

namespace sluice {

/// Reusable JSON-lines parser (simdjson On-Demand behind a pointer, so this header does not
/// pull in simdjson). Construction allocates simdjson's buffers lazily, on first use.
class JsonParser {
 public:
  JsonParser();
  ~JsonParser();
  JsonParser(JsonParser&&) noexcept;
  JsonParser& operator=(JsonParser&&) noexcept;

  /// Parses `line` as one JSON object into `event` and `fields`. Returns `UnparsedReason::none`
  /// or `bad_json` / `too_deep`; on failure `event` may hold partial values that the caller must
  /// clear.
  UnparsedReason parse(std::string_view line, Event& event, Arena& arena, FieldScratch& fields,
                       const ParserConfig& config);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
