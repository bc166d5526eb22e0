// SPDX-License-Identifier: Apache-2.0
/// End-to-end tests of `sluice search` and `sluice timeline`: a store built with
/// `sluice scan --store` from real Loghub files, queried through the binary.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <fstream>

#include "tests_support.hpp"

namespace sluice::test {
namespace {

std::uint64_t grep_count(const std::string& text, const std::filesystem::path& file) {
  std::string out, err;
  run_command({"/usr/bin/env", "LC_ALL=C", "grep", "-iwFc", text, file.string()}, out, err);
  return std::stoull(out);
}

class SearchCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ssh = data_path("loghub/OpenSSH/OpenSSH_2k.log");
    auto linux_log = data_path("loghub/Linux/Linux_2k.log");
    if (!ssh || !linux_log)
      GTEST_SKIP() << "real data not found: loghub (set SLUICE_TEST_DATA to the shared data "
                      "folder; default ../shared/data)";
    ssh_ = *ssh;
    linux_ = *linux_log;
    store_ = (tmp_.path() / "store").string();
    auto r =
        run_sluice({"scan", "--store", store_, "--output", "none", ssh_.string(), linux_.string()});
    ASSERT_EQ(r.status, 0) << r.err;
  }

  TempDir tmp_;
  std::filesystem::path ssh_, linux_;
  std::string store_;
};

TEST_F(SearchCommand, CountEqualsGrep) {
  auto r = run_sluice({"search", "--store", store_, "\"Failed password\" | count"});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(r.lines.size(), 1u);
  const auto want = grep_count("Failed password", ssh_) + grep_count("Failed password", linux_);
  EXPECT_EQ(r.lines[0], "{\"count\":" + std::to_string(want) + "}");
  // --progress reports on stderr only; stdout is unchanged.
  auto p = run_sluice({"search", "--store", store_, "--progress", "\"Failed password\" | count"});
  ASSERT_EQ(p.status, 0) << p.err;
  EXPECT_EQ(p.lines, r.lines);
  EXPECT_NE(p.err.find(" units, "), std::string::npos) << p.err;
  EXPECT_NE(p.err.find(std::to_string(want) + " matched"), std::string::npos) << p.err;
  // Without a terminal and without --progress, stderr stays empty.
  EXPECT_EQ(r.err, "");
}

TEST_F(SearchCommand, EventsAreJsonInTimeOrderAndLimited) {
  auto r = run_sluice({"search", "--store", store_, "--limit", "50", "invalid", "user"});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(r.lines.size(), 50u);
  simdjson::dom::parser parser;
  std::string last;
  for (const auto& line : r.lines) {
    auto doc = parser.parse(line);
    ASSERT_FALSE(doc.error()) << line;
    std::string_view ts;
    ASSERT_FALSE(doc["@timestamp"].get(ts)) << line;
    EXPECT_GE(std::string(ts), last);  // RFC 3339 UTC of one format sorts as text
    last = std::string(ts);
    std::string_view msg;
    ASSERT_FALSE(doc["message"].get(msg));
    std::string lower(msg);
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    EXPECT_NE(lower.find("invalid"), std::string::npos) << line;
  }
}

TEST_F(SearchCommand, TextFormatAndAggregations) {
  auto r =
      run_sluice({"search", "--store", store_, "--format", "text", "--limit", "2", "host:combo"});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_NE(r.lines[0].find("Z Jun 14 15:16:01 combo "), std::string::npos) << r.lines[0];
  r = run_sluice({"search", "--store", store_, "--format", "text", "| count by host"});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[0], "count\thost");
  EXPECT_EQ(r.lines[1], "2000\tLabSZ");
  EXPECT_EQ(r.lines[2], "2000\tcombo");
  r = run_sluice({"search", "--store", store_, "sshd | top 1 app"});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0], "{\"app\":\"sshd\",\"count\":2000}");
}

TEST_F(SearchCommand, TimeRangeFromTo) {
  // OpenSSH_2k.log starts on Dec 10 06:55:46 (year from the receive time, so use the one the
  // store gave the first event).
  auto first = run_sluice({"search", "--store", store_, "--limit", "1", "host:LabSZ"});
  ASSERT_EQ(first.status, 0) << first.err;
  ASSERT_EQ(first.lines.size(), 1u);
  simdjson::dom::parser parser;
  std::string_view ts;
  ASSERT_FALSE(parser.parse(first.lines[0])["@timestamp"].get(ts));
  const std::string start(ts);
  const std::string day = start.substr(0, 10);
  auto r = run_sluice({"search", "--store", store_, "--from", day + "T06:55:46Z", "--to",
                       day + "T06:55:47Z", "--format", "text", "host:LabSZ"});
  ASSERT_EQ(r.status, 0) << r.err;
  // Exactly the lines of that second.
  std::ifstream in(ssh_);
  std::size_t want = 0;
  for (std::string l; std::getline(in, l);)
    if (l.rfind("Dec 10 06:55:46 ", 0) == 0) ++want;
  EXPECT_EQ(r.lines.size(), want);
}

TEST_F(SearchCommand, BadQueryShowsColumnAndCaret) {
  auto r = run_sluice({"search", "--store", store_, "sshd AND (failed OR"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("error at column 18: OR needs an expression on its right"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("\n  sshd AND (failed OR\n                   ^"), std::string::npos)
      << r.err;
  r = run_sluice({"search", "--store", store_, "/a(b/"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("error at column 1: bad pattern"), std::string::npos) << r.err;
  r = run_sluice({"search", "--store", (tmp_.path() / "missing").string(), "x"});
  EXPECT_EQ(r.status, 1);
  r = run_sluice({"search", "--store", store_, "--from", "yesterday", "x"});
  EXPECT_EQ(r.status, 2);
}

TEST_F(SearchCommand, TimelineShowsOneHostAroundATime) {
  auto first = run_sluice({"search", "--store", store_, "--limit", "1", "host:combo"});
  ASSERT_EQ(first.status, 0) << first.err;
  simdjson::dom::parser parser;
  std::string_view ts;
  ASSERT_FALSE(parser.parse(first.lines.at(0))["@timestamp"].get(ts));
  const std::string at(ts);
  auto r = run_sluice({"timeline", "--store", store_, "--host", "combo", "--around", at, "--before",
                       "1m", "--after", "10m"});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_FALSE(r.lines.empty());
  std::string last;
  for (const auto& l : r.lines) {
    EXPECT_NE(l.find(" combo "), std::string::npos) << l;
    EXPECT_EQ(l.find("LabSZ"), std::string::npos) << l;
    const std::string t = l.substr(0, l.find(' '));
    EXPECT_GE(t, last);
    last = t;
  }
  EXPECT_EQ(r.lines.front().substr(0, at.size()), at);
  // The same through --field.
  auto f = run_sluice({"timeline", "--store", store_, "--field", "host.name=combo", "--around", at,
                       "--before", "1m", "--after", "10m"});
  ASSERT_EQ(f.status, 0) << f.err;
  EXPECT_EQ(f.lines, r.lines);
  auto bad = run_sluice({"timeline", "--store", store_, "--host", "combo"});
  EXPECT_EQ(bad.status, 2);
}

TEST(SearchAlerts, AlertsListedAndShownInTheTimeline) {
  SLUICE_REQUIRE_DATA(ssh, "loghub/OpenSSH/OpenSSH_2k.log");
  TempDir tmp;
  const std::string store = (tmp.path() / "store").string();
  auto scan = run_sluice({"scan", "--store", store, "--rules",
                          (source_dir() / "rules/packs/linux").string(), "--output", "alerts",
                          "--out", (tmp.path() / "alerts.jsonl").string(), ssh.string()});
  ASSERT_EQ(scan.status, 0) << scan.err;
  const auto written = split_lines(read_file(tmp.path() / "alerts.jsonl"));
  ASSERT_GT(written.size(), 100u);
  // Every alert the scan emitted is in the store, in event-time order.
  auto all = run_sluice({"search", "--store", store, "--alerts", "*"});
  ASSERT_EQ(all.status, 0) << all.err;
  EXPECT_EQ(all.lines.size(), written.size());
  simdjson::dom::parser parser;
  std::string last, first;
  std::size_t invalid_user = 0;
  for (const auto& line : all.lines) {
    auto doc = parser.parse(line);
    ASSERT_FALSE(doc.error()) << line;
    std::string_view ts, name;
    ASSERT_FALSE(doc["@timestamp"].get(ts));
    ASSERT_FALSE(doc["rule.name"].get(name));
    EXPECT_GE(std::string(ts), last);
    last = std::string(ts);
    if (first.empty()) first = last;
    simdjson::dom::array seqs;
    ASSERT_FALSE(doc["sluice.event_sequences"].get(seqs));
    EXPECT_EQ(seqs.size(), 1u);
    if (name == "SSH Login Attempt For Invalid User") ++invalid_user;
  }
  ASSERT_GT(invalid_user, 0u);
  // A query over alert fields.
  auto some = run_sluice(
      {"search", "--store", store, "--alerts", "rule.name:\"SSH Login Attempt For Invalid User\""});
  ASSERT_EQ(some.status, 0) << some.err;
  EXPECT_EQ(some.lines.size(), invalid_user);
  // Pipes aggregate alerts as they aggregate events.
  auto counted = run_sluice({"search", "--store", store, "--alerts", "* | count"});
  ASSERT_EQ(counted.status, 0) << counted.err;
  ASSERT_EQ(counted.lines.size(), 1u);
  EXPECT_EQ(counted.lines[0], "{\"count\":" + std::to_string(written.size()) + "}");
  auto by_rule = run_sluice({"search", "--store", store, "--alerts", "| count by rule.name"});
  ASSERT_EQ(by_rule.status, 0) << by_rule.err;
  std::size_t summed = 0;
  bool invalid_user_row = false;
  for (const auto& line : by_rule.lines) {
    auto doc = parser.parse(line);
    ASSERT_FALSE(doc.error()) << line;
    std::string_view name;
    std::uint64_t n = 0;
    ASSERT_FALSE(doc["rule.name"].get(name));
    ASSERT_FALSE(doc["count"].get(n));
    summed += n;
    if (name == "SSH Login Attempt For Invalid User") {
      EXPECT_EQ(n, invalid_user);
      invalid_user_row = true;
    }
  }
  EXPECT_EQ(summed, written.size());
  EXPECT_TRUE(invalid_user_row);
  // The timeline prints each alert right after the event it came from.
  auto tl = run_sluice({"timeline", "--store", store, "--host", "LabSZ", "--around",
                        first.substr(0, 10) + "T06:55:48Z", "--before", "3s", "--after", "2s"});
  ASSERT_EQ(tl.status, 0) << tl.err;
  std::size_t alerts_shown = 0;
  for (std::size_t i = 0; i < tl.lines.size(); ++i) {
    if (tl.lines[i].rfind("  ", 0) != 0) continue;
    ++alerts_shown;
    EXPECT_NE(tl.lines[i].find(" ALERT ["), std::string::npos) << tl.lines[i];
    ASSERT_GT(i, 0u);
  }
  EXPECT_GT(alerts_shown, 0u);
  EXPECT_NE(tl.lines.front().find("LabSZ"), std::string::npos);
}

}  // namespace
}  // namespace sluice::test
