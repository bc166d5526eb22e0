// SPDX-License-Identifier: Apache-2.0
/// The `[templates]` and `[anomaly]` configuration sections, and `AnomalyStage` on batches: every
/// event gets a template id, a model turns closed windows into alerts, the table is saved.
#include <gtest/gtest.h>

#include <fstream>

#include "sluice/anomaly/anomaly_stage.hpp"
#include "sluice/config/config.hpp"
#include "sluice/event/event_batch.hpp"
#include "tests_support.hpp"

namespace sluice {
namespace {

constexpr const char* input = "[[input]]\ntype = \"udp\"\n";

TEST(AnomalyConfig, DefaultsAndKeys) {
  auto d = parse_config(input, "t.toml");
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_FALSE(d->templates.enabled);
  EXPECT_EQ(d->anomaly.model, "");
  EXPECT_EQ(d->anomaly.backend, "auto");
  EXPECT_EQ(d->anomaly.entity, std::vector<std::string>{"host"});
  auto c = parse_config(std::string(input) +
                            "[templates]\nenabled = true\ntable = \"t.tsv\"\nsimilarity = 0.5\n"
                            "depth = 5\n[anomaly]\nmodel = \"m.txt\"\nbackend = \"cpu\"\n"
                            "entity = [\"host\", \"app\"]\nwindow_seconds = 300\n"
                            "alerts = \"a.jsonl\"\n",
                        "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_TRUE(c->templates.enabled);
  EXPECT_EQ(c->templates.table, "t.tsv");
  EXPECT_EQ(c->templates.similarity, 0.5);
  EXPECT_EQ(c->templates.depth, 5u);
  EXPECT_EQ(c->anomaly.model, "m.txt");
  EXPECT_EQ(c->anomaly.backend, "cpu");
  EXPECT_EQ(c->anomaly.entity, (std::vector<std::string>{"host", "app"}));
  EXPECT_EQ(c->anomaly.window_seconds, 300u);
  EXPECT_EQ(c->anomaly.alerts_path, "a.jsonl");
}

TEST(AnomalyConfig, ErrorsNameTheKey) {
  auto c = parse_config(std::string(input) +
                            "[templates]\nsimilarity = 2\ndepth = 1\ncolour = 3\n"
                            "[anomaly]\nwindow_seconds = 0\nentity = []\n",
                        "t.toml");
  ASSERT_FALSE(c.has_value());
  const std::string& m = c.error().message;
  EXPECT_NE(m.find("templates.similarity"), std::string::npos) << m;
  EXPECT_NE(m.find("templates.depth"), std::string::npos) << m;
  EXPECT_NE(m.find("templates.colour"), std::string::npos) << m;
  EXPECT_NE(m.find("anomaly.window_seconds"), std::string::npos) << m;
  EXPECT_NE(m.find("anomaly.entity"), std::string::npos) << m;
}

BatchPtr batch_of(const std::vector<std::pair<std::string, std::int64_t>>& lines) {
  auto b = std::make_unique<EventBatch>();
  for (const auto& [text, seconds] : lines) {
    Event& e = b->add_record(text, 0);
    e.status = ParseStatus::parsed;
    e.message = e.raw;
    e.host = "h1";
    e.event_time_ns = seconds * 1'000'000'000;
  }
  return b;
}

TEST(AnomalyStage, MinesEveryEventAndAlertsOnClosedWindows) {
  test::TempDir dir;
  TemplatesConfig t;
  t.enabled = true;
  t.table = (dir / "t.tsv").string();
  // Baseline: windows of "open" + "close" pairs; the model learns them.
  std::vector<FeatureRow> rows;
  {
    TemplateMiner miner;
    MinerScratch s;
    const auto open = miner.mine("session opened for user 1", s).id;
    const auto close = miner.mine("session closed for user 1", s).id;
    for (std::uint32_t k = 1; k <= 4; ++k) {
      FeatureRow r;
      r.counts = {{open, k}, {close, k}};
      rows.push_back(r);
    }
    ASSERT_TRUE(miner.save(t.table).has_value());
  }
  auto model = AnomalyModel::train(rows, ModelConfig{});
  ASSERT_TRUE(model.has_value());
  AnomalyConfig a;
  a.model = (dir / "m.txt").string();
  a.backend = "cpu";
  a.window_seconds = 60;
  a.alerts_path = (dir / "alerts.jsonl").string();
  ASSERT_TRUE(model->save(a.model).has_value());
  auto stage = AnomalyStage::create(t, a);
  ASSERT_TRUE(stage.has_value()) << stage.error().message;
  EXPECT_EQ((*stage)->scorer_name(), "cpu");

  // Window [0, 60): balanced, normal. Window [60, 120): a new message. Window [120, 180):
  // opens without closes.
  auto b1 = batch_of({{"session opened for user 7", 1},
                      {"session closed for user 7", 2},
                      {"disk on fire at sector 99", 61},
                      {"session opened for user 8", 121},
                      {"session opened for user 9", 122},
                      {"session opened for user 10", 123}});
  (*stage)->process(*b1, 0);
  for (const auto& e : b1->events())
    EXPECT_NE(e.template_id, 0u);
  EXPECT_EQ(b1->events()[0].template_id, b1->events()[3].template_id);
  EXPECT_NE(b1->events()[0].template_id, b1->events()[1].template_id);
  ASSERT_TRUE((*stage)->finish().has_value());
  EXPECT_EQ((*stage)->windows_scored(), 3u);
  EXPECT_EQ((*stage)->alerts(), 2u);
  const auto lines = test::split_lines(test::read_file(a.alerts_path));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("new_template"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("disk on fire at sector <*>"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("pca_residual"), std::string::npos) << lines[1];
  // The table was saved with the new template.
  TemplateMiner again;
  ASSERT_TRUE(again.load(t.table).has_value());
  EXPECT_EQ(again.size(), 3u);
}

/// The stage of the test above (a model of balanced "open"/"close" windows) without a file.
std::shared_ptr<AnomalyStage> open_close_stage(const test::TempDir& dir) {
  TemplatesConfig t;
  t.enabled = true;
  t.table = (dir / "t.tsv").string();
  std::vector<FeatureRow> rows;
  TemplateMiner miner;
  MinerScratch s;
  const auto open = miner.mine("session opened for user 1", s).id;
  const auto close = miner.mine("session closed for user 1", s).id;
  for (std::uint32_t k = 1; k <= 4; ++k) {
    FeatureRow r;
    r.counts = {{open, k}, {close, k}};
    rows.push_back(r);
  }
  EXPECT_TRUE(miner.save(t.table).has_value());
  auto model = AnomalyModel::train(rows, ModelConfig{});
  EXPECT_TRUE(model.has_value());
  AnomalyConfig a;
  a.model = (dir / "m.txt").string();
  a.backend = "cpu";
  EXPECT_TRUE(model->save(a.model).has_value());
  auto stage = AnomalyStage::create(t, a);
  EXPECT_TRUE(stage.has_value()) << stage.error().message;
  return stage ? stage.value() : nullptr;
}

TEST(AnomalyStage, OrderedModeQueuesOneAlertPerDetectorForAlertHandling) {
  test::TempDir dir;
  auto stage = open_close_stage(dir);
  ASSERT_NE(stage, nullptr);
  ASSERT_TRUE(stage->scoring());
  stage->queue_alerts(true);
  stage->set_ordered(true);
  auto b = batch_of({{"session opened for user 7", 1},
                     {"session closed for user 7", 2},
                     {"disk on fire at sector 99", 61},
                     {"session opened for user 8", 121},
                     {"session opened for user 9", 122},
                     {"session opened for user 10", 123}});
  stage->process(*b, 0);  // mines only: the windows are counted in order below
  std::string key;
  for (const auto& e : b->events()) {
    entity_key(e, stage->entity_fields(), key);
    stage->observe(key, e.event_time_ns, e.template_id);
  }
  // Only [0, 60), a normal window, has closed (123 s less 5 s lateness is before 120 s).
  stage->score_ready();
  std::vector<Alert> alerts;
  stage->take_alerts(alerts);
  EXPECT_EQ(alerts.size(), 0u);
  EXPECT_EQ(stage->windows_scored(), 1u);
  ASSERT_TRUE(stage->finish().has_value());
  stage->take_alerts(alerts);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(stage->alerts(), 2u);

  const Alert& fresh = alerts[0];
  EXPECT_EQ(fresh.kind, "anomaly");
  EXPECT_EQ(fresh.rule_id, find_anomaly_rule("anomaly_new_template")->id);
  EXPECT_EQ(fresh.rule_name, "anomaly_new_template");
  EXPECT_EQ(fresh.severity, "low");
  EXPECT_EQ(fresh.group, (std::vector<std::pair<std::string, std::string>>{{"host", "h1"}}));
  EXPECT_EQ(fresh.first_ns, 60'000'000'000);
  EXPECT_EQ(fresh.last_ns, 120'000'000'000);
  EXPECT_EQ(fresh.count, 1u);
  EXPECT_TRUE(fresh.refs.empty());
  EXPECT_FALSE(fresh.id.empty());
  const std::string json = fresh.to_json();
  EXPECT_NE(json.find("\"sluice.anomaly.templates\":[{\"id\":"), std::string::npos) << json;
  EXPECT_NE(json.find("disk on fire at sector <*>"), std::string::npos) << json;
  EXPECT_NE(json.find("\"sluice.anomaly.spe_threshold\":"), std::string::npos) << json;
  const Alert& residual = alerts[1];
  EXPECT_EQ(residual.rule_id, find_anomaly_rule("1db66352-9c05-4639-b9b7-bfa48141347d")->id);
  EXPECT_EQ(residual.rule_name, "anomaly_pca_residual");
  EXPECT_EQ(residual.first_ns, 120'000'000'000);

  // Through the handler: a suppression of the residual rule on this host, a JSON-lines sink.
  AlertsConfig config;
  SuppressionConfig quiet;
  quiet.name = "quiet-h1";
  quiet.rule = "anomaly_pca_residual";
  quiet.field = "host";
  quiet.value = "h1";
  config.suppress.push_back(quiet);
  AlertSinkConfig sc;
  sc.type = "jsonl";
  sc.path = (dir / "alerts.jsonl").string();
  config.sinks.push_back(sc);
  std::vector<std::unique_ptr<AlertSink>> sinks;
  auto sink = make_alert_sink(sc);
  ASSERT_TRUE(sink.has_value()) << sink.error().message;
  sinks.push_back(std::move(sink).value());
  auto handler = AlertHandler::create(config, std::move(sinks));
  ASSERT_TRUE(handler.has_value()) << handler.error().message;
  EXPECT_TRUE((*handler)->handle(fresh));
  EXPECT_FALSE((*handler)->handle(residual));
  (*handler)->flush();
  const auto st = (*handler)->stats();
  EXPECT_EQ(st.sent, 1u);
  EXPECT_EQ(st.suppressed, 1u);
  ASSERT_EQ(st.by_suppression.size(), 1u);
  EXPECT_EQ(st.by_suppression[0].second, 1u);
  const auto lines = test::split_lines(test::read_file(dir / "alerts.jsonl"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], fresh.to_json());
}

TEST(AnomalyAlerts, EntityOfSeveralFieldsBecomesOneGroupFieldEach) {
  AnomalyAlert a;
  a.entity = "web01|sshd";
  a.window_start_ns = 0;
  a.window_end_ns = 60;
  a.residual_alarm = true;
  a.rare_templates = {5};
  std::vector<Alert> out;
  const std::vector<std::string> fields = {"host", "app"};
  anomaly_alerts(a, fields, nullptr, out);
  ASSERT_EQ(out.size(), 2u);  // residual and rare, no new template
  EXPECT_EQ(out[0].rule_name, "anomaly_pca_residual");
  EXPECT_EQ(out[1].rule_name, "anomaly_rare_template");
  EXPECT_EQ(out[0].group,
            (std::vector<std::pair<std::string, std::string>>{{"host", "web01"}, {"app", "sshd"}}));
  EXPECT_NE(out[0].id, out[1].id);
  // A value holding the separator cannot be split: the key stays whole.
  a.entity = "a|b|c";
  out.clear();
  anomaly_alerts(a, fields, nullptr, out);
  EXPECT_EQ(out[0].group,
            (std::vector<std::pair<std::string, std::string>>{{"host|app", "a|b|c"}}));
  EXPECT_EQ(find_anomaly_rule("nothing"), nullptr);
}

TEST(AnomalyStage, BadModelIsAnError) {
  test::TempDir dir;
  {
    std::ofstream f(dir / "m.txt");
    f << "garbage\n";
  }
  AnomalyConfig a;
  a.model = (dir / "m.txt").string();
  auto stage = AnomalyStage::create(TemplatesConfig{}, a);
  ASSERT_FALSE(stage.has_value());
  EXPECT_NE(stage.error().message.find("m.txt"), std::string::npos) << stage.error().message;
}

}  // namespace
}  // namespace sluice
