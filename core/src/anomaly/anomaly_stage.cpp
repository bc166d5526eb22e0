// SPDX-License-Identifier: Apache-2.0
#include "sluice/anomaly/anomaly_stage.hpp"

#include <filesystem>

#include "sluice/common/log.hpp"
#include "sluice/output/json_lines.hpp"

namespace sluice {

namespace {
constexpr Logger stage_log("anomaly");

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
  if (!detector_) return;
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
