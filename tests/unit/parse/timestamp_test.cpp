// SPDX-License-Identifier: Apache-2.0
/// Timestamp scanning: RFC 3339 variants, BSD timestamps and year inference around New Year.
#include "sluice/parse/timestamp.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace sluice {
namespace {

constexpr std::int64_t at(std::int64_t y, unsigned m, unsigned d, int hh = 0, int mm = 0,
                          int ss = 0) {
  return days_from_civil(y, m, d) * ns_per_day + (hh * 3600 + mm * 60 + ss) * ns_per_second;
}

TEST(parse_timestamp, CivilRoundTrip) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  for (std::int64_t d = -800000; d < 800000; d += 997) {
    const CivilDate c = civil_from_days(d);
    EXPECT_EQ(days_from_civil(c.year, c.month, c.day), d);
  }
}

TEST(parse_timestamp, Rfc3339Forms) {
  ParsedTime t;
  EXPECT_EQ(scan_rfc3339("2026-11-28T06:55:46Z rest", 0, false, t), 20u);
  EXPECT_EQ(t.utc_ns, at(2026, 11, 28, 6, 55, 46));
  EXPECT_TRUE(t.has_zone);

  EXPECT_EQ(scan_rfc3339("2026-11-28T06:55:46.123456789+02:00", 0, false, t), 35u);
  EXPECT_EQ(t.utc_ns, at(2026, 11, 28, 4, 55, 46) + 123456789);
  EXPECT_EQ(t.tz_offset_minutes, 120);

  EXPECT_EQ(scan_rfc3339("2018-03-24T08:59:37-07:00", 0, false, t), 25u);
  EXPECT_EQ(t.utc_ns, at(2018, 3, 24, 15, 59, 37));
  EXPECT_EQ(t.tz_offset_minutes, -420);

  // More than nine fraction digits: consumed, precision capped at ns.
  EXPECT_EQ(scan_rfc3339("2026-01-01T00:00:00.1234567891Z", 0, false, t), 31u);
  EXPECT_EQ(t.utc_ns, at(2026, 1, 1) + 123456789);

  // No zone: the default offset applies.
  EXPECT_EQ(scan_rfc3339("2026-01-01T10:00:00", 60, false, t), 19u);
  EXPECT_EQ(t.utc_ns, at(2026, 1, 1, 9));
  EXPECT_FALSE(t.has_zone);
  EXPECT_EQ(t.tz_offset_minutes, 60);

  EXPECT_EQ(scan_rfc3339("2026-01-01 10:00:00", 0, false, t), 0u);
  EXPECT_EQ(scan_rfc3339("2026-01-01 10:00:00", 0, true, t), 19u);
  EXPECT_EQ(scan_rfc3339("2026-13-01T10:00:00Z", 0, false, t), 0u);
  EXPECT_EQ(scan_rfc3339("2026-01-01T24:00:00Z", 0, false, t), 0u);
  EXPECT_EQ(scan_rfc3339("2026-01-01T10:00", 0, false, t), 0u);
  EXPECT_EQ(scan_rfc3339("", 0, false, t), 0u);
  // Outside int64 nanoseconds (found by fuzzing: signed overflow).
  EXPECT_EQ(scan_rfc3339("0000-01-01T00:00:00-23:59", 0, false, t), 0u);
  EXPECT_EQ(scan_rfc3339("3201-01-01T00:00:00Z", 0, false, t), 0u);
  EXPECT_EQ(scan_rfc3339("1678-01-01T00:00:00Z", 0, false, t), 20u);
  EXPECT_EQ(scan_rfc3339("2261-12-31T23:59:59-23:59", 0, false, t), 25u);
}

TEST(parse_timestamp, BsdForms) {
  const std::int64_t receive = at(2026, 6, 20, 12);
  ParsedTime t;
  EXPECT_EQ(scan_bsd_timestamp("Jun 14 15:16:01 combo", receive, 0, t), 15u);
  EXPECT_EQ(t.utc_ns, at(2026, 6, 14, 15, 16, 1));
  EXPECT_EQ(scan_bsd_timestamp("Jan  1 00:00:00 x", receive, 0, t), 15u);
  EXPECT_EQ(t.utc_ns, at(2026, 1, 1));
  EXPECT_EQ(scan_bsd_timestamp("Jan 1 00:00:00 x", receive, 0, t), 14u);
  EXPECT_EQ(t.utc_ns, at(2026, 1, 1));
  EXPECT_EQ(scan_bsd_timestamp("Jan 18 2024 11:07:53: %ASA", receive, 0, t), 20u);
  EXPECT_EQ(t.utc_ns, at(2024, 1, 18, 11, 7, 53));
  EXPECT_EQ(scan_bsd_timestamp("Mar  3 01:02:03.250 host", receive, 0, t), 19u);
  EXPECT_EQ(t.utc_ns, at(2026, 3, 3, 1, 2, 3) + 250'000'000);
  // Zone east of UTC: local 01:00 is 23:00 the previous day in UTC.
  EXPECT_EQ(scan_bsd_timestamp("Mar  3 01:00:00", receive, 120, t), 15u);
  EXPECT_EQ(t.utc_ns, at(2026, 3, 2, 23));
  EXPECT_EQ(scan_bsd_timestamp("Foo  3 01:00:00", receive, 0, t), 0u);
  EXPECT_EQ(scan_bsd_timestamp("Jun 14 15:16", receive, 0, t), 0u);
  EXPECT_EQ(scan_bsd_timestamp("Jun 32 15:16:01", receive, 0, t), 0u);
  EXPECT_EQ(scan_bsd_timestamp("Jan 18 9999 11:07:53", receive, 0, t), 0u);
  // A receive time at the edge of the int64 range must not overflow.
  EXPECT_NE(scan_bsd_timestamp("Jun 14 15:16:01", INT64_MAX, 0, t), 0u);
  EXPECT_NE(scan_bsd_timestamp("Jun 14 15:16:01", INT64_MIN, 0, t), 0u);
}

TEST(parse_timestamp, YearRolloverDecemberReceivedInJanuary) {
  const std::int64_t receive = at(2026, 1, 2, 0, 5);
  ParsedTime t;
  ASSERT_NE(scan_bsd_timestamp("Dec 31 23:59:58", receive, 0, t), 0u);
  EXPECT_EQ(t.utc_ns, at(2025, 12, 31, 23, 59, 58));
  ASSERT_NE(scan_bsd_timestamp("Jan  2 00:04:00", receive, 0, t), 0u);
  EXPECT_EQ(t.utc_ns, at(2026, 1, 2, 0, 4));
  // A little in the future (sender clock ahead) stays in the receive year.
  ASSERT_NE(scan_bsd_timestamp("Jan 20 00:00:00", receive, 0, t), 0u);
  EXPECT_EQ(t.utc_ns, at(2026, 1, 20));
  // More than a month ahead is last year.
  ASSERT_NE(scan_bsd_timestamp("Jun 14 15:16:01", receive, 0, t), 0u);
  EXPECT_EQ(t.utc_ns, at(2025, 6, 14, 15, 16, 1));
}

TEST(parse_timestamp, YearRolloverJanuaryReceivedInDecember) {
  const std::int64_t receive = at(2025, 12, 31, 23, 59, 50);
  EXPECT_EQ(infer_year(1, 1, 5, 0, receive), 2026);
  EXPECT_EQ(infer_year(12, 31, 86399, 0, receive), 2025);
  EXPECT_EQ(infer_year(2, 15, 0, 0, receive), 2025);
}

}  // namespace
}  // namespace sluice
