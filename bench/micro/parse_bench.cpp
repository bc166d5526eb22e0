// SPDX-License-Identifier: Apache-2.0
/// Parser throughput on one core over real Loghub lines. The figures that matter (issue
/// "Foundation", item 4: at least 5 million lines/s per core) are `items_per_second` of
/// BM_ParseRfc3164 and BM_ParseRfc5424.
///
/// - BM_ParseRfc3164: Loghub Linux + OpenSSH (4000 lines), `ParseFormat::rfc3164`, key=value
///   extraction on (the default) and off (`/kv:0`).
/// - BM_ParseRfc5424: the same lines rewritten as RFC 5424 in the setup (`<38>1
///   2026-11-28T06:55:46.123456Z LabSZ sshd 24200 - - msg`), every fourth with two SD elements.
/// - BM_ParseJson: a real cowrie honeypot log (JSON lines).
/// - BM_ParseCef: the OpenSSH lines rewritten as CEF with a syslog header and four extensions.
/// - BM_ParseAuto: all twelve Loghub corpora interleaved, auto-detection (mostly the raw path).
/// - BM_ExtractKeyValues: `extract_key_values` alone over the Linux + OpenSSH messages.
///
/// Baseline: each other; one `Parser`, events parsed in batches of 512 into one arena that is
/// reset between batches, as a worker does. Each run checks the answer (every line parsed, with
/// the expected format) and fails the benchmark otherwise, so a faster wrong build cannot win.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "sluice/event/arena.hpp"
#include "sluice/event/event.hpp"
#include "sluice/parse/field_scratch.hpp"
#include "sluice/parse/kv.hpp"
#include "sluice/parse/parser.hpp"

namespace {

using sluice::Event;
using sluice::InputFormat;
using sluice::ParseFormat;

/// Same batch size as `EventBatch::default_capacity`.
constexpr std::size_t batch_events = 512;
/// 2026-02-10T12:00:00Z; any fixed time works, it only anchors year-less timestamps.
constexpr std::int64_t receive_ns = 1'770'724'800'000'000'000;

std::vector<std::string> syslog_corpus() {
  auto lines = sluice::bench::load_lines("loghub/Linux/Linux_2k.log");
  const auto ssh = sluice::bench::load_lines("loghub/OpenSSH/OpenSSH_2k.log");
  lines.insert(lines.end(), ssh.begin(), ssh.end());
  return lines;
}

/// Parses `lines` once per iteration; fails the benchmark unless every line comes out parsed as
/// `expected` (unknown: any format).
void run(benchmark::State& state, const std::vector<std::string>& lines,
         sluice::ParserConfig config, InputFormat expected) {
  if (lines.empty()) {
    state.SkipWithError("corpus not found (set SLUICE_TEST_DATA to the shared data folder)");
    return;
  }
  std::vector<Event> events(lines.size());
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    events[i].raw = lines[i];
    events[i].receive_time_ns = receive_ns;
    bytes += lines[i].size();
  }
  sluice::Parser parser(config);
  sluice::Arena arena;
  std::size_t fields = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (i % batch_events == 0) arena.reset();
      parser.parse(events[i], arena);
    }
    benchmark::DoNotOptimize(events.data());
    benchmark::ClobberMemory();
  }
  for (const auto& e : events) {
    if (e.status != sluice::ParseStatus::parsed ||
        (expected != InputFormat::unknown && e.format != expected)) {
      state.SkipWithError(("wrong answer on: " + std::string(e.raw)).c_str());
      return;
    }
    fields += e.fields.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["fields_per_line"] =
      static_cast<double>(fields) / static_cast<double>(events.size());
}

void BM_ParseRfc3164(benchmark::State& state) {
  sluice::ParserConfig config;
  config.format = ParseFormat::rfc3164;
  config.extract_key_values = state.range(0) != 0;
  run(state, syslog_corpus(), config, InputFormat::rfc3164);
}
BENCHMARK(BM_ParseRfc3164)->ArgName("kv")->Arg(1)->Arg(0);

/// Rewrites a BSD line (`Mmm dd hh:mm:ss host app[pid]: msg`) as RFC 5424.
std::string to_rfc5424(const std::string& line, std::size_t index) {
  // Host, tag and message positions as the BSD layout puts them; good enough for Loghub lines.
  const std::size_t host_begin = 16;
  const std::size_t host_end = line.find(' ', host_begin);
  const std::size_t tag_end = line.find(": ", host_end + 1);
  if (host_end == std::string::npos || tag_end == std::string::npos) return {};
  std::string tag = line.substr(host_end + 1, tag_end - host_end - 1);
  while (!tag.empty() && tag.front() == ' ')
    tag.erase(0, 1);
  std::string app = tag, pid = "-";
  if (const auto lb = tag.rfind('['); lb != std::string::npos && tag.back() == ']') {
    app = tag.substr(0, lb);
    pid = tag.substr(lb + 1, tag.size() - lb - 2);
  }
  for (char& c : app)
    if (c == ' ') c = '_';
  std::string sd = "-";
  if (index % 4 == 0)
    sd = "[origin ip=\"10.0.0." + std::to_string(index % 250) +
         "\" software=\"sluice\"][meta sequenceId=\"" + std::to_string(index) + "\"]";
  return "<38>1 2026-11-28T06:55:46.123456Z " + line.substr(host_begin, host_end - host_begin) +
         " " + app + " " + pid + " - " + sd + " " + line.substr(tag_end + 2);
}

void BM_ParseRfc5424(benchmark::State& state) {
  std::vector<std::string> lines;
  const auto source = syslog_corpus();
  for (std::size_t i = 0; i < source.size(); ++i) {
    std::string l = to_rfc5424(source[i], i);
    if (!l.empty()) lines.push_back(std::move(l));
  }
  sluice::ParserConfig config;
  config.format = ParseFormat::rfc5424;
  config.extract_key_values = state.range(0) != 0;
  run(state, lines, config, InputFormat::rfc5424);
}
BENCHMARK(BM_ParseRfc5424)->ArgName("kv")->Arg(1)->Arg(0);

void BM_ParseJson(benchmark::State& state) {
  sluice::ParserConfig config;
  config.format = ParseFormat::json;
  run(state, sluice::bench::load_lines("logs/cowrie-kareiva/cowrie.json.2018-05-20"), config,
      InputFormat::json);
}
BENCHMARK(BM_ParseJson);

void BM_ParseCef(benchmark::State& state) {
  std::vector<std::string> lines;
  for (const auto& l : sluice::bench::load_lines("loghub/OpenSSH/OpenSSH_2k.log")) {
    const std::size_t colon = l.find(": ");
    if (colon == std::string::npos) continue;
    std::string msg = l.substr(colon + 2);
    std::string escaped;
    for (char c : msg) {
      if (c == '=' || c == '\\') escaped += '\\';
      escaped += c;
    }
    lines.push_back("<134>" + l.substr(0, 22) + "CEF:0|OpenBSD|OpenSSH|7.4|4625|sshd event|5|" +
                    "src=173.234.31.186 spt=22 suser=root msg=" + escaped);
  }
  sluice::ParserConfig config;
  config.format = ParseFormat::cef;
  run(state, lines, config, InputFormat::cef);
}
BENCHMARK(BM_ParseCef);

void BM_ParseAuto(benchmark::State& state) {
  std::vector<std::vector<std::string>> sets;
  for (const char* name : {"Linux", "OpenSSH", "Apache", "HDFS", "BGL", "Thunderbird", "HPC",
                           "Hadoop", "Spark", "Zookeeper", "OpenStack", "Android"})
    sets.push_back(
        sluice::bench::load_lines("loghub/" + std::string(name) + "/" + name + "_2k.log"));
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < 2000; ++i)
    for (const auto& set : sets)
      if (i < set.size()) lines.push_back(set[i]);
  run(state, lines, sluice::ParserConfig{}, InputFormat::unknown);
}
BENCHMARK(BM_ParseAuto);

void BM_ExtractKeyValues(benchmark::State& state) {
  const auto lines = syslog_corpus();
  if (lines.empty()) {
    state.SkipWithError("corpus not found (set SLUICE_TEST_DATA to the shared data folder)");
    return;
  }
  sluice::FieldScratch fields;
  std::size_t bytes = 0;
  for (const auto& l : lines)
    bytes += l.size();
  for (auto _ : state) {
    std::size_t total = 0;
    for (const auto& l : lines) {
      fields.clear();
      total += sluice::extract_key_values(l, fields);
    }
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lines.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_ExtractKeyValues);

}  // namespace

BENCHMARK_MAIN();
