// SPDX-License-Identifier: Apache-2.0
/// Alerts stored beside the events they came from, in `<store>/alerts/`, a folder of record-log
/// segments (segment_format.hpp, "Record log"; never converted to blocks: alerts are few and read
/// whole). `StoreOutput` writes there what the `AlertHandler` sends (base detections of rules
/// that generate alerts, correlation alerts, anomaly alerts; `StoreOutput::alert_sink`) or, when
/// no handler is wired, one record per detection. Each alert names the rule (id, title, level,
/// ATT&CK techniques), its times, its fields (the matched fields of a detection, the group of a
/// correlation or anomaly alert), and the store-wide sequence numbers of the event(s) it came
/// from, so search can jump from an alert to its events (`SegmentIndex` blocks by sequence
/// range, or `StoreReader`).
///
/// Alert payload (little-endian; varints and slots as in segment_format.hpp, slots here are
/// always literals: varint length, bytes):
///
/// | field | encoding |
/// | --- | --- |
/// | event_time_ns | i64, 8 bytes fixed (offset 0: the segment writer reads it) |
/// | receive_time_ns | varint zigzag(receive − event) |
/// | event sequences | varint count n, then n × u64 fixed |
/// | rule id, title, level | varint length, bytes each |
/// | ATT&CK techniques | varint count, then per id varint length, bytes |
/// | matched fields | varint count, then per field name and value as varint length, bytes |
/// | extension (optional) | varint 1, then alert id, kind, rule name, correlation type (varint |
/// |   | length, bytes each), varint zigzag(last − first event time), varint count, varint |
/// |   | detail count, then per detail name and JSON value as varint length, bytes |
///
/// Records without the extension (written before it existed, or by `StoreOutput` from
/// detections) read as kind "detection", count 1, last time = first time.
///
/// Alerts are numbered by their own sequence (from 0, in write order), like events.
/// Retention: the alert log follows the store's age retention (`max_age_seconds`); size
/// retention (`max_total_bytes`) applies to the events only. An alert may therefore outlive the
/// events it names; readers find no event at those sequences.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/common/result.hpp"
#include "sluice/event/arena.hpp"
#include "sluice/event/event.hpp"
#include "sluice/store/segment_reader.hpp"

namespace sluice {

/// The alert folder's name inside a store folder.
inline constexpr std::string_view alerts_folder_name = "alerts";

/// What one alert record holds, as views (into the caller's memory when writing, into the alert
/// log's mapping and an arena when reading).
struct StoredAlert {
  std::uint64_t sequence = 0;        ///< the alert's number in the alert log (reading only)
  std::int64_t event_time_ns = 0;    ///< event time of the (first) event it came from
  std::int64_t receive_time_ns = 0;  ///< when Sluice received that event
  std::string_view rule_id;
  std::string_view title;
  std::string_view level;  ///< informational, low, medium, high, critical
  std::span<const std::string_view> attack_techniques;  ///< "T1110.001", ...
  std::span<const Field> matched;                       ///< the fields that matched
  /// Store-wide sequence numbers of the events the alert came from (one for a Sigma rule).
  std::span<const std::uint64_t> event_sequences;
  // The extension (empty / defaults when absent; written when `kind` is not empty).
  std::string_view alert_id;          ///< `Alert::id` (stable)
  std::string_view kind;              ///< "detection", "correlation", "anomaly"
  std::string_view rule_name;         ///< correlation or anomaly rule name
  std::string_view correlation_type;  ///< event_count, ... (correlations only)
  std::int64_t last_time_ns = 0;      ///< last contributing event time (= event_time_ns if absent)
  std::uint64_t count = 1;            ///< events (or values, rules) the alert counted
  std::span<const Field> details;     ///< `Alert::details`: name, JSON value
};

/// Appends one framed alert record for `alert` to `out` (its `sequence` is ignored). Returns the
/// payload offset of the first event sequence (8 bytes each), so a writer that learns the
/// sequences later can patch them in place with `patch_alert_sequences`; nullopt (nothing
/// appended) when the payload would exceed `max_record_payload_bytes`. Thread-safe.
std::optional<std::size_t> append_alert_record(std::string& out, const StoredAlert& alert);

/// Adds `base` to each of the `count` event sequences stored at `sequences_offset` of the framed
/// record at `record` (as `append_alert_record` returned it) and recomputes its CRC.
void patch_alert_sequences(char* record, std::size_t sequences_offset, std::size_t count,
                           std::uint64_t base);

/// Decodes an alert payload (CRC already checked). Arrays come from `arena`, strings view
/// `payload`. False when the bytes do not follow the layout. Thread-safe.
bool decode_alert(std::string_view payload, StoredAlert& out, Arena& arena);

/// Reads the alerts of a store folder (`<dir>/alerts/`). Holds only the listing; safe to use
/// from several threads (each `for_each` opens its own readers). Safe beside a running writer,
/// like `StoreReader`.
class AlertReader {
 public:
  /// Lists `<dir>/alerts/`. A store without alerts (no folder yet) has none; not an error.
  static Result<AlertReader> open(const std::filesystem::path& dir);

  /// Visits every alert in write order. `arena` is reset after each alert; views are valid only
  /// during the call. `visit` returns false to stop. A corrupt record ends its segment's
  /// iteration and is reported in `errors`; the next segment is read.
  ScanReport for_each(Arena& arena, const std::function<bool(const StoredAlert&)>& visit) const;

  /// The alert log's segment files, oldest first.
  const std::vector<std::filesystem::path>& segments() const { return segments_; }

 private:
  std::vector<std::filesystem::path> segments_;
};

}  // namespace sluice
