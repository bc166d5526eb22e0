// SPDX-License-Identifier: Apache-2.0
/// `CorrelationEngine`: runs Sigma correlation rules over base detections in event time.
///
/// State is sharded by group key: a group is (correlation rule, group key), and its shard is
/// picked from a 64-bit hash of both. Each shard owns its groups outright (an open-addressing
/// table, a dense group array and an LRU list), so shards are updated in parallel on oneTBB
/// without locks, and one shard's inputs are applied one after another in event-time order.
/// The shard count is fixed by the configuration, never by the thread count, so every result
/// (alerts, evictions, counters) is the same on 1 and N threads.
///
/// ## Event time and the watermark
/// Inputs wait in their shard until the watermark passes them: watermark = the highest event
/// time submitted so far minus `tolerance_ns`. Inputs at or below the watermark are applied in
/// (event time, submission order) order. So any arrival order within the tolerance gives the
/// same alerts as sorted input, and replaying a log gives what live arrival gave. An input older
/// than the last watermark applied is *late*: it is not applied, and counted in `late`.
///
/// ## Windows (exact at the edges)
/// A window of `timespan` T ending at time t holds the events with time in [t - T, t]: an event
/// exactly T before t is inside, one 1 ns earlier is outside.
/// - Monotone conditions (only `gt`/`gte`): decided at every event over the window ending at it.
///   When the condition holds the alert is raised at once (lowest latency) and the group starts
///   over (the next alert needs a fresh set of events).
/// - Other conditions (`lt`, `lte`, `eq`, `neq`, ranges with an upper bound): a window opens at
///   a group's first event t0 and covers [t0, t0 + T]; it is decided when an event of the same
///   shard passes t0 + T, or at `finish`. The next window opens at the next event of the group.
/// - temporal: every referenced rule (or `condition.gte` of them) seen within one window ending
///   at the completing event. temporal_ordered: additionally in the order of `rules` (equal
///   event times count as in order); the condition counts the ordered prefix.
///
/// ## Metric correlations (spec v2.1: value_sum, value_avg, value_percentile)
/// The condition (`ValueCondition`) applies to a number computed over the events of one window
/// of the group, with the same windows as above:
/// - value_sum: the sum of `condition.field` over the window's events; value_avg: their mean.
///   The field is read as a decimal number (`-12`, `3.5`, `1e6`); an input whose value is not
///   one is not applied and counted in `non_numeric`.
/// - value_percentile: the share, in percent, of the window's events that carry one value of
///   `condition.field` (spec example: a process name seen in at most 1 % of a computer's
///   process starts). A share needs a population, so it is always decided when the window
///   closes, whatever the bounds; the alert references the events whose value's share meets
///   the condition, and its `value` is the smallest such share (the largest with only lower
///   bounds).
/// The alert's `value` is the number that met the condition and `count` the events in the
/// window. A sliding window (lower bounds) of value_sum and value_avg and every window of
/// value_percentile keep each event of the window, at most `max_window_events` per group:
/// beyond that the oldest event leaves the window early, counted in `window_overflow`. A
/// closing window of value_sum or value_avg keeps only a running sum (exact) and its last
/// `max_refs` events.
///
/// ## Bounded memory
/// At most `max_groups` groups are tracked (split evenly over the shards). A new group in a full
/// shard first removes that shard's least recently updated group: `expired` when its window was
/// already empty, else `evicted` (its partial window is lost, and counted). Groups whose window
/// has emptied are also removed as time passes (`expired`).
///
/// ## Chains
/// A correlation may consume other correlations' alerts (spec: "Related rules"). Levels are
/// applied in order within one `submit`, so an upstream alert reaches its consumers in the same
/// call, keyed by the upstream group-by values the consumer names.
///
/// Thread safety: one thread calls `submit`, `finish`, `drain`, `save` and `restore`; `stats`
/// may be called from any thread (it reads counters the owning thread publishes after each
/// call). `submit` uses up to `threads` oneTBB workers internally.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sluice/common/result.hpp"
#include "sluice/correlate/correlation_rule.hpp"

namespace sluice {

/// How an upstream correlation's alert becomes an input of a consuming correlation.
struct CorrelationLink {
  std::uint32_t consumer = 0;  ///< the consuming correlation
  std::uint16_t step = 0;      ///< its `rules` entry that names the upstream one
  /// For each of the consumer's group-by fields, the index of the upstream group-by field that
  /// holds it, or -1 (empty value).
  std::vector<int> key_fields;
  int value_field = -1;  ///< value_count: upstream group-by index of the value, or -1
};

/// One correlation as the engine runs it.
struct CorrelationSpec {
  CorrelationRule rule;
  /// 0 = consumes only base detections; k = consumes alerts of correlations below level k.
  std::uint32_t level = 0;
  std::vector<CorrelationLink> consumers;  ///< who consumes this correlation's alerts
};

/// `[correlation]` settings.
struct CorrelationConfig {
  std::size_t threads = 0;  ///< oneTBB workers; 0 = one per core
  /// Fixed shard count (a power of two). 64 keeps every core busy with room to balance, while a
  /// shard's table still fits comfortably per group-heavy rule (trade-off, not measured).
  std::size_t shards = 64;
  std::size_t max_groups = 4'000'000;         ///< cap on tracked groups over all rules
  std::int64_t tolerance_ns = 5'000'000'000;  ///< accepted out-of-order lateness (event time)
  std::size_t max_refs = 16;                  ///< contributing event references kept per alert
  /// Events one group's window may hold where a metric type needs them all (see "Metric
  /// correlations"). 4096 events are 128 KiB per group at most, and allow percentages down to
  /// 0.025 % (trade-off, not measured).
  std::size_t max_window_events = 4096;
};

/// What `CorrelationEngine::reload` did, by rule (matched by id, or title without one) and by
/// group.
struct CorrelationReload {
  std::size_t kept = 0;     ///< rules with the same definition: their state is kept
  std::size_t changed = 0;  ///< rules whose definition changed: their state is dropped
  std::size_t removed = 0;  ///< rules no longer loaded: their state is dropped
  std::size_t added = 0;    ///< new rules: they start empty
  std::uint64_t kept_groups = 0;
  std::uint64_t dropped_groups = 0;   ///< groups of changed and removed rules
  std::uint64_t dropped_pending = 0;  ///< their inputs waiting for the watermark
};

/// Counters. Inputs = applied + pending + late + non_numeric + reload_dropped.
struct CorrelationStats {
  std::uint64_t inputs = 0;   ///< inputs submitted (base detections routed to correlations)
  std::uint64_t applied = 0;  ///< inputs applied to a group (chained inputs included)
  std::uint64_t late = 0;     ///< inputs older than the watermark already applied; not applied
  std::uint64_t pending = 0;  ///< inputs waiting for the watermark
  std::uint64_t alerts = 0;   ///< correlation alerts raised
  std::uint64_t groups = 0;   ///< groups tracked now
  std::uint64_t evicted = 0;  ///< groups removed with a non-empty window because of the cap
  std::uint64_t expired = 0;  ///< groups removed after their window emptied
  std::uint64_t restored_groups = 0;   ///< groups read back from a snapshot
  std::uint64_t dropped_restored = 0;  ///< snapshot groups of rules no longer loaded
  /// value_sum, value_avg: inputs whose value is not a number; not applied.
  std::uint64_t non_numeric = 0;
  /// Metric types: events that left a window early because it held `max_window_events`.
  std::uint64_t window_overflow = 0;
  /// Pending inputs of rules that a reload changed or removed; not applied.
  std::uint64_t reload_dropped = 0;
  std::uint64_t reloads = 0;  ///< `reload` calls
  std::int64_t watermark_ns = 0;
  std::size_t bytes = 0;  ///< memory held by group state (tables, groups, keys, windows)
};

class CorrelationEngine {
 public:
  CorrelationEngine(std::vector<CorrelationSpec> specs, CorrelationConfig config);
  ~CorrelationEngine();
  CorrelationEngine(const CorrelationEngine&) = delete;
  CorrelationEngine& operator=(const CorrelationEngine&) = delete;

  const std::vector<CorrelationSpec>& specs() const;
  const CorrelationConfig& config() const;

  /// Adds inputs, applies everything at or below the new watermark and appends the alerts it
  /// raised to `out`, ordered by (last event time, correlation, group key). Allocates.
  void submit(std::span<const CorrelationInput> inputs, std::vector<CorrelationAlert>& out);
  /// End of input (`sluice scan`): applies every pending input and decides every open window.
  void finish(std::vector<CorrelationAlert>& out);
  /// Input has gone quiet (live operation, no new inputs for a while of wall time): applies
  /// every pending input, as if the watermark had reached the highest event time seen. Later
  /// inputs older than that are late. Windows stay open.
  void drain(std::vector<CorrelationAlert>& out);

  /// Writes all state (groups, windows, pending inputs, watermark) to `path` atomically (a
  /// temporary file renamed over it).
  Result<void> save(const std::string& path) const;
  /// Reads state written by `save`. Groups of correlations no longer loaded (matched by rule
  /// id) are dropped and counted; a different shard count is fine. A missing file is not an
  /// error (nothing to restore).
  Result<void> restore(const std::string& path);

  /// Replaces the rule set (SIGHUP): state of rules that still exist with the same definition
  /// (type, rules, group-by, timespan, condition, field, chain level) is kept, whatever their
  /// new position; state of changed and removed rules is dropped and counted. The watermark,
  /// pending inputs of kept rules and every counter carry over. Same thread as `submit`;
  /// allocates a copy of the state (as `save` does) while it runs.
  CorrelationReload reload(std::vector<CorrelationSpec> specs);

  CorrelationStats stats() const;

  /// The state (opaque; public so the snapshot code in engine.cpp can name it).
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// Whether state of rule `a` means the same under rule `b` (what `CorrelationEngine::reload`
/// keeps): type, rules, group-by, timespan, condition, field and chain level are equal. Title,
/// level, tags and `generate` may differ.
bool same_definition(const CorrelationSpec& a, const CorrelationSpec& b);

/// The 64-bit hash the engine shards and looks groups up by. Stable across runs and builds
/// (snapshots depend on it).
std::uint64_t correlation_hash(std::string_view bytes, std::uint64_t seed);

}  // namespace sluice
