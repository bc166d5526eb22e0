// SPDX-License-Identifier: Apache-2.0
#include "sluice/anomaly/detector.hpp"

#include <algorithm>
#include <cstdio>

#include "sluice/anomaly/template_miner.hpp"
#include "sluice/common/log.hpp"
#include "sluice/output/json_lines.hpp"

namespace sluice {

namespace {
constexpr Logger detector_log("anomaly");
}  // namespace

AnomalyDetector::AnomalyDetector(const AnomalyModel& model, std::unique_ptr<AnomalyScorer> scorer,
                                 std::size_t top_k)
    : model_(model), scorer_(std::move(scorer)), top_k_(top_k) {}

Result<void> AnomalyDetector::score(const FeatureBatch& batch, std::vector<AnomalyAlert>& alerts,
                                    std::vector<double>* spe_out) {
  const std::size_t rows = batch.size();
  if (rows == 0) return {};
  const std::size_t d = model_.dimension();
  dense_.resize(rows * d);
  spe_.resize(rows);
  model_.densify(batch.rows(), dense_);
  if (auto r = scorer_->score(dense_, rows, spe_); !r) {
    if (scorer_->name() == "cpu") return r;
    // A device that fails at run time (reset, lost, out of memory) must not stop scoring: log
    // once and carry on with the CPU reference, which gives the same results.
    detector_log.error("anomaly scorer {} failed: {}; falling back to the CPU", scorer_->name(),
                       r.error().message);
    scorer_ = make_cpu_scorer(model_);
    if (auto again = scorer_->score(dense_, rows, spe_); !again) return again;
  }
  if (spe_out) spe_out->insert(spe_out->end(), spe_.begin(), spe_.begin() + rows);
  const double threshold = model_.spe_threshold();
  residual_.resize(d);
  for (std::size_t i = 0; i < rows; ++i) {
    const FeatureRow& row = batch.rows()[i];
    const bool residual_alarm = spe_[i] > threshold && !model_.known_window(std::span<const float>(
                                                           dense_.data() + i * d, d));
    model_.new_templates(row, scratch_new_);
    model_.rare_templates(row, scratch_rare_);
    if (!residual_alarm && scratch_new_.empty() && scratch_rare_.empty()) continue;
    AnomalyAlert a;
    a.entity = row.entity;
    a.window_start_ns = row.window_start_ns;
    a.window_end_ns = row.window_end_ns;
    a.events = row.events;
    a.spe = spe_[i];
    a.spe_threshold = threshold;
    a.residual_alarm = residual_alarm;
    a.new_templates = scratch_new_;
    a.rare_templates = scratch_rare_;
    const double ratio = threshold > 0 ? spe_[i] / threshold : (spe_[i] > 0 ? 1e300 : 0);
    a.score = residual_alarm
                  ? ratio
                  : 1.0 + static_cast<double>(a.new_templates.size() + a.rare_templates.size());
    if (residual_alarm) {
      // Explain the residual: the columns whose squared residual is largest.
      model_.residual(std::span<const float>(dense_.data() + i * d, d), residual_);
      std::vector<std::pair<double, std::size_t>> parts;
      parts.reserve(d);
      for (std::size_t j = 0; j < d; ++j)
        parts.emplace_back(residual_[j] * residual_[j], j);
      const std::size_t k = std::min(top_k_, d);
      std::partial_sort(parts.begin(), parts.begin() + static_cast<std::ptrdiff_t>(k), parts.end(),
                        [](const auto& x, const auto& y) { return x.first > y.first; });
      for (std::size_t j = 0; j < k; ++j)
        if (parts[j].first > 0)
          a.top_templates.emplace_back(model_.template_ids()[parts[j].second],
                                       spe_[i] > 0 ? parts[j].first / spe_[i] : 0.0);
    }
    alerts.push_back(std::move(a));
  }
  return {};
}

namespace {

void append_double(std::string& out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  out.append(buf);
}

void append_template_list(std::string& out, const std::vector<std::uint32_t>& ids,
                          const TemplateMiner* miner) {
  out.push_back('[');
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out.push_back(',');
    out.append("{\"id\":");
    out.append(std::to_string(ids[i]));
    if (miner) {
      out.append(",\"template\":");
      append_json_string(out, miner->template_text(ids[i]));
    }
    out.push_back('}');
  }
  out.push_back(']');
}

}  // namespace

void append_anomaly_alert_json(std::string& out, const AnomalyAlert& a,
                               const TemplateMiner* miner) {
  out.append("{\"@timestamp\":");
  out.push_back('"');
  append_rfc3339(out, a.window_end_ns);
  out.append("\",\"event.kind\":\"alert\",\"rule.name\":\"anomaly\",\"sluice.anomaly.entity\":");
  append_json_string(out, a.entity);
  out.append(",\"sluice.anomaly.window.start\":\"");
  append_rfc3339(out, a.window_start_ns);
  out.append("\",\"sluice.anomaly.window.end\":\"");
  append_rfc3339(out, a.window_end_ns);
  out.append("\",\"sluice.anomaly.events\":");
  out.append(std::to_string(a.events));
  out.append(",\"sluice.anomaly.score\":");
  append_double(out, a.score);
  out.append(",\"sluice.anomaly.spe\":");
  append_double(out, a.spe);
  out.append(",\"sluice.anomaly.spe_threshold\":");
  append_double(out, a.spe_threshold);
  out.append(",\"sluice.anomaly.reasons\":[");
  bool first = true;
  auto reason = [&](const char* r) {
    if (!first) out.push_back(',');
    first = false;
    out.append(r);
  };
  if (a.residual_alarm) reason("\"pca_residual\"");
  if (!a.new_templates.empty()) reason("\"new_template\"");
  if (!a.rare_templates.empty()) reason("\"rare_template\"");
  out.append("],\"sluice.anomaly.new_templates\":");
  append_template_list(out, a.new_templates, miner);
  out.append(",\"sluice.anomaly.rare_templates\":");
  append_template_list(out, a.rare_templates, miner);
  out.append(",\"sluice.anomaly.top_templates\":[");
  for (std::size_t i = 0; i < a.top_templates.size(); ++i) {
    if (i) out.push_back(',');
    out.append("{\"id\":");
    out.append(std::to_string(a.top_templates[i].first));
    out.append(",\"share\":");
    append_double(out, a.top_templates[i].second);
    if (miner) {
      out.append(",\"template\":");
      append_json_string(out, miner->template_text(a.top_templates[i].first));
    }
    out.push_back('}');
  }
  out.append("]}");
}

}  // namespace sluice
