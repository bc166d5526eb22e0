// SPDX-License-Identifier: Apache-2.0
/// The typed form of a Sigma correlation rule (sigma-correlation-rules-specification.md) as the
/// correlation engine runs it, and the records that cross the engine's boundary: the inputs
/// (one per base detection or per upstream correlation alert), event references and the
/// correlation alerts it raises.
///
/// The rule language lives in `rules/` (YAML, name-to-id translation, aliases, field mapping);
/// this header holds only what the engine needs, so `core/` stays free of `rules/`.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

/// The correlation types of the specification ("Correlation Types"), the v2.1 metric ones
/// (value_sum, value_avg, value_percentile) included.
enum class CorrelationType : std::uint8_t {
  event_count,
  value_count,
  temporal,
  temporal_ordered,
  value_sum,
  value_avg,
  value_percentile
};

/// "event_count", "value_count", "temporal", "temporal_ordered", "value_sum", "value_avg",
/// "value_percentile".
std::string_view to_string(CorrelationType type);

/// A correlation `condition` (spec: "Condition"): the conjunction of `gt`, `gte`, `lt`, `lte`,
/// `eq` and `neq` folded into inclusive bounds plus an optional excluded value.
struct CountCondition {
  std::uint64_t min = 1;                                          ///< inclusive lower bound
  std::uint64_t max = std::numeric_limits<std::uint64_t>::max();  ///< inclusive upper bound
  bool has_neq = false;
  std::uint64_t neq = 0;

  bool holds(std::uint64_t n) const { return n >= min && n <= max && !(has_neq && n == neq); }
  /// Conditions with only lower bounds are monotone: they are decided on each event over the
  /// sliding window ending at it. Any other condition is decided when a window closes.
  bool monotone() const { return max == std::numeric_limits<std::uint64_t>::max() && !has_neq; }
  /// "gte 5", "gt 100 and lte 200".
  std::string describe() const;
};

/// The condition of a metric correlation (value_sum, value_avg, value_percentile): the same
/// operators as `CountCondition`, on a real number (spec: "compares it to an integer or float
/// threshold"). For value_percentile the number is a percentage, 0 to 100.
struct ValueCondition {
  double min = -std::numeric_limits<double>::infinity();
  bool min_inclusive = true;
  double max = std::numeric_limits<double>::infinity();
  bool max_inclusive = true;
  bool has_neq = false;
  double neq = 0;

  /// False for NaN.
  bool holds(double x) const {
    return (min_inclusive ? x >= min : x > min) && (max_inclusive ? x <= max : x < max) &&
           !(has_neq && x == neq);
  }
  /// Only lower bounds: decided at every event over the window ending at it (as for
  /// `CountCondition`); anything else when the window closes.
  bool monotone() const { return max == std::numeric_limits<double>::infinity() && !has_neq; }
  /// "gt 1000000", "gte 1.5 and lt 20".
  std::string describe() const;
};

/// True for value_sum, value_avg and value_percentile (a `ValueCondition` on `value_field`).
inline bool is_metric(CorrelationType t) {
  return t == CorrelationType::value_sum || t == CorrelationType::value_avg ||
         t == CorrelationType::value_percentile;
}

/// A correlation rule after loading and validation.
struct CorrelationRule {
  std::string id;
  std::string name;
  std::string title;
  std::string level;  ///< informational, low, medium, high, critical
  std::string status;
  std::string description;
  std::vector<std::string> tags;
  std::string path;
  std::size_t line = 0;
  CorrelationType type = CorrelationType::event_count;
  /// The `rules` entries as written (ids or names of base or correlation rules).
  std::vector<std::string> rules;
  /// `group-by` field names as written (alias names where `aliases` defines them).
  std::vector<std::string> group_by;
  std::int64_t timespan_ns = 0;
  CountCondition condition;
  /// The condition of value_sum, value_avg and value_percentile (`condition` is unused then).
  ValueCondition value_condition;
  /// `condition.field` of value_count and the metric types (may be an alias).
  std::string value_field;
  /// `generate`: whether the referenced rules also raise their own alerts (default false).
  bool generate = false;
};

/// Where one contributing event can be found again. Packed in 64 bits so the engine can keep
/// one per windowed event: the top two bits say which kind of reference it is.
struct EventRef {
  enum class Kind : std::uint8_t { none = 0, store = 1, line = 2, received = 3 };
  std::uint64_t bits = 0;

  /// The event's sequence number in the event store.
  static EventRef store(std::uint64_t sequence) { return {(std::uint64_t{1} << 62) | sequence}; }
  /// Source (listener) id, up to 2^14, and 1-based line of a file input, up to 2^48.
  static EventRef line(std::uint32_t source, std::uint64_t line) {
    return {(std::uint64_t{2} << 62) | (std::uint64_t{source & 0x3fff} << 48) |
            (line & ((std::uint64_t{1} << 48) - 1))};
  }
  /// Network input: the receive time in nanoseconds (unique per record in practice).
  static EventRef received(std::int64_t receive_time_ns) {
    return {(std::uint64_t{3} << 62) |
            (static_cast<std::uint64_t>(receive_time_ns) & ((std::uint64_t{1} << 62) - 1))};
  }
  Kind kind() const { return static_cast<Kind>(bits >> 62); }
  std::uint64_t sequence() const { return bits & ((std::uint64_t{1} << 62) - 1); }
  std::uint32_t source() const { return static_cast<std::uint32_t>((bits >> 48) & 0x3fff); }
  std::uint64_t line_number() const { return bits & ((std::uint64_t{1} << 48) - 1); }
  std::int64_t receive_time_ns() const { return static_cast<std::int64_t>(sequence()); }
  /// Appends the reference as a JSON object: {"store_seq":N}, {"source":S,"line":N} or
  /// {"receive_time_ns":N}.
  void append_json(std::string& out) const;
  friend bool operator==(EventRef a, EventRef b) { return a.bits == b.bits; }
};

/// One input to the engine: a base detection (or, inside the engine, an upstream correlation
/// alert) with its group key already extracted. Views are read during `submit` only.
struct CorrelationInput {
  std::int64_t time_ns = 0;       ///< event time
  std::uint32_t correlation = 0;  ///< index into the engine's rules
  std::uint16_t step = 0;         ///< index into that rule's `rules` list
  /// The group-by values in `group_by` order, joined by `group_key_separator`.
  std::string_view key;
  /// value_count and the metric types: the value of `condition.field` (value_sum and
  /// value_avg read it as a decimal number); ignored otherwise.
  std::string_view value;
  EventRef ref;
};

/// Separates the group-by values in a group key (ASCII unit separator: never in a log field
/// that matters, and visible as such when printed).
inline constexpr char group_key_separator = '\x1f';

/// A correlation rule matched for one group.
struct CorrelationAlert {
  std::uint32_t correlation = 0;  ///< index into the engine's rules
  std::string key;                ///< group key (values joined by `group_key_separator`)
  std::int64_t first_ns = 0;      ///< time of the first contributing event
  std::int64_t last_ns = 0;       ///< time of the completing (or last) event
  /// What the condition counted: events (event_count), distinct values (value_count) or
  /// referenced rules seen (temporal, temporal_ordered); for the metric types, the events in
  /// the window.
  std::uint64_t count = 0;
  /// Metric types: the sum, average or percentage (0 to 100) that met the condition; else 0.
  double value = 0;
  /// The contributing events, oldest first, at most `CorrelationConfig::max_refs` (the most
  /// recent ones; the completing event is always last).
  std::vector<EventRef> refs;
};

}  // namespace sluice
