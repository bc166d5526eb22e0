// SPDX-License-Identifier: Apache-2.0
#include "sluice/metrics/counter.hpp"

#include <fmt/format.h>

#include <set>

namespace sluice {

void MetricsRegistry::add_counter(std::string name, std::string help, std::string labels,
                                  const Counter* counter) {
  std::lock_guard lock(mutex_);
  entries_.push_back(
      {std::move(name), std::move(help), std::move(labels), Kind::counter, counter, {}});
}

void MetricsRegistry::add_gauge(std::string name, std::string help, std::string labels,
                                std::function<double()> read) {
  std::lock_guard lock(mutex_);
  entries_.push_back(
      {std::move(name), std::move(help), std::move(labels), Kind::gauge, nullptr, std::move(read)});
}

std::string MetricsRegistry::prometheus_text() const {
  std::lock_guard lock(mutex_);
  std::string out;
  std::set<std::string_view> described;
  // Group samples by metric name so each name gets one HELP/TYPE header, as the format requires.
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const auto& head = entries_[i];
    if (!described.insert(head.name).second) continue;
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", head.name, head.help,
                   head.name, head.kind == Kind::counter ? "counter" : "gauge");
    for (std::size_t j = i; j < entries_.size(); ++j) {
      const auto& e = entries_[j];
      if (e.name != head.name) continue;
      const double v = e.kind == Kind::counter ? static_cast<double>(e.counter->value()) : e.read();
      if (e.labels.empty()) {
        fmt::format_to(std::back_inserter(out), "{} {}\n", e.name, v);
      } else {
        fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", e.name, e.labels, v);
      }
    }
  }
  return out;
}

double MetricsRegistry::value(std::string_view name, std::string_view labels) const {
  std::lock_guard lock(mutex_);
  for (const auto& e : entries_) {
    if (e.name == name && e.labels == labels)
      return e.kind == Kind::counter ? static_cast<double>(e.counter->value()) : e.read();
  }
  return 0;
}

}  // namespace sluice
