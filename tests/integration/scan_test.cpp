// SPDX-License-Identifier: Apache-2.0
/// End-to-end tests of `sluice scan`: real log files and pcaps in, JSON lines and the stats
/// object out, counters that add up.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <map>

#include "sluice/store/segment_reader.hpp"
#include "tests_support.hpp"

namespace sluice::test {
namespace {

using sluice::Arena;
using sluice::StoredEvent;
using sluice::StoreReader;

struct ScanResult {
  int status = -1;
  std::vector<std::string> lines;  // stdout
  std::string stderr_text;
  std::string stats;  // last stderr line
};

ScanResult scan(std::vector<std::string> args, const std::string& stdin_path = "") {
  args.insert(args.begin(), {sluice_binary().string(), "scan"});
  ScanResult r;
  std::string out;
  r.status = run_command(args, out, r.stderr_text, stdin_path);
  r.lines = split_lines(out);
  const auto err_lines = split_lines(r.stderr_text);
  if (!err_lines.empty()) r.stats = err_lines.back();
  return r;
}

std::uint64_t stat(const std::string& stats, const char* key) {
  simdjson::dom::parser parser;
  auto doc = parser.parse(stats);
  if (doc.error()) return ~std::uint64_t{0};
  return uint64_t(doc[key]);
}

std::size_t count_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::size_t n = 0;
  for (std::string l; std::getline(in, l);)
    ++n;
  return n;
}

TEST(Scan, LoghubFilesEveryLineOnceInOrder) {
  for (const char* name : {"loghub/Linux/Linux_2k.log", "loghub/OpenSSH/OpenSSH_2k.log",
                           "loghub/Apache/Apache_2k.log", "loghub/HDFS/HDFS_2k.log"}) {
    SLUICE_REQUIRE_DATA(path, name);
    auto r = scan({"--stats", "--workers", "2", "--batch-size", "64", path.string()});
    ASSERT_EQ(r.status, 0) << r.stderr_text;
    const auto lines = count_lines(path);
    EXPECT_EQ(r.lines.size(), lines) << name;
    EXPECT_EQ(stat(r.stats, "events"), lines) << r.stats;
    EXPECT_EQ(stat(r.stats, "events"),
              stat(r.stats, "parsed") + stat(r.stats, "unparsed") + stat(r.stats, "dropped"));
    EXPECT_EQ(stat(r.stats, "dropped"), 0u);
    simdjson::dom::parser parser;
    std::uint64_t expect_line = 1;
    for (const auto& l : r.lines) {
      auto doc = parser.parse(l);
      ASSERT_EQ(doc.error(), simdjson::SUCCESS) << l;
      EXPECT_EQ(uint64_t(doc["log.file.line"]), expect_line++) << "output keeps file order";
      EXPECT_EQ(std::string_view(doc["log.file.path"]), path.string());
    }
  }
}

TEST(Scan, SyslogFieldsFromLinuxAuthLines) {
  SLUICE_REQUIRE_DATA(path, "loghub/Linux/Linux_2k.log");
  auto r = scan({path.string()});
  ASSERT_EQ(r.status, 0);
  ASSERT_FALSE(r.lines.empty());
  // Line 1: "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0
  // euid=0 tty=NODEVssh ruser= rhost=218.188.2.4"
  simdjson::dom::parser parser;
  auto doc = parser.parse(r.lines[0]);
  ASSERT_EQ(doc.error(), simdjson::SUCCESS);
  EXPECT_EQ(std::string_view(doc["host.name"]), "combo");
  EXPECT_EQ(int64_t(doc["process.pid"]), 19939);
  EXPECT_EQ(std::string_view(doc["message"]),
            "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4");
  EXPECT_EQ(std::string_view(doc["sluice.fields"]["rhost"]), "218.188.2.4");
}

TEST(Scan, HostileInputIsKeptAndCounted) {
  TempDir dir;
  const auto file = dir.path() / "hostile.log";
  {
    std::ofstream out(file, std::ios::binary);
    out << "<13>Nov 28 06:55:46 host app: fine\n";
    out << "<9999>broken pri\n";
    out << std::string("\x00\x01\x02\xff\xfe", 5) << "\n";
    out << "<13>1 2026-11-28T06:55:46Z host app - - [unterminated sd\n";
    out << "{\"truncated\": \n";
    out << "\n";
    out << std::string(200000, 'x') << "\n";
    out << "<13>Nov 28 06:55:46 host app: last, no newline";
  }
  auto r = scan({"--stats", file.string()});
  ASSERT_EQ(r.status, 0) << r.stderr_text;
  const auto events = stat(r.stats, "events");
  EXPECT_EQ(events, r.lines.size());
  EXPECT_EQ(events, stat(r.stats, "parsed") + stat(r.stats, "unparsed") + stat(r.stats, "dropped"));
  EXPECT_GE(stat(r.stats, "unparsed"), 3u) << r.stats;
  EXPECT_EQ(stat(r.stats, "truncated"), 1u) << r.stats;
  simdjson::dom::parser parser;
  std::size_t with_original = 0;
  for (const auto& l : r.lines) {
    auto doc = parser.parse(l);
    ASSERT_EQ(doc.error(), simdjson::SUCCESS) << "every line is valid JSON: " << l;
    with_original += doc["event.original"].error() == simdjson::SUCCESS;
  }
  EXPECT_EQ(with_original, stat(r.stats, "unparsed")) << "unparsed events keep their raw bytes";
  EXPECT_NE(r.lines.back().find("last, no newline"), std::string::npos);
}

TEST(Scan, ReadsStdin) {
  TempDir dir;
  const auto file = dir.path() / "in.log";
  std::ofstream(file) << "<13>Nov 28 06:55:46 a b: one\n<13>Nov 28 06:55:47 a b: two\n";
  auto r = scan({"--stats", "-"}, file.string());
  ASSERT_EQ(r.status, 0) << r.stderr_text;
  EXPECT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(stat(r.stats, "events"), 2u);
}

TEST(Scan, RealPcapsUdpAndTcpSyslog) {
  struct Case {
    const char* path;
    std::uint64_t min_events;
  };
  for (const auto c :
       {Case{"pcap/syslog/syslog-single-udp.pcap", 1}, Case{"pcap/syslog/tcp-syslog.pcap", 1},
        Case{"pcap/syslog/tcp-syslog-nontransparent.pcap", 1},
        Case{"pcap/syslog/syslog.pcap", 10}}) {
    SLUICE_REQUIRE_DATA(path, c.path);
    auto r = scan({"--stats", path.string()});
    ASSERT_EQ(r.status, 0) << c.path << ": " << r.stderr_text;
    EXPECT_GE(stat(r.stats, "events"), c.min_events) << c.path << " " << r.stats;
    EXPECT_EQ(stat(r.stats, "events"), r.lines.size()) << c.path;
    EXPECT_EQ(stat(r.stats, "events"),
              stat(r.stats, "parsed") + stat(r.stats, "unparsed") + stat(r.stats, "dropped"));
  }
  SLUICE_REQUIRE_DATA(single, "pcap/syslog/syslog-single-udp.pcap");
  auto r = scan({"--no-flows", single.string()});
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_NE(r.lines[0].find("Hello, syslog!"), std::string::npos) << r.lines[0];
  // By default a pcap also gives a flow record per flow: here the one datagram's.
  r = scan({single.string()});
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_NE(r.lines[1].find(R"("event.kind":"flow")"), std::string::npos) << r.lines[1];
  EXPECT_NE(r.lines[1].find(R"("packets":"1")"), std::string::npos) << r.lines[1];
}

TEST(Scan, FuzzedPcapDoesNotCrash) {
  SLUICE_REQUIRE_DATA(path, "pcap/fuzz/randpkt-syslog.pcap");
  auto r = scan({"--stats", "--output", "none", path.string()});
  EXPECT_EQ(r.status, 0) << r.stderr_text;
  EXPECT_EQ(stat(r.stats, "events"),
            stat(r.stats, "parsed") + stat(r.stats, "unparsed") + stat(r.stats, "dropped"));
}

// SigmaHQ's own webserver rules on a real scanner's access log: the access-log fields reach the
// rules through the shipped mapping, and each alert names the file and line it came from.
TEST(Scan, SigmaHqWebRulesOnARealScan) {
  SLUICE_REQUIRE_DATA(log, "logs/apache-http-logs/acunetix.txt");
  SLUICE_REQUIRE_DATA(rules, "sigma/rules/web/webserver_generic");
  auto r = scan({"--stats", "--rules", rules.string(), log.string()});
  ASSERT_EQ(r.status, 0) << r.stderr_text;
  EXPECT_EQ(stat(r.stats, "alerts"), r.lines.size());
  std::map<std::string, std::size_t> by_rule;
  simdjson::dom::parser parser;
  for (const auto& l : r.lines) {
    auto doc = parser.parse(l);
    ASSERT_EQ(doc.error(), simdjson::SUCCESS) << l;
    ++by_rule[std::string(std::string_view(doc["rule.name"]))];
    EXPECT_EQ(std::string_view(doc["log.file.path"]), log.string());
    EXPECT_GT(uint64_t(doc["log.file.line"]), 0u);
  }
  EXPECT_GT(by_rule["SQL Injection Strings In URI"], 0u);
  EXPECT_GT(by_rule["Path Traversal Exploitation Attempts"], 0u);
  EXPECT_GT(by_rule["Cross Site Scripting Strings"], 0u);
}

// `--store` keeps every event (parsed or not) in the segment store; reading the store back gives
// the same events, byte for byte, in file order.
TEST(Scan, StoreKeepsEveryEvent) {
  TempDir dir;
  const auto file = dir.path() / "in.log";
  {
    std::ofstream out(file, std::ios::binary);
    for (int i = 0; i < 3000; ++i)
      out << "<13>Nov 28 06:55:46 h app[" << i << "]: line " << i << "\n";
    out << "<9999>not syslog\n";
  }
  const auto store = dir.path() / "store";
  auto r = scan({"--stats", "--output", "none", "--store", store.string(), file.string()});
  ASSERT_EQ(r.status, 0) << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("3001 events"), std::string::npos) << r.stderr_text;
  auto reader = StoreReader::open(store);
  ASSERT_TRUE(reader.has_value()) << reader.error().message;
  Arena arena;
  std::vector<std::string> raws;
  const auto report = reader.value().for_each(arena, [&](const StoredEvent& e) {
    raws.emplace_back(e.event.raw);
    return true;
  });
  EXPECT_TRUE(report.errors.empty());
  ASSERT_EQ(raws.size(), 3001u);
  EXPECT_EQ(raws[0], "<13>Nov 28 06:55:46 h app[0]: line 0");
  EXPECT_EQ(raws[2999], "<13>Nov 28 06:55:46 h app[2999]: line 2999");
  EXPECT_EQ(raws[3000], "<9999>not syslog");
}

TEST(Scan, UsageErrorsExitTwo) {
  EXPECT_EQ(scan({}).status, 2);
  EXPECT_EQ(scan({"--input-format", "xml", "x"}).status, 2);
  EXPECT_EQ(scan({"--bogus"}).status, 2);
  auto missing = scan({"/nonexistent/file.log"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.stderr_text.find("/nonexistent/file.log"), std::string::npos);
}

TEST(Scan, ExplicitFormatMarksOthersUnparsed) {
  TempDir dir;
  const auto file = dir.path() / "mixed.log";
  std::ofstream(file) << "<13>1 2026-11-28T06:55:46.5+01:00 h a 1 m - hi\n"
                      << "<13>Nov 28 06:55:46 h a: bsd\n";
  auto r = scan({"--stats", "--input-format", "rfc5424", file.string()});
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(stat(r.stats, "parsed"), 1u) << r.stats;
  EXPECT_EQ(stat(r.stats, "unparsed"), 1u) << r.stats;
  EXPECT_NE(r.lines[0].find("\"@timestamp\":\"2026-11-28T05:55:46.500Z\""), std::string::npos)
      << r.lines[0];
}

}  // namespace
}  // namespace sluice::test
