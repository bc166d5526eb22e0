// SPDX-License-Identifier: Apache-2.0
/// The CUDA scorer against the CPU reference on the same cases (differential). Without a GPU, or
/// in a build without CUDA, every test here reports SKIPPED with the reason, never passed.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "sluice/anomaly/scorer.hpp"
#if SLUICE_HAVE_CUDA
#include "sluice/gpu/cuda_scorer.hpp"
#endif

namespace sluice {
namespace {

/// The CUDA scorer for `model`, or nullptr with `reason` set.
std::unique_ptr<AnomalyScorer> cuda_scorer(const AnomalyModel& model, std::string& reason) {
#if SLUICE_HAVE_CUDA
  auto s = gpu::make_cuda_scorer(model);
  if (!s) {
    reason = "no usable CUDA device: " + s.error().message;
    return nullptr;
  }
  return std::move(s.value());
#else
  (void)model;
  reason = "built without CUDA (SLUICE_HAVE_CUDA is off: nvcc or cuBLAS not found)";
  return nullptr;
#endif
}

#define SLUICE_REQUIRE_GPU(var, model)         \
  std::string var##_reason;                    \
  auto var = cuda_scorer(model, var##_reason); \
  if (!var) GTEST_SKIP() << var##_reason

FeatureRow row(std::vector<std::pair<std::uint32_t, std::uint32_t>> counts) {
  FeatureRow r;
  r.entity = "e";
  r.counts = std::move(counts);
  return r;
}

/// A model at the HDFS template dimension (29 columns) from random, correlated counts.
AnomalyModel hdfs_sized_model(std::mt19937& rng) {
  std::vector<FeatureRow> rows;
  for (int i = 0; i < 2000; ++i) {
    const std::uint32_t replicas = rng() % 3 + 2;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> counts;
    for (std::uint32_t t = 1; t <= 29; ++t)
      counts.emplace_back(t, t % 3 == 0 ? replicas : (t % 3 == 1 ? 1 : rng() % 4));
    rows.push_back(row(std::move(counts)));
  }
  auto m = AnomalyModel::train(rows, ModelConfig{});
  EXPECT_TRUE(m.has_value());
  return std::move(m.value());
}

/// Relative agreement, with an absolute floor of 1e-9 of the row's squared norm for values
/// that are rounding noise around zero (a window inside the principal subspace).
void expect_agree(const std::vector<double>& cpu, const std::vector<double>& gpu,
                  const std::vector<float>& x, std::size_t d) {
  ASSERT_EQ(cpu.size(), gpu.size());
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    double norm = 0;
    for (std::size_t j = 0; j < d; ++j)
      norm += double(x[i * d + j]) * x[i * d + j];
    const double tol = std::max(1e-5 * std::abs(cpu[i]), 1e-9 * std::max(norm, 1.0));
    ASSERT_NEAR(gpu[i], cpu[i], tol) << "row " << i;
  }
}

TEST(CudaScorer, HandWorkedCase) {
  std::vector<FeatureRow> rows;
  for (std::uint32_t k = 1; k <= 5; ++k)
    rows.push_back(row({{7, k}, {9, k}}));
  auto m = AnomalyModel::train(rows, ModelConfig{});
  ASSERT_TRUE(m.has_value());
  SLUICE_REQUIRE_GPU(gpu, *m);
  const std::vector<float> x = {3, 1, 4, 4, 0, 6};
  std::vector<double> spe(3);
  ASSERT_TRUE(gpu->score(x, 3, spe).has_value());
  EXPECT_NEAR(spe[0], 2.0, 1e-12);
  EXPECT_NEAR(spe[1], 0.0, 1e-12);
  EXPECT_NEAR(spe[2], 18.0, 1e-12);
}

TEST(CudaScorer, MatchesCpuOnLargeBatches) {
  std::mt19937 rng(11);
  const AnomalyModel m = hdfs_sized_model(rng);
  SLUICE_REQUIRE_GPU(gpu, m);
  auto cpu = make_cpu_scorer(m, 2);
  const std::size_t d = m.dimension();
  // Sizes around the chunking: one row, a partial chunk, several chunks over all streams.
  for (std::size_t n :
       {std::size_t{1}, std::size_t{1000}, std::size_t{1} << 20, (std::size_t{3} << 20) + 17}) {
    std::vector<float> x(n * d);
    for (auto& v : x)
      v = static_cast<float>(rng() % 6);
    std::vector<double> a(n), b(n);
    ASSERT_TRUE(cpu->score(x, n, a).has_value());
    ASSERT_TRUE(gpu->score(x, n, b).has_value());
    expect_agree(a, b, x, d);
  }
}

TEST(CudaScorer, AutoPicksTheGpu) {
  std::mt19937 rng(5);
  const AnomalyModel m = hdfs_sized_model(rng);
  SLUICE_REQUIRE_GPU(gpu, m);
#if SLUICE_HAVE_CUDA
  gpu::register_cuda_scorer();
#endif
  auto choice = make_scorer("auto", m);
  ASSERT_TRUE(choice.has_value());
  EXPECT_EQ(choice->scorer->name(), "cuda") << choice->reason;
}

TEST(CudaScorer, FallsBackToCpuWithoutADevice) {
  // The reverse case: where no device starts, `auto` must still give a working scorer (the
  // CPU) and say why. Runs only where the GPU backend is built but cannot start.
  std::mt19937 rng(5);
  const AnomalyModel m = hdfs_sized_model(rng);
  std::string reason;
  if (cuda_scorer(m, reason)) GTEST_SKIP() << "a CUDA device is present; no fallback to test";
#if SLUICE_HAVE_CUDA
  gpu::register_cuda_scorer();
  auto choice = make_scorer("auto", m);
  ASSERT_TRUE(choice.has_value());
  EXPECT_EQ(choice->scorer->name(), "cpu");
  EXPECT_NE(choice->reason.find("falling back to the CPU"), std::string::npos) << choice->reason;
  EXPECT_FALSE(make_scorer("cuda", m).has_value());
#else
  GTEST_SKIP() << reason;
#endif
}

}  // namespace
}  // namespace sluice
