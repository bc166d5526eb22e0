// SPDX-License-Identifier: Apache-2.0
/// What `sluice search` and `sluice timeline` share: running a query string against a store,
/// writing hits and aggregations as JSON lines or text, progress and error reporting.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/search/search.hpp"

namespace sluice::cli {

enum class SearchFormat : std::uint8_t { json, text };

struct SearchRun {
  std::string store;
  std::string query;
  search::SearchOptions options;
  SearchFormat format = SearchFormat::json;
  bool progress = false;           ///< progress lines on stderr
  bool stats = false;              ///< one JSON object with the search counters, last on stderr
  std::string command = "search";  ///< for messages: "sluice <command>: ..."
  /// List the stored alerts that match the query instead of events (`sluice search --alerts`).
  bool alerts = false;
  /// Print each event's stored alerts right after it (`sluice timeline`).
  bool inline_alerts = false;
};

/// Parses, compiles and runs `run.query`, writing results to stdout. Returns the exit status:
/// 0 done, 1 store unreadable or some segments corrupt (the rest was searched and printed),
/// 2 bad query (the error with a caret on stderr).
int execute_search(const SearchRun& run);

/// The text form of one event: "TIME RAW" (time in RFC 3339 UTC).
void append_event_text(std::string& out, const StoredEvent& event);

/// Current wall-clock time in ns since the epoch.
std::int64_t now_ns();

}  // namespace sluice::cli
