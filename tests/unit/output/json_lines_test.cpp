// SPDX-License-Identifier: Apache-2.0
#include "sluice/output/json_lines.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sluice {
namespace {

// Every rendered line must be valid JSON; simdjson is the independent check.
simdjson::dom::element parse_json(simdjson::dom::parser& parser, const std::string& text) {
  auto result = parser.parse(text);
  EXPECT_EQ(result.error(), simdjson::SUCCESS) << text;
  return result.value_unsafe();
}

TEST(JsonString, EscapesControlQuotesAndInvalidUtf8) {
  std::string out;
  append_json_string(out, std::string_view("a\"b\\c\n\t\x01\xff\xc3\xa9", 11));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\t\\u0001\\u00ff\xc3\xa9\"");
}

TEST(JsonString, RejectsOverlongAndSurrogates) {
  std::string out;
  append_json_string(out, std::string_view("\xc0\xaf\xed\xa0\x80", 5));
  EXPECT_EQ(out, "\"\\u00c0\\u00af\\u00ed\\u00a0\\u0080\"");
}

TEST(Rfc3339, FormatsFractionsExactly) {
  std::string out;
  append_rfc3339(out, 0);
  EXPECT_EQ(out, "1970-01-01T00:00:00Z");
  out.clear();
  append_rfc3339(out, 1'764'312'946'123'000'000);
  EXPECT_EQ(out, "2025-11-28T06:55:46.123Z");
  out.clear();
  append_rfc3339(out, 1'764'312'946'123'456'000);
  EXPECT_EQ(out, "2025-11-28T06:55:46.123456Z");
  out.clear();
  append_rfc3339(out, 1'764'312'946'123'456'789);
  EXPECT_EQ(out, "2025-11-28T06:55:46.123456789Z");
  out.clear();
  append_rfc3339(out, 951'782'400'000'000'000);  // leap day 2000
  EXPECT_EQ(out, "2000-02-29T00:00:00Z");
  out.clear();
  append_rfc3339(out, -1'000'000'000);
  EXPECT_EQ(out, "1969-12-31T23:59:59Z");
}

TEST(EventJson, CarriesEcsNames) {
  EventBatch batch(0);
  auto& e = batch.add_record("<38>Nov 28 06:55:46 web01 sshd[42]: Failed password", 2'000'000'000);
  e.event_time_ns = 1'000'000'000;
  e.status = ParseStatus::parsed;
  e.format = InputFormat::rfc3164;
  e.host = "web01";
  e.app = "sshd";
  e.procid = "42";
  e.facility = 4;
  e.severity = 6;
  e.message = "Failed password";
  e.peer = PeerAddress::ipv4(0x7f000001, 5140);
  auto fields = batch.arena().allocate_array<Field>(1);
  fields[0] = {"user", "root"};
  e.fields = fields;
  std::string out;
  append_event_json(out, e, "");
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, out);
  EXPECT_EQ(std::string_view(doc["@timestamp"]), "1970-01-01T00:00:01Z");
  EXPECT_EQ(std::string_view(doc["event.created"]), "1970-01-01T00:00:02Z");
  EXPECT_EQ(std::string_view(doc["host.name"]), "web01");
  EXPECT_EQ(std::string_view(doc["process.name"]), "sshd");
  EXPECT_EQ(int64_t(doc["process.pid"]), 42);
  EXPECT_EQ(int64_t(doc["log.syslog.facility.code"]), 4);
  EXPECT_EQ(int64_t(doc["log.syslog.severity.code"]), 6);
  EXPECT_EQ(std::string_view(doc["message"]), "Failed password");
  EXPECT_EQ(std::string_view(doc["source.ip"]), "127.0.0.1");
  EXPECT_EQ(int64_t(doc["source.port"]), 5140);
  EXPECT_EQ(std::string_view(doc["sluice.fields"]["user"]), "root");
  EXPECT_EQ(std::string_view(doc["sluice.format"]), "rfc3164");
  EXPECT_TRUE(doc["event.original"].error() == simdjson::NO_SUCH_FIELD);
}

TEST(EventJson, UnparsedKeepsRawBytesAndReason) {
  EventBatch batch(0);
  batch.set_source_path("/var/log/x.log");
  auto& e = batch.add_record(std::string_view("<999>\x00\xff garbage", 15), 5);
  e.line = 17;
  e.status = ParseStatus::unparsed;
  e.reason = UnparsedReason::bad_priority;
  e.event_time_ns = 5;
  std::string out;
  append_event_json(out, e, batch.source_path());
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, out);
  EXPECT_EQ(std::string_view(doc["sluice.unparsed_reason"]), "bad_priority");
  EXPECT_EQ(std::string_view(doc["event.original"]),
            std::string_view("<999>\x00\xc3\xbf garbage", 16))
      << "0xff is written as U+00FF";
  EXPECT_EQ(std::string_view(doc["log.file.path"]), "/var/log/x.log");
  EXPECT_EQ(int64_t(doc["log.file.line"]), 17);
}

TEST(JsonLinesOutput, WritesFileAndCountsRecords) {
  auto path = std::filesystem::temp_directory_path() / ("sluice_jl_" + std::to_string(getpid()));
  std::filesystem::remove(path);
  {
    auto out = JsonLinesOutput::open(JsonLinesKind::events, path.string());
    ASSERT_TRUE(out.has_value()) << out.error().message;
    EventBatch batch(0);
    for (int i = 0; i < 3; ++i) {
      auto& e = batch.add_record("x", 1);
      e.message = "x";
      e.status = ParseStatus::parsed;
    }
    std::string rendered;
    EXPECT_EQ(out.value()->render(batch, {}, nullptr, rendered), 3u);
    ASSERT_TRUE(out.value()->write(rendered).has_value());
  }
  std::ifstream in(path);
  int lines = 0;
  for (std::string line; std::getline(in, line);)
    ++lines;
  EXPECT_EQ(lines, 3);
  std::filesystem::remove(path);
}

TEST(JsonLinesOutput, UnwritablePathIsAnError) {
  auto out = JsonLinesOutput::open(JsonLinesKind::alerts, "/nonexistent/dir/alerts.jsonl");
  ASSERT_FALSE(out.has_value());
  EXPECT_NE(out.error().message.find("/nonexistent/dir/alerts.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace sluice
