// SPDX-License-Identifier: Apache-2.0
/// `AnomalyModel`: what training on a baseline of normal windows learns, and what every scorer
/// backend reads.
///
/// - **PCA residual** (Jackson & Mudholkar, "Control procedures for residuals associated with
///   principal component analysis", Technometrics 1979; used on logs by Xu et al., SOSP 2009).
///   Each window is a vector of template counts over the templates seen in training (the model's
///   columns). Training centres the vectors, keeps the `k` principal components that explain
///   `variance` of the variance, and stores the residual projector `C = I - P Pᵀ` (d × d). A
///   window's squared prediction error is `SPE = ‖C (x - mean)‖²`; it is anomalous above the
///   Q-statistic threshold `Q_alpha` computed from the residual eigenvalues, unless the window
///   equals one of the baseline's windows (LogClustering with radius 0).
/// - **New and rare templates.** A template the baseline never saw is anomalous by itself (it has
///   no column); a template seen in at most `rare_share` of the training windows is rare.
///
/// Immutable after training or loading; share it freely between threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "sluice/anomaly/features.hpp"
#include "sluice/common/result.hpp"

namespace sluice {

/// Training settings; `[anomaly]` in the configuration.
struct ModelConfig {
  /// Share of the variance the principal subspace keeps (loglizer's PCA default, 0.95).
  double variance = 0.95;
  /// False-alarm rate of the Q-statistic threshold: SPE above the (1 - alpha) quantile of the
  /// residual distribution is anomalous.
  double alpha = 0.001;
  /// A template present in at most this share of training windows is rare (0: only templates
  /// never seen in training are flagged).
  double rare_share = 0.0;
  /// Distinct training windows remembered as known-normal (the most frequent first).
  std::size_t max_known_windows = 100000;
};

class AnomalyModel {
 public:
  /// Trains on `rows` (the baseline, assumed normal). Errors when there are fewer than two rows
  /// or no template at all.
  static Result<AnomalyModel> train(std::span<const FeatureRow> rows, const ModelConfig& config);

  /// Writes the model as text (numbers in hexadecimal floating point, so loading gives back the
  /// same bits), through a temporary file and a rename.
  Result<void> save(const std::filesystem::path& path) const;
  /// Reads a model written by `save`. Errors name the file, line and what is wrong.
  static Result<AnomalyModel> load(const std::filesystem::path& path);

  /// Number of columns (templates seen in training).
  std::size_t dimension() const { return template_ids_.size(); }
  std::size_t components() const { return components_; }
  std::uint64_t training_windows() const { return training_windows_; }
  double spe_threshold() const { return spe_threshold_; }
  const ModelConfig& config() const { return config_; }
  /// Template id of each column.
  const std::vector<std::uint32_t>& template_ids() const { return template_ids_; }
  /// Column mean of the training vectors (d).
  const std::vector<double>& mean() const { return mean_; }
  /// Residual projector `C = I - P Pᵀ`, d × d, row-major (symmetric).
  const std::vector<double>& residual_projector() const { return residual_; }
  /// Eigenvalues of the training covariance, largest first.
  const std::vector<double>& eigenvalues() const { return eigenvalues_; }
  /// Column of `template_id`, or -1 when training never saw it.
  int column(std::uint32_t template_id) const;
  /// Share of training windows in which column `j`'s template appeared.
  double window_share(std::size_t j) const;

  /// Writes the counts of `rows` into `out` (rows × dimension, row-major); templates without a
  /// column are left out (they are `new_templates`). `out.size()` must be rows × dimension.
  void densify(std::span<const FeatureRow> rows, std::span<float> out) const;
  /// Templates of `row` that training never saw.
  void new_templates(const FeatureRow& row, std::vector<std::uint32_t>& out) const;
  /// Templates of `row` whose training window share is at most `rare_share` (and above 0).
  void rare_templates(const FeatureRow& row, std::vector<std::uint32_t>& out) const;
  /// True when the dense row `x` equals a window of the baseline (those windows are normal by
  /// assumption, so their residual never alarms).
  bool known_window(std::span<const float> x) const;
  std::size_t known_windows() const { return known_windows_.size(); }
  /// The residual `C (x - mean)` of one dense row (d), for explaining an alert.
  void residual(std::span<const float> x, std::span<double> out) const;

 private:
  ModelConfig config_;
  std::vector<std::uint32_t> template_ids_;
  std::unordered_map<std::uint32_t, int> columns_;
  std::vector<std::uint64_t> template_windows_;
  std::uint64_t training_windows_ = 0;
  std::size_t components_ = 0;
  double spe_threshold_ = 0;
  std::vector<double> mean_;
  std::vector<double> eigenvalues_;
  std::vector<double> residual_;
  std::unordered_set<std::uint64_t> known_windows_;
};

/// Hash of a dense row's non-zero (column, value) pairs; what `known_window` compares.
std::uint64_t hash_dense_row(std::span<const float> x);

/// The Q-statistic threshold (Jackson & Mudholkar 1979) for residual eigenvalues `lambda` at
/// false-alarm rate `alpha`. Exposed for tests.
double q_statistic(std::span<const double> residual_eigenvalues, double alpha);

/// The standard normal quantile: `x` with Φ(x) = p, for 0 < p < 1 (Acklam's rational
/// approximation with one Newton step; relative error below 1e-12).
double normal_quantile(double p);

}  // namespace sluice
