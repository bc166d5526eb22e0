// SPDX-License-Identifier: Apache-2.0
/// RFC 3164 (BSD syslog) header parsing, as real senders write it rather than as the RFC hopes:
///
///     [<PRI>]TIMESTAMP SP [HOSTNAME SP] [TAG[\[PID\]]: SP] MSG
///
/// - PRI (section 4.1.1) is 1-3 digits, 0..191; facility = PRI / 8, severity = PRI % 8.
/// - TIMESTAMP is `Mmm dd hh:mm:ss` (section 4.1.2) or RFC 3339 (rsyslog's high-precision
///   template); see timestamp.hpp for the variants accepted. Year-less timestamps take their
///   year from the receive time; a zone-less time is at `ParserConfig::default_tz_offset_minutes`.
///   With a PRI the timestamp may be missing (section 4.3.3: the relay would use its own time):
///   the event time is then the receive time, with `event_flag_time_from_receive`. Without a PRI
///   a timestamp is required, otherwise the line is not RFC 3164 (`bad_header`).
/// - HOSTNAME may be missing: a first token that ends with `:` or contains `[` is the tag.
/// - TAG is `app:`, `app[pid]:`, `app(detail)[pid]:` (app = `app(detail)`), or `app[pid]`
///   without the colon. Two words are accepted as a tag only in the forms found in real logs:
///   `syslogd 1.4.1:` (a version) and `-- root[2421]:` (ending in `[pid]:`).
/// - MSG is the rest after the tag and its spaces, with trailing spaces and control characters
///   trimmed (CR, LF, NUL...). Embedded control characters are kept.
///
/// The function only reads `line`; views in `event` point into it. No allocation.
#pragma once

#include <string_view>

#include "sluice/event/event.hpp"
#include "sluice/parse/parser.hpp"

namespace sluice {

/// Parses `line` (a record with trailing whitespace and control characters already trimmed) as
/// RFC 3164 into the header fields of `event` (facility, severity, event time, tz offset, host,
/// app, procid, message, format and the time-from-receive flag). Returns `UnparsedReason::none`
/// on success, else why not (`bad_priority`, `bad_header`); on failure `event` may hold partial
/// values that the caller must clear. Does not extract key=value pairs or check UTF-8.
UnparsedReason parse_rfc3164(std::string_view line, Event& event, const ParserConfig& config);

/// Scans a syslog PRI (`<0>`..`<191>`, 1-3 digits) at the start of `text`. Returns the bytes
/// consumed (3-5) and sets `pri`, or 0 when there is none or it is malformed.
std::size_t scan_priority(std::string_view text, unsigned& pri);

}  // namespace sluice
