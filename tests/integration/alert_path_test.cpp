// SPDX-License-Identifier: Apache-2.0
/// One alert path, end to end with the real binary on real logs (Loghub, read in place):
/// anomaly alerts are detections of named rules that go through correlation and alert handling
/// (suppression, sinks) like Sigma detections, and everything alert handling emits lands in the
/// store's alert log, where `sluice search --alerts` and `sluice timeline` find it, while base
/// detections of `generate: false` rules do not.
///
/// The anomaly model is trained on OpenSSH_2k.log and applied to Linux_2k.log, another system:
/// every one of its windows holds templates the baseline never saw, so the "new template"
/// detector fires for each entity and window.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <map>
#include <set>

#include "tests_support.hpp"

namespace sluice::test {
namespace {

constexpr std::string_view new_template_rule = "19387c2c-61fe-4177-93e3-94de2796b815";
constexpr std::string_view anomaly_correlation = "8f3a6d21-4c7b-4e95-a0d8-2b6e9c1f7a34";

/// A base rule for PAM authentication failures and a correlation: such a failure on a host
/// after that host logged never-seen templates (the anomaly detector, named by its rule name).
constexpr const char* anomaly_then_failure = R"(title: PAM Authentication Failure
id: 5b0c2f3e-8a41-4d6f-9c27-3e1d8f6a4b10
name: test_pam_auth_failure
status: experimental
logsource:
    product: linux
detection:
    keywords:
        - 'authentication failure;'
    condition: keywords
level: low
---
title: Authentication Failure On A Host With Never-Seen Log Templates
id: 8f3a6d21-4c7b-4e95-a0d8-2b6e9c1f7a34
name: test_anomaly_then_auth_failure
correlation:
    type: temporal_ordered
    rules:
        - anomaly_new_template
        - test_pam_auth_failure
    group-by:
        - sluice.host
    timespan: 10m
level: high
)";

class AlertPath : public ::testing::Test {
 protected:
  /// Trains the model on the OpenSSH log with `entity`; false (with a failure) when it fails.
  bool train(const std::filesystem::path& ssh, const std::string& entity) {
    auto t = run_sluice({"anomaly", "train", ssh.string(), "--entity", entity, "--table", table(),
                         "--model", model()});
    EXPECT_EQ(t.status, 0) << t.err;
    return t.status == 0;
  }
  std::string table() const { return (dir_ / "templates.tsv").string(); }
  std::string model() const { return (dir_ / "model.txt").string(); }
  TempDir dir_;
};

TEST_F(AlertPath, AnomalyAlertsReachAJsonSinkThroughTheHandlerAndSuppressionRemovesThem) {
  SLUICE_REQUIRE_DATA(ssh, "loghub/OpenSSH/OpenSSH_2k.log");
  SLUICE_REQUIRE_DATA(linux_log, "loghub/Linux/Linux_2k.log");
  ASSERT_TRUE(train(ssh, "app"));
  // What the detector raises per app, without any alert handling policy (scan, alerts out).
  auto scan =
      run_sluice({"scan", "--anomaly-model", model(), "--template-table", table(),
                  "--anomaly-entity", "app", "--anomaly-backend", "cpu", linux_log.string()});
  ASSERT_EQ(scan.status, 0) << scan.err;
  simdjson::dom::parser parser;
  std::map<std::string, std::size_t> scan_by_app;
  for (const auto& line : scan.lines) {
    auto doc = parser.parse(line);
    ASSERT_FALSE(doc.error()) << line;
    ASSERT_EQ(std::string_view(doc["alert.kind"]), "anomaly") << line;
    ++scan_by_app[std::string(std::string_view(doc["correlation.group"]["app"]))];
  }
  const std::size_t logrotate = scan_by_app["logrotate"];
  ASSERT_GT(logrotate, 0u);

  // The appliance: the same log as a file input, alerts to a JSON-lines sink and to the store,
  // one suppression for the new-template rule on one app.
  const auto sink = dir_ / "alerts.jsonl";
  const auto store = dir_ / "store";
  const auto config = dir_ / "sluice.toml";
  std::ofstream(config) << "[general]\nworkers = 2\nsummary_interval_seconds = 0\n"
                        << "[[input]]\ntype = \"file\"\npath = \"" << linux_log.string() << "\"\n"
                        << "[templates]\nenabled = true\ntable = \"" << table() << "\"\n"
                        << "[anomaly]\nmodel = \"" << model() << "\"\nbackend = \"cpu\"\n"
                        << "entity = [\"app\"]\n"
                        << "[store]\npath = \"" << store.string() << "\"\n"
                        << "[[alerts.sink]]\ntype = \"jsonl\"\npath = \"" << sink.string() << "\"\n"
                        << "[[alerts.suppress]]\nname = \"quiet-logrotate\"\n"
                        << "rule = \"anomaly_new_template\"\nfield = \"app\"\n"
                        << "value = \"logrotate\"\n"
                        << "[metrics]\nlisten = \"\"\n";
  auto run = run_sluice({"run", "--config", config.string()});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.err.find("suppressed by 'quiet-logrotate': " + std::to_string(logrotate)),
            std::string::npos)
      << run.err;

  std::map<std::string, std::size_t> sent_by_app;
  std::set<std::string> ids;
  const auto sent = split_lines(read_file(sink));
  for (const auto& line : sent) {
    auto doc = parser.parse(line);
    ASSERT_FALSE(doc.error()) << line;
    EXPECT_EQ(std::string_view(doc["alert.kind"]), "anomaly") << line;
    EXPECT_EQ(std::string_view(doc["rule.id"]), new_template_rule) << line;
    EXPECT_EQ(std::string_view(doc["rule.ruleset_name"]), "anomaly_new_template") << line;
    const std::string app{std::string_view(doc["correlation.group"]["app"])};
    EXPECT_EQ(std::string_view(doc["sluice.anomaly.entity"]), app) << line;
    ++sent_by_app[app];
    ids.insert(std::string(std::string_view(doc["alert.id"])));
    // The window (60 s by default), its score over the threshold and the templates that made it.
    const std::string start{std::string_view(doc["event.start"])};
    const std::string end{std::string_view(doc["event.end"])};
    EXPECT_LT(start, end) << line;
    EXPECT_EQ(start.substr(17, 2), "00") << line;  // minute-aligned windows
    double score = 0, threshold = 0;
    ASSERT_FALSE(doc["sluice.anomaly.score"].get(score)) << line;
    ASSERT_FALSE(doc["sluice.anomaly.spe_threshold"].get(threshold)) << line;
    EXPECT_GT(score, 1.0) << line;  // 1 + the number of new templates
    EXPECT_GT(threshold, 0.0) << line;
    simdjson::dom::array templates;
    ASSERT_FALSE(doc["sluice.anomaly.templates"].get(templates)) << line;
    EXPECT_GT(templates.size(), 0u) << line;
    for (auto t : templates) {
      std::string_view text;
      EXPECT_FALSE(t["template"].get(text)) << line;
      EXPECT_FALSE(text.empty()) << line;
    }
  }
  EXPECT_EQ(sent_by_app.count("logrotate"), 0u);
  auto want = scan_by_app;
  want.erase("logrotate");
  EXPECT_EQ(sent_by_app, want);
  EXPECT_EQ(ids.size(), sent.size());  // stable ids differ per alert

  // The store's alert log holds what alert handling sent: the same alerts, nothing suppressed.
  auto stored = run_sluice({"search", "--store", store.string(), "--alerts", "alert.kind:anomaly"});
  ASSERT_EQ(stored.status, 0) << stored.err;
  EXPECT_EQ(stored.lines.size(), sent.size());
  std::set<std::string> stored_ids;
  for (const auto& line : stored.lines) {
    auto doc = parser.parse(line);
    ASSERT_FALSE(doc.error()) << line;
    stored_ids.insert(std::string(std::string_view(doc["alert.id"])));
  }
  EXPECT_EQ(stored_ids, ids);
  auto none =
      run_sluice({"search", "--store", store.string(), "--alerts", "app:logrotate | count"});
  ASSERT_EQ(none.status, 0) << none.err;
  ASSERT_EQ(none.lines.size(), 1u);
  EXPECT_EQ(none.lines[0], "{\"count\":0}");
}

TEST_F(AlertPath, CorrelationOverAnAnomalyRuleFiresTheSameOnAnyWorkerCount) {
  SLUICE_REQUIRE_DATA(ssh, "loghub/OpenSSH/OpenSSH_2k.log");
  SLUICE_REQUIRE_DATA(linux_log, "loghub/Linux/Linux_2k.log");
  ASSERT_TRUE(train(ssh, "host"));
  const auto rules = dir_ / "anomaly_then_failure.yml";
  std::ofstream(rules) << anomaly_then_failure;
  // Raw lines of the log by line number, to check the references.
  const auto raw = split_lines(read_file(linux_log));
  std::vector<std::string> first;
  for (const auto& extra : {std::vector<std::string>{"--workers", "1", "--batch-size", "1"},
                            std::vector<std::string>{"--workers", "2", "--batch-size", "64"}}) {
    std::vector<std::string> args = {
        "scan",  "--rules",          rules.string(), "--anomaly-model",
        model(), "--template-table", table(),        "--anomaly-backend",
        "cpu"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(linux_log.string());
    auto r = run_sluice(args);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find(" 0 late,"), std::string::npos) << r.err;
    ASSERT_GT(r.lines.size(), 0u) << r.err;
    simdjson::dom::parser parser;
    for (const auto& line : r.lines) {
      auto doc = parser.parse(line);
      ASSERT_FALSE(doc.error()) << line;
      // Both referenced rules only feed the correlation (no `generate`): only it alerts.
      EXPECT_EQ(std::string_view(doc["alert.kind"]), "correlation") << line;
      EXPECT_EQ(std::string_view(doc["rule.id"]), anomaly_correlation) << line;
      EXPECT_EQ(std::string_view(doc["correlation.group"]["sluice.host"]), "combo") << line;
      EXPECT_EQ(uint64_t(doc["alert.count"]), 2u) << line;
      // It starts at the anomalous window's end (a whole minute) and ends at the failure,
      // within the 10 minute timespan; the failure's line is referenced.
      const std::string start{std::string_view(doc["event.start"])};
      const std::string end{std::string_view(doc["event.end"])};
      EXPECT_EQ(start.substr(17, 2), "00") << line;
      EXPECT_LE(start, end) << line;
      simdjson::dom::array refs;
      ASSERT_FALSE(doc["alert.events"].get(refs)) << line;
      ASSERT_EQ(refs.size(), 1u) << line;  // the anomaly has no single event
      std::uint64_t n = 0;
      ASSERT_FALSE(refs.at(0)["line"].get(n)) << line;
      ASSERT_GE(n, 1u);
      ASSERT_LE(n, raw.size());
      EXPECT_NE(raw[n - 1].find("authentication failure;"), std::string::npos) << raw[n - 1];
    }
    if (first.empty()) {
      first = r.lines;
    } else {
      EXPECT_EQ(r.lines, first);  // batching and workers do not change correlation
    }
  }
}

TEST_F(AlertPath, StoreAlertLogHoldsCorrelationAlertsAndNoGenerateFalseDetections) {
  SLUICE_REQUIRE_DATA(ssh, "loghub/OpenSSH/OpenSSH_2k.log");
  const auto store = dir_ / "store";
  const auto out = dir_ / "alerts.jsonl";
  auto scan = run_sluice({"scan", "--rules", (source_dir() / "rules/packs/correlation").string(),
                          "--rules", (source_dir() / "rules/packs/linux").string(), "--store",
                          store.string(), "--out", out.string(), "--workers", "2", ssh.string()});
  ASSERT_EQ(scan.status, 0) << scan.err;
  simdjson::dom::parser parser;
  // The correlation alerts the scan printed (45 brute force + 17 password spraying, derived
  // with awk in correlation_scan_test.cpp).
  std::set<std::string> printed;
  for (const auto& line : split_lines(read_file(out))) {
    auto doc = parser.parse(line);
    ASSERT_FALSE(doc.error()) << line;
    std::string_view kind;
    if (!doc["alert.kind"].get(kind) && kind == "correlation")
      printed.insert(std::string(std::string_view(doc["alert.id"])));
  }
  ASSERT_EQ(printed.size(), 62u);

  auto found =
      run_sluice({"search", "--store", store.string(), "--alerts", "alert.kind:correlation"});
  ASSERT_EQ(found.status, 0) << found.err;
  ASSERT_EQ(found.lines.size(), 62u);
  std::set<std::string> stored;
  std::map<std::string, std::size_t> by_rule;
  std::string brute_ip, brute_time;
  for (const auto& line : found.lines) {
    auto doc = parser.parse(line);
    ASSERT_FALSE(doc.error()) << line;
    stored.insert(std::string(std::string_view(doc["alert.id"])));
    const std::string rule{std::string_view(doc["rule.id"])};
    ++by_rule[rule];
    simdjson::dom::array seqs;
    ASSERT_FALSE(doc["sluice.event_sequences"].get(seqs)) << line;
    if (rule == "0b7f8d2c-5e4a-4f6b-8c3d-1a9e2b7c4d21") {
      EXPECT_EQ(seqs.size(), 10u) << line;  // the ten failures, by store sequence
      EXPECT_EQ(uint64_t(doc["alert.count"]), 10u) << line;
      if (brute_ip.empty()) {
        simdjson::dom::array matched = doc["sluice.matched"];
        brute_ip = std::string(std::string_view(matched.at(0)["value"]));
        brute_time = std::string(std::string_view(doc["event.end"]));
      }
    }
  }
  EXPECT_EQ(stored, printed);
  EXPECT_EQ(by_rule["0b7f8d2c-5e4a-4f6b-8c3d-1a9e2b7c4d21"], 45u);
  EXPECT_EQ(by_rule["7c2e9a4b-1d3f-4e5a-b6c7-8d9e0f1a2b31"], 17u);

  // sluice_ssh_failed_password (correlation pack) feeds the correlations without `generate`:
  // none of its detections is an alert. The Linux pack's own failed-password rule generates.
  auto feeder = run_sluice({"search", "--store", store.string(), "--alerts",
                            "rule.id:6a5d1f0e-3c1b-4b8e-9d1a-2f4e7c9b0a11 | count"});
  ASSERT_EQ(feeder.status, 0) << feeder.err;
  ASSERT_EQ(feeder.lines.size(), 1u);
  EXPECT_EQ(feeder.lines[0], "{\"count\":0}");
  auto generating = run_sluice({"search", "--store", store.string(), "--alerts",
                                "rule.id:edd40218-e54c-4b63-983d-cb97ed9b73f8 | count"});
  ASSERT_EQ(generating.status, 0) << generating.err;
  ASSERT_EQ(generating.lines.size(), 1u);
  EXPECT_NE(generating.lines[0], "{\"count\":0}");

  // The timeline of the brute-forcing address shows the correlation alert at its time.
  ASSERT_FALSE(brute_ip.empty());
  auto timeline =
      run_sluice({"timeline", "--store", store.string(), "--field", "src_ip=" + brute_ip,
                  "--around", brute_time, "--before", "10m", "--after", "1m", "--format", "text"});
  ASSERT_EQ(timeline.status, 0) << timeline.err;
  bool shown = false;
  for (const auto& line : timeline.lines)
    shown = shown || (line.find("ALERT correlation [high] SSH Brute Force From One Source") !=
                          std::string::npos &&
                      line.find("src_ip=" + brute_ip) != std::string::npos);
  EXPECT_TRUE(shown) << timeline.err;
}

}  // namespace
}  // namespace sluice::test
