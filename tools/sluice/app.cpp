// SPDX-License-Identifier: Apache-2.0
#include "app.hpp"

#include <pthread.h>
#include <signal.h>

#include <fmt/format.h>
#include <cerrno>
#include <ctime>

namespace sluice::cli {
namespace {

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

/// 1234567 -> "1,234,567": counters are read by people in the summary.
std::string grouped(std::uint64_t v) {
  auto digits = std::to_string(v);
  std::string out;
  const auto n = digits.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 0 && (n - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

void block_signals() {
  auto set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_signal(int timeout_ms) {
  auto set = handled_signals();
  timespec ts{timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1'000'000};
  const int sig = sigtimedwait(&set, nullptr, &ts);
  return sig < 0 ? 0 : sig;
}

Result<void> add_json_output(Pipeline& pipeline, JsonLinesKind kind, const std::string& path) {
  if (path.empty()) return {};
  auto out = JsonLinesOutput::open(kind, path);
  if (!out) return out.error();
  pipeline.add_output(std::move(out).value());
  return {};
}

Result<StoreOutput*> add_store(Pipeline& pipeline, const StoreConfig& config,
                               MetricsRegistry* metrics) {
  auto opened = StoreOutput::open(config);
  if (!opened) return Error{"store: " + opened.error().message};
  StoreOutput* store = opened.value().get();
  if (metrics != nullptr) store->register_metrics(*metrics);
  pipeline.add_output(std::move(opened).value());
  return store;
}

std::string summary_line(const PipelineStats& now, const PipelineStats& before,
                         double interval_seconds) {
  const double rate =
      interval_seconds > 0 ? static_cast<double>(now.events - before.events) / interval_seconds : 0;
  return fmt::format("events {} ({}/s) parsed {} unparsed {} dropped {} alerts {}",
                     grouped(now.events), grouped(static_cast<std::uint64_t>(rate)),
                     grouped(now.parsed), grouped(now.unparsed), grouped(now.dropped),
                     grouped(now.alerts));
}

}  // namespace sluice::cli
