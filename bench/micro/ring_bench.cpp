// SPDX-License-Identifier: Apache-2.0
/// SpscRing throughput between two threads: single-item and batched transfers. The figure that
/// matters (issue: at least 50 million items/s batched) is `items_per_second` of
/// BM_SpscRingBatched.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "sluice/ring/spsc_ring.hpp"

namespace {

constexpr std::uint64_t items_per_iteration = 1 << 22;

void BM_SpscRingSingle(benchmark::State& state) {
  const auto capacity = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    sluice::SpscRing<std::uint64_t> ring(capacity);
    std::thread consumer([&] {
      std::uint64_t v = 0, expect = 0;
      while (expect < items_per_iteration) {
        if (ring.try_pop(v)) {
          benchmark::DoNotOptimize(v);
          ++expect;
        }
      }
    });
    for (std::uint64_t i = 0; i < items_per_iteration;) {
      std::uint64_t v = i;
      if (ring.try_push(v)) ++i;
    }
    consumer.join();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * items_per_iteration));
}
BENCHMARK(BM_SpscRingSingle)->Arg(1024)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_SpscRingBatched(benchmark::State& state) {
  const auto capacity = static_cast<std::size_t>(state.range(0));
  const auto batch = static_cast<std::size_t>(state.range(1));
  for (auto _ : state) {
    sluice::SpscRing<std::uint64_t> ring(capacity);
    std::thread consumer([&] {
      std::vector<std::uint64_t> buf(batch);
      std::uint64_t received = 0, sum = 0;
      while (received < items_per_iteration) {
        const auto n = ring.try_pop_n(buf);
        for (std::size_t k = 0; k < n; ++k)
          sum += buf[k];
        received += n;
      }
      benchmark::DoNotOptimize(sum);
    });
    std::vector<std::uint64_t> buf(batch);
    for (std::uint64_t i = 0; i < items_per_iteration;) {
      const auto want = std::min<std::uint64_t>(batch, items_per_iteration - i);
      for (std::size_t k = 0; k < want; ++k)
        buf[k] = i + k;
      std::size_t sent = 0;
      while (sent < want)
        sent += ring.try_push_n(std::span(buf.data() + sent, want - sent));
      i += want;
    }
    consumer.join();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * items_per_iteration));
}
BENCHMARK(BM_SpscRingBatched)
    ->Args({1024, 32})
    ->Args({4096, 256})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
