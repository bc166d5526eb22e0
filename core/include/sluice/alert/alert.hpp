// SPDX-License-Identifier: Apache-2.0
/// Alert handling: what an analyst receives. An `Alert` (from a correlation, or a base
/// detection whose rule generates alerts) passes through the `AlertHandler`:
///
///   suppression lists  →  deduplication  →  throttling  →  every sink
///
/// - **Suppression** (`[[alerts.suppress]]`): by group field value, by CIDR on a group field, or
///   by a predicate (a Sigma filter, compiled by `rules/`); optionally only for one rule. Each
///   suppression counts what it removed.
/// - **Deduplication** (`dedup_seconds`): an alert of the same rule and group whose last event
///   is within the window after the previous one *sent* is a duplicate: counted, not sent.
/// - **Throttling** (`throttle_max` per `throttle_seconds`): at most that many alerts per rule
///   and group per window of event time; the rest are counted as throttled.
/// All windows are in event time, so a replay decides exactly as live arrival did.
///
/// Sinks (`[[alerts.sink]]`): JSON lines to a file, stdout, syslog forward (RFC 5424 over UDP,
/// or TCP with RFC 6587 octet counting), and an HTTP webhook (JSON POST from a background
/// thread with a bounded queue and retries). A sink that fails counts the failure; alert
/// handling never blocks on a slow network peer (the webhook queue drops the newest alert when
/// full, counted as `dropped`).
///
/// Thread safety: one thread calls `AlertHandler::handle` and `flush`; `stats` from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/common/result.hpp"
#include "sluice/correlate/correlation_rule.hpp"

namespace sluice {

/// One alert, ready to be sent. Three kinds reach the handler: base detections of rules that
/// generate alerts, correlation alerts, and anomaly alerts (one per detector that fired on an
/// entity's window; `anomaly_stage.hpp` names those "rules").
struct Alert {
  /// Stable id: the same rule, group and first event time always give the same id (hex of a
  /// 64-bit hash), so a replay produces the same ids and sinks can deduplicate downstream.
  std::string id;
  std::string kind;  ///< "detection", "correlation" or "anomaly"
  std::string rule_id;
  std::string rule_title;
  std::string rule_name;
  std::string correlation_type;  ///< empty for detections
  std::string severity;          ///< the rule's level (informational ... critical)
  std::vector<std::string> tags;
  /// Group-by field names and values (for detections: the rule's matched fields).
  std::vector<std::pair<std::string, std::string>> group;
  std::int64_t first_ns = 0;  ///< first contributing event time
  std::int64_t last_ns = 0;   ///< last (completing) event time
  std::uint64_t count = 0;
  /// Metric correlations (value_sum, value_avg, value_percentile): the sum, average or
  /// percentage that met the condition, rendered as `alert.value` when `has_value`.
  bool has_value = false;
  double value = 0;
  std::vector<EventRef> refs;  ///< contributing events, oldest first
  /// Extra facts that are not part of the group (so dedup and throttling ignore them): name and
  /// value as JSON text (a number, a quoted string, an array...). Anomaly alerts carry their
  /// score, threshold and templates here (`sluice.anomaly.*`).
  std::vector<std::pair<std::string, std::string>> details;
  /// Monotonic clock when the completing detection entered correlation (0 = unknown); the
  /// handler measures detection-to-sink latency from it.
  std::int64_t detected_mono_ns = 0;

  /// The value of group field `name`, or empty.
  std::string_view field(std::string_view name) const;
  /// Computes `id` from rule, group and first event time.
  void assign_id();
  /// One JSON object (no newline): `@timestamp` (last event), `alert.id`, `alert.kind`,
  /// `rule.id`, `rule.name`, `rule.title`, `rule.level`, `rule.tags`, `correlation.type`,
  /// `correlation.group` (object), `event.start`, `event.end`, `alert.count`, `alert.value`
  /// (metric correlations only), `alert.events` (references), then each of `details` as its
  /// own key.
  std::string to_json() const;
};

/// Where alerts go. `send` is called from the handler's thread only.
class AlertSink {
 public:
  virtual ~AlertSink() = default;
  virtual std::string describe() const = 0;
  /// `json` is `alert.to_json()` (no newline).
  virtual Result<void> send(const Alert& alert, std::string_view json) = 0;
  virtual Result<void> flush() { return {}; }
  /// Alerts this sink could not deliver (webhook: queue full or retries exhausted).
  virtual std::uint64_t dropped() const { return 0; }

  /// Whether base detections reach this sink (default yes). Off for a sink that shares its file
  /// with the pipeline's detection output, which writes them already. Set before handling starts.
  void set_detections(bool on) { detections_ = on; }
  /// Whether `alert` goes to this sink.
  bool takes(const Alert& alert) const { return detections_ || alert.kind != "detection"; }

 private:
  bool detections_ = true;
};

/// One `[[alerts.sink]]`.
struct AlertSinkConfig {
  std::string type;                     ///< "jsonl", "stdout", "syslog", "webhook"
  std::string path;                     ///< jsonl: file (appended)
  std::string address;                  ///< syslog: host:port
  std::string protocol = "udp";         ///< syslog: udp or tcp
  std::string url;                      ///< webhook: http://host:port/path (plain HTTP)
  std::size_t queue = 1024;             ///< webhook: alerts waiting at most
  std::size_t retries = 3;              ///< webhook: tries after the first
  std::int64_t retry_backoff_ms = 200;  ///< webhook: first back-off, doubled each retry
  std::int64_t timeout_ms = 2000;       ///< webhook: connect/send/receive timeout
  int line = 0;                         ///< where the section starts, for messages
  /// Whether base detections reach the sink (`AlertSink::set_detections`). Not a config key:
  /// false only for the sink the CLI makes for the file the detection output writes.
  bool detections = true;
};

/// Opens one sink. Errors name the sink and what failed.
Result<std::unique_ptr<AlertSink>> make_alert_sink(const AlertSinkConfig& config);

/// One `[[alerts.suppress]]`. Exactly one of `value`, `cidr`, `filter` is set.
struct SuppressionConfig {
  std::string name;    ///< label in counters (default: built from the other keys)
  std::string rule;    ///< only alerts of this rule (id, name or title); empty = all
  std::string field;   ///< group field for `value` / `cidr`
  std::string value;   ///< exact value
  std::string cidr;    ///< IPv4 or IPv6 network ("10.0.0.0/8")
  std::string filter;  ///< a Sigma detection (YAML map with `condition`) over group fields
  int line = 0;
};

/// A compiled `filter` predicate (built by `rules/`, which owns the Sigma language).
using AlertPredicate = std::function<bool(const Alert&)>;

/// `[alerts]`
struct AlertsConfig {
  double dedup_seconds = 0;      ///< 0 = off
  double throttle_seconds = 0;   ///< 0 = off
  std::size_t throttle_max = 0;  ///< alerts per rule and group per throttle window
  std::vector<AlertSinkConfig> sinks;
  std::vector<SuppressionConfig> suppress;
};

/// Counters. received = suppressed + duplicates + throttled + sent.
struct AlertStats {
  std::uint64_t received = 0;
  std::uint64_t suppressed = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t throttled = 0;
  std::uint64_t sent = 0;
  std::uint64_t sink_errors = 0;
  std::uint64_t sink_dropped = 0;
  /// Per suppression, in configuration order: (name, alerts removed).
  std::vector<std::pair<std::string, std::uint64_t>> by_suppression;
  /// Detection-to-sink latency of sent alerts that carried `detected_mono_ns`, nanoseconds.
  std::vector<std::int64_t> latencies_ns;
};

class AlertHandler {
 public:
  /// `predicates[i]` is the compiled `filter` of `config.suppress[i]` (empty when it has none).
  /// Fails when a CIDR does not parse or a filter is set without its predicate.
  static Result<std::unique_ptr<AlertHandler>> create(const AlertsConfig& config,
                                                      std::vector<std::unique_ptr<AlertSink>> sinks,
                                                      std::vector<AlertPredicate> predicates = {});
  ~AlertHandler();

  /// Decides and delivers one alert. Returns true when it was sent to the sinks.
  bool handle(const Alert& alert);
  void flush();
  AlertStats stats() const;
  /// Keep detection-to-sink latencies in `stats().latencies_ns` (for benchmarks).
  void record_latencies(bool on);
  std::vector<std::string> sink_descriptions() const;

 private:
  AlertHandler();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Monotonic clock in nanoseconds (the clock of `Alert::detected_mono_ns`).
std::int64_t monotonic_now_ns();

}  // namespace sluice
