// SPDX-License-Identifier: Apache-2.0
/// Alerts stored beside the events (store/alert_log.hpp), as search exposes them: read in
/// event-time order, filtered by time and optionally by a query, with the sequence numbers of
/// the events they came from (so `sluice timeline` can show each alert next to its event).
///
/// A query runs on an alert as if it were an event whose raw line is its title, rule id, level,
/// ATT&CK ids, rule name, kind and field values (separated by spaces), whose host and app are its
/// `host` and `app` fields (the group of a correlation or anomaly alert), and whose extracted
/// fields are `rule.id`, `rule.name`, `rule.level`, `threat.technique.id` (once per id),
/// `alert.kind`, `alert.id`, `rule.ruleset_name` (a correlation or anomaly rule's name), the
/// fields that matched (or the group) and the details (`sluice.anomaly.score`, ...). So `brute`,
/// `rule.level:high`, `user:root`, `alert.kind:anomaly` and `host:web01` all work on alerts.
///
/// An alert's time is the event time of its first event (a detection's event, a correlation's
/// first contributing event, an anomaly window's start); `last_ns` is when it completed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "sluice/common/result.hpp"
#include "sluice/search/matcher.hpp"
#include "sluice/store/segment_reader.hpp"

namespace sluice::search {

/// One stored alert, owned.
struct AlertRecord {
  std::uint64_t sequence = 0;  ///< the alert's number in the alert log
  std::int64_t time_ns = 0;    ///< event time of the event it came from
  std::string rule_id, title, level;
  std::vector<std::string> techniques;
  std::vector<std::pair<std::string, std::string>> matched;
  std::vector<std::uint64_t> event_sequences;  ///< store sequences of its events
  std::string id;                              ///< stable alert id (empty in older records)
  std::string kind = "detection";              ///< detection, correlation or anomaly
  std::string rule_name;                       ///< correlation or anomaly rule name
  std::string correlation_type;
  std::int64_t last_ns = 0;  ///< last contributing event time (window end for anomalies)
  std::uint64_t count = 1;
  std::vector<std::pair<std::string, std::string>> details;  ///< name, JSON value
};

/// What `read_alerts` found.
struct AlertResult {
  std::vector<AlertRecord> alerts;   ///< by (time, sequence)
  std::vector<SegmentError> errors;  ///< corrupt alert-log segments (the rest was read)
};

/// Reads the alerts of the store at `dir` whose event time is in [from_ns, to_ns) and, when
/// `query` is given, that match it (aggregations ignored). A store without alerts has none.
/// Errors: the alert folder cannot be listed. Allocates per alert; alerts are few.
Result<AlertResult> read_alerts(const std::filesystem::path& dir, const CompiledQuery* query,
                                std::int64_t from_ns = std::numeric_limits<std::int64_t>::min(),
                                std::int64_t to_ns = std::numeric_limits<std::int64_t>::max());

}  // namespace sluice::search
