// SPDX-License-Identifier: Apache-2.0
/// RFC 3164 parsing through `Parser`: crafted edge cases, then every line of the Loghub Linux and
/// OpenSSH corpora checked field by field against their ground-truth CSVs, and a real auth.log.
#include "sluice/parse/rfc3164.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <string>

#include "harness.hpp"
#include "sluice/event/arena.hpp"
#include "sluice/parse/parser.hpp"
#include "sluice/parse/timestamp.hpp"
#include "tests_support.hpp"

namespace sluice {
namespace {

using test::at;
using test::Harness;

ParserConfig rfc3164_only() {
  ParserConfig c;
  c.format = ParseFormat::rfc3164;
  return c;
}

TEST(parse_rfc3164, PriorityHostTagPid) {
  Harness h(rfc3164_only());
  const Event e = h.parse("<38>Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.format, InputFormat::rfc3164);
  EXPECT_EQ(e.facility, 4);
  EXPECT_EQ(e.severity, 6);
  EXPECT_EQ(e.host, "LabSZ");
  EXPECT_EQ(e.app, "sshd");
  EXPECT_EQ(e.procid, "24200");
  EXPECT_EQ(e.message, "Invalid user webmaster");
  EXPECT_EQ(e.event_time_ns, at(2025, 12, 10, 6, 55, 46));
  EXPECT_EQ(e.flags & event_flag_time_from_receive, 0);
}

TEST(parse_rfc3164, AppWithoutPid) {
  Harness h(rfc3164_only());
  const Event e = h.parse("<13>Jun 15 04:06:20 combo logrotate: ALERT exited abnormally with [1]");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.host, "combo");
  EXPECT_EQ(e.app, "logrotate");
  EXPECT_TRUE(e.procid.empty());
  EXPECT_EQ(e.message, "ALERT exited abnormally with [1]");
}

TEST(parse_rfc3164, AppDetailPid) {
  Harness h(rfc3164_only());
  const Event e = h.parse("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.app, "sshd(pam_unix)");
  EXPECT_EQ(e.procid, "19939");
  EXPECT_EQ(e.facility, no_facility);
  EXPECT_EQ(e.severity, no_severity);
}

TEST(parse_rfc3164, MissingHostname) {
  Harness h(rfc3164_only());
  Event e = h.parse("<13>Jan  1 00:00:00 sshd[12]: msg");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_TRUE(e.host.empty());
  EXPECT_EQ(e.app, "sshd");
  EXPECT_EQ(e.procid, "12");
  EXPECT_EQ(e.message, "msg");
  e = h.parse("<13>Jan  1 00:00:00 kernel: Linux version 2.6.5");
  EXPECT_TRUE(e.host.empty());
  EXPECT_EQ(e.app, "kernel");
  EXPECT_EQ(e.message, "Linux version 2.6.5");
}

TEST(parse_rfc3164, NoTag) {
  Harness h(rfc3164_only());
  const Event e = h.parse("<13>Jan  1 00:00:00 router link down on port 3");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.host, "router");
  EXPECT_TRUE(e.app.empty());
  EXPECT_EQ(e.message, "link down on port 3");
}

TEST(parse_rfc3164, TwoWordTags) {
  Harness h(rfc3164_only());
  Event e = h.parse("Jun 19 04:09:11 combo syslogd 1.4.1: restart.");
  EXPECT_EQ(e.app, "syslogd 1.4.1");
  EXPECT_EQ(e.message, "restart.");
  e = h.parse("Jul  7 08:06:15 combo  -- root[2421]: ROOT LOGIN ON tty2");
  EXPECT_EQ(e.host, "combo");
  EXPECT_EQ(e.app, "-- root");
  EXPECT_EQ(e.procid, "2421");
  EXPECT_EQ(e.message, "ROOT LOGIN ON tty2");
}

TEST(parse_rfc3164, IsoTimestamps) {
  Harness h(rfc3164_only());
  Event e = h.parse("<30>2026-11-28T06:55:46.123456+01:00 web1 nginx[77]: started");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.event_time_ns, at(2026, 11, 28, 5, 55, 46) + 123'456'000);
  EXPECT_EQ(e.tz_offset_minutes, 60);
  EXPECT_EQ(e.host, "web1");
  EXPECT_EQ(e.app, "nginx");
  e = h.parse("2026-11-28T06:55:46Z web1 cron: tick");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.event_time_ns, at(2026, 11, 28, 6, 55, 46));
  EXPECT_EQ(e.app, "cron");
}

TEST(parse_rfc3164, DefaultTimezone) {
  ParserConfig c = rfc3164_only();
  c.default_tz_offset_minutes = -300;
  Harness h(c);
  const Event e = h.parse("Jan 18 11:07:53 host app: x");
  EXPECT_EQ(e.event_time_ns, at(2026, 1, 18, 16, 7, 53));
  EXPECT_EQ(e.tz_offset_minutes, -300);
}

TEST(parse_rfc3164, YearRollover) {
  Harness h(rfc3164_only(), at(2026, 1, 1, 0, 0, 30));
  Event e = h.parse("<13>Dec 31 23:59:59 host app: late");
  EXPECT_EQ(e.event_time_ns, at(2025, 12, 31, 23, 59, 59));
  e = h.parse("<13>Jan  1 00:00:10 host app: early");
  EXPECT_EQ(e.event_time_ns, at(2026, 1, 1, 0, 0, 10));
}

TEST(parse_rfc3164, PriorityWithoutTimestampUsesReceiveTime) {
  Harness h(rfc3164_only());
  const Event e = h.parse("<13>sshd[5]: no header here");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_NE(e.flags & event_flag_time_from_receive, 0);
  EXPECT_EQ(e.event_time_ns, at(2026, 2, 10, 12));
  EXPECT_TRUE(e.host.empty());
  EXPECT_EQ(e.app, "sshd");
  EXPECT_EQ(e.message, "no header here");
}

TEST(parse_rfc3164, TrailingControlCharactersTrimmedEmbeddedKept) {
  Harness h(rfc3164_only());
  static constexpr char raw[] = "<13>Jan  1 00:00:00 h a: one\ttwo\x01three \r\n\0\x7f";
  const std::string line(raw, sizeof raw - 1);  // the embedded NUL is part of the line
  const Event e = h.parse(line);
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.message, "one\ttwo\x01three");
  EXPECT_EQ(e.flags & event_flag_invalid_utf8, 0);
}

TEST(parse_rfc3164, InvalidUtf8Flagged) {
  Harness h(rfc3164_only());
  Event e = h.parse("<13>Jan  1 00:00:00 h a: bad \xC3\x28 byte");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_NE(e.flags & event_flag_invalid_utf8, 0);
  e = h.parse(
      "<13>Jan  1 00:00:00 h a: gr\xC3\xBC\xC3\x9F"
      "e");
  EXPECT_EQ(e.flags & event_flag_invalid_utf8, 0);
}

TEST(parse_rfc3164, BadPriority) {
  Harness h(rfc3164_only());
  for (const char* line : {"<192>Jan  1 00:00:00 h a: x", "<1234>Jan  1 00:00:00 h a: x",
                           "<>Jan  1 00:00:00 h a: x", "<13Jan  1 00:00:00 h a: x", "<-1>x"}) {
    const Event e = h.parse(line);
    EXPECT_EQ(e.status, ParseStatus::unparsed) << line;
    EXPECT_EQ(e.reason, UnparsedReason::bad_priority) << line;
    EXPECT_TRUE(e.host.empty());
  }
  EXPECT_EQ(h.parse("<191>Jan  1 00:00:00 h a: x").severity, 7);
  EXPECT_EQ(h.parse("<0>Jan  1 00:00:00 h a: x").facility, 0);
}

TEST(parse_rfc3164, NoPriorityNoTimestampIsNotRfc3164) {
  Harness h(rfc3164_only());
  const Event e = h.parse("hello world");
  EXPECT_EQ(e.status, ParseStatus::unparsed);
  EXPECT_EQ(e.reason, UnparsedReason::bad_header);
  EXPECT_EQ(e.format, InputFormat::rfc3164);
}

TEST(parse_rfc3164, KeyValuesFromMessage) {
  Harness h(rfc3164_only());
  const Event e = h.parse(
      "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 "
      "euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ");
  EXPECT_EQ(e.field("rhost"), "218.188.2.4");
  EXPECT_EQ(e.field("uid"), "0");
  EXPECT_EQ(e.field("tty"), "NODEVssh");
  EXPECT_EQ(e.fields.size(), 6u);

  ParserConfig c = rfc3164_only();
  c.extract_key_values = false;
  Harness off(c);
  EXPECT_TRUE(off.parse("Jun 14 15:16:01 combo su: uid=0").fields.empty());
}

/// Splits one CSV record (RFC 4180 quoting) into columns.
std::vector<std::string> csv_columns(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

unsigned month_of(const std::string& name) {
  static const char* names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (unsigned i = 0; i < 12; ++i)
    if (name == names[i]) return i + 1;
  return 0;
}

std::int64_t clock_of(const std::string& hhmmss) {
  return (std::stoi(hhmmss.substr(0, 2)) * 3600 + std::stoi(hhmmss.substr(3, 2)) * 60 +
          std::stoi(hhmmss.substr(6, 2))) *
         ns_per_second;
}

TEST(parse_rfc3164_corpus, LinuxMatchesGroundTruth) {
  SLUICE_REQUIRE_DATA(log, "loghub/Linux/Linux_2k.log");
  SLUICE_REQUIRE_DATA(csv, "loghub/Linux/Linux_2k.log_structured.csv");
  const auto lines = test::split_lines(test::read_file(log));
  const auto truth = test::split_lines(test::read_file(csv));
  ASSERT_EQ(lines.size(), 2000u);
  ASSERT_EQ(truth.size(), 2001u);
  Harness h(ParserConfig{}, at(2026, 2, 10, 12));  // auto mode: these lines carry no PRI
  for (std::size_t i = 0; i < lines.size(); ++i) {
    // LineId,Month,Date,Time,Level,Component,PID,Content,EventId,EventTemplate
    const auto cols = csv_columns(truth[i + 1]);
    ASSERT_GE(cols.size(), 8u);
    const Event e = h.parse(lines[i]);
    SCOPED_TRACE(lines[i]);
    ASSERT_EQ(e.status, ParseStatus::parsed);
    EXPECT_EQ(e.format, InputFormat::rfc3164);
    EXPECT_EQ(e.host, cols[4]);
    EXPECT_EQ(e.app, cols[5]);
    EXPECT_EQ(e.procid, cols[6]);
    EXPECT_EQ(e.message, cols[7]);
    // Loghub's Linux log is from June/July 2005; received in February 2026 it lands in 2025.
    EXPECT_EQ(e.event_time_ns,
              days_from_civil(2025, month_of(cols[1]), std::stoul(cols[2])) * ns_per_day +
                  clock_of(cols[3]));
  }
}

TEST(parse_rfc3164_corpus, OpenSshMatchesGroundTruth) {
  SLUICE_REQUIRE_DATA(log, "loghub/OpenSSH/OpenSSH_2k.log");
  SLUICE_REQUIRE_DATA(csv, "loghub/OpenSSH/OpenSSH_2k.log_structured.csv");
  const auto lines = test::split_lines(test::read_file(log));
  const auto truth = test::split_lines(test::read_file(csv));
  ASSERT_EQ(lines.size(), 2000u);
  ASSERT_EQ(truth.size(), 2001u);
  Harness h(ParserConfig{}, at(2026, 2, 10, 12));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    // LineId,Date,Day,Time,Component,Pid,Content,EventId,EventTemplate
    const auto cols = csv_columns(truth[i + 1]);
    ASSERT_GE(cols.size(), 7u);
    const Event e = h.parse(lines[i]);
    SCOPED_TRACE(lines[i]);
    ASSERT_EQ(e.status, ParseStatus::parsed);
    EXPECT_EQ(e.format, InputFormat::rfc3164);
    EXPECT_EQ(e.host, cols[4]);
    EXPECT_EQ(e.app, "sshd");
    EXPECT_EQ(e.procid, cols[5]);
    EXPECT_EQ(e.message, cols[6]);
    // December messages received in February belong to the previous year.
    EXPECT_EQ(e.event_time_ns,
              days_from_civil(2025, month_of(cols[1]), std::stoul(cols[2])) * ns_per_day +
                  clock_of(cols[3]));
  }
}

TEST(parse_rfc3164_corpus, UbuntuAuthLog) {
  SLUICE_REQUIRE_DATA(log, "logs/elastic-examples/auth.log");
  const auto lines = test::split_lines(test::read_file(log));
  ASSERT_FALSE(lines.empty());
  Harness h;
  std::size_t with_pid = 0;
  for (const auto& line : lines) {
    const Event e = h.parse(line);
    SCOPED_TRACE(line);
    ASSERT_EQ(e.status, ParseStatus::parsed);
    EXPECT_EQ(e.format, InputFormat::rfc3164);
    EXPECT_FALSE(e.host.empty());
    EXPECT_FALSE(e.app.empty());
    EXPECT_FALSE(e.message.empty());
    EXPECT_EQ(e.flags & event_flag_time_from_receive, 0);
    if (!e.procid.empty()) ++with_pid;
  }
  EXPECT_GT(with_pid, lines.size() / 2);
  // The first line, field by field.
  const Event first = h.parse(lines[0]);
  EXPECT_EQ(first.host, "ip-10-77-20-248");
  EXPECT_EQ(first.app, "sshd");
  EXPECT_EQ(first.procid, "1291");
  EXPECT_EQ(first.message, "Server listening on 0.0.0.0 port 22.");
}

}  // namespace
}  // namespace sluice
