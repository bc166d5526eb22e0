// SPDX-License-Identifier: Apache-2.0
/// `AnomalyDetector` turns feature batches into anomaly alerts: it densifies a batch for the
/// model, has the chosen scorer compute each window's SPE, and raises an alert for a window whose
/// SPE is above the model's Q-statistic threshold or that holds a template the baseline never saw
/// (or, when configured, a rare one). An alert names the entity, the window, the score and the
/// templates that contributed most: for the residual, the columns with the largest squared
/// residual; for new and rare templates, those templates.
///
/// A scorer other than the CPU one that fails while scoring is replaced by the CPU reference (one
/// error log line); the batch is scored again there, so no window is lost.
///
/// Not thread-safe (it owns scratch buffers and a scorer); use one per thread.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sluice/anomaly/anomaly_model.hpp"
#include "sluice/anomaly/features.hpp"
#include "sluice/anomaly/scorer.hpp"

namespace sluice {

class TemplateMiner;

/// One anomalous window.
struct AnomalyAlert {
  std::string entity;
  std::int64_t window_start_ns = 0;
  std::int64_t window_end_ns = 0;
  std::uint32_t events = 0;
  /// SPE over its threshold (≥ 1 when the residual alarms), or, when only new or rare
  /// templates alarm, 1 + their number.
  double score = 0;
  double spe = 0;
  double spe_threshold = 0;
  bool residual_alarm = false;
  std::vector<std::uint32_t> new_templates;
  std::vector<std::uint32_t> rare_templates;
  /// (template id, share of the SPE) for the largest residual columns, largest first.
  std::vector<std::pair<std::uint32_t, double>> top_templates;
};

class AnomalyDetector {
 public:
  /// `model` must outlive the detector. `top_k` templates are named per alert.
  AnomalyDetector(const AnomalyModel& model, std::unique_ptr<AnomalyScorer> scorer,
                  std::size_t top_k = 3);

  /// Scores every row of `batch`; appends alerts to `alerts` and, when given, every row's SPE
  /// to `spe_out` (in row order).
  Result<void> score(const FeatureBatch& batch, std::vector<AnomalyAlert>& alerts,
                     std::vector<double>* spe_out = nullptr);

  const AnomalyScorer& scorer() const { return *scorer_; }
  const AnomalyModel& model() const { return model_; }

 private:
  const AnomalyModel& model_;
  std::unique_ptr<AnomalyScorer> scorer_;
  std::size_t top_k_;
  std::vector<float> dense_;
  std::vector<double> spe_;
  std::vector<double> residual_;
  std::vector<std::uint32_t> scratch_new_;
  std::vector<std::uint32_t> scratch_rare_;
};

/// Appends `alert` as one JSON object (no newline): `@timestamp` (window end), `event.kind`
/// "alert", `sluice.anomaly.*` (entity, window start and end, events, score, spe, threshold,
/// reasons, new, rare and top templates). When `miner` is given, templates carry their text.
void append_anomaly_alert_json(std::string& out, const AnomalyAlert& alert,
                               const TemplateMiner* miner);

}  // namespace sluice
