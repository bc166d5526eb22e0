// SPDX-License-Identifier: Apache-2.0
/// `AnomalyStage`: the pipeline's template and anomaly step. Workers run it on every batch after
/// parsing: it mines each event's template (the message, or the raw bytes of an unparsed event)
/// into `Event::template_id`, so outputs and the store carry it. With a model it also counts
/// templates per entity and window and, as windows close, scores them. An anomalous window
/// becomes one `Alert` per detector that fired (see `anomaly_rules`), kind "anomaly", which waits
/// in a queue for alert handling (`queue_alerts`, `take_alerts`: correlation and the
/// `AlertHandler` take them on the pipeline's sink thread). When `[anomaly] alerts` names a file
/// (or "-"), every anomalous window is also written there as one JSON line, as before.
///
/// Thread safety: `process` runs on every worker at once. Mining takes only the template table's
/// shard locks (see template_miner.hpp). The window state has one owner, guarded by a mutex
/// taken once per batch, not per event; scoring runs under it when windows close. Alerts to a
/// file are written as they come; alerts to stdout ("-") are held until `finish` so that they
/// never interleave with the pipeline's own stdout output. The alert queue has its own mutex, so
/// the sink thread taking alerts never waits for scoring.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/alert/alert.hpp"
#include "sluice/anomaly/anomaly_model.hpp"
#include "sluice/anomaly/detector.hpp"
#include "sluice/anomaly/features.hpp"
#include "sluice/anomaly/template_miner.hpp"
#include "sluice/config/config.hpp"
#include "sluice/metrics/counter.hpp"
#include "sluice/pipeline/pipeline.hpp"

namespace sluice {

class JsonLinesOutput;

/// One anomaly detector as a rule: correlation rules name it in `rules` (by id or name), alert
/// suppressions in `rule`, and alerts carry its id, title and level like a Sigma rule's. The ids
/// are fixed: stored alerts, suppressions and correlation rules refer to them, never change them.
struct AnomalyRule {
  std::string_view id;
  std::string_view name;
  std::string_view title;
  std::string_view level;
  std::string_view description;
};

/// The detectors: PCA residual above its Q-statistic threshold, a template the baseline never
/// saw, a template the baseline saw rarely. An anomalous window raises one alert per detector
/// that fired on it.
inline constexpr AnomalyRule anomaly_rules[] = {
    {"1db66352-9c05-4639-b9b7-bfa48141347d", "anomaly_pca_residual",
     "Unusual mix of log templates (PCA residual above threshold)", "medium",
     "The entity's template counts in the window are far from the trained baseline's subspace: "
     "the squared prediction error exceeds the model's Q-statistic threshold."},
    {"19387c2c-61fe-4177-93e3-94de2796b815", "anomaly_new_template",
     "Log template never seen in the baseline", "low",
     "The entity logged a line whose template the baseline never saw."},
    {"c778605e-0006-4a04-86fd-ad932abd48aa", "anomaly_rare_template",
     "Log template rare in the baseline", "low",
     "The entity logged a line whose template was rare in the baseline."},
};

/// Indexes into `anomaly_rules`.
enum class AnomalyRuleIndex : std::uint8_t {
  pca_residual = 0,
  new_template = 1,
  rare_template = 2
};

/// The anomaly rule with this id or name, or nullptr.
const AnomalyRule* find_anomaly_rule(std::string_view id_or_name);

/// The alerts of one anomalous window, one per detector that fired, appended to `out`: kind
/// "anomaly", the rule's id, title and level, tags `sluice.anomaly` and the rule name, group =
/// the entity (one pair per entity field; values split at '|' as `entity_key` joined them, the
/// whole key under the joined names when a value held a '|'), first/last time = window start
/// and end, count = events in the window, no event references, and details
/// `sluice.anomaly.{entity,events,score,spe,spe_threshold,templates,top_templates}` (templates:
/// those this detector names, with their text when `miner` is given). Stable ids.
void anomaly_alerts(const AnomalyAlert& alert, std::span<const std::string> entity_fields,
                    const TemplateMiner* miner, std::vector<Alert>& out);

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
  /// the template table. Call once, before the last `take_alerts`.
  Result<void> finish();

  /// Keep every anomaly alert (as `anomaly_alerts` makes them) in a queue for `take_alerts`.
  /// Call before the pipeline starts, and only when someone takes them (the queue is unbounded:
  /// at most one alert per detector, entity and window).
  void queue_alerts(bool on) { queue_on_ = on; }
  /// Moves the waiting alerts to the end of `out`, oldest first. Thread-safe.
  void take_alerts(std::vector<Alert>& out);

  /// Window counting in the pipeline's sink order instead of on the workers: `process` then
  /// only mines, and the owner of the sink thread calls `observe` for every event in source
  /// order and `score_ready` after each batch. Correlation needs this: an anomaly verdict must
  /// reach it before events later than the window move its watermark on, and in source order
  /// the result does not depend on how batches were spread over workers. Call before the
  /// pipeline starts; only with a model (`scoring`).
  void set_ordered(bool on) { ordered_ = on; }
  /// True when a model is loaded (windows are scored).
  bool scoring() const { return detector_ != nullptr; }
  /// The fields that name the entity (`entity_key`).
  const std::vector<std::string>& entity_fields() const { return anomaly_config_.entity; }
  /// Ordered mode: counts one event. Sink thread only; does not lock.
  void observe(std::string_view entity, std::int64_t event_time_ns, std::uint32_t template_id) {
    aggregator_.add(entity, event_time_ns, template_id);
  }
  /// Ordered mode: scores the windows that closed and queues their alerts. Sink thread only.
  void score_ready();

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

  bool ordered_ = false;
  bool queue_on_ = false;
  std::mutex queue_mutex_;  // guards queue_; never held while taking mutex_
  std::vector<Alert> queue_;
};

}  // namespace sluice
