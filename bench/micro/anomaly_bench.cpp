// SPDX-License-Identifier: Apache-2.0
/// Template mining and anomaly scoring throughput. The figures that matter (issue 7): mining at
/// least 2 million lines/s on one core (`items_per_second` of BM_MineWarm), CPU scoring at least
/// 5 million vectors/s on 2 cores at the HDFS template dimension (BM_ScoreCpu/threads:2), and
/// the GPU at 100 million vectors/s with transfers included (BM_ScoreCuda), where one is present.
///
/// - BM_MineWarm/<set>: the raw lines of a Loghub 2k sample (whole lines, headers included, as
///   `sluice templates` sees a file) through a miner that has seen them once, as in steady state;
///   `all` interleaves the twelve samples.
/// - BM_MineCold: the twelve samples into an empty miner each iteration (template creation and
///   widening included).
/// - BM_ScoreCpu/threads:N: 2^20 vectors of dimension 29 (the HDFS template count in Loghub's
///   HDFS_templates.csv), small integer counts, against a model trained on correlated counts.
/// - BM_ScoreCuda: the same batch on the CUDA scorer (host to device copy, DGEMM, norms and the
///   copy back all inside the timing).
///
/// Baseline: each other. Each run checks its answer (mining: every line gets the id it got in
/// the warm-up; scoring: sampled rows equal the model's plain-loop residual) and fails otherwise.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "sluice/anomaly/anomaly_model.hpp"
#include "sluice/anomaly/scorer.hpp"
#include "sluice/anomaly/template_miner.hpp"
#if SLUICE_HAVE_CUDA
#include "sluice/gpu/cuda_scorer.hpp"
#endif

namespace {

const char* const loghub_sets[] = {"Android",   "Apache", "BGL",         "HDFS",
                                   "HPC",       "Hadoop", "Linux",       "OpenSSH",
                                   "OpenStack", "Spark",  "Thunderbird", "Zookeeper"};

std::vector<std::string> load_set(const std::string& name) {
  return sluice::bench::load_lines("loghub/" + name + "/" + name + "_2k.log");
}

std::vector<std::string> load_all() {
  std::vector<std::vector<std::string>> sets;
  for (const char* s : loghub_sets)
    sets.push_back(load_set(s));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < 2000; ++i)
    for (const auto& s : sets)
      if (i < s.size()) out.push_back(s[i]);
  return out;
}

void BM_MineWarm(benchmark::State& state, const std::string& set) {
  const auto lines = set == "all" ? load_all() : load_set(set);
  if (lines.empty()) {
    state.SkipWithError("Loghub data not found (SLUICE_TEST_DATA)");
    return;
  }
  sluice::TemplateMiner miner;
  sluice::MinerScratch scratch;
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& l : lines)
      miner.mine(l, scratch);
  std::vector<std::uint32_t> expected;
  for (const auto& l : lines)
    expected.push_back(miner.mine(l, scratch).id);
  std::size_t bytes = 0;
  for (const auto& l : lines)
    bytes += l.size();
  for (auto _ : state) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const auto m = miner.mine(lines[i], scratch);
      if (m.id != expected[i]) {
        state.SkipWithError("template id changed in steady state");
        return;
      }
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lines.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["templates"] = static_cast<double>(miner.size());
}

void BM_MineCold(benchmark::State& state) {
  const auto lines = load_all();
  if (lines.empty()) {
    state.SkipWithError("Loghub data not found (SLUICE_TEST_DATA)");
    return;
  }
  std::size_t templates = 0;
  for (auto _ : state) {
    sluice::TemplateMiner miner;
    sluice::MinerScratch scratch;
    for (const auto& l : lines)
      benchmark::DoNotOptimize(miner.mine(l, scratch));
    templates = miner.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lines.size()));
  state.counters["templates"] = static_cast<double>(templates);
}

constexpr std::size_t hdfs_dimension = 29;
constexpr std::size_t score_rows = std::size_t{1} << 20;

struct ScoreSetup {
  sluice::AnomalyModel model;
  std::vector<float> x;
};

const ScoreSetup& score_setup() {
  static const ScoreSetup setup = [] {
    std::mt19937 rng(42);
    std::vector<sluice::FeatureRow> rows;
    for (int i = 0; i < 4000; ++i) {
      sluice::FeatureRow r;
      const std::uint32_t replicas = rng() % 3 + 2;
      for (std::uint32_t t = 1; t <= hdfs_dimension; ++t)
        r.counts.emplace_back(t, t % 3 == 0 ? replicas : (t % 3 == 1 ? 1 : rng() % 4));
      rows.push_back(std::move(r));
    }
    auto model = sluice::AnomalyModel::train(rows, sluice::ModelConfig{});
    std::vector<float> x(score_rows * hdfs_dimension);
    for (auto& v : x)
      v = static_cast<float>(rng() % 6);
    return ScoreSetup{std::move(model.value()), std::move(x)};
  }();
  return setup;
}

bool check_scores(const ScoreSetup& s, const std::vector<double>& spe) {
  std::vector<double> r(hdfs_dimension);
  for (std::size_t i = 0; i < score_rows; i += 65537) {
    s.model.residual(std::span<const float>(s.x.data() + i * hdfs_dimension, hdfs_dimension), r);
    double want = 0;
    for (double v : r)
      want += v * v;
    if (std::abs(spe[i] - want) > 1e-6 * std::max(1.0, want)) return false;
  }
  return true;
}

void run_scorer(benchmark::State& state, sluice::AnomalyScorer& scorer) {
  const auto& s = score_setup();
  std::vector<double> spe(score_rows);
  for (auto _ : state) {
    if (auto r = scorer.score(s.x, score_rows, spe); !r) {
      state.SkipWithError(r.error().message.c_str());
      return;
    }
    benchmark::DoNotOptimize(spe.data());
  }
  if (!check_scores(s, spe)) state.SkipWithError("scores differ from the model's residual");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * score_rows));
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * score_rows * hdfs_dimension * 4));
}

void BM_ScoreCpu(benchmark::State& state) {
  const auto& s = score_setup();
  auto scorer = sluice::make_cpu_scorer(s.model, static_cast<std::size_t>(state.range(0)));
  run_scorer(state, *scorer);
}

void BM_ScoreCuda(benchmark::State& state) {
#if SLUICE_HAVE_CUDA
  const auto& s = score_setup();
  auto scorer = sluice::gpu::make_cuda_scorer(s.model);
  if (!scorer) {
    state.SkipWithError(("no usable CUDA device: " + scorer.error().message).c_str());
    return;
  }
  run_scorer(state, *scorer.value());
#else
  state.SkipWithError("built without CUDA");
#endif
}

}  // namespace

BENCHMARK_CAPTURE(BM_MineWarm, HDFS, std::string("HDFS"));
BENCHMARK_CAPTURE(BM_MineWarm, OpenSSH, std::string("OpenSSH"));
BENCHMARK_CAPTURE(BM_MineWarm, all, std::string("all"));
BENCHMARK(BM_MineCold)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScoreCpu)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(BM_ScoreCuda)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
