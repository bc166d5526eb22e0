// SPDX-License-Identifier: Apache-2.0
/// Sigma detection with every loadable SigmaHQ rule (rules/, rules-emerging-threats/,
/// rules-threat-hunting/) active, side by side with the naive evaluator (every rule checked
/// against every event, same semantics: `make_reference_scanner`), on one core:
///
/// - BM_Detect/linux: Loghub Linux + OpenSSH and a real auth.log, parsing included
///   (target: at least 1 million events/s);
/// - BM_Detect/windows: the SigmaHQ regression events (Sysmon JSON), JSON parsing included
///   (target: at least 300,000 events/s);
/// - BM_Naive/...: the same events through the naive evaluator (target: BM_Detect at least 50x);
/// - BM_Compile and BM_LoadCached: compiling the whole set (target under 30 s) and loading it
///   from serialized databases (target under 1 s).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "bench_support.hpp"
#include "sluice/event/event_batch.hpp"
#include "sluice/parse/parser.hpp"
#include "sluice/rules/rule_test.hpp"
#include "sluice/rules/sigma.hpp"

namespace {
namespace fs = std::filesystem;

sluice::rules::SigmaOptions sigmahq_options() {
  sluice::rules::SigmaOptions options;
  if (auto dir = sluice::bench::data_dir()) {
    for (const char* sub :
         {"sigma/rules", "sigma/rules-emerging-threats", "sigma/rules-threat-hunting"})
      options.paths.push_back((*dir / sub).string());
  }
  return options;
}

/// The whole SigmaHQ set, compiled once for all benchmarks.
const std::shared_ptr<const sluice::RuleSet>& rule_set() {
  static const std::shared_ptr<const sluice::RuleSet> set = [] {
    sluice::rules::LoadReport report;
    auto r = sluice::rules::load_sigma(sigmahq_options(), report);
    return r ? r.value() : nullptr;
  }();
  return set;
}

std::vector<std::string> linux_lines() {
  std::vector<std::string> lines;
  for (const char* f : {"loghub/Linux/Linux_2k.log", "loghub/OpenSSH/OpenSSH_2k.log",
                        "logs/elastic-examples/auth.log"}) {
    auto part = sluice::bench::load_lines(f);
    lines.insert(lines.end(), part.begin(), part.end());
  }
  return lines;
}

/// One JSON line per SigmaHQ regression event (the JSON files next to the evtx files).
std::vector<std::string> windows_lines() {
  std::vector<std::string> lines;
  auto dir = sluice::bench::data_dir();
  if (!dir) return lines;
  sluice::EventBatch scratch(0, 4096);
  for (const auto& e : fs::recursive_directory_iterator(*dir / "sigma/regression_data")) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    const auto before = scratch.size();
    if (!sluice::rules::add_json_events(ss.str(), scratch)) continue;
    for (std::size_t i = before; i < scratch.size(); ++i) {
      // Objects span lines in the files; a JSON line holds one object on one line.
      std::string line(scratch.events()[i].raw);
      for (char& c : line)
        if (c == '\n' || c == '\r') c = ' ';
      lines.push_back(std::move(line));
    }
  }
  return lines;
}

const std::vector<std::string>& corpus(int which) {
  static const std::vector<std::string> linux = linux_lines();
  static const std::vector<std::string> windows = windows_lines();
  return which == 0 ? linux : windows;
}

/// Builds batches of 512 records from the corpus, parses them and scans them: what a worker does.
void run_detection(benchmark::State& state, bool naive) {
  const auto& set = rule_set();
  const auto& lines = corpus(static_cast<int>(state.range(0)));
  if (!set || lines.empty()) {
    state.SkipWithError("SigmaHQ rules or corpus not found (set SLUICE_TEST_DATA)");
    return;
  }
  sluice::ParserConfig pc;
  pc.format = state.range(0) == 0 ? sluice::ParseFormat::auto_detect : sluice::ParseFormat::json;
  sluice::Parser parser(pc);
  auto scanner = naive ? sluice::rules::make_reference_scanner(set) : set->make_scanner();
  std::vector<sluice::Detection> detections;
  std::size_t events = 0, alerts = 0;
  for (auto _ : state) {
    for (std::size_t start = 0; start < lines.size(); start += 512) {
      sluice::EventBatch batch(0, 512);
      const std::size_t end = std::min(lines.size(), start + 512);
      for (std::size_t i = start; i < end; ++i) {
        auto& e = batch.add_record(lines[i], 1'764'000'000'000'000'000);
        parser.parse(e, batch.arena());
      }
      detections.clear();
      scanner->scan(batch, detections);
      alerts += detections.size();
      events += batch.size();
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
  state.counters["rules"] = static_cast<double>(set->rule_count());
  state.counters["alerts_per_event"] =
      events != 0 ? static_cast<double>(alerts) / static_cast<double>(events) : 0;
}

void BM_Detect(benchmark::State& state) {
  run_detection(state, false);
}
void BM_Naive(benchmark::State& state) {
  run_detection(state, true);
}
BENCHMARK(BM_Detect)->ArgName("windows")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Naive)->ArgName("windows")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->MinTime(2);

void BM_Compile(benchmark::State& state) {
  const auto options = sigmahq_options();
  if (options.paths.empty()) {
    state.SkipWithError("SigmaHQ rules not found (set SLUICE_TEST_DATA)");
    return;
  }
  for (auto _ : state) {
    sluice::rules::LoadReport report;
    auto set = sluice::rules::load_sigma(options, report);
    benchmark::DoNotOptimize(set);
    state.counters["rules"] = static_cast<double>(report.loaded);
  }
}
BENCHMARK(BM_Compile)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_LoadCached(benchmark::State& state) {
  const auto options = sigmahq_options();
  if (options.paths.empty()) {
    state.SkipWithError("SigmaHQ rules not found (set SLUICE_TEST_DATA)");
    return;
  }
  const auto cache = fs::temp_directory_path() / "sluice-sigma-bench-cache";
  fs::create_directories(cache);
  setenv("SLUICE_RULES_CACHE", cache.c_str(), 1);
  {
    sluice::rules::LoadReport warm;
    (void)sluice::rules::load_sigma(options, warm);  // writes the cache
  }
  for (auto _ : state) {
    sluice::rules::LoadReport report;
    auto set = sluice::rules::load_sigma(options, report);
    benchmark::DoNotOptimize(set);
  }
  unsetenv("SLUICE_RULES_CACHE");
}
BENCHMARK(BM_LoadCached)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
