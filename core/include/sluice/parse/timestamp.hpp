// SPDX-License-Identifier: Apache-2.0
/// Timestamp scanning shared by the parsers: RFC 3339 / ISO 8601 (`2026-11-28T06:55:46.123456Z`),
/// the BSD syslog form of RFC 3164 section 4.1.2 (`Mmm dd hh:mm:ss`), civil-date arithmetic and
/// the year inference that year-less BSD timestamps need.
///
/// All functions are pure, allocation-free and thread-safe. They never read past the view they
/// are given. Times are nanoseconds since the Unix epoch, UTC; offsets are minutes east of UTC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice {

/// Nanoseconds in a second, the unit of every `Event` time.
inline constexpr std::int64_t ns_per_second = 1'000'000'000;
/// Nanoseconds in a day (no leap seconds, as in Unix time).
inline constexpr std::int64_t ns_per_day = 86'400 * ns_per_second;

/// Days since 1970-01-01 of the proleptic Gregorian date `y-m-d` (Howard Hinnant's
/// `days_from_civil`). `m` is 1..12; `d` may exceed the month's length (it rolls over).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

/// A civil date, as produced by `civil_from_days`.
struct CivilDate {
  std::int64_t year = 1970;
  unsigned month = 1;  ///< 1..12
  unsigned day = 1;    ///< 1..31
};

/// Inverse of `days_from_civil`.
constexpr CivilDate civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

/// What a timestamp scan found.
struct ParsedTime {
  std::int64_t utc_ns = 0;             ///< the instant, UTC
  std::int16_t tz_offset_minutes = 0;  ///< the offset written (or the default applied)
  bool has_zone = false;               ///< an explicit `Z` or `+hh:mm` was present
};

/// Scans an RFC 3339 timestamp (RFC 5424 section 6.2.3, RFC 3339 section 5.6) at the start of
/// `text`. Years outside 1678..2261 (beyond int64 nanoseconds) are rejected. Format:
/// `YYYY-MM-DDThh:mm:ss[.f{1,9}][Z|+hh:mm|-hh:mm]`. Lenient where senders are: `t` and
/// `z` in lower case, `,` as decimal mark, more than 9 fraction digits (the rest is ignored),
/// `+hhmm` without a colon, and, when `allow_space` is set, a space instead of `T`. Without a
/// zone the time is local at `default_tz_offset_minutes`. Returns the bytes consumed, 0 when
/// `text` does not start with a valid timestamp.
std::size_t scan_rfc3339(std::string_view text, std::int32_t default_tz_offset_minutes,
                         bool allow_space, ParsedTime& out);

/// Scans a BSD syslog timestamp (RFC 3164 section 4.1.2) at the start of `text`:
/// `Mmm dd hh:mm:ss` where `dd` may be space-padded (`Jan  1`) or a single digit, optionally
/// with a fraction (`.123`), or with a year before the time (`Mmm dd yyyy hh:mm:ss`, as Cisco
/// devices send). A year-less timestamp takes its year from `receive_time_ns` via
/// `infer_year`. Returns the bytes consumed, 0 when `text` does not start with one.
std::size_t scan_bsd_timestamp(std::string_view text, std::int64_t receive_time_ns,
                               std::int32_t tz_offset_minutes, ParsedTime& out);

/// Year for a year-less `month`/`day` (local time `seconds_of_day`, zone `tz_offset_minutes`)
/// received at `receive_time_ns`: the latest of the receive year - 1, the receive year and the
/// receive year + 1 that does not put the message more than `max_future_days` after the receive
/// time. So a December message received in January belongs to the previous year, a January 1
/// message received on December 31 (sender clock ahead) to the next.
std::int64_t infer_year(unsigned month, unsigned day, std::int64_t seconds_of_day,
                        std::int32_t tz_offset_minutes, std::int64_t receive_time_ns);

/// How far in the future (relative to receive time) a year-less timestamp may lie before it is
/// taken to belong to the previous year: about a month, enough for clock skew and for logs
/// shipped late, short enough that last December's records never land next December.
inline constexpr std::int64_t max_future_days = 31;

}  // namespace sluice
