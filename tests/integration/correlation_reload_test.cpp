// SPDX-License-Identifier: Apache-2.0
/// `sluice run` reloads correlation rules on SIGHUP: a live run follows a JSON-lines file, the
/// test edits the rule file (one correlation kept as it was, one changed, one added) and sends
/// SIGHUP to the process. The kept correlation continues from its state before the reload, the
/// changed one starts over, the new one runs, and the sink thread logs what it kept and
/// dropped.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "tests_support.hpp"

namespace sluice::test {
namespace {

/// The value of an unlabelled metric, or -1 when absent.
double metric(std::uint16_t port, const std::string& name) {
  const std::string text = http_get(port, "/metrics");
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

/// Waits up to 20 s for `done`.
template <typename F>
bool eventually(F&& done) {
  for (int i = 0; i < 400; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

constexpr const char* base_rule = R"(title: Failed login
id: r-fail
logsource: {category: firewall}
detection: {selection: {action: fail}, condition: selection}
)";

std::string correlation(const std::string& id, int gte) {
  return "---\ntitle: " + id + "\nid: " + id +
         "\ncorrelation: {type: event_count, rules: [r-fail], group-by: [src_ip], timespan: 1h, "
         "condition: {gte: " +
         std::to_string(gte) + "}}\n";
}

std::string failure(int second) {
  char ts[40];
  std::snprintf(ts, sizeof ts, "2026-11-28T06:00:%02dZ", second);
  return std::string("{\"@timestamp\":\"") + ts + "\",\"action\":\"fail\",\"src_ip\":\"a\"}\n";
}

TEST(CorrelationReload, SighupSwapsCorrelationRulesKeepingStateOfUnchangedOnes) {
  TempDir dir;
  const auto rules = dir / "rules";
  std::filesystem::create_directories(rules);
  std::ofstream(rules / "login.yml")
      << base_rule << correlation("c-keep", 3) << correlation("c-change", 3);
  const auto input = dir / "events.jsonl";
  std::ofstream(input) << failure(0) << failure(1);
  const auto metrics_port = free_port();
  const auto config = dir / "sluice.toml";
  std::ofstream(config) << "[general]\nworkers = 2\nsummary_interval_seconds = 0\n"
                        << "[[input]]\ntype = \"file\"\nfollow = true\npath = \"" << input.string()
                        << "\"\n[rules]\npaths = [\"" << rules.string() << "\"]\n"
                        << "[correlation]\ntolerance_seconds = 0\n"
                        << "[[alerts.sink]]\ntype = \"jsonl\"\npath = \""
                        << (dir / "alerts.jsonl").string() << "\"\n"
                        << "[metrics]\nlisten = \"127.0.0.1:" << metrics_port << "\"\n";
  Process process({sluice_binary().string(), "run", "--config", config.string()}, dir / "stdout",
                  dir / "stderr");
  // Both failures reach both correlations (2 x 2 inputs) under the first rule set.
  ASSERT_TRUE(eventually([&] {
    return metric(metrics_port, "sluice_correlation_inputs_total") >= 4;
  })) << read_file(dir / "stderr");

  // c-keep as it was, c-change with another threshold, c-new added.
  std::ofstream(rules / "login.yml") << base_rule << correlation("c-keep", 3)
                                     << correlation("c-change", 4) << correlation("c-new", 1);
  process.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] {
    return read_file(dir / "stderr").find("SIGHUP: reloaded 1 rules, 3 correlation rules") !=
           std::string::npos;
  })) << read_file(dir / "stderr");

  // The third failure: c-keep completes 3 (two from before the reload), c-change has only
  // this one of 4, c-new fires on it.
  std::ofstream(input, std::ios::app) << failure(2);
  ASSERT_TRUE(eventually([&] {
    return metric(metrics_port, "sluice_correlation_alerts_total") >= 2;
  })) << read_file(dir / "stderr");
  EXPECT_EQ(metric(metrics_port, "sluice_correlation_reloads_total"), 1);
  EXPECT_EQ(metric(metrics_port, "sluice_correlation_reload_dropped_pending_total"), 0);
  EXPECT_EQ(metric(metrics_port, "sluice_correlation_stale_batches_total"), 0);
  process.signal(SIGTERM);
  ASSERT_EQ(process.wait(30'000), 0) << read_file(dir / "stderr");

  const std::string err = read_file(dir / "stderr");
  EXPECT_NE(err.find("correlation rules reloaded: 1 kept, 1 changed, 0 removed, 1 added; groups: "
                     "1 kept, 1 dropped; 0 pending inputs dropped"),
            std::string::npos)
      << err;
  std::vector<std::pair<std::string, std::uint64_t>> got;
  simdjson::dom::parser parser;
  for (const auto& line : split_lines(read_file(dir / "alerts.jsonl"))) {
    auto doc = parser.parse(line);
    ASSERT_FALSE(doc.error()) << line;
    std::string_view kind;
    if (doc["alert.kind"].get(kind) || kind != "correlation") continue;
    got.emplace_back(std::string(std::string_view(doc["rule.id"])),
                     std::uint64_t(doc["alert.count"]));
  }
  std::sort(got.begin(), got.end());
  const std::vector<std::pair<std::string, std::uint64_t>> want = {{"c-keep", 3}, {"c-new", 1}};
  EXPECT_EQ(got, want) << read_file(dir / "alerts.jsonl");
}

TEST(CorrelationReload, SighupThatAddsCorrelationRulesToARunWithoutThemSaysARestartIsNeeded) {
  TempDir dir;
  const auto rules = dir / "rules";
  std::filesystem::create_directories(rules);
  std::ofstream(rules / "login.yml") << base_rule;
  const auto input = dir / "events.jsonl";
  std::ofstream(input) << failure(0);
  const auto config = dir / "sluice.toml";
  // No correlation rules, sinks, store or anomaly model: no alert handling is built.
  std::ofstream(config) << "[general]\nworkers = 1\nsummary_interval_seconds = 0\n"
                        << "[[input]]\ntype = \"file\"\nfollow = true\npath = \"" << input.string()
                        << "\"\n[rules]\npaths = [\"" << rules.string() << "\"]\n"
                        << "[output.alerts]\npath = \"" << (dir / "alerts.jsonl").string()
                        << "\"\n";
  Process process({sluice_binary().string(), "run", "--config", config.string()}, dir / "stdout",
                  dir / "stderr");
  ASSERT_TRUE(eventually([&] {
    return read_file(dir / "stderr").find("sluice run: started") != std::string::npos;
  })) << read_file(dir / "stderr");
  std::ofstream(rules / "login.yml") << base_rule << correlation("c-new", 1);
  process.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] {
    return read_file(dir / "stderr").find("SIGHUP: reloaded 1 rules") != std::string::npos;
  })) << read_file(dir / "stderr");
  process.signal(SIGTERM);
  ASSERT_EQ(process.wait(30'000), 0) << read_file(dir / "stderr");
  EXPECT_NE(read_file(dir / "stderr")
                .find("SIGHUP: 1 correlation rules found, but correlation was not started"),
            std::string::npos)
      << read_file(dir / "stderr");
}

}  // namespace
}  // namespace sluice::test
