// SPDX-License-Identifier: Apache-2.0
/// `sluice run` with correlation and alert handling: a file of sshd lines in, correlation
/// alerts through suppression to a JSON-lines sink, base alerts that only feed correlations kept
/// out of output.alerts (`generate`), counters on stderr; and a restart that continues a brute
/// force from the state snapshot.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>

#include "tests_support.hpp"

namespace sluice::test {
namespace {

/// `n` failed logins from `ip`, one a second from `start` seconds past 06:00:00.
std::string failures(const std::string& ip, int n, int start) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    const int s = start + i;
    char ts[32];
    std::snprintf(ts, sizeof ts, "Nov 28 06:%02d:%02d", s / 60, s % 60);
    out += std::string(ts) + " web01 sshd[7]: Failed password for root from " + ip + " port " +
           std::to_string(4000 + i) + " ssh2\n";
  }
  return out;
}

class CorrelationRun : public ::testing::Test {
 protected:
  /// Runs `sluice run` over `log` until the file ends; returns stderr.
  std::string run(const std::string& log) {
    const auto input = dir_.path() / "auth.log";
    std::ofstream(input) << log;
    const auto config = dir_.path() / "sluice.toml";
    std::ofstream(config) << "[general]\nworkers = 2\nsummary_interval_seconds = 0\n"
                          << "[[input]]\ntype = \"file\"\npath = \"" << input.string() << "\"\n"
                          << "[rules]\npaths = [\""
                          << (source_dir() / "rules" / "packs" / "correlation").string() << "\"]\n"
                          << "[output.alerts]\npath = \"" << (dir_ / "base.jsonl").string()
                          << "\"\n"
                          << "[correlation]\ntolerance_seconds = 0\ndata_dir = \""
                          << (dir_ / "state").string() << "\"\n"
                          << "[[alerts.sink]]\ntype = \"jsonl\"\npath = \""
                          << (dir_ / "alerts.jsonl").string() << "\"\n"
                          << "[[alerts.suppress]]\nname = \"lab\"\nfield = \"src_ip\"\n"
                          << "cidr = \"192.168.0.0/16\"\n"
                          << "[metrics]\nlisten = \"\"\n";
    std::string out, err;
    EXPECT_EQ(run_command({sluice_binary().string(), "run", "--config", config.string()}, out, err),
              0)
        << err;
    return err;
  }

  /// (rule id, src_ip) of each line of the alert sink.
  std::vector<std::pair<std::string, std::string>> alerts() {
    std::vector<std::pair<std::string, std::string>> out;
    simdjson::dom::parser parser;
    for (const auto& line : split_lines(read_file(dir_ / "alerts.jsonl"))) {
      auto doc = parser.parse(line);
      EXPECT_FALSE(doc.error()) << line;
      if (doc.error()) continue;
      std::string_view ip;
      if (doc["correlation.group"]["src_ip"].get(ip)) ip = "";
      out.emplace_back(std::string(std::string_view(doc["rule.id"])), std::string(ip));
    }
    return out;
  }

  TempDir dir_;
};

constexpr const char* brute_force = "0b7f8d2c-5e4a-4f6b-8c3d-1a9e2b7c4d21";

TEST_F(CorrelationRun, AlertsPassSuppressionToTheSinkAndBaseRulesObeyGenerate) {
  // 10 failures from 203.0.113.5 (an alert), 10 from a suppressed lab address.
  const auto err = run(failures("203.0.113.5", 10, 0) + failures("192.168.7.7", 10, 20));
  const auto got = alerts();
  ASSERT_EQ(got.size(), 1u) << err;
  EXPECT_EQ(got[0], (std::pair<std::string, std::string>{brute_force, "203.0.113.5"}));
  EXPECT_NE(err.find("suppressed by 'lab': 1"), std::string::npos) << err;
  // The base rule feeds correlations without `generate`: no base alerts anywhere.
  EXPECT_TRUE(read_file(dir_ / "base.jsonl").empty());
  EXPECT_TRUE(std::filesystem::exists(dir_ / "state" / "correlation.state"));
}

TEST_F(CorrelationRun, ARestartContinuesFromTheSnapshot) {
  // 6 failures, stop; 4 more after the restart complete the brute force (10 within 5 min).
  auto err = run(failures("203.0.113.5", 6, 0));
  EXPECT_TRUE(alerts().empty()) << err;
  err = run(failures("203.0.113.5", 4, 6));
  const auto got = alerts();
  ASSERT_EQ(got.size(), 1u) << err;
  EXPECT_EQ(got[0].second, "203.0.113.5");
  // Brute force, spraying and the chain's failure count each hold a group for the source.
  EXPECT_NE(err.find("restored 3 groups"), std::string::npos) << err;
  // Without the snapshot the same 4 failures are no brute force.
  std::filesystem::remove_all(dir_ / "state");
  std::filesystem::remove(dir_ / "alerts.jsonl");
  err = run(failures("203.0.113.5", 4, 6));
  EXPECT_TRUE(alerts().empty()) << err;
}

}  // namespace
}  // namespace sluice::test
