// SPDX-License-Identifier: Apache-2.0
/// Alerts stored beside the events (store/alert_log.hpp), as search exposes them: read in
/// event-time order, filtered by time and optionally by a query, with the sequence numbers of
/// the events they came from (so `sluice timeline` can show each alert next to its event).
///
/// A query runs on an alert as if it were an event whose raw line is its title, rule id, level,
/// ATT&CK ids and matched values (separated by spaces) and whose extracted fields are
/// `rule.id`, `rule.name`, `rule.level`, `threat.technique.id` (once per id) and the fields that
/// matched. So `brute`, `rule.level:high` and `user:root` all work on alerts.
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
