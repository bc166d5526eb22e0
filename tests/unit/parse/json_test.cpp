// SPDX-License-Identifier: Apache-2.0
/// JSON lines through `Parser`: flattening, header-field names, escapes, depth limit, invalid
/// input, and every record of a real cowrie honeypot log.
#include "sluice/parse/json.hpp"

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

TEST(parse_json, FlattensObjectsAndArrays) {
  Harness h;
  const Event e = h.parse(
      R"({"a":{"b":{"c":1}},"arr":[10,"x",{"k":true}],"f":false,"n":null,"e":{},"z":[] , "s":"v"})");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.format, InputFormat::json);
  EXPECT_EQ(e.field("a.b.c"), "1");
  EXPECT_EQ(e.field("arr.0"), "10");
  EXPECT_EQ(e.field("arr.1"), "x");
  EXPECT_EQ(e.field("arr.2.k"), "true");
  EXPECT_EQ(e.field("f"), "false");
  EXPECT_EQ(e.field("s"), "v");
  EXPECT_EQ(e.fields.size(), 6u);  // null, {} and [] produce none
  EXPECT_NE(e.flags & event_flag_time_from_receive, 0);
}

TEST(parse_json, HeaderFields) {
  Harness h;
  Event e = h.parse(
      R"({"@timestamp":"2026-01-02T03:04:05.5Z","host":{"name":"web1"},"process":{"name":"nginx","pid":42},"message":"hello"})");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.event_time_ns, at(2026, 1, 2, 3, 4, 5) + 500'000'000);
  EXPECT_EQ(e.host, "web1");
  EXPECT_EQ(e.app, "nginx");
  EXPECT_EQ(e.procid, "42");
  EXPECT_EQ(e.message, "hello");
  EXPECT_EQ(e.flags & event_flag_time_from_receive, 0);

  e = h.parse(R"({"ts":1521911747.733658,"hostname":"h","program":"p","msg":"m"})");
  EXPECT_EQ(e.event_time_ns, 1521911747LL * ns_per_second + 733'658'000);
  EXPECT_EQ(e.host, "h");
  EXPECT_EQ(e.app, "p");
  EXPECT_EQ(e.message, "m");

  e = h.parse(R"({"time":"2026-01-02 03:04:05","msg":"m"})");
  EXPECT_EQ(e.event_time_ns, at(2026, 1, 2, 3, 4, 5));

  e = h.parse(R"({"ts":1516273673000})");
  EXPECT_EQ(e.event_time_ns, 1516273673000LL * 1'000'000);
  // Out of int64 nanoseconds (found by fuzzing): not a time, the field stays.
  e = h.parse(R"({"ts":9999999999999})");
  EXPECT_NE(e.flags & event_flag_time_from_receive, 0);
  EXPECT_EQ(e.field("ts"), "9999999999999");
}

TEST(parse_json, StringEscapes) {
  Harness h;
  const Event e = h.parse(R"({"k\"ey":"a\"b\\c\u00e9\n","plain":"x y"})");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.field("k\"ey"), "a\"b\\c\xC3\xA9\n");
  EXPECT_EQ(e.field("plain"), "x y");
}

TEST(parse_json, DepthLimit) {
  ParserConfig c;
  c.max_json_depth = 3;
  Harness h(c);
  EXPECT_EQ(h.parse(R"({"a":{"b":{"c":1}}})").status, ParseStatus::parsed);
  Event e = h.parse(R"({"a":{"b":{"c":{"d":1}}}})");
  EXPECT_EQ(e.status, ParseStatus::unparsed);
  EXPECT_EQ(e.reason, UnparsedReason::too_deep);
  e = h.parse(R"({"a":[[[1]]]})");
  EXPECT_EQ(e.reason, UnparsedReason::too_deep);

  Harness deflt;
  std::string deep;
  for (int i = 0; i < 100; ++i)
    deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 100; ++i)
    deep += "}";
  e = deflt.parse(deep);
  EXPECT_EQ(e.status, ParseStatus::unparsed);
  EXPECT_EQ(e.reason, UnparsedReason::too_deep);
}

TEST(parse_json, Invalid) {
  Harness h;
  for (const char* line : {"{", "{\"a\":}", "{\"a\":1} trailing", "{\"a\":1}{\"b\":2}", "{\"a\" 1}",
                           "{\"a\":tru}", "{\"a\":\"\xff\"}", "{'a':1}", "{\"host\":2\"=,\"}",
                           "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":1e}"}) {
    const Event e = h.parse(line);
    EXPECT_EQ(e.status, ParseStatus::unparsed) << line;
    EXPECT_EQ(e.reason, UnparsedReason::bad_json) << line;
    EXPECT_EQ(e.format, InputFormat::json);
  }
  ParserConfig c;
  c.format = ParseFormat::json;
  Harness explicit_json(c);
  EXPECT_EQ(explicit_json.parse("[1,2]").reason, UnparsedReason::bad_json);
  EXPECT_EQ(explicit_json.parse("plain text").reason, UnparsedReason::bad_json);
}

TEST(parse_json, NumbersKeepTheirText) {
  Harness h;
  const Event e = h.parse(R"({"big":123456789012345678901234567890,"e":-1.5E+999,"z":0,"f":0.25})");
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.field("big"), "123456789012345678901234567890");
  EXPECT_EQ(e.field("e"), "-1.5E+999");
  EXPECT_EQ(e.field("z"), "0");
  EXPECT_EQ(e.field("f"), "0.25");
}

TEST(parse_json, ManyFieldsAreCapped) {
  std::string line = "{";
  for (int i = 0; i < 300; ++i)
    line += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
  line += "}";
  Harness h;
  const Event e = h.parse(line);
  ASSERT_EQ(e.status, ParseStatus::parsed);
  EXPECT_EQ(e.fields.size(), FieldScratch::capacity);
  EXPECT_NE(e.flags & event_flag_fields_dropped, 0) << "the loss is flagged on the event";
}

TEST(parse_json_corpus, Cowrie) {
  SLUICE_REQUIRE_DATA(log, "logs/cowrie-kareiva/cowrie.json.2018-05-20");
  const auto lines = test::split_lines(test::read_file(log));
  ASSERT_FALSE(lines.empty());
  Harness h;
  for (const auto& line : lines) {
    const Event e = h.parse(line);
    SCOPED_TRACE(line);
    ASSERT_EQ(e.status, ParseStatus::parsed);
    EXPECT_EQ(e.format, InputFormat::json);
    EXPECT_FALSE(e.field("eventid").empty());
    EXPECT_FALSE(e.field("session").empty());
    EXPECT_EQ(e.flags & event_flag_time_from_receive, 0);
    EXPECT_GE(e.event_time_ns, at(2018, 5, 20));
    EXPECT_LT(e.event_time_ns, at(2018, 5, 22));
  }
  const Event first = h.parse(lines[0]);
  EXPECT_EQ(first.field("eventid"), "cowrie.session.connect");
  EXPECT_EQ(first.field("src_ip"), "185.222.209.108");
  EXPECT_EQ(first.field("src_port"), "48349");
  EXPECT_EQ(first.field("isError"), "0");
  EXPECT_EQ(first.message,
            "New connection: 185.222.209.108:48349 (172.17.0.3:2222) [session: f346332366bb]");
  EXPECT_EQ(first.event_time_ns, at(2018, 5, 20, 0, 5, 32) + 496'124'000);
  const Event second = h.parse(lines[1]);
  EXPECT_EQ(second.field("macCS.0"), "hmac-sha1");
  EXPECT_EQ(second.field("macCS.2"), "hmac-sha2-256");
}

}  // namespace
}  // namespace sluice
