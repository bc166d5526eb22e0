// SPDX-License-Identifier: Apache-2.0
#include "sluice/anomaly/anomaly_stage.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "sluice/common/log.hpp"
#include "sluice/output/json_lines.hpp"

namespace sluice {

namespace {
constexpr Logger stage_log("anomaly");

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string json_number(double v) {
  // %.6g as the JSON-lines anomaly output writes them; JSON has no NaN or infinity.
  return std::isfinite(v) ? fmt::format("{:.6g}", v) : std::string("null");
}

void append_template(std::string& out, std::uint32_t id, const double* share,
                     const TemplateMiner* miner) {
  out += fmt::format("{{\"id\":{}", id);
  if (share != nullptr) out += fmt::format(",\"share\":{:.6g}", *share);
  if (miner != nullptr) {
    out += ",\"template\":";
    append_json_string(out, miner->template_text(id));
  }
  out += '}';
}

std::string template_list(const std::vector<std::uint32_t>& ids, const TemplateMiner* miner) {
  std::string out = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    append_template(out, ids[i], nullptr, miner);
  }
  out += ']';
  return out;
}

std::string top_list(const std::vector<std::pair<std::uint32_t, double>>& top,
                     const TemplateMiner* miner) {
  std::string out = "[";
  for (std::size_t i = 0; i < top.size(); ++i) {
    if (i) out += ',';
    append_template(out, top[i].first, &top[i].second, miner);
  }
  out += ']';
  return out;
}

TemplateMinerConfig miner_config(const TemplatesConfig& t) {
  TemplateMinerConfig c;
  c.similarity = t.similarity;
  c.depth = t.depth;
  return c;
}

FeatureConfig feature_config(const AnomalyConfig& a) {
  FeatureConfig f;
  f.entity_fields = a.entity;
  f.window = std::chrono::seconds(static_cast<std::int64_t>(a.window_seconds));
  return f;
}
}  // namespace

const AnomalyRule* find_anomaly_rule(std::string_view key) {
  for (const auto& r : anomaly_rules)
    if (r.id == key || r.name == key) return &r;
  return nullptr;
}

void anomaly_alerts(const AnomalyAlert& a, std::span<const std::string> entity_fields,
                    const TemplateMiner* miner, std::vector<Alert>& out) {
  // The entity as group fields: `entity_key` joined the fields' values with '|'. A value that
  // holds a '|' itself makes the split ambiguous; then the whole key stays one field.
  std::vector<std::pair<std::string, std::string>> group;
  const auto bars = static_cast<std::size_t>(std::count(a.entity.begin(), a.entity.end(), '|'));
  if (!entity_fields.empty() && bars + 1 == entity_fields.size()) {
    std::size_t start = 0;
    for (const auto& field : entity_fields) {
      const auto bar = a.entity.find('|', start);
      group.emplace_back(field, a.entity.substr(start, bar - start));
      start = bar == std::string::npos ? a.entity.size() : bar + 1;
    }
  } else {
    std::string names;
    for (const auto& f : entity_fields)
      names += (names.empty() ? "" : "|") + f;
    group.emplace_back(names.empty() ? std::string("entity") : names, a.entity);
  }
  const std::string top = top_list(a.top_templates, miner);
  auto add = [&](AnomalyRuleIndex which, std::string templates) {
    const AnomalyRule& rule = anomaly_rules[static_cast<std::size_t>(which)];
    Alert alert;
    alert.kind = "anomaly";
    alert.rule_id = rule.id;
    alert.rule_title = rule.title;
    alert.rule_name = rule.name;
    alert.severity = rule.level;
    alert.tags = {"sluice.anomaly", std::string(rule.name)};
    alert.group = group;
    alert.first_ns = a.window_start_ns;
    alert.last_ns = a.window_end_ns;
    alert.count = a.events;
    alert.details = {
        {"sluice.anomaly.entity", json_string(a.entity)},
        {"sluice.anomaly.events", std::to_string(a.events)},
        {"sluice.anomaly.score", json_number(a.score)},
        {"sluice.anomaly.spe", json_number(a.spe)},
        {"sluice.anomaly.spe_threshold", json_number(a.spe_threshold)},
        {"sluice.anomaly.templates", std::move(templates)},
        {"sluice.anomaly.top_templates", top},
    };
    alert.assign_id();
    out.push_back(std::move(alert));
  };
  if (a.residual_alarm) add(AnomalyRuleIndex::pca_residual, top);
  if (!a.new_templates.empty())
    add(AnomalyRuleIndex::new_template, template_list(a.new_templates, miner));
  if (!a.rare_templates.empty())
    add(AnomalyRuleIndex::rare_template, template_list(a.rare_templates, miner));
}

AnomalyStage::AnomalyStage(const TemplatesConfig& templates, const AnomalyConfig& anomaly)
    : templates_config_(templates),
      anomaly_config_(anomaly),
      miner_(miner_config(templates)),
      aggregator_(feature_config(anomaly)),
      batch_(feature_config(anomaly).max_batch_rows) {}

AnomalyStage::~AnomalyStage() = default;

Result<std::shared_ptr<AnomalyStage>> AnomalyStage::create(const TemplatesConfig& templates,
                                                           const AnomalyConfig& anomaly) {
  std::shared_ptr<AnomalyStage> stage(new AnomalyStage(templates, anomaly));
  if (!templates.table.empty() && std::filesystem::exists(templates.table)) {
    if (auto r = stage->miner_.load(templates.table); !r) return r.error();
    stage_log.info("templates: loaded {} from {}", stage->miner_.size(), templates.table);
  }
  if (!anomaly.model.empty()) {
    auto model = AnomalyModel::load(anomaly.model);
    if (!model) return model.error();
    stage->model_ = std::make_unique<AnomalyModel>(std::move(model.value()));
    auto choice = make_scorer(anomaly.backend, *stage->model_);
    if (!choice) return choice.error();
    stage->detector_ = std::make_unique<AnomalyDetector>(*stage->model_, std::move(choice->scorer));
    stage->hold_alerts_ = anomaly.alerts_path == "-";
    if (!anomaly.alerts_path.empty()) {
      auto out = JsonLinesOutput::open(JsonLinesKind::alerts, anomaly.alerts_path);
      if (!out) return out.error();
      stage->out_ = std::move(out.value());
    }
  }
  return stage;
}

std::string AnomalyStage::scorer_name() const {
  return detector_ ? std::string(detector_->scorer().name()) : std::string();
}

void AnomalyStage::process(EventBatch& batch, std::size_t /*worker*/) {
  thread_local MinerScratch scratch;
  for (auto& e : batch.events()) {
    const std::string_view text =
        e.status == ParseStatus::parsed && !e.message.empty() ? e.message : e.raw;
    e.template_id = miner_.mine(text, scratch).id;
  }
  if (!detector_ || ordered_) return;
  thread_local std::string key;
  std::lock_guard lock(mutex_);
  for (const auto& e : batch.events()) {
    entity_key(e, anomaly_config_.entity, key);
    aggregator_.add(key, e.event_time_ns, e.template_id);
  }
  if (auto r = score_closed(false); !r && !score_failed_) {
    // Logged once: the detector keeps the failure per batch, and a log line per batch would
    // flood. The windows of a failed batch are lost to scoring (events are still stored).
    score_failed_ = true;
    stage_log.error("anomaly scoring failed: {}", r.error().message);
  }
}

Result<void> AnomalyStage::score_closed(bool all) {
  std::vector<AnomalyAlert> alerts;
  while (true) {
    batch_.clear();
    const std::size_t n = all ? aggregator_.drain_all(batch_) : aggregator_.drain(batch_);
    if (n == 0) break;
    windows_scored_ += n;
    alerts.clear();
    if (auto r = detector_->score(batch_, alerts); !r) return r;
    if (alerts.empty()) continue;
    alerts_.add(alerts.size());
    if (queue_on_) {
      std::vector<Alert> made;
      for (const auto& a : alerts)
        anomaly_alerts(a, anomaly_config_.entity, &miner_, made);
      std::lock_guard queue_lock(queue_mutex_);
      for (auto& m : made)
        queue_.push_back(std::move(m));
    }
    if (!out_) continue;
    std::string text;
    for (const auto& a : alerts) {
      append_anomaly_alert_json(text, a, &miner_);
      text.push_back('\n');
    }
    if (hold_alerts_) {
      held_ += text;
    } else if (out_) {
      if (auto r = out_->write(text); !r) return r;
      if (auto r = out_->flush(); !r) return r;
    }
  }
  return {};
}

void AnomalyStage::score_ready() {
  if (!detector_) return;
  std::lock_guard lock(mutex_);
  if (auto r = score_closed(false); !r && !score_failed_) {
    score_failed_ = true;  // logged once, as in `process`
    stage_log.error("anomaly scoring failed: {}", r.error().message);
  }
}

void AnomalyStage::take_alerts(std::vector<Alert>& out) {
  std::lock_guard lock(queue_mutex_);
  if (out.empty()) {
    out.swap(queue_);
    return;
  }
  for (auto& a : queue_)
    out.push_back(std::move(a));
  queue_.clear();
}

Result<void> AnomalyStage::finish() {
  Result<void> result;
  if (detector_) {
    std::lock_guard lock(mutex_);
    result = score_closed(true);
    if (out_ && !held_.empty()) {
      if (auto r = out_->write(held_); !r && result) result = r;
      held_.clear();
    }
    if (out_)
      if (auto r = out_->flush(); !r && result) result = r;
  }
  if (!templates_config_.table.empty())
    if (auto r = miner_.save(templates_config_.table); !r && result) result = r;
  return result;
}

}  // namespace sluice
