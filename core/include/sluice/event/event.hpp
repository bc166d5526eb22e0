// SPDX-License-Identifier: Apache-2.0
/// `Event` is one log record as Sluice sees it: a set of views into the arena of the
/// `EventBatch` that owns it (or into memory the batch keeps alive). Copying an `Event` copies
/// views, never bytes; an event must not outlive its batch.
///
/// A source fills `raw`, `receive_time_ns`, `listener_id`, `peer` and, for files, `line`. A parser
/// fills the rest. An event no parser accepts stays `ParseStatus::unparsed` with its raw bytes and
/// an `UnparsedReason`: it is counted and kept, never dropped.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sluice {

/// The wire format a parser recognised.
enum class InputFormat : std::uint8_t { unknown, rfc3164, rfc5424, json, cef, raw };

/// Name as used in configuration and on the command line ("rfc3164", "json", ...).
std::string_view to_string(InputFormat format);

enum class ParseStatus : std::uint8_t { pending, parsed, unparsed };

/// Why a line became an unparsed event. Small and fixed: each value is a counter label.
enum class UnparsedReason : std::uint8_t {
  none,
  empty,                ///< zero bytes, or only whitespace and control characters
  no_format_matched,    ///< auto mode: no parser accepted the line
  bad_priority,         ///< `<PRI>` missing where required, out of range or unterminated
  bad_header,           ///< header fields missing or malformed (version, timestamp, ...)
  bad_structured_data,  ///< RFC 5424 structured data malformed or unterminated
  bad_json,             ///< not a JSON object, or invalid JSON
  bad_cef,              ///< CEF header with fewer than seven fields
  too_deep,             ///< nesting beyond what the parser accepts
};
inline constexpr std::size_t unparsed_reason_count = 9;
std::string_view to_string(UnparsedReason reason);

/// Bit flags on an event.
enum EventFlags : std::uint8_t {
  event_flag_none = 0,
  /// The record was longer than the source's maximum message size and was cut.
  event_flag_truncated = 1,
  /// The message carried no usable timestamp; `event_time_ns` is the receive time.
  event_flag_time_from_receive = 2,
  /// Invalid UTF-8 was found in the message (the bytes are kept as they are).
  event_flag_invalid_utf8 = 4,
  /// More fields than a parser keeps per event; the rest are only in the raw bytes.
  event_flag_fields_dropped = 8,
};

/// The sender of a network record: IPv4 or IPv6 address and port. `family == 0` means none
/// (file, stdin).
struct PeerAddress {
  std::uint8_t family = 0;  ///< 0, 4 or 6
  std::uint16_t port = 0;
  std::array<std::uint8_t, 16> address{};

  /// Text form of the address alone ("10.0.0.1", "::1"); empty when `family == 0`.
  std::string address_string() const;
  /// Writes the text form of the address into `buf` (at least 46 bytes, INET6_ADDRSTRLEN) and
  /// returns its length. Does not allocate; IPv4 is formatted without going through `sprintf`.
  std::size_t format_address(char* buf) const;
  static PeerAddress ipv4(std::uint32_t host_order_address, std::uint16_t port);
  static PeerAddress ipv6(const std::uint8_t (&bytes)[16], std::uint16_t port);
};

/// One extracted field: a name (dotted for nested JSON, `sd-id.param` for RFC 5424 structured
/// data, the key for `key=value`) and its value, both views.
struct Field {
  std::string_view name;
  std::string_view value;
};

inline constexpr std::uint8_t no_facility = 0xff;
inline constexpr std::uint8_t no_severity = 0xff;

struct Event {
  std::int64_t event_time_ns = 0;    ///< nanoseconds since the Unix epoch, UTC
  std::int64_t receive_time_ns = 0;  ///< when Sluice read the record, same clock
  std::uint64_t line = 0;            ///< 1-based line number for file input, else 0
  std::uint32_t listener_id = 0;     ///< the source that produced the record
  PeerAddress peer;
  std::uint8_t facility = no_facility;
  std::uint8_t severity = no_severity;
  InputFormat format = InputFormat::unknown;
  ParseStatus status = ParseStatus::pending;
  UnparsedReason reason = UnparsedReason::none;
  std::uint8_t flags = event_flag_none;
  std::int16_t tz_offset_minutes = 0;  ///< offset the sender wrote, for display only
  /// Template the miner assigned to the message (see anomaly/); 0 when none was assigned.
  std::uint32_t template_id = 0;

  std::string_view raw;  ///< the record exactly as received (after framing)
  std::string_view host;
  std::string_view app;
  std::string_view procid;
  std::string_view msgid;
  std::string_view message;
  std::string_view structured_data;  ///< RFC 5424 SD as sent, escapes intact
  std::span<const Field> fields;

  /// Value of the first field named `name`, or an empty view.
  std::string_view field(std::string_view name) const {
    for (const auto& f : fields)
      if (f.name == name) return f.value;
    return {};
  }
};

}  // namespace sluice
