// SPDX-License-Identifier: Apache-2.0
/// Event store throughput and size on one core over real Loghub lines: all twelve Loghub 2k
/// files (24,000 lines, 3.4 MB), parsed once in the setup as a worker would (batches of 512, one
/// source path per file). The store issue's targets: ingest at least 1 million events/s on one
/// core, stored size at most 25 % of the raw log bytes, indexes included.
///
/// - BM_StoreRender: `StoreOutput::render` alone (encoding + CRC32C), the part workers run in
///   parallel.
/// - BM_StoreIngest: everything the store does on one thread: render, `write` into the active
///   segment, and sealing (regrouping into blocks, dictionaries, token filters, zstd, footer) of
///   every segment, the last one by `close`. Each iteration writes the corpus 8 times (192,000
///   events) into a fresh store with 16 MiB segments and fsync = "none". `/level:N` is the zstd
///   level. Wall-clock time. Counters: `events_per_cpu_second` = events / CPU time of the one
///   thread doing all of it (user + system: page faults and write calls included; the kernel's
///   asynchronous writeback is not), the single-core figure, which the shared, loaded build
///   machine distorts much less than wall time; `stored_per_raw_byte` = bytes of the sealed
///   store folder / raw line bytes (newlines not counted in raw, so the ratio is slightly
///   pessimistic against the files); `blocks`.
/// - BM_StoreIngest/fsync:1: as above with fsync = "batch" (one msync per batch of 512).
/// - BM_StoreSize/<file>: the stored size of one corpus file (Loghub and the realistic syslog
///   files under logs/), sealed at zstd level 1; the counter `stored_per_raw_byte` is the figure,
///   the time is one open-write-close.
/// - BM_StoreReadBlocks: `StoreReader::for_each` over what was written (decompress + decode).
///
/// Each run checks the answer: the events the store counts (or reads back) must equal the events
/// fed, or the benchmark fails.
#include <benchmark/benchmark.h>

#include <time.h>
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
  std::size_t file_bytes = 0;  // raw bytes plus one newline per line
};

void add_file(Corpus& out, const std::string& relative) {
  const auto lines = sluice::bench::load_lines(relative);
  sluice::Parser parser;
  for (std::size_t first = 0; first < lines.size(); first += sluice::EventBatch::default_capacity) {
    auto batch = std::make_unique<sluice::EventBatch>(1);
    batch->set_source_path(relative);
    for (std::size_t i = first;
         i < std::min(lines.size(), first + sluice::EventBatch::default_capacity); ++i) {
      sluice::Event& e = batch->add_record(lines[i], receive_ns);
      e.line = i + 1;
      parser.parse(e, batch->arena());
      out.raw_bytes += lines[i].size();
      out.file_bytes += lines[i].size() + 1;
      ++out.events;
    }
    out.batches.push_back(std::move(batch));
  }
}

const std::vector<std::string>& loghub_files() {
  static const std::vector<std::string> files = {"loghub/Android/Android_2k.log",
                                                 "loghub/Apache/Apache_2k.log",
                                                 "loghub/BGL/BGL_2k.log",
                                                 "loghub/HDFS/HDFS_2k.log",
                                                 "loghub/HPC/HPC_2k.log",
                                                 "loghub/Hadoop/Hadoop_2k.log",
                                                 "loghub/Linux/Linux_2k.log",
                                                 "loghub/OpenSSH/OpenSSH_2k.log",
                                                 "loghub/OpenStack/OpenStack_2k.log",
                                                 "loghub/Spark/Spark_2k.log",
                                                 "loghub/Thunderbird/Thunderbird_2k.log",
                                                 "loghub/Zookeeper/Zookeeper_2k.log"};
  return files;
}

const Corpus& corpus() {
  static const Corpus c = [] {
    Corpus out;
    for (const auto& f : loghub_files())
      add_file(out, f);
    return out;
  }();
  return c;
}

std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("sluice-store-bench-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

sluice::StoreConfig bench_config(const std::filesystem::path& dir, const char* fsync, int level = 1,
                                 const char* codec = "zstd") {
  sluice::StoreConfig config;
  config.path = dir.string();
  config.fsync = fsync;
  config.segment_bytes = 16ull << 20;
  config.max_segment_age_seconds = 0;
  config.max_total_bytes = 1ull << 30;
  config.compression_level = level;
  config.codec = codec;
  return config;
}

/// CPU time of the calling thread, user and system (page faults and syscalls it made included).
double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::uint64_t folder_bytes(const std::filesystem::path& dir) {
  std::uint64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().filename() != "LOCK") total += entry.file_size();
  return total;
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
  std::size_t rendered = 0;
  for (auto _ : state) {
    for (const auto& batch : c.batches) {
      bytes.clear();
      rendered += (*out)->render(*batch, {}, nullptr, bytes);
      benchmark::DoNotOptimize(bytes.data());
    }
  }
  if (rendered != state.iterations() * c.events) state.SkipWithError("wrong number of records");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.events));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c.raw_bytes));
  out->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StoreRender);

void BM_StoreIngest(benchmark::State& state) {
  const Corpus& c = corpus();
  if (c.events == 0) {
    state.SkipWithError("corpus not found (set SLUICE_TEST_DATA to the shared data folder)");
    return;
  }
  constexpr int copies = 8;
  const bool batch_sync = state.range(0) != 0;
  const int level = static_cast<int>(state.range(1));
  const char* codec = state.range(2) != 0 ? "lz4" : "zstd";
  const auto dir = fresh_dir("ingest");
  std::string bytes;
  std::uint64_t stored = 0, blocks = 0;
  double cpu_seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
    const double cpu_start = thread_cpu_seconds();
    auto out =
        sluice::StoreOutput::open(bench_config(dir, batch_sync ? "batch" : "none", level, codec));
    if (!out) return state.SkipWithError(out.error().message.c_str());
    for (int copy = 0; copy < copies; ++copy)
      for (const auto& batch : c.batches) {
        bytes.clear();
        (*out)->render(*batch, {}, nullptr, bytes);
        if (auto r = (*out)->write(bytes); !r)
          return state.SkipWithError(r.error().message.c_str());
      }
    if (auto r = (*out)->close(); !r) return state.SkipWithError(r.error().message.c_str());
    const auto& counters = (*out)->counters();
    if (counters.events_written.value() != copies * c.events ||
        counters.sealed_raw_bytes.value() != copies * c.raw_bytes)
      return state.SkipWithError("the store did not seal every event fed");
    blocks = counters.blocks_sealed.value();
    cpu_seconds += thread_cpu_seconds() - cpu_start;
    state.PauseTiming();
    stored = folder_bytes(dir);
    out->reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * copies * c.events));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * copies * c.raw_bytes));
  state.counters["stored_per_raw_byte"] =
      static_cast<double>(stored) / static_cast<double>(copies * c.raw_bytes);
  state.counters["blocks"] = static_cast<double>(blocks);
  state.counters["events_per_cpu_second"] =
      static_cast<double>(state.iterations() * copies * c.events) / cpu_seconds;
  std::filesystem::remove_all(dir);
}
// Wall-clock time: page faults on fresh segment pages, sealing writes and msync waits count.
BENCHMARK(BM_StoreIngest)
    ->ArgNames({"fsync", "level", "lz4"})
    ->Args({0, 1, 0})
    ->Args({0, 3, 0})
    ->Args({1, 1, 0})
    ->Args({0, 1, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_StoreSize(benchmark::State& state, std::string file) {
  Corpus c;
  add_file(c, file);
  if (c.events == 0) return state.SkipWithError("file not found under the data folder");
  const auto dir = fresh_dir("size");
  std::string bytes;
  std::uint64_t stored = 0;
  for (auto _ : state) {
    std::filesystem::remove_all(dir);
    auto out = sluice::StoreOutput::open(bench_config(dir, "none"));
    if (!out) return state.SkipWithError(out.error().message.c_str());
    for (const auto& batch : c.batches) {
      bytes.clear();
      (*out)->render(*batch, {}, nullptr, bytes);
      if (auto r = (*out)->write(bytes); !r) return state.SkipWithError(r.error().message.c_str());
    }
    if (auto r = (*out)->close(); !r) return state.SkipWithError(r.error().message.c_str());
    if ((*out)->counters().sealed_raw_bytes.value() != c.raw_bytes)
      return state.SkipWithError("the store did not seal every event fed");
    out->reset();
    stored = folder_bytes(dir);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.events));
  state.counters["stored_per_raw_byte"] =
      static_cast<double>(stored) / static_cast<double>(c.raw_bytes);
  state.counters["stored_per_file_byte"] =
      static_cast<double>(stored) / static_cast<double>(c.file_bytes);
  state.counters["events"] = static_cast<double>(c.events);
  std::filesystem::remove_all(dir);
}

const bool size_benchmarks_registered = [] {
  std::vector<std::string> files = loghub_files();
  files.insert(files.end(), {"logs/elastic-examples/auth.log", "logs/zeek-wrccdc2018/syslog.log",
                             "logs/apache-http-logs/acunetix.txt"});
  for (const auto& f : files)
    benchmark::RegisterBenchmark(("BM_StoreSize/" + f).c_str(), BM_StoreSize, f)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(3);
  return true;
}();

void BM_StoreReadBlocks(benchmark::State& state) {
  const Corpus& c = corpus();
  if (c.events == 0) {
    state.SkipWithError("corpus not found (set SLUICE_TEST_DATA to the shared data folder)");
    return;
  }
  const auto dir = fresh_dir("read");
  {
    auto out = sluice::StoreOutput::open(bench_config(dir, "none"));
    if (!out) return state.SkipWithError(out.error().message.c_str());
    std::string bytes;
    for (int copies = 0; copies < 4; ++copies)
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
  if (read != state.iterations() * 4 * c.events) state.SkipWithError("wrong number of events read");
  state.SetItemsProcessed(static_cast<std::int64_t>(read));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StoreReadBlocks)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
