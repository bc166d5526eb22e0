// SPDX-License-Identifier: Apache-2.0
/// RFC 5424 syslog parsing (section 6, ABNF in 6.1):
///
///     <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]
///
/// - Any header field may be the NILVALUE `-`; the view is then left empty.
/// - TIMESTAMP (6.2.3): RFC 3339 with up to 9 fraction digits kept as nanoseconds, converted to
///   UTC; the written offset is kept in `tz_offset_minutes`. NILVALUE gives the receive time and
///   `event_flag_time_from_receive`.
/// - STRUCTURED-DATA (6.3): `-` or one or more `[SD-ID *(SP PARAM-NAME="PARAM-VALUE")]`.
///   `Event::structured_data` keeps the SD text as sent; each parameter becomes a field named
///   `SD-ID.PARAM-NAME` (built in the arena) whose value is unescaped (`\"`, `\\`, `\]`, 6.3.3)
///   into the arena only when it holds a backslash, else a view into the raw bytes. Anything
///   malformed (unterminated element or value, missing `=`, empty SD-ID) is `bad_structured_data`.
/// - MSG (6.4): a leading UTF-8 BOM (EF BB BF) is stripped; trailing control characters are
///   trimmed by the caller.
/// - Leniency: the PRI may be missing when the record starts with `1 ` and a digit or `-` (Zeek
///   and some relays log the payload without it); facility and severity stay unset. Header
///   fields longer than the RFC limits (255/48/128/32) are accepted.
#pragma once

#include <string_view>

#include "sluice/event/arena.hpp"
#include "sluice/event/event.hpp"
#include "sluice/parse/field_scratch.hpp"
#include "sluice/parse/parser.hpp"

namespace sluice {

/// True when `line` looks like RFC 5424: `<PRI>` followed by version `1` and a space, or (no PRI)
/// `1 ` followed by a digit or `-`. Cheap; used by auto-detection.
bool looks_like_rfc5424(std::string_view line);

/// Parses `line` (trailing whitespace and control characters already trimmed) as RFC 5424 into
/// `event`, appending structured-data parameters to `fields`. Returns `UnparsedReason::none` on
/// success, else `bad_priority`, `bad_header` or `bad_structured_data`; on failure `event` may
/// hold partial values that the caller must clear. Allocates only from `arena` (field names,
/// unescaped values).
UnparsedReason parse_rfc5424(std::string_view line, Event& event, Arena& arena,
                             FieldScratch& fields, const ParserConfig& config);

}  // namespace sluice
