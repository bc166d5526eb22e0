// SPDX-License-Identifier: Apache-2.0
/// `AnomalyStage`: the pipeline's template and anomaly step. Workers run it on every batch after
/// parsing: it mines each event's template (the message, or the raw bytes of an unparsed event)
/// into `Event::template_id`, so outputs and the store carry it. With a model it also counts
/// templates per entity and window and, as windows close, scores them and writes anomaly alerts
/// as JSON lines.
///
/// Thread safety: `process` runs on every worker at once. Mining takes only the template table's
/// shard locks (see template_miner.hpp). The window state has one owner, guarded by a mutex
/// taken once per batch, not per event; scoring runs under it when windows close. Alerts to a
/// file are written as they come; alerts to stdout ("-") are held until `finish` so that they
/// never interleave with the pipeline's own stdout output.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/anomaly/anomaly_model.hpp"
#include "sluice/anomaly/detector.hpp"
#include "sluice/anomaly/features.hpp"
#include "sluice/anomaly/template_miner.hpp"
#include "sluice/config/config.hpp"
#include "sluice/metrics/counter.hpp"
#include "sluice/pipeline/pipeline.hpp"

namespace sluice {

class JsonLinesOutput;

class AnomalyStage final : public BatchStage {
 public:
  /// Builds the stage: loads the template table when it exists, and, when `anomaly.model` is
  /// set, the model and a scorer chosen by `anomaly.backend` (the choice is logged). Register
  /// accelerator backends before calling. Errors name the file that failed.
  static Result<std::shared_ptr<AnomalyStage>> create(const TemplatesConfig& templates,
                                                      const AnomalyConfig& anomaly);
  ~AnomalyStage() override;

  void process(EventBatch& batch, std::size_t worker) override;

  /// After the pipeline has drained: scores the windows still open, writes held alerts, saves
  /// the template table. Call once.
  Result<void> finish();

  const TemplateMiner& miner() const { return miner_; }
  std::uint64_t alerts() const { return alerts_.value(); }
  /// The alert count as a metrics counter (`sluice_anomaly_alerts_total`).
  const Counter& alerts_counter() const { return alerts_; }
  std::uint64_t windows_scored() const { return windows_scored_; }
  /// Name of the scorer in use, empty without a model.
  std::string scorer_name() const;

 private:
  AnomalyStage(const TemplatesConfig& templates, const AnomalyConfig& anomaly);
  Result<void> score_closed(bool all);

  TemplatesConfig templates_config_;
  AnomalyConfig anomaly_config_;
  TemplateMiner miner_;
  std::unique_ptr<AnomalyModel> model_;
  std::unique_ptr<AnomalyDetector> detector_;
  std::unique_ptr<JsonLinesOutput> out_;
  bool hold_alerts_ = false;

  std::mutex mutex_;  // guards everything below
  WindowAggregator aggregator_;
  FeatureBatch batch_;
  std::vector<AnomalyAlert> pending_;
  std::string held_;
  std::uint64_t windows_scored_ = 0;
  bool score_failed_ = false;
  Counter alerts_;
};

}  // namespace sluice
