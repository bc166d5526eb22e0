// SPDX-License-Identifier: Apache-2.0
#include "sluice/anomaly/features.hpp"

#include <algorithm>

namespace sluice {

void entity_key(const Event& event, const std::vector<std::string>& fields, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out.push_back('|');
    const std::string& f = fields[i];
    if (f == "host") {
      out.append(event.host);
    } else if (f == "app" || f == "process") {
      out.append(event.app);
    } else if (f == "procid") {
      out.append(event.procid);
    } else if (f == "source.ip") {
      char buf[64];
      out.append(buf, event.peer.format_address(buf));
    } else {
      out.append(event.field(f));
    }
  }
}

WindowAggregator::WindowAggregator(FeatureConfig config)
    : config_(std::move(config)),
      window_ns_(std::max<std::int64_t>(
          1, std::chrono::duration_cast<std::chrono::nanoseconds>(config_.window).count())) {}

void WindowAggregator::add(std::string_view entity, std::int64_t event_time_ns,
                           std::uint32_t template_id) {
  // Floor division: windows tile the time line, negative times included.
  std::int64_t start = event_time_ns / window_ns_ * window_ns_;
  if (start > event_time_ns) start -= window_ns_;
  const std::int64_t lateness_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(config_.lateness).count();
  if (newest_ns_ != INT64_MIN && start + window_ns_ + lateness_ns <= newest_ns_) ++late_events_;
  newest_ns_ = std::max(newest_ns_, event_time_ns);
  auto& by_entity = windows_[start];
  auto [it, inserted] = by_entity.try_emplace(std::string(entity));
  if (inserted) ++open_rows_;
  ++it->second.events;
  ++it->second.counts[template_id];
}

std::size_t WindowAggregator::move_out(std::int64_t before_ns, FeatureBatch& out) {
  std::size_t moved = 0;
  while (!windows_.empty() && !out.full()) {
    auto first = windows_.begin();
    const std::int64_t start = first->first;
    if (start + window_ns_ > before_ns) break;
    auto& by_entity = first->second;
    // Move entities in a fixed order (by name) so that results do not depend on hashing.
    std::vector<std::string> names;
    names.reserve(by_entity.size());
    for (const auto& [name, accum] : by_entity)
      names.push_back(name);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      if (out.full()) break;
      auto node = by_entity.extract(name);
      FeatureRow row;
      row.entity = std::move(node.key());
      row.window_start_ns = start;
      row.window_end_ns = start + window_ns_;
      row.events = node.mapped().events;
      row.counts.assign(node.mapped().counts.begin(), node.mapped().counts.end());
      std::sort(row.counts.begin(), row.counts.end());
      out.push(std::move(row));
      --open_rows_;
      ++moved;
    }
    if (by_entity.empty()) windows_.erase(first);
  }
  return moved;
}

std::size_t WindowAggregator::drain(FeatureBatch& out) {
  if (newest_ns_ == INT64_MIN) return 0;
  const std::int64_t lateness_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(config_.lateness).count();
  return move_out(newest_ns_ - lateness_ns, out);
}

std::size_t WindowAggregator::drain_all(FeatureBatch& out) {
  return move_out(INT64_MAX, out);
}

}  // namespace sluice
