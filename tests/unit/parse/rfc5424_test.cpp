// SPDX-License-Identifier: Apache-2.0
/// RFC 5424 parsing through `Parser`: NILVALUEs, structured data (escapes, several elements,
/// malformed), BOM, fractional seconds and offsets, and the RFC 5424 payloads of a Zeek syslog log.
#include "sluice/parse/rfc5424.hpp"

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

TEST(parse_rfc5424, RfcExample1) {
  // RFC 5424 section 6.5, example 1 (BOM written out).
  Harness h(ParseFormat::rfc5424);
  const Event e = h.parse(
      "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
      "\xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.format, InputFormat::rfc5424);
  EXPECT_EQ(e.facility, 4);
  EXPECT_EQ(e.severity, 2);
  EXPECT_EQ(e.event_time_ns, at(2003, 10, 11, 22, 14, 15) + 3'000'000);
  EXPECT_EQ(e.host, "mymachine.example.com");
  EXPECT_EQ(e.app, "su");
  EXPECT_TRUE(e.procid.empty());
  EXPECT_EQ(e.msgid, "ID47");
  EXPECT_TRUE(e.structured_data.empty());
  EXPECT_EQ(e.message, "'su root' failed for lonvick on /dev/pts/8");
}

TEST(parse_rfc5424, RfcExample2OffsetAndMicroseconds) {
  Harness h(ParseFormat::rfc5424);
  const Event e = h.parse(
      "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make "
      "the do-nuts.");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.event_time_ns, at(2003, 8, 24, 12, 14, 15) + 3000);
  EXPECT_EQ(e.tz_offset_minutes, -420);
  EXPECT_EQ(e.procid, "8710");
  EXPECT_TRUE(e.msgid.empty());
  EXPECT_EQ(e.message, "%% It's time to make the do-nuts.");
}

TEST(parse_rfc5424, NanosecondsAndPositiveOffset) {
  Harness h(ParseFormat::rfc5424);
  const Event e = h.parse("<38>1 2026-11-28T06:55:46.123456789+05:30 h a 1 m - x");
  EXPECT_EQ(e.event_time_ns, at(2026, 11, 28, 1, 25, 46) + 123456789);
  EXPECT_EQ(e.tz_offset_minutes, 330);
}

TEST(parse_rfc5424, AllNil) {
  Harness h(ParseFormat::rfc5424);
  const Event e = h.parse("<13>1 - - - - - -");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_TRUE(e.host.empty());
  EXPECT_TRUE(e.app.empty());
  EXPECT_TRUE(e.procid.empty());
  EXPECT_TRUE(e.msgid.empty());
  EXPECT_TRUE(e.message.empty());
  EXPECT_NE(e.flags & event_flag_time_from_receive, 0);
  EXPECT_EQ(e.event_time_ns, at(2026, 2, 10, 12));
}

TEST(parse_rfc5424, StructuredDataExamples) {
  // RFC 5424 section 6.5, examples 3 and 4.
  Harness h(ParseFormat::rfc5424);
  Event e = h.parse(
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
      "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] "
      "\xEF\xBB\xBF"
      "An application event log entry...");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.structured_data,
            "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]");
  ASSERT_EQ(e.fields.size(), 3u);
  EXPECT_EQ(e.field("exampleSDID@32473.iut"), "3");
  EXPECT_EQ(e.field("exampleSDID@32473.eventSource"), "Application");
  EXPECT_EQ(e.field("exampleSDID@32473.eventID"), "1011");
  EXPECT_EQ(e.message, "An application event log entry...");

  e = h.parse(
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
      "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
      "[examplePriority@32473 class=\"high\"]");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.field("examplePriority@32473.class"), "high");
  EXPECT_EQ(e.fields.size(), 4u);
  EXPECT_TRUE(e.message.empty());
}

TEST(parse_rfc5424, StructuredDataEscapes) {
  Harness h(ParseFormat::rfc5424);
  const Event e = h.parse(
      R"(<13>1 2026-01-01T00:00:00Z h a - - [x@1 q="say \"hi\"" b="back\\slash" r="a\]b" o="c:\d"] m)");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.field("x@1.q"), "say \"hi\"");
  EXPECT_EQ(e.field("x@1.b"), "back\\slash");
  EXPECT_EQ(e.field("x@1.r"), "a]b");
  EXPECT_EQ(e.field("x@1.o"), "c:\\d");  // not an SD escape: the backslash stays
  EXPECT_EQ(e.structured_data, R"([x@1 q="say \"hi\"" b="back\\slash" r="a\]b" o="c:\d"])");
  EXPECT_EQ(e.message, "m");
}

TEST(parse_rfc5424, StructuredDataElementWithoutParams) {
  Harness h(ParseFormat::rfc5424);
  const Event e = h.parse("<13>1 2026-01-01T00:00:00Z h a - - [origin][meta seq=\"7\"] m");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.field("meta.seq"), "7");
  EXPECT_EQ(e.fields.size(), 1u);
}

TEST(parse_rfc5424, KeyValuesAfterStructuredData) {
  Harness h(ParseFormat::rfc5424);
  const Event e = h.parse("<13>1 2026-01-01T00:00:00Z h a - - [m seq=\"7\"] src=10.0.0.1 dst=x");
  EXPECT_EQ(e.field("m.seq"), "7");
  EXPECT_EQ(e.field("src"), "10.0.0.1");
  EXPECT_EQ(e.field("dst"), "x");
}

TEST(parse_rfc5424, MalformedStructuredData) {
  Harness h(ParseFormat::rfc5424);
  for (const char* line : {
           "<13>1 2026-01-01T00:00:00Z h a - - [x@1 a=\"unterminated] m",
           "<13>1 2026-01-01T00:00:00Z h a - - [x@1 a=\"1\"",
           "<13>1 2026-01-01T00:00:00Z h a - - [x@1 a=1] m",
           "<13>1 2026-01-01T00:00:00Z h a - - [ a=\"1\"] m",
           "<13>1 2026-01-01T00:00:00Z h a - - [x@1 =\"1\"] m",
           "<13>1 2026-01-01T00:00:00Z h a - - [x@1 a=\"1\"]garbage",
           "<13>1 2026-01-01T00:00:00Z h a - - nosd",
       }) {
    const Event e = h.parse(line);
    EXPECT_EQ(e.status, ParseStatus::unparsed) << line;
    EXPECT_EQ(e.reason, UnparsedReason::bad_structured_data) << line;
    EXPECT_TRUE(e.fields.empty());
  }
}

TEST(parse_rfc5424, MalformedHeader) {
  Harness h(ParseFormat::rfc5424);
  for (const char* line : {
           "<13>0 2026-01-01T00:00:00Z h a - - - m",
           "<13>1 2026-01-01 h a - - - m",
           "<13>1 2026-01-01T00:00:00Z  a - - - m",
           "<13>1 2026-01-01T00:00:00Z h a",
           "<13>1 2026-01-01T00:00:00Z h a - -",
           "<13>1",
           "<13>12345 - h a - - - m",
       }) {
    const Event e = h.parse(line);
    EXPECT_EQ(e.status, ParseStatus::unparsed) << line;
    EXPECT_EQ(e.reason, UnparsedReason::bad_header) << line;
  }
  const Event e = h.parse("no pri at all");
  EXPECT_EQ(e.reason, UnparsedReason::bad_priority);
  EXPECT_EQ(h.parse("<999>1 - - - - - -").reason, UnparsedReason::bad_priority);
}

TEST(parse_rfc5424, WithoutPriority) {
  Harness h(ParseFormat::rfc5424);
  const Event e = h.parse("1 2018-03-24T08:59:37-07:00 PC-helen EvntSLog - - - @cee: {}");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.facility, no_facility);
  EXPECT_EQ(e.host, "PC-helen");
  EXPECT_EQ(e.app, "EvntSLog");
  EXPECT_EQ(e.message, "@cee: {}");
}

TEST(parse_rfc5424, AutoDetected) {
  Harness h(ParseFormat::auto_detect);
  const Event e = h.parse("<38>1 2026-11-28T06:55:46.123456Z LabSZ sshd 24200 - - Invalid user x");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.format, InputFormat::rfc5424);
  EXPECT_EQ(e.procid, "24200");
}

TEST(parse_rfc5424_corpus, ZeekSyslogPayloads) {
  SLUICE_REQUIRE_DATA(log, "logs/zeek-wrccdc2018/syslog.log");
  const auto rows = test::split_lines(test::read_file(log));
  Harness h(ParseFormat::auto_detect);
  std::size_t checked = 0;
  for (const auto& row : rows) {
    if (row.empty() || row[0] == '#') continue;
    // ts uid orig_h orig_p resp_h resp_p proto facility severity message
    std::size_t tab = 0;
    for (int i = 0; i < 9 && tab != std::string::npos; ++i)
      tab = row.find('\t', tab + 1);
    ASSERT_NE(tab, std::string::npos);
    const std::string message = row.substr(tab + 1);
    if (!message.starts_with("1 ")) continue;
    const Event e = h.parse(message);
    SCOPED_TRACE(message);
    ASSERT_EQ(e.status, ParseStatus::parsed);
    EXPECT_EQ(e.format, InputFormat::rfc5424);
    EXPECT_FALSE(e.host.empty());
    EXPECT_FALSE(e.app.empty());
    EXPECT_NE(e.event_time_ns, 0);
    EXPECT_EQ(e.flags & event_flag_time_from_receive, 0);
    ++checked;
  }
  EXPECT_GT(checked, 100u);
}

}  // namespace
}  // namespace sluice
