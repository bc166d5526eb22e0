// SPDX-License-Identifier: Apache-2.0
/// ArcSight Common Event Format (CEF, "Implementing ArcSight CEF", revision 25):
///
///     CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension
///
/// on its own or as the message of a syslog record (`<13>Jan 18 11:07:53 host CEF:0|...`); the
/// caller parses the syslog header and hands the payload here.
///
/// - Header fields escape `\|` and `\\`; they become fields `cef.version`, `cef.device_vendor`,
///   `cef.device_product`, `cef.device_version`, `cef.signature_id`, `cef.name`, `cef.severity`.
///   Fewer than seven header fields is `bad_cef`.
/// - Extension: space-separated `key=value` pairs; a value may hold spaces and runs until the next
///   ` key=`; escapes `\=`, `\\`, `\n`, `\r` (a line break). Each key becomes a field of its own
///   name. Values and header fields are unescaped into the arena only when they hold a backslash.
/// - Event header: message = extension `msg` when present, else the Name; app = Device Product
///   when the syslog header gave none; event time = extension `rt` when it is milliseconds since
///   the epoch and the syslog header gave no time.
#pragma once

#include <string_view>

#include "sluice/event/arena.hpp"
#include "sluice/event/event.hpp"
#include "sluice/parse/field_scratch.hpp"

namespace sluice {

/// True when `text` starts with `CEF:`.
inline bool starts_with_cef(std::string_view text) {
  return text.starts_with("CEF:");
}

/// Parses the CEF record `text` (starting with `CEF:`) into `event` and `fields`.
/// `have_time` says whether a syslog header already set the event time. Returns
/// `UnparsedReason::none` or `bad_cef`. Allocates only from `arena`.
UnparsedReason parse_cef(std::string_view text, Event& event, Arena& arena, FieldScratch& fields,
                         bool have_time);

}  // namespace sluice
