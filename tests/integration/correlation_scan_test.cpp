// SPDX-License-Identifier: Apache-2.0
/// End to end: `sluice scan` with the built-in correlation pack (rules/packs/correlation) on the
/// real OpenSSH log of loghub (OpenSSH_2k.log, read in place), which holds brute force and
/// password spraying against one host on Dec 10 between 06:55 and 11:04.
///
/// The expected alerts were derived independently of Sluice, with awk over the raw file, using
/// the pack's definitions (window [t - T, t], alert when the condition holds, then the group
/// starts over):
///
///   brute force, `Failed (password|none) for ` lines, group = the IPv4 after `from `,
///   at least 10 within 300 s:
///     awk '/Failed (password|none) for / { split($3, h, ":"); t = h[1]*3600 + h[2]*60 + h[3];
///       if (!match($0, /(from|rhost=) ?\[?[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/)) next;
///       ip = substr($0, RSTART, RLENGTH); sub(/^(from|rhost=) ?\[?/, "", ip);
///       n = cnt[ip]; k = 0;
///       for (i = 1; i <= n; i++) if (ts[ip, i] >= t - 300) { k++; tmp[k] = ts[ip, i] }
///       if (k + 1 >= 10) { per[ip]++; cnt[ip] = 0 }
///       else { for (i = 1; i <= k; i++) ts[ip, i] = tmp[i]; ts[ip, k + 1] = t; cnt[ip] = k + 1 }
///     } END { for (ip in per) print ip, per[ip] }' OpenSSH_2k.log
///   -> 183.62.140.253 28, 187.141.143.180 8, 103.99.0.122 4, 112.95.230.3 2, 5.188.10.180 2,
///      185.190.58.151 1: 45 alerts.
///
///   password spraying, same lines, value = the user after `for ` (or `for invalid user `), at
///   least 5 distinct users within 600 s (a user's last sighting counts); the one line whose
///   user is blank ("invalid user  0101") has no user and is not counted: 17 alerts.
///
///   The only accepted login (119.137.62.142) follows no failures, so the brute force then
///   success chain raises nothing; there are no firewall, usermod or sudo events.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <map>
#include <set>

#include "sluice/store/segment_reader.hpp"
#include "tests_support.hpp"

namespace sluice::test {
namespace {

TEST(CorrelationScan, OpenSshBruteForceYieldsExactlyTheExpectedAlerts) {
  SLUICE_REQUIRE_DATA(path, "loghub/OpenSSH/OpenSSH_2k.log");
  const auto pack = source_dir() / "rules" / "packs" / "correlation";
  std::map<std::string, std::size_t> want_by_ip = {{"183.62.140.253", 28}, {"187.141.143.180", 8},
                                                   {"103.99.0.122", 4},    {"112.95.230.3", 2},
                                                   {"5.188.10.180", 2},    {"185.190.58.151", 1}};
  // Same answer on one worker with tiny batches and on two workers: order and batching must
  // not change correlation.
  for (const auto& extra : {std::vector<std::string>{"--workers", "1", "--batch-size", "1"},
                            std::vector<std::string>{"--workers", "2", "--batch-size", "64"}}) {
    std::vector<std::string> args = {sluice_binary().string(), "scan", "--rules", pack.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(path.string());
    std::string out, err;
    ASSERT_EQ(run_command(args, out, err), 0) << err;
    std::map<std::string, std::size_t> by_rule, brute_by_ip;
    std::set<std::string> ids;
    simdjson::dom::parser parser;
    for (const auto& line : split_lines(out)) {
      auto doc = parser.parse(line);
      ASSERT_FALSE(doc.error()) << line;
      const std::string rule{std::string_view(doc["rule.id"])};
      ++by_rule[rule];
      ASSERT_EQ(std::string_view(doc["alert.kind"]), "correlation") << line;
      ids.insert(std::string(std::string_view(doc["alert.id"])));
      if (rule == "0b7f8d2c-5e4a-4f6b-8c3d-1a9e2b7c4d21") {
        ++brute_by_ip[std::string(std::string_view(doc["correlation.group"]["src_ip"]))];
        EXPECT_EQ(uint64_t(doc["alert.count"]), 10u);
        EXPECT_EQ(simdjson::dom::array(doc["alert.events"]).size(), 10u);
      }
    }
    EXPECT_EQ(by_rule.size(), 2u) << out;
    EXPECT_EQ(by_rule["0b7f8d2c-5e4a-4f6b-8c3d-1a9e2b7c4d21"], 45u);  // brute force
    EXPECT_EQ(by_rule["7c2e9a4b-1d3f-4e5a-b6c7-8d9e0f1a2b31"], 17u);  // password spraying
    EXPECT_EQ(brute_by_ip, want_by_ip);
    EXPECT_EQ(ids.size(), 62u);  // stable ids differ per alert
    // 107 engine alerts: the 45 brute force ones again inside the brute force then success chain
    // (which consumes them and raises none itself); 62 reach the sink.
    EXPECT_NE(err.find(" 107 alerts, 0 late,"), std::string::npos) << err;
    EXPECT_NE(err.find("62 received, 0 suppressed, 0 duplicates, 0 throttled, 62 sent"),
              std::string::npos)
        << err;
  }
}

TEST(CorrelationRulesCheck, ReportsBadCorrelationsAndExitsOne) {
  TempDir dir;
  const auto file = dir.path() / "bad.yml";
  std::ofstream(file) << "title: Failed login\nid: r-fail\nname: fail\n"
                         "logsource: {category: firewall}\n"
                         "detection: {selection: {action: fail}, condition: selection}\n"
                         "---\ntitle: Broken\nid: c-broken\ncorrelation:\n  type: event_count\n"
                         "  rules: [fail, nothing]\n  group-by: [src_ip]\n  timespan: 5m\n"
                         "  condition: {gte: 3}\n";
  std::string out, err;
  EXPECT_EQ(run_command({sluice_binary().string(), "rules", "check", file.string()}, out, err), 1);
  EXPECT_NE(out.find("bad.yml:7  c-broken  [invalid correlation] refers to 'nothing', which is no "
                     "rule or correlation id or name"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("loaded   0 correlation rules"), std::string::npos) << out;
  // The shipped pack is clean.
  EXPECT_EQ(run_command({sluice_binary().string(), "rules", "check",
                         (source_dir() / "rules" / "packs" / "correlation").string()},
                        out, err),
            0)
      << out;
  EXPECT_NE(out.find("loaded   7 correlation rules (1 chained on other correlations)"),
            std::string::npos)
      << out;
}

TEST(CorrelationScan, WithAStoreAlertsReferenceEventsByStoreSequence) {
  SLUICE_REQUIRE_DATA(path, "loghub/OpenSSH/OpenSSH_2k.log");
  TempDir dir;
  const auto store = dir.path() / "store";
  std::string out, err;
  ASSERT_EQ(run_command({sluice_binary().string(), "scan", "--rules",
                         (source_dir() / "rules" / "packs" / "correlation").string(), "--store",
                         store.string(), "--workers", "2", "--batch-size", "100", path.string()},
                        out, err),
            0)
      << err;
  // Every referenced event, read back from the store, is a failed login from the alert's source.
  auto reader = StoreReader::open(store);
  ASSERT_TRUE(reader.has_value()) << reader.error().message;
  Arena arena;
  std::map<std::uint64_t, std::string> raw_by_seq;
  reader.value().for_each(arena, [&](const StoredEvent& e) {
    raw_by_seq.emplace(e.sequence, std::string(e.event.raw));
    return true;
  });
  ASSERT_EQ(raw_by_seq.size(), 2000u);
  simdjson::dom::parser parser;
  std::size_t checked = 0;
  for (const auto& line : split_lines(out)) {
    auto doc = parser.parse(line);
    ASSERT_FALSE(doc.error()) << line;
    const std::string ip{std::string_view(doc["correlation.group"]["src_ip"])};
    for (auto ref : simdjson::dom::array(doc["alert.events"])) {
      std::uint64_t seq = 0;
      ASSERT_FALSE(ref["store_seq"].get(seq)) << line;
      ASSERT_TRUE(raw_by_seq.count(seq)) << seq;
      const auto& raw = raw_by_seq[seq];
      EXPECT_NE(raw.find("Failed "), std::string::npos) << raw;
      EXPECT_NE(raw.find(ip), std::string::npos) << raw;
      ++checked;
    }
  }
  EXPECT_GT(checked, 500u);
}

}  // namespace
}  // namespace sluice::test
