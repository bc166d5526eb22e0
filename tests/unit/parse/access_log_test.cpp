// SPDX-License-Identifier: Apache-2.0
/// Access-log extraction: Combined and Common Log Format, as raw lines and inside syslog, on real
/// scanner traffic.
#include "sluice/parse/access_log.hpp"

#include <gtest/gtest.h>

#include "sluice/event/event_batch.hpp"
#include "sluice/parse/parser.hpp"
#include "tests_support.hpp"

namespace sluice {
namespace {

std::string_view value_of(const FieldScratch& f, std::string_view name) {
  for (const auto& field : f.view())
    if (field.name == name) return field.value;
  return "<absent>";
}

TEST(parse_access_log, Combined) {
  FieldScratch f;
  std::int64_t ns = 0;
  ASSERT_TRUE(extract_access_log(
      "192.168.4.25 - bob [22/Dec/2016:16:30:52 +0300] \"GET /dvwa/login.php?user=a'%20or%201=1 "
      "HTTP/1.1\" 200 1289 \"http://x/\" \"sqlmap/1.0\"",
      f, ns));
  EXPECT_EQ(value_of(f, "source.ip"), "192.168.4.25");
  EXPECT_EQ(value_of(f, "user.name"), "bob");
  EXPECT_EQ(value_of(f, "http.request.method"), "GET");
  EXPECT_EQ(value_of(f, "url.original"), "/dvwa/login.php?user=a'%20or%201=1");
  EXPECT_EQ(value_of(f, "url.path"), "/dvwa/login.php");
  EXPECT_EQ(value_of(f, "url.query"), "user=a'%20or%201=1");
  EXPECT_EQ(value_of(f, "http.version"), "1.1");
  EXPECT_EQ(value_of(f, "http.response.status_code"), "200");
  EXPECT_EQ(value_of(f, "http.response.body.bytes"), "1289");
  EXPECT_EQ(value_of(f, "http.request.referrer"), "http://x/");
  EXPECT_EQ(value_of(f, "user_agent.original"), "sqlmap/1.0");
  // 2016-12-22T13:30:52Z
  EXPECT_EQ(ns, 1'482'413'452LL * 1'000'000'000);
}

TEST(parse_access_log, CommonFormatAndDashes) {
  FieldScratch f;
  std::int64_t ns = 0;
  ASSERT_TRUE(extract_access_log(
      "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 304 -", f, ns));
  EXPECT_EQ(value_of(f, "user.name"), "<absent>");
  EXPECT_EQ(value_of(f, "http.response.body.bytes"), "<absent>");
  EXPECT_EQ(value_of(f, "url.query"), "<absent>");
  EXPECT_EQ(ns, 971'211'336LL * 1'000'000'000);
}

TEST(parse_access_log, WrappedInQuotes) {
  FieldScratch f;
  std::int64_t ns = 0;
  EXPECT_TRUE(
      extract_access_log("\"192.168.4.25 - - [22/Dec/2016:16:30:52 +0300] \"GET / HTTP/1.1\" 200 5 "
                         "\"-\" \"w3af.org\"\"",
                         f, ns));
  EXPECT_EQ(value_of(f, "user_agent.original"), "w3af.org");
}

TEST(parse_access_log, NotAccessLogs) {
  for (std::string_view line :
       {"", "Failed password for root from 1.2.3.4 port 22 ssh2",
        "1.2.3.4 - - [not a time] \"GET / HTTP/1.1\" 200 1",
        "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 20 1",
        "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1",
        "1.2.3.4 - - [10/Foo/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1"}) {
    FieldScratch f;
    std::int64_t ns = 7;
    EXPECT_FALSE(extract_access_log(line, f, ns)) << line;
    EXPECT_EQ(f.size(), 0u);
    EXPECT_EQ(ns, 7);
  }
}

TEST(parse_access_log, ThroughTheParserRawAndSyslog) {
  Parser parser;
  EventBatch batch(0);
  auto& raw = batch.add_record(
      "10.0.0.9 - - [28/Nov/2026:06:55:46 +0000] \"POST /login HTTP/1.1\" 500 12 \"-\" \"curl/8\"",
      5);
  parser.parse(raw, batch.arena());
  ASSERT_EQ(raw.status, ParseStatus::parsed);
  EXPECT_EQ(raw.format, InputFormat::raw);
  EXPECT_EQ(raw.field("http.request.method"), "POST");
  EXPECT_EQ(raw.event_time_ns, 1'795'848'946LL * 1'000'000'000) << "time from the line";
  EXPECT_EQ(raw.flags & event_flag_time_from_receive, 0);

  auto& sys = batch.add_record(
      "<190>Mar 11 08:00:00 web-04 nginx: 10.3.4.237 - - [11/Mar/2024:08:00:00 +0000] \"GET "
      "/search?q=blue+shoes HTTP/1.1\" 200 14829 \"-\" \"Mozilla/5.0\"",
      1'710'144'000LL * 1'000'000'000);
  parser.parse(sys, batch.arena());
  ASSERT_EQ(sys.status, ParseStatus::parsed);
  EXPECT_EQ(sys.app, "nginx");
  EXPECT_EQ(sys.field("url.query"), "q=blue+shoes");
  EXPECT_EQ(sys.field("http.response.status_code"), "200");
}

TEST(parse_access_log_corpus, RealScannerLogsEveryLine) {
  for (const char* name :
       {"logs/apache-http-logs/acunetix.txt", "logs/apache-http-logs/w3af.txt"}) {
    SLUICE_REQUIRE_DATA(path, name);
    std::size_t lines = 0, matched = 0;
    for (const auto& line : test::split_lines(test::read_file(path))) {
      if (line.empty()) continue;
      ++lines;
      FieldScratch f;
      std::int64_t ns = 0;
      matched += extract_access_log(line, f, ns);
    }
    EXPECT_EQ(matched, lines) << name;
  }
}

}  // namespace
}  // namespace sluice
