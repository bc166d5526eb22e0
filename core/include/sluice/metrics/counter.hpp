// SPDX-License-Identifier: Apache-2.0
/// `Counter` is a monotonically increasing 64-bit count on its own cache line, and
/// `MetricsRegistry` lists counters and gauges by the name operators see (Prometheus text on
/// `/metrics`). Counters are safe to add to from any thread (relaxed atomics); a counter with a
/// single writer costs one uncontended atomic add.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/ring/spsc_ring.hpp"

namespace sluice {

class alignas(cache_line_bytes) Counter {
 public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// A named set of metrics. Registration is for start-up (takes a lock); rendering may run
/// concurrently with counter updates. Registered counters must outlive the registry's use.
class MetricsRegistry {
 public:
  enum class Kind { counter, gauge };

  /// `name` is a Prometheus metric name (`sluice_events_in_total`); `labels` is either empty or
  /// a label set without braces (`source="udp:0"`).
  void add_counter(std::string name, std::string help, std::string labels, const Counter* counter);
  void add_gauge(std::string name, std::string help, std::string labels,
                 std::function<double()> read);

  /// Prometheus text exposition format 0.0.4: one HELP and TYPE line per metric name, then its
  /// samples.
  std::string prometheus_text() const;

  /// Current value of the first metric with this name and labels; for tests and summaries.
  double value(std::string_view name, std::string_view labels = {}) const;

 private:
  struct Entry {
    std::string name;
    std::string help;
    std::string labels;
    Kind kind;
    const Counter* counter = nullptr;
    std::function<double()> read;
  };
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
};

}  // namespace sluice
