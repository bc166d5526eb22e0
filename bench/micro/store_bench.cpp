// SPDX-License-Identifier: Apache-2.0
/// Event store throughput on one core over the real Loghub Linux lines (2000 lines, parsed once in
/// the setup as a worker would, in batches of 512). The figure that matters (the store issue's
/// target: at least 1 million events/s on one core) is `items_per_second` of BM_StoreRenderWrite.
///
/// - BM_StoreRender: `StoreOutput::render` alone (encoding + CRC32C), the part workers run in
///   parallel. Baseline for the next two.
/// - BM_StoreRenderWrite: render + `write` into a real store folder (segments of 256 MiB under
///   the system temp folder, fsync = "none", retention at 1 GiB so the disk never fills), one
///   thread doing both, as a single-worker pipeline would. `/fsync:1` repeats it with
///   fsync = "batch" (one msync per batch of 512): that figure depends on the disk. Both are
///   timed by the wall clock (page faults and msync waits included).
/// - BM_StoreRead: `StoreReader::for_each` over what was written (decode + CRC check).
///
/// Counters: `stored_per_raw_byte` = record bytes written / raw line bytes (frames, CRCs, numbers
/// and non-raw views included). Each run checks the answer: the store's `events_written` counter
/// (or the events read back) must equal the events fed, or the benchmark fails.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "sluice/event/event_batch.hpp"
#include "sluice/parse/parser.hpp"
#include "sluice/store/segment_reader.hpp"
#include "sluice/store/store_output.hpp"

namespace {

/// 2026-02-10T12:00:00Z; anchors year-less timestamps.
constexpr std::int64_t receive_ns = 1'770'724'800'000'000'000;

struct Corpus {
  std::vector<sluice::BatchPtr> batches;
  std::size_t events = 0;
  std::size_t raw_bytes = 0;
};

const Corpus& corpus() {
  static const Corpus c = [] {
    Corpus out;
    const auto lines = sluice::bench::load_lines("loghub/Linux/Linux_2k.log");
    sluice::Parser parser;
    for (std::size_t first = 0; first < lines.size();
         first += sluice::EventBatch::default_capacity) {
      auto batch = std::make_unique<sluice::EventBatch>(1);
      batch->set_source_path("loghub/Linux/Linux_2k.log");
      for (std::size_t i = first;
           i < std::min(lines.size(), first + sluice::EventBatch::default_capacity); ++i) {
        sluice::Event& e = batch->add_record(lines[i], receive_ns);
        e.line = i + 1;
        parser.parse(e, batch->arena());
        out.raw_bytes += lines[i].size();
        ++out.events;
      }
      out.batches.push_back(std::move(batch));
    }
    return out;
  }();
  return c;
}

std::filesystem::path fresh_dir(const char* name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("sluice-store-bench-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

sluice::StoreConfig bench_config(const std::filesystem::path& dir, const char* fsync) {
  sluice::StoreConfig config;
  config.path = dir.string();
  config.fsync = fsync;
  config.max_segment_age_seconds = 0;
  config.max_total_bytes = 1ull << 30;
  return config;
}

void BM_StoreRender(benchmark::State& state) {
  const Corpus& c = corpus();
  if (c.events == 0) {
    state.SkipWithError("corpus not found (set SLUICE_TEST_DATA to the shared data folder)");
    return;
  }
  const auto dir = fresh_dir("render");
  auto out = sluice::StoreOutput::open(bench_config(dir, "none"));
  if (!out) {
    state.SkipWithError(out.error().message.c_str());
    return;
  }
  std::string bytes;
  std::size_t rendered = 0, stored = 0;
  for (auto _ : state) {
    for (const auto& batch : c.batches) {
      bytes.clear();
      rendered += (*out)->render(*batch, {}, nullptr, bytes);
      stored += bytes.size();
      benchmark::DoNotOptimize(bytes.data());
    }
  }
  if (rendered != state.iterations() * c.events) state.SkipWithError("wrong number of records");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.events));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c.raw_bytes));
  state.counters["stored_per_raw_byte"] =
      static_cast<double>(stored) / static_cast<double>(state.iterations() * c.raw_bytes);
  out->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StoreRender);

void BM_StoreRenderWrite(benchmark::State& state) {
  const Corpus& c = corpus();
  if (c.events == 0) {
    state.SkipWithError("corpus not found (set SLUICE_TEST_DATA to the shared data folder)");
    return;
  }
  const bool batch_sync = state.range(0) != 0;
  const auto dir = fresh_dir(batch_sync ? "write-batch" : "write-none");
  auto out = sluice::StoreOutput::open(bench_config(dir, batch_sync ? "batch" : "none"));
  if (!out) {
    state.SkipWithError(out.error().message.c_str());
    return;
  }
  std::string bytes;
  for (auto _ : state) {
    for (const auto& batch : c.batches) {
      bytes.clear();
      (*out)->render(*batch, {}, nullptr, bytes);
      if (auto r = (*out)->write(bytes); !r) {
        state.SkipWithError(r.error().message.c_str());
        return;
      }
    }
  }
  const auto& counters = (*out)->counters();
  if (counters.events_written.value() != state.iterations() * c.events)
    state.SkipWithError("events_written does not match the events fed");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.events));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c.raw_bytes));
  state.counters["stored_per_raw_byte"] = static_cast<double>(counters.bytes_written.value()) /
                                          static_cast<double>(state.iterations() * c.raw_bytes);
  state.counters["segments"] = static_cast<double>(counters.segments_created.value());
  out->reset();
  std::filesystem::remove_all(dir);
}
// Wall-clock time: page faults on fresh segment pages and msync waits are part of the cost.
BENCHMARK(BM_StoreRenderWrite)->ArgName("fsync")->Arg(0)->Arg(1)->UseRealTime();

void BM_StoreRead(benchmark::State& state) {
  const Corpus& c = corpus();
  if (c.events == 0) {
    state.SkipWithError("corpus not found (set SLUICE_TEST_DATA to the shared data folder)");
    return;
  }
  const auto dir = fresh_dir("read");
  {
    auto out = sluice::StoreOutput::open(bench_config(dir, "none"));
    if (!out) {
      state.SkipWithError(out.error().message.c_str());
      return;
    }
    std::string bytes;
    for (int copies = 0; copies < 50; ++copies)  // 100k events
      for (const auto& batch : c.batches) {
        bytes.clear();
        (*out)->render(*batch, {}, nullptr, bytes);
        if (!(*out)->write(bytes)) return state.SkipWithError("write failed");
      }
  }
  auto reader = sluice::StoreReader::open(dir);
  if (!reader) return state.SkipWithError(reader.error().message.c_str());
  sluice::Arena arena;
  std::uint64_t read = 0, fields = 0;
  for (auto _ : state) {
    auto report = reader->for_each(arena, [&](const sluice::StoredEvent& s) {
      fields += s.event.fields.size();
      return true;
    });
    read += report.records;
    if (!report.errors.empty()) return state.SkipWithError(report.errors[0].message.c_str());
  }
  benchmark::DoNotOptimize(fields);
  if (read != state.iterations() * 50 * c.events)
    state.SkipWithError("wrong number of events read");
  state.SetItemsProcessed(static_cast<std::int64_t>(read));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StoreRead);

}  // namespace

BENCHMARK_MAIN();
