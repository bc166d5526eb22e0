// SPDX-License-Identifier: Apache-2.0
/// `Parser` as a whole: format names, auto-detection, the raw fallback, empty input, reuse of one
/// parser across events, every hostile input file, and every Loghub corpus (nothing crashes,
/// nothing non-empty is lost in auto mode).
#include "sluice/parse/parser.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <string>

#include "harness.hpp"
#include "sluice/event/arena.hpp"
#include "sluice/event/event_batch.hpp"
#include "sluice/parse/timestamp.hpp"
#include "tests_support.hpp"

namespace sluice {
namespace {

using test::Harness;

constexpr std::int64_t receive = test::default_receive_ns;

TEST(parse_parser, FormatNames) {
  ParseFormat f{};
  EXPECT_TRUE(parse_format_name("auto", f));
  EXPECT_EQ(f, ParseFormat::auto_detect);
  EXPECT_TRUE(parse_format_name("rfc3164", f));
  EXPECT_EQ(f, ParseFormat::rfc3164);
  EXPECT_TRUE(parse_format_name("rfc5424", f));
  EXPECT_EQ(f, ParseFormat::rfc5424);
  EXPECT_TRUE(parse_format_name("json", f));
  EXPECT_EQ(f, ParseFormat::json);
  EXPECT_TRUE(parse_format_name("cef", f));
  EXPECT_EQ(f, ParseFormat::cef);
  EXPECT_TRUE(parse_format_name("raw", f));
  EXPECT_EQ(f, ParseFormat::raw);
  f = ParseFormat::json;
  EXPECT_FALSE(parse_format_name("RFC3164", f));
  EXPECT_FALSE(parse_format_name("", f));
  EXPECT_FALSE(parse_format_name("syslog", f));
  EXPECT_EQ(f, ParseFormat::json);
}

TEST(parse_parser, AutoDetection) {
  Harness h;
  EXPECT_EQ(h.parse("{\"a\":1}").format, InputFormat::json);
  EXPECT_EQ(h.parse("  {\"a\":1}").format, InputFormat::json);
  EXPECT_EQ(h.parse("<13>1 - - - - - -").format, InputFormat::rfc5424);
  EXPECT_EQ(h.parse("<13>Jan  1 00:00:00 h a: m").format, InputFormat::rfc3164);
  EXPECT_EQ(h.parse("<13>some text").format, InputFormat::rfc3164);
  EXPECT_EQ(h.parse("Jan  1 00:00:00 h a: m").format, InputFormat::rfc3164);
  EXPECT_EQ(h.parse("1 2026-01-01T00:00:00Z h a - - - m").format, InputFormat::rfc5424);
  EXPECT_EQ(h.parse("CEF:0|V|P|1|2|N|5|a=b").format, InputFormat::cef);
  EXPECT_EQ(h.parse("<13>Jan  1 00:00:00 h CEF:0|V|P|1|2|N|5|a=b").format, InputFormat::cef);
}

TEST(parse_parser, NonSyslogLinesBecomeRaw) {
  Harness h;
  for (const char* line : {
           "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok",
           "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: x",
           "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1",
           "<html><body>",
           "1 not a timestamp",
           "1 2026-99-01T00:00:00Z h a - - - m",
           "Jan 99 00:00:00 h a: m",
       }) {
    const Event e = h.parse(line);
    EXPECT_EQ(e.status, ParseStatus::parsed) << line;
    EXPECT_EQ(e.format, InputFormat::raw) << line;
    EXPECT_EQ(e.message, line);
    EXPECT_EQ(e.event_time_ns, receive);
    EXPECT_NE(e.flags & event_flag_time_from_receive, 0);
    EXPECT_TRUE(e.host.empty());
    EXPECT_TRUE(e.structured_data.empty());
  }
  const Event kv = h.parse("GET /index.html status=200 bytes=512");
  EXPECT_EQ(kv.format, InputFormat::raw);
  EXPECT_EQ(kv.field("status"), "200");
  EXPECT_EQ(kv.field("bytes"), "512");
}

TEST(parse_parser, RawFormat) {
  Harness h(ParseFormat::raw);
  const Event e = h.parse("<13>Jan  1 00:00:00 h a: user=x \r\n");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.format, InputFormat::raw);
  EXPECT_EQ(e.message, "<13>Jan  1 00:00:00 h a: user=x");
  EXPECT_EQ(e.field("user"), "x");
  EXPECT_EQ(e.facility, no_facility);
}

TEST(parse_parser, EmptyAndControlOnly) {
  for (ParseFormat f : {ParseFormat::auto_detect, ParseFormat::rfc3164, ParseFormat::rfc5424,
                        ParseFormat::json, ParseFormat::cef, ParseFormat::raw}) {
    Harness h(f);
    for (std::string line : {std::string(), std::string("   "), std::string("\r\n"),
                             std::string("\t \x01\x02\x7f", 6), std::string(4, '\0')}) {
      const Event e = h.parse(line);
      EXPECT_EQ(e.status, ParseStatus::unparsed);
      EXPECT_EQ(e.reason, UnparsedReason::empty);
      EXPECT_EQ(e.format, InputFormat::unknown);
    }
  }
}

TEST(parse_parser, MalformedPriorityIsUnparsedInAutoMode) {
  Harness h;
  const Event e = h.parse("<1x>Jan  1 00:00:00 h a: m");
  EXPECT_EQ(e.status, ParseStatus::unparsed);
  EXPECT_EQ(e.reason, UnparsedReason::bad_priority);
  EXPECT_EQ(h.parse("<500>1 - - - - - -").reason, UnparsedReason::bad_priority);
  EXPECT_EQ(h.parse("<13>1 - h a - - [bad m").reason, UnparsedReason::bad_structured_data);
  EXPECT_EQ(h.parse("{\"a\":").reason, UnparsedReason::bad_json);
}

TEST(parse_parser, ExplicitFormatMismatch) {
  EXPECT_EQ(Harness(ParseFormat::rfc5424).parse("Jan  1 00:00:00 h a: m").reason,
            UnparsedReason::bad_priority);
  EXPECT_EQ(Harness(ParseFormat::rfc3164).parse("{\"a\":1}").reason, UnparsedReason::bad_header);
  EXPECT_EQ(Harness(ParseFormat::json).parse("<13>1 - - - - - -").reason, UnparsedReason::bad_json);
  EXPECT_EQ(Harness(ParseFormat::cef).parse("{\"a\":1}").reason, UnparsedReason::bad_cef);
  // RFC 3164 mode does not look for CEF in the message.
  const Event e =
      Harness(ParseFormat::rfc3164).parse("<13>Jan  1 00:00:00 h CEF:0|V|P|1|2|N|5|a=b");
  EXPECT_EQ(e.format, InputFormat::rfc3164);
  EXPECT_EQ(e.message, "CEF:0|V|P|1|2|N|5|a=b");
}

TEST(parse_parser, ReparseResetsEverything) {
  Parser p;
  Arena arena;
  Event e;
  e.raw = "<13>1 2026-01-01T00:00:00Z h a 1 m [x y=\"1\"] k=v";
  e.receive_time_ns = receive;
  e.flags = event_flag_truncated;
  p.parse(e, arena);
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.fields.size(), 2u);
  e.raw = "plain";
  p.parse(e, arena);
  EXPECT_EQ(e.format, InputFormat::raw);
  EXPECT_TRUE(e.host.empty());
  EXPECT_TRUE(e.structured_data.empty());
  EXPECT_TRUE(e.fields.empty());
  EXPECT_EQ(e.flags, event_flag_truncated | event_flag_time_from_receive);
}

TEST(parse_parser, WorksOnEventBatches) {
  EventBatch batch;
  batch.add_record("<13>Jan  1 00:00:00 h a[1]: x=1", receive);
  batch.add_record("{\"message\":\"m\",\"x\":\"1\"}", receive);
  batch.add_record("", receive);
  Parser p;
  for (auto& e : batch.events())
    p.parse(e, batch.arena());
  EXPECT_EQ(batch.events()[0].field("x"), "1");
  EXPECT_EQ(batch.events()[1].field("x"), "1");
  EXPECT_EQ(batch.events()[2].reason, UnparsedReason::empty);
}

void expect_sane(const Event& e) {
  ASSERT_NE(e.status, ParseStatus::pending);
  if (e.status == ParseStatus::unparsed) {
    EXPECT_NE(e.reason, UnparsedReason::none);
    EXPECT_TRUE(e.fields.empty());
    EXPECT_TRUE(e.message.empty());
  } else {
    EXPECT_EQ(e.reason, UnparsedReason::none);
    EXPECT_NE(e.format, InputFormat::unknown);
  }
}

TEST(parse_parser, HostileInputs) {
  const auto dir = test::own_data_dir() / "hostile";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string bytes = test::read_file(entry.path());
    SCOPED_TRACE(entry.path().filename().string());
    ++files;
    for (ParseFormat f : {ParseFormat::auto_detect, ParseFormat::rfc3164, ParseFormat::rfc5424,
                          ParseFormat::json, ParseFormat::cef, ParseFormat::raw}) {
      Harness h(f);
      expect_sane(h.parse(bytes));
      for (const auto& line : test::split_lines(bytes))
        expect_sane(h.parse(line));
    }
  }
  EXPECT_GE(files, 10u);
}

TEST(parse_parser, HostileExpectations) {
  const auto dir = test::own_data_dir() / "hostile";
  Harness h;
  auto parse_file = [&](const char* name) { return h.parse(test::read_file(dir / name)); };
  EXPECT_EQ(parse_file("empty.txt").reason, UnparsedReason::empty);
  EXPECT_EQ(parse_file("control_only.bin").reason, UnparsedReason::empty);
  EXPECT_EQ(parse_file("deep_object.json").reason, UnparsedReason::too_deep);
  EXPECT_EQ(parse_file("truncated_json.json").reason, UnparsedReason::bad_json);
  EXPECT_EQ(parse_file("sd_unterminated_value.txt").reason, UnparsedReason::bad_structured_data);
  EXPECT_EQ(parse_file("pri_overflow.txt").reason, UnparsedReason::bad_priority);
  EXPECT_EQ(parse_file("cef_short_header.txt").reason, UnparsedReason::bad_cef);
  const Event big = parse_file("oversized_kv.txt");
  EXPECT_EQ(big.status, ParseStatus::parsed);
  EXPECT_EQ(big.fields.size(), 64u);
  const Event bad = parse_file("invalid_utf8_rfc3164.txt");
  EXPECT_EQ(bad.status, ParseStatus::parsed);
  EXPECT_NE(bad.flags & event_flag_invalid_utf8, 0);
}

class LoghubCorpus : public ::testing::TestWithParam<const char*> {};

TEST_P(LoghubCorpus, EveryLineParsedInAutoMode) {
  const std::string name = GetParam();
  SLUICE_REQUIRE_DATA(log, "loghub/" + name + "/" + name + "_2k.log");
  const auto lines = test::split_lines(test::read_file(log));
  ASSERT_EQ(lines.size(), 2000u);
  EventBatch batch;
  for (const auto& line : lines)
    batch.add_record(line, receive);
  Parser p;
  for (auto& e : batch.events()) {
    p.parse(e, batch.arena());
    ASSERT_EQ(e.status, ParseStatus::parsed) << e.raw;
    EXPECT_FALSE(e.message.empty()) << e.raw;
  }
}

INSTANTIATE_TEST_SUITE_P(parse, LoghubCorpus,
                         ::testing::Values("Linux", "OpenSSH", "Apache", "HDFS", "BGL",
                                           "Thunderbird", "HPC", "Hadoop", "Spark", "Zookeeper",
                                           "OpenStack", "Android"));

}  // namespace
}  // namespace sluice
