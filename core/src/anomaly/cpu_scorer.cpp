// SPDX-License-Identifier: Apache-2.0
/// The CPU reference scorer (Eigen) and the backend registry.
#include <Eigen/Dense>
#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include "sluice/anomaly/scorer.hpp"
#include "sluice/common/log.hpp"

namespace sluice {

namespace {

constexpr Logger anomaly_log("anomaly");

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Rows per block: a block's double copy and residual (2 × 512 × d × 8 bytes, 240 KB at the
/// HDFS dimension of 29) stay in L2 while the GEMM runs over it.
constexpr Eigen::Index block_rows = 512;
/// Below this many rows a batch is scored on the calling thread: starting threads costs more.
constexpr std::size_t parallel_min_rows = 16384;

class CpuScorer final : public AnomalyScorer {
 public:
  CpuScorer(const AnomalyModel& model, std::size_t threads)
      : d_(static_cast<Eigen::Index>(model.dimension())),
        threads_(threads ? threads : std::max(1u, std::thread::hardware_concurrency())) {
    mean_ = Eigen::Map<const Eigen::RowVectorXd>(model.mean().data(), d_);
    c_ = Eigen::Map<const RowMatrixD>(model.residual_projector().data(), d_, d_);
  }

  std::string_view name() const override { return "cpu"; }

  Result<void> score(std::span<const float> x, std::size_t rows, std::span<double> spe) override {
    const std::size_t d = static_cast<std::size_t>(d_);
    if (x.size() < rows * d || spe.size() < rows)
      return Error{"cpu scorer: buffers smaller than rows x dimension"};
    if (rows < parallel_min_rows || threads_ == 1) {
      score_range(x.data(), 0, rows, spe.data());
      return {};
    }
    const std::size_t parts = std::min(threads_, rows / block_rows + 1);
    std::vector<std::thread> pool;
    const std::size_t per = (rows + parts - 1) / parts;
    for (std::size_t p = 1; p < parts; ++p) {
      const std::size_t begin = p * per;
      const std::size_t end = std::min(rows, begin + per);
      if (begin < end)
        pool.emplace_back(
            [this, &x, &spe, begin, end] { score_range(x.data(), begin, end, spe.data()); });
    }
    score_range(x.data(), 0, std::min(rows, per), spe.data());
    for (auto& t : pool)
      t.join();
    return {};
  }

 private:
  void score_range(const float* x, std::size_t begin, std::size_t end, double* spe) const {
    RowMatrixD y(block_rows, d_);
    RowMatrixD r(block_rows, d_);
    for (std::size_t b = begin; b < end; b += static_cast<std::size_t>(block_rows)) {
      const Eigen::Index n = static_cast<Eigen::Index>(std::min<std::size_t>(block_rows, end - b));
      Eigen::Map<const RowMatrixF> xb(x + b * static_cast<std::size_t>(d_), n, d_);
      y.topRows(n) = xb.cast<double>().rowwise() - mean_;
      // C is symmetric, so row-wise (C y)ᵀ = yᵀ C.
      r.topRows(n).noalias() = y.topRows(n) * c_;
      Eigen::Map<Eigen::VectorXd>(spe + b, n) = r.topRows(n).rowwise().squaredNorm();
    }
  }

  Eigen::Index d_;
  std::size_t threads_;
  Eigen::RowVectorXd mean_;
  RowMatrixD c_;
};

struct Registry {
  std::mutex mutex;
  std::map<std::string, ScorerFactory> factories;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

std::unique_ptr<AnomalyScorer> make_cpu_scorer(const AnomalyModel& model, std::size_t threads) {
  return std::make_unique<CpuScorer>(model, threads);
}

void register_scorer(std::string name, ScorerFactory factory) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.factories[std::move(name)] = factory;
}

std::vector<std::string> scorer_names() {
  std::vector<std::string> names{"cpu"};
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  for (const auto& [name, f] : r.factories)
    if (name != "cpu") names.push_back(name);
  return names;
}

Result<ScorerChoice> make_scorer(std::string_view backend, const AnomalyModel& model,
                                 std::size_t cpu_threads) {
  ScorerFactory gpu = nullptr;
  ScorerFactory named = nullptr;
  {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    if (auto it = r.factories.find("cuda"); it != r.factories.end()) gpu = it->second;
    if (auto it = r.factories.find(std::string(backend)); it != r.factories.end())
      named = it->second;
  }
  ScorerChoice choice;
  if (backend == "cpu") {
    choice.scorer = make_cpu_scorer(model, cpu_threads);
    choice.reason = "cpu requested";
  } else if (backend == "auto") {
    if (!gpu) {
      choice.scorer = make_cpu_scorer(model, cpu_threads);
      choice.reason = "auto: this build has no GPU backend";
    } else if (auto s = gpu(model); s) {
      choice.scorer = std::move(s.value());
      choice.reason = "auto: a CUDA device is present";
    } else {
      choice.scorer = make_cpu_scorer(model, cpu_threads);
      choice.reason =
          "auto: GPU backend cannot start (" + s.error().message + "); falling back to the CPU";
    }
  } else if (named) {
    auto s = named(model);
    if (!s) return Error{"anomaly backend '" + std::string(backend) + "': " + s.error().message};
    choice.scorer = std::move(s.value());
    choice.reason = std::string(backend) + " requested";
  } else {
    std::string known;
    for (const auto& n : scorer_names())
      known += (known.empty() ? "" : ", ") + n;
    return Error{"unknown anomaly backend '" + std::string(backend) + "' (auto, " + known + ")"};
  }
  anomaly_log.info("anomaly scorer: {} ({})", choice.scorer->name(), choice.reason);
  return choice;
}

}  // namespace sluice
