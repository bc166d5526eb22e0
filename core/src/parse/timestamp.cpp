// SPDX-License-Identifier: Apache-2.0
#include "sluice/parse/timestamp.hpp"

#include "scan.hpp"

namespace sluice {
namespace {

using detail::digits;
using detail::is_digit;

constexpr std::int64_t ns_per_minute = 60 * ns_per_second;

/// Years whose every instant fits in int64 nanoseconds (1677-09-21 to 2262-04-11), with a day's
/// margin for zone offsets. Anything outside is rejected as a malformed timestamp, not wrapped.
constexpr bool representable_year(std::int64_t year) {
  return year >= 1678 && year <= 2261;
}

/// Month number (1..12) of an English three-letter abbreviation, case as written by syslogd
/// (`Jan`), also all upper or lower case; 0 when unknown.
unsigned month_number(const char* p) {
  auto lower = [](char c) { return static_cast<unsigned>(static_cast<unsigned char>(c) | 0x20); };
  const unsigned key = (lower(p[0]) << 16) | (lower(p[1]) << 8) | lower(p[2]);
  switch (key) {
    case ('j' << 16) | ('a' << 8) | 'n':
      return 1;
    case ('f' << 16) | ('e' << 8) | 'b':
      return 2;
    case ('m' << 16) | ('a' << 8) | 'r':
      return 3;
    case ('a' << 16) | ('p' << 8) | 'r':
      return 4;
    case ('m' << 16) | ('a' << 8) | 'y':
      return 5;
    case ('j' << 16) | ('u' << 8) | 'n':
      return 6;
    case ('j' << 16) | ('u' << 8) | 'l':
      return 7;
    case ('a' << 16) | ('u' << 8) | 'g':
      return 8;
    case ('s' << 16) | ('e' << 8) | 'p':
      return 9;
    case ('o' << 16) | ('c' << 8) | 't':
      return 10;
    case ('n' << 16) | ('o' << 8) | 'v':
      return 11;
    case ('d' << 16) | ('e' << 8) | 'c':
      return 12;
    default:
      return 0;
  }
}

/// Scans `hh:mm:ss` at `text[pos]`; returns the seconds of the day or -1.
std::int64_t scan_clock(std::string_view text, std::size_t pos) {
  if (pos + 8 > text.size() || text[pos + 2] != ':' || text[pos + 5] != ':') return -1;
  unsigned h = 0, m = 0, s = 0;
  if (!digits(text.data() + pos, 2, h) || !digits(text.data() + pos + 3, 2, m) ||
      !digits(text.data() + pos + 6, 2, s))
    return -1;
  // Second 60 is a leap second (RFC 3339 section 5.7); it lands on the next minute's 0.
  if (h > 23 || m > 59 || s > 60) return -1;
  return static_cast<std::int64_t>(h) * 3600 + m * 60 + s;
}

/// Scans an optional fraction (`.` or `,` and digits) at `text[pos]`; adds nanoseconds to `ns`
/// and returns the bytes consumed. Digits beyond nanosecond precision are consumed and ignored.
std::size_t scan_fraction(std::string_view text, std::size_t pos, std::int64_t& ns) {
  if (pos + 1 >= text.size() || (text[pos] != '.' && text[pos] != ',') || !is_digit(text[pos + 1]))
    return 0;
  std::size_t i = pos + 1;
  std::int64_t frac = 0;
  int n = 0;
  while (i < text.size() && is_digit(text[i])) {
    if (n < 9) {
      frac = frac * 10 + (text[i] - '0');
      ++n;
    }
    ++i;
  }
  for (; n < 9; ++n)
    frac *= 10;
  ns = frac;
  return i - pos;
}

}  // namespace

std::int64_t infer_year(unsigned month, unsigned day, std::int64_t seconds_of_day,
                        std::int32_t tz_offset_minutes, std::int64_t receive_time_ns) {
  const std::int64_t receive_day =
      receive_time_ns >= 0 ? receive_time_ns / ns_per_day : (receive_time_ns + 1) / ns_per_day - 1;
  const std::int64_t year = civil_from_days(receive_day).year;
  // A receive time at the edge of the int64 range (never a real clock) gets a clamped year, so
  // the arithmetic below cannot overflow.
  if (!representable_year(year - 1) || !representable_year(year + 1))
    return year < 1678 ? 1678 : 2261;
  const std::int64_t limit = receive_time_ns + max_future_days * ns_per_day;
  for (std::int64_t y = year + 1; y > year - 1; --y) {
    const std::int64_t t = days_from_civil(y, month, day) * ns_per_day +
                           seconds_of_day * ns_per_second -
                           static_cast<std::int64_t>(tz_offset_minutes) * ns_per_minute;
    if (t <= limit) return y;
  }
  return year - 1;
}

std::size_t scan_rfc3339(std::string_view text, std::int32_t default_tz_offset_minutes,
                         bool allow_space, ParsedTime& out) {
  // full-date "YYYY-MM-DD" "T" partial-time "hh:mm:ss": 19 bytes minimum.
  if (text.size() < 19 || text[4] != '-' || text[7] != '-') return 0;
  const char sep = text[10];
  if (sep != 'T' && sep != 't' && !(allow_space && sep == ' ')) return 0;
  unsigned y = 0, mo = 0, d = 0;
  if (!digits(text.data(), 4, y) || !digits(text.data() + 5, 2, mo) ||
      !digits(text.data() + 8, 2, d))
    return 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || !representable_year(y)) return 0;
  const std::int64_t sod = scan_clock(text, 11);
  if (sod < 0) return 0;
  std::size_t pos = 19;
  std::int64_t frac_ns = 0;
  pos += scan_fraction(text, pos, frac_ns);
  std::int32_t offset = default_tz_offset_minutes;
  bool has_zone = false;
  if (pos < text.size()) {
    const char z = text[pos];
    if (z == 'Z' || z == 'z') {
      offset = 0;
      has_zone = true;
      ++pos;
    } else if (z == '+' || z == '-') {
      unsigned oh = 0, om = 0;
      std::size_t len = 0;
      if (pos + 6 <= text.size() && text[pos + 3] == ':' && digits(text.data() + pos + 1, 2, oh) &&
          digits(text.data() + pos + 4, 2, om)) {
        len = 6;
      } else if (pos + 5 <= text.size() && digits(text.data() + pos + 1, 2, oh) &&
                 digits(text.data() + pos + 3, 2, om)) {
        len = 5;
      }
      if (len != 0 && oh <= 23 && om <= 59) {
        offset = static_cast<std::int32_t>(oh * 60 + om) * (z == '-' ? -1 : 1);
        has_zone = true;
        pos += len;
      }
    }
  }
  out.utc_ns = days_from_civil(y, mo, d) * ns_per_day + sod * ns_per_second + frac_ns -
               static_cast<std::int64_t>(offset) * ns_per_minute;
  out.tz_offset_minutes = static_cast<std::int16_t>(offset);
  out.has_zone = has_zone;
  return pos;
}

std::size_t scan_bsd_timestamp(std::string_view text, std::int64_t receive_time_ns,
                               std::int32_t tz_offset_minutes, ParsedTime& out) {
  // "Mmm d hh:mm:ss" is the shortest form: 14 bytes.
  if (text.size() < 14 || text[3] != ' ') return 0;
  const unsigned month = month_number(text.data());
  if (month == 0) return 0;
  std::size_t pos = 4;
  if (text[pos] == ' ') ++pos;  // space-padded day, "Jan  1"
  unsigned day = 0;
  if (pos + 2 <= text.size() && is_digit(text[pos]) && is_digit(text[pos + 1])) {
    day = static_cast<unsigned>((text[pos] - '0') * 10 + (text[pos + 1] - '0'));
    pos += 2;
  } else if (pos < text.size() && is_digit(text[pos])) {
    day = static_cast<unsigned>(text[pos] - '0');
    pos += 1;
  } else {
    return 0;
  }
  if (day < 1 || day > 31 || pos >= text.size() || text[pos] != ' ') return 0;
  ++pos;
  std::int64_t year = -1;
  unsigned y = 0;
  if (pos + 5 <= text.size() && text[pos + 4] == ' ' && digits(text.data() + pos, 4, y)) {
    if (!representable_year(y)) return 0;
    year = y;
    pos += 5;
  }
  const std::int64_t sod = scan_clock(text, pos);
  if (sod < 0) return 0;
  pos += 8;
  std::int64_t frac_ns = 0;
  pos += scan_fraction(text, pos, frac_ns);
  if (year < 0) year = infer_year(month, day, sod, tz_offset_minutes, receive_time_ns);
  out.utc_ns = days_from_civil(year, month, day) * ns_per_day + sod * ns_per_second + frac_ns -
               static_cast<std::int64_t>(tz_offset_minutes) * ns_per_minute;
  out.tz_offset_minutes = static_cast<std::int16_t>(tz_offset_minutes);
  out.has_zone = false;
  return pos;
}

}  // namespace sluice
