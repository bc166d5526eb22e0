// SPDX-License-Identifier: Apache-2.0
/// Features for anomaly scoring: per entity (a configurable set of event fields) and per tumbling
/// event-time window, the count of each template, the number of events (hence the event rate) and,
/// once a model is at hand, which templates it has never seen (see `AnomalyModel::densify`).
///
/// `WindowAggregator` collects events into open windows and hands closed ones out as
/// `FeatureRow`s in `FeatureBatch`es of a fixed maximum size, the unit a scorer takes. A window
/// closes when the largest event time seen, less the allowed lateness, passes its end; an event
/// older than that lands in a window of its own that closes at the next drain (counted in
/// `late_events`, never dropped). Not thread-safe: one aggregator per thread or behind one owner.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sluice/event/event.hpp"

namespace sluice {

/// Settings of feature extraction; `[anomaly]` in the configuration.
struct FeatureConfig {
  /// Fields whose values, joined with `|`, name the entity: `host`, `app` (or `process`),
  /// `procid`, `source.ip` (the sender's address) or any extracted field name, such as `user`
  /// or an HDFS `block` id. A missing field contributes an empty value.
  std::vector<std::string> entity_fields = {"host"};
  /// Tumbling window length in event time.
  std::chrono::seconds window{60};
  /// How far behind the newest event time a window still accepts events.
  std::chrono::seconds lateness{5};
  /// Rows per `FeatureBatch`: large enough to keep a GPU busy, small enough to bound latency.
  std::size_t max_batch_rows = 4096;
};

/// One entity in one window: its template counts, sorted by template id.
struct FeatureRow {
  std::string entity;
  std::int64_t window_start_ns = 0;
  std::int64_t window_end_ns = 0;
  std::uint32_t events = 0;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> counts;  ///< (template id, count)

  /// Events per second over the window (0 for an empty or zero-length window).
  double event_rate() const {
    const double seconds = static_cast<double>(window_end_ns - window_start_ns) / 1e9;
    return seconds > 0 ? events / seconds : 0.0;
  }
};

/// A batch of at most `capacity()` rows; rows are sparse (template id, count) lists, which the
/// model turns into a dense matrix for a scorer.
class FeatureBatch {
 public:
  explicit FeatureBatch(std::size_t capacity = FeatureConfig{}.max_batch_rows)
      : capacity_(capacity ? capacity : 1) {
    rows_.reserve(capacity_);
  }
  std::size_t capacity() const { return capacity_; }
  std::size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  bool full() const { return rows_.size() >= capacity_; }
  /// Appends a row; the caller checks `full()` first.
  void push(FeatureRow row) { rows_.push_back(std::move(row)); }
  const std::vector<FeatureRow>& rows() const { return rows_; }
  void clear() { rows_.clear(); }

 private:
  std::size_t capacity_;
  std::vector<FeatureRow> rows_;
};

/// Writes the entity key of `event` for `fields` into `out` (values joined with `|`).
void entity_key(const Event& event, const std::vector<std::string>& fields, std::string& out);

class WindowAggregator {
 public:
  explicit WindowAggregator(FeatureConfig config = {});

  /// Counts one event of `template_id` for `entity` at `event_time_ns`.
  void add(std::string_view entity, std::int64_t event_time_ns, std::uint32_t template_id);
  /// Moves windows closed by the event time seen so far into `out`, oldest first, until `out` is
  /// full; returns how many rows it moved. Call again while it fills `out`.
  std::size_t drain(FeatureBatch& out);
  /// Moves every open window, closed or not, into `out` until it is full (end of input).
  std::size_t drain_all(FeatureBatch& out);

  std::size_t open_windows() const { return open_rows_; }
  std::uint64_t late_events() const { return late_events_; }
  std::int64_t newest_event_ns() const { return newest_ns_; }
  const FeatureConfig& config() const { return config_; }

 private:
  struct Accum {
    std::uint32_t events = 0;
    std::unordered_map<std::uint32_t, std::uint32_t> counts;
  };
  std::size_t move_out(std::int64_t before_ns, FeatureBatch& out);

  FeatureConfig config_;
  std::int64_t window_ns_;
  std::int64_t newest_ns_ = INT64_MIN;
  std::uint64_t late_events_ = 0;
  std::size_t open_rows_ = 0;
  /// Open windows by start time, then by entity.
  std::map<std::int64_t, std::unordered_map<std::string, Accum>> windows_;
};

}  // namespace sluice
