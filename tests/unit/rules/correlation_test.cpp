// SPDX-License-Identifier: Apache-2.0
/// Loading Sigma correlation rules: every malformed correlation is an error naming the problem
/// (a table of bad documents and their messages), the metric types' conditions, references by
/// id and name, chains and their levels, aliases, `generate`, group key extraction from fields
/// and free text, and suppression filters.
#include "sluice/rules/correlation.hpp"

#include <gtest/gtest.h>

#include "sluice/event/event_batch.hpp"
#include "sluice/rules/rule_test.hpp"
#include "tests_support.hpp"

#include <filesystem>
#include <thread>

namespace sluice::rules {
namespace {

constexpr const char* base_rules = R"(
title: Failed login
id: r-fail
name: fail
logsource: {category: firewall}
detection: {selection: {action: fail}, condition: selection}
---
title: Good login
id: r-ok
name: ok
logsource: {category: firewall}
detection: {selection: {action: ok}, condition: selection}
)";

struct Loaded {
  std::shared_ptr<const RuleSet> base;
  std::shared_ptr<const CorrelationSet> set;
  LoadReport report;
};

Loaded load(const std::string& correlations) {
  Loaded l;
  SigmaOptions options;
  const std::vector<std::pair<std::string, std::string>> texts = {{"base.yml", base_rules},
                                                                  {"corr.yml", correlations}};
  LoadReport sigma_report;
  auto base = load_sigma_text(base_rules, "base.yml", options, sigma_report);
  EXPECT_TRUE(base.has_value());
  l.base = base.value();
  auto set = load_correlations(options, texts, l.base, l.report);
  EXPECT_TRUE(set.has_value()) << (set ? "" : set.error().message);
  if (set) l.set = set.value();
  return l;
}

struct BadCase {
  const char* yaml;
  const char* message;
};

TEST(CorrelationLoad, MalformedCorrelationsAreErrorsThatNameTheProblem) {
  const BadCase cases[] = {
      {"title: x\ncorrelation: {type: count, rules: [fail], group-by: [a], timespan: 1m, "
       "condition: {gte: 1}}",
       "'correlation.type' must be event_count, value_count, temporal, temporal_ordered, "
       "value_sum, value_avg or value_percentile"},
      {"title: x\ncorrelation: {type: event_count, group-by: [a], timespan: 1m, condition: {gte: "
       "1}}",
       "'correlation.rules' names no rule"},
      {"title: x\ncorrelation: {type: event_count, rules: [fail], timespan: 1m, condition: {gte: "
       "1}}",
       "'correlation.group-by' is mandatory"},
      {"title: x\ncorrelation: {type: event_count, rules: [fail], group-by: [a], timespan: 1w, "
       "condition: {gte: 1}}",
       "'correlation.timespan' must be a number and s, m, h or d"},
      {"title: x\ncorrelation: {type: event_count, rules: [fail], group-by: [a], timespan: 1m}",
       "'correlation.condition' is mandatory for event_count"},
      {"title: x\ncorrelation: {type: event_count, rules: [fail], group-by: [a], timespan: 1m, "
       "condition: {about: 3}}",
       "unknown condition 'about'"},
      {"title: x\ncorrelation: {type: event_count, rules: [fail], group-by: [a], timespan: 1m, "
       "condition: {gt: 5, lt: 3}}",
       "the condition can never hold"},
      {"title: x\ncorrelation: {type: value_count, rules: [fail], group-by: [a], timespan: 1m, "
       "condition: {gte: 3}}",
       "value_count needs 'condition.field'"},
      {"title: x\ncorrelation: {type: event_count, rules: [nope], group-by: [a], timespan: 1m, "
       "condition: {gte: 3}}",
       "refers to 'nope', which is no rule or correlation id or name"},
      {"title: x\nname: loop\ncorrelation: {type: temporal, rules: [loop, fail], group-by: [a], "
       "timespan: 1m}",
       "correlation refers to itself"},
      {"title: x\ncorrelation: {type: temporal, rules: [fail, ok], group-by: [a], timespan: 1m, "
       "condition: {gte: 3}}",
       "the condition asks for more rules than 'rules' names"},
      {"title: x\ncorrelation: {type: value_sum, rules: [fail], group-by: [a], timespan: 1m, "
       "condition: {gt: 5}}",
       "value_sum needs 'condition.field'"},
      {"title: x\ncorrelation: {type: value_avg, rules: [fail], group-by: [a], timespan: 1m, "
       "condition: {field: b, gt: many}}",
       "condition 'gt' needs a number"},
      {"title: x\ncorrelation: {type: value_avg, rules: [fail], group-by: [a], timespan: 1m, "
       "condition: {field: b, gt: 2.5, lt: 2.5}}",
       "the condition can never hold (gt 2.5 and lt 2.5)"},
      {"title: x\ncorrelation: {type: value_percentile, rules: [fail], group-by: [a], "
       "timespan: 1m, condition: {field: b, lte: 101}}",
       "condition 'lte' must be between 0 and 100"},
      {"title: x\ncorrelation: {type: event_count, rules: [fail], group-by: [a], timespan: 1m, "
       "condition: {field: b, gte: 2}}",
       "'condition.field' belongs to value_count, value_sum, value_avg and value_percentile"},
  };
  for (const auto& c : cases) {
    auto l = load(c.yaml);
    ASSERT_EQ(l.report.errors.size(), 1u) << c.yaml;
    EXPECT_NE(l.report.errors[0].message.find(c.message), std::string::npos)
        << l.report.errors[0].message;
    EXPECT_EQ(l.report.errors[0].reason, "invalid correlation");
    EXPECT_TRUE(l.set->specs().empty());
  }
}

TEST(CorrelationLoad, MetricCorrelationsTakeRealNumberConditions) {
  auto l = load(R"(
title: Exfiltration
correlation: {type: value_sum, rules: [fail], group-by: [a], timespan: 1h,
              condition: {field: bytes, gt: 1000000}}
---
title: Average
correlation: {type: value_avg, rules: [fail], group-by: [a], timespan: 1m,
              condition: {field: bytes, gte: 2.5, lt: 10, neq: 5}}
---
title: Rare process
correlation: {type: value_percentile, rules: [fail], group-by: [a], timespan: 24h,
              condition: {field: image, lte: 1}}
)");
  EXPECT_TRUE(l.report.errors.empty());
  EXPECT_TRUE(l.report.skipped.empty());
  const auto& specs = l.set->specs();
  ASSERT_EQ(specs.size(), 3u);
  EXPECT_EQ(specs[0].rule.type, CorrelationType::value_sum);
  EXPECT_EQ(specs[0].rule.value_field, "bytes");
  EXPECT_FALSE(specs[0].rule.value_condition.holds(1000000));
  EXPECT_TRUE(specs[0].rule.value_condition.holds(1000000.5));
  EXPECT_TRUE(specs[0].rule.value_condition.monotone());
  const auto& avg = specs[1].rule.value_condition;
  EXPECT_EQ(specs[1].rule.type, CorrelationType::value_avg);
  EXPECT_TRUE(avg.holds(2.5));
  EXPECT_FALSE(avg.holds(2.4999));
  EXPECT_FALSE(avg.holds(5));
  EXPECT_FALSE(avg.holds(10));
  EXPECT_TRUE(avg.holds(9.99));
  EXPECT_FALSE(avg.monotone());
  EXPECT_EQ(avg.describe(), "gte 2.5 and lt 10 and neq 5");
  EXPECT_EQ(specs[2].rule.type, CorrelationType::value_percentile);
  EXPECT_TRUE(specs[2].rule.value_condition.holds(1));
  EXPECT_FALSE(specs[2].rule.value_condition.holds(1.01));
}

TEST(CorrelationLoad, ResolvesIdsNamesChainsAliasesAndGenerate) {
  auto l = load(R"(
title: Many failures
id: c-many
name: many
correlation: {type: event_count, rules: [r-fail], group-by: [src_ip], timespan: 1m, condition: {gte: 3}}
---
title: Then success
id: c-then
correlation:
  type: temporal_ordered
  rules: [many, ok]
  group-by: [host]
  timespan: 1h
  aliases:
    host: {many: src_ip, ok: dst_ip}
---
title: Counted with generate
id: c-gen
correlation: {type: event_count, rules: [ok], group-by: [dst_ip], timespan: 1m, condition: {gte: 2}, generate: true}
)");
  ASSERT_TRUE(l.report.errors.empty()) << l.report.errors[0].message;
  const auto& specs = l.set->specs();
  ASSERT_EQ(specs.size(), 3u);
  // Level order: the chain comes after what it consumes.
  EXPECT_EQ(specs[0].rule.id, "c-many");
  EXPECT_EQ(specs[2].rule.id, "c-then");
  EXPECT_EQ(specs[2].level, 1u);
  ASSERT_EQ(specs[0].consumers.size(), 1u);
  EXPECT_EQ(specs[0].consumers[0].consumer, 2u);
  EXPECT_EQ(specs[0].consumers[0].key_fields, std::vector<int>{0});  // host <- many's src_ip
  EXPECT_EQ(specs[2].rule.condition.min, 2u);                        // default: every rule
  // `fail` only feeds c-many (no generate); `ok` is referenced by c-gen with generate: true.
  EXPECT_FALSE(l.set->base_generates(0));
  EXPECT_TRUE(l.set->base_generates(1));
  EXPECT_FALSE(l.set->correlation_generates(0));  // consumed by the chain
  EXPECT_TRUE(l.set->correlation_generates(2));

  // Group keys from event fields, per referenced rule (the alias maps ok's dst_ip to host).
  EventBatch batch;
  Event& e = batch.add_record("x", 0);
  const Field fields[] = {{"action", "ok"}, {"dst_ip", "10.0.0.1"}};
  e.fields = fields;
  std::vector<CorrelationSet::Input> inputs;
  std::size_t missing = 0;
  l.set->inputs_for(e, Detection{0, 1, {}}, inputs, missing);
  ASSERT_EQ(inputs.size(), 2u);
  for (const auto& in : inputs)
    EXPECT_EQ(in.key, "10.0.0.1");
  EXPECT_EQ(missing, 0u);
  const Field no_ip[] = {{"action", "fail"}};
  e.fields = no_ip;
  inputs.clear();
  l.set->inputs_for(e, Detection{0, 0, {}}, inputs, missing);
  EXPECT_TRUE(inputs.empty());
  EXPECT_EQ(missing, 1u);
}

TEST(CorrelationLoad, AnomalyDetectorsAreRulesByNameOrIdWithEntityGroupFields) {
  // One correlation names the new-template detector by name (aliasing its `host` entity field
  // to the group-by name), another the residual detector by id with `generate: true`.
  auto l = load(R"(title: Anomaly then good login
id: c-anomaly-ok
correlation:
  type: temporal_ordered
  rules: [anomaly_new_template, ok]
  group-by: [target]
  timespan: 10m
  aliases:
    target: {anomaly_new_template: host, ok: dst_ip}
---
title: Residual twice
id: c-residual
correlation: {type: event_count, rules: [1db66352-9c05-4639-b9b7-bfa48141347d], group-by: [sluice.host], timespan: 1h, condition: {gte: 2}, generate: true}
)");
  ASSERT_TRUE(l.report.errors.empty()) << l.report.errors[0].message;
  ASSERT_EQ(l.set->specs().size(), 2u);
  Alert fresh;
  fresh.kind = "anomaly";
  fresh.rule_id = "19387c2c-61fe-4177-93e3-94de2796b815";  // anomaly_new_template
  fresh.group = {{"host", "web01"}};
  Alert residual = fresh;
  residual.rule_id = "1db66352-9c05-4639-b9b7-bfa48141347d";
  Alert rare = fresh;
  rare.rule_id = "c778605e-0006-4a04-86fd-ad932abd48aa";
  EXPECT_TRUE(l.set->consumes(fresh));
  EXPECT_TRUE(l.set->consumes(residual));
  EXPECT_FALSE(l.set->consumes(rare));
  // generate: the new-template detector only feeds c-anomaly-ok; the residual one is named
  // with generate: true; the rare one is not referenced and alerts as before.
  EXPECT_FALSE(l.set->alert_generates(fresh));
  EXPECT_TRUE(l.set->alert_generates(residual));
  EXPECT_TRUE(l.set->alert_generates(rare));

  std::vector<CorrelationSet::Input> inputs;
  std::size_t missing = 0;
  EXPECT_EQ(l.set->inputs_for(fresh, inputs, missing), 1u);
  ASSERT_EQ(inputs.size(), 1u);
  EXPECT_EQ(inputs[0].key, "web01");  // target <- the entity field host (alias)
  EXPECT_EQ(inputs[0].step, 0u);
  inputs.clear();
  EXPECT_EQ(l.set->inputs_for(residual, inputs, missing), 1u);
  EXPECT_EQ(inputs.at(0).key, "web01");  // sluice.host names the host entity field
  // An entity without the group-by field is not correlated, and counted.
  Alert by_app = fresh;
  by_app.group = {{"app", "sshd"}};
  inputs.clear();
  EXPECT_EQ(l.set->inputs_for(by_app, inputs, missing), 0u);
  EXPECT_EQ(missing, 1u);
  // A name that is no rule, correlation or detector is still an error.
  auto bad = load(
      "title: Nope\nid: c-nope\ncorrelation: {type: event_count, rules: [anomaly_nothing], "
      "group-by: [host], timespan: 1m, condition: {gte: 1}}");
  ASSERT_EQ(bad.report.errors.size(), 1u);
  EXPECT_NE(bad.report.errors[0].message.find("'anomaly_nothing'"), std::string::npos);
}

TEST(CorrelationLoad, AlertsCarryRuleAndGroupFields) {
  auto l = load(
      "title: Many\nid: c1\nlevel: high\ntags: [attack.t1110]\ncorrelation: {type: event_count, "
      "rules: [fail], group-by: [src_ip, user], timespan: 1m, condition: {gte: 3}}");
  CorrelationAlert a;
  a.key = std::string("1.2.3.4") + group_key_separator + "root";
  a.first_ns = 1;
  a.last_ns = 2;
  a.count = 3;
  const Alert alert = l.set->make_alert(a);
  EXPECT_EQ(alert.rule_id, "c1");
  EXPECT_EQ(alert.severity, "high");
  EXPECT_EQ(alert.correlation_type, "event_count");
  EXPECT_EQ(alert.field("src_ip"), "1.2.3.4");
  EXPECT_EQ(alert.field("user"), "root");
  EXPECT_EQ(alert.id.size(), 16u);
}

/// A sink that keeps the alerts it was sent.
class Keep final : public AlertSink {
 public:
  explicit Keep(std::vector<Alert>* out) : out_(out) {}
  std::string describe() const override { return "keep"; }
  Result<void> send(const Alert& a, std::string_view) override {
    out_->push_back(a);
    return {};
  }

 private:
  std::vector<Alert>* out_;
};

TEST(CorrelationOutput, RendersFeedsTheEngineSnapshotsAndDrainsWhenQuiet) {
  auto l = load(
      "title: Many\nid: c-many\ncorrelation: {type: event_count, rules: [fail], group-by: "
      "[src_ip], timespan: 1m, condition: {gte: 3}}");
  ASSERT_TRUE(l.report.errors.empty());
  std::vector<Alert> got;
  std::vector<std::unique_ptr<AlertSink>> sinks;
  sinks.push_back(std::make_unique<Keep>(&got));
  auto handler =
      std::shared_ptr<AlertHandler>(std::move(AlertHandler::create({}, std::move(sinks))).value());
  CorrelationConfig config;
  // 100 ms: the completing failure (the newest event) waits for the watermark.
  config.tolerance_ns = 100'000'000;
  auto engine = std::make_shared<CorrelationEngine>(l.set->specs(), config);
  // Base alerts too (sluice run with sinks): `fail` feeds the correlation without `generate`,
  // so only `ok` detections become alerts of their own.
  CorrelationOutput output(l.set, engine, handler, true);
  test::TempDir dir;
  const auto state = (dir.path() / "correlation.state").string();
  output.set_snapshot(state, 0);  // only on `snapshot()`
  output.set_drain_when_quiet(true);

  EventBatch batch;
  ASSERT_TRUE(add_json_events(R"({"action":"fail","src_ip":"10.0.0.1"}
{"action":"fail","src_ip":"10.0.0.1"}
{"action":"ok","dst_ip":"10.0.0.9"}
{"action":"fail","src_ip":"10.0.0.1"}
{"action":"fail"})",
                              batch)
                  .has_value());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    batch.events()[i].event_time_ns = static_cast<std::int64_t>(i) * 1'000'000'000;
    batch.events()[i].line = i + 1;
  }
  auto scanner = l.base->make_scanner();
  std::vector<Detection> detections;
  scanner->scan(batch, detections);
  ASSERT_EQ(detections.size(), 5u);
  std::string bytes;
  EXPECT_EQ(output.render(batch, detections, l.base.get(), bytes), 4u);  // 3 inputs + 1 alert
  EXPECT_EQ(output.missing_group(), 1u);  // the last failure has no src_ip
  ASSERT_TRUE(output.write(bytes).has_value());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, "detection");
  EXPECT_EQ(got[0].rule_id, "r-ok");
  // The inputs are held until the sink runs out of batches.
  EXPECT_EQ(engine->stats().inputs, 0u);
  EXPECT_EQ(output.submits(), 0u);
  output.idle();
  EXPECT_EQ(engine->stats().inputs, 3u);
  EXPECT_EQ(output.submits(), 1u);
  EXPECT_EQ(output.submitted_inputs(), 3u);
  ASSERT_TRUE(output.snapshot().has_value());
  EXPECT_TRUE(std::filesystem::exists(state));
  EXPECT_EQ(engine->stats().pending, 1u);
  // Quiet input: after at least 200 ms without inputs, a flush applies what waits.
  std::this_thread::sleep_for(std::chrono::milliseconds(220));
  ASSERT_TRUE(output.flush().has_value());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].kind, "correlation");
  EXPECT_EQ(got[1].field("src_ip"), "10.0.0.1");
  ASSERT_EQ(got[1].refs.size(), 3u);
  EXPECT_EQ(got[1].refs[2].line_number(), 4u);
  output.finish();
  EXPECT_EQ(got.size(), 2u);
}

TEST(CorrelationOutput, DetectionsNameTheRuleOfTheSetTheyWereRenderedWith) {
  // No correlation rules: alert handling for base alerts only (sluice run with a store or
  // sinks), where SIGHUP may swap the rule set between a batch's render and write.
  auto l = load("");
  std::vector<Alert> got;
  std::vector<std::unique_ptr<AlertSink>> sinks;
  sinks.push_back(std::make_unique<Keep>(&got));
  auto handler =
      std::shared_ptr<AlertHandler>(std::move(AlertHandler::create({}, std::move(sinks))).value());
  auto engine = std::make_shared<CorrelationEngine>(l.set->specs(), CorrelationConfig{});
  CorrelationOutput output(l.set, engine, handler, true);
  SigmaOptions options;
  LoadReport report;
  auto reloaded = load_sigma_text(
      "title: Other login\nid: r-other\nlevel: high\ntags: [attack.t1078]\n"
      "logsource: {category: firewall}\ndetection: {selection: {action: ok}, condition: "
      "selection}\n",
      "reloaded.yml", options, report);
  ASSERT_TRUE(reloaded.has_value());
  // The reload (run.cpp): a correlation set over the new rules, adopted by the output.
  LoadReport corr_report;
  auto next = load_correlations(options, {}, *reloaded, corr_report);
  ASSERT_TRUE(next.has_value()) << next.error().message;
  output.adopt(next.value());
  EventBatch batch;
  ASSERT_TRUE(add_json_events(R"({"action":"ok","dst_ip":"10.0.0.9"})", batch).has_value());
  auto scanner = (*reloaded)->make_scanner();
  std::vector<Detection> detections;
  scanner->scan(batch, detections);
  ASSERT_EQ(detections.size(), 1u);
  std::string bytes;
  EXPECT_EQ(output.render(batch, detections, reloaded->get(), bytes), 1u);
  ASSERT_TRUE(output.write(bytes).has_value());
  ASSERT_EQ(got.size(), 1u);
  // Index 0 is `fail` in the set correlation was loaded with; the alert names the rule that
  // matched.
  EXPECT_EQ(got[0].rule_id, "r-other");
  EXPECT_EQ(got[0].rule_title, "Other login");
  EXPECT_EQ(got[0].severity, "high");
  EXPECT_EQ(got[0].tags, std::vector<std::string>{"attack.t1078"});
  EXPECT_EQ(got[0].field("action"), "ok");
}

TEST(CorrelationOutput, AReloadSwitchesTheEngineAndMapsBatchesOfTheOldRules) {
  const std::string keep =
      "title: Keep\nid: c-keep\ncorrelation: {type: event_count, rules: [fail], group-by: "
      "[src_ip], timespan: 1h, condition: {gte: 4}}\n";
  auto change = [](int n) {
    return "---\ntitle: Change\nid: c-change\ncorrelation: {type: event_count, rules: [fail], "
           "group-by: [src_ip], timespan: 1h, condition: {gte: " +
           std::to_string(n) + "}}\n";
  };
  auto before = load(keep + change(3));
  auto after = load(change(5) + "---\n" + keep);  // other order: c-keep moves to index 1
  ASSERT_TRUE(before.report.errors.empty());
  ASSERT_TRUE(after.report.errors.empty());
  std::vector<Alert> got;
  std::vector<std::unique_ptr<AlertSink>> sinks;
  sinks.push_back(std::make_unique<Keep>(&got));
  auto handler =
      std::shared_ptr<AlertHandler>(std::move(AlertHandler::create({}, std::move(sinks))).value());
  CorrelationConfig config;
  config.tolerance_ns = 0;
  auto engine = std::make_shared<CorrelationEngine>(before.set->specs(), config);
  CorrelationOutput output(before.set, engine, handler, false);

  auto render = [&](const Loaded& l, int first_second, int n) {
    EventBatch batch;
    std::string text;
    for (int i = 0; i < n; ++i)
      text += "{\"action\":\"fail\",\"src_ip\":\"10.0.0.1\"}\n";
    EXPECT_TRUE(add_json_events(text, batch).has_value());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      batch.events()[i].event_time_ns =
          (first_second + static_cast<std::int64_t>(i)) * 1'000'000'000;
      batch.events()[i].line = static_cast<std::uint64_t>(first_second) + i + 1;
    }
    std::vector<Detection> detections;
    l.base->make_scanner()->scan(batch, detections);
    std::string bytes;
    output.render(batch, detections, l.base.get(), bytes);
    return bytes;
  };
  // Two failures under the old rules: c-keep holds 2 of 4, c-change 2 of 3.
  ASSERT_TRUE(output.write(render(before, 0, 2)).has_value());
  output.idle();
  EXPECT_EQ(engine->stats().inputs, 4u);
  // The reload: one worker still renders with the old rules while another has the new ones.
  output.adopt(after.set);
  const std::string old_batch = render(before, 3, 1);
  const std::string new_batch = render(after, 2, 1);
  ASSERT_TRUE(output.write(new_batch).has_value());  // switches the engine
  EXPECT_EQ(engine->stats().reloads, 1u);
  ASSERT_TRUE(output.write(old_batch).has_value());
  output.idle();
  // c-keep: 0 s, 1 s (kept over the reload), 2 s (new rules) and 3 s (old rules, mapped to
  // c-keep's new index) make 4. c-change started over: 2 s only; its old-rules input is
  // dropped and counted.
  EXPECT_EQ(output.reload_dropped_inputs(), 1u);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].rule_id, "c-keep");
  EXPECT_EQ(got[0].count, 4u);
  EXPECT_EQ(got[0].first_ns, 0);
  EXPECT_EQ(output.stale_batches(), 0u);
}

TEST(AlertFilter, SigmaDetectionOverAlertFields) {
  auto p = compile_alert_filter(
      "scanners: {src_ip|cidr: 10.1.0.0/16}\nlab: {src_ip|startswith: '192.168.'}\n"
      "critical: {rule.level: critical}\ncondition: (scanners or lab) and not critical");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  Alert a;
  a.severity = "high";
  a.group = {{"src_ip", "10.1.2.3"}};
  EXPECT_TRUE(p.value()(a));
  a.group = {{"src_ip", "192.168.1.1"}};
  EXPECT_TRUE(p.value()(a));
  a.group = {{"src_ip", "10.2.0.1"}};
  EXPECT_FALSE(p.value()(a));
  a.group = {{"src_ip", "10.1.2.3"}};
  a.severity = "critical";
  EXPECT_FALSE(p.value()(a));
  EXPECT_FALSE(compile_alert_filter("a: {x: 1}\nb: {y: 2}").has_value());  // no condition
  EXPECT_FALSE(compile_alert_filter("a: {x: 1}\ncondition: a and").has_value());
}

}  // namespace
}  // namespace sluice::rules
