// SPDX-License-Identifier: Apache-2.0
/// Running a compiled query over a store folder: `search_events` streams matching events in
/// event-time order, `aggregate` computes a pipe's aggregation.
///
/// Execution: the store is cut into scan units (sealed blocks, and the unsealed tail of an active
/// segment); units outside the time range, or whose token filter or dictionaries rule the query
/// out, are skipped unread; the rest are scanned in parallel on oneTBB's pool, each thread with
/// its own `Matcher`. Ordered output merges per-unit sorted results: units are taken in order of
/// their oldest event, a wave at a time, and a match is emitted once no unit still to come can
/// hold an older one. So output starts before the whole store is read, and `--limit` stops early.
///
/// A corrupt segment (or block) is reported in `SearchStats::errors` and the rest is searched.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "sluice/common/result.hpp"
#include "sluice/search/matcher.hpp"
#include "sluice/store/segment_reader.hpp"

namespace sluice::search {

/// Where a running search stands; passed to `SearchOptions::progress`.
struct SearchProgress {
  std::uint64_t units_done = 0;
  std::uint64_t units_total = 0;  ///< units left after pruning
  std::uint64_t events_scanned = 0;
  std::uint64_t events_matched = 0;
};

struct SearchOptions {
  /// Event time range, [from_ns, to_ns).
  std::int64_t from_ns = std::numeric_limits<std::int64_t>::min();
  std::int64_t to_ns = std::numeric_limits<std::int64_t>::max();
  /// Stop after this many events (search_events only); 0 = all.
  std::uint64_t limit = 0;
  /// Called on the calling thread after each wave of units; may be empty.
  std::function<void(const SearchProgress&)> progress;
};

/// What a search read and skipped.
struct SearchStats {
  std::uint64_t segments = 0;
  /// Sealed segments not opened: their header's time range is outside the query's.
  std::uint64_t segments_skipped = 0;
  std::uint64_t units = 0;               ///< blocks and record logs in the opened segments
  std::uint64_t units_pruned_time = 0;   ///< skipped by the time range
  std::uint64_t units_pruned_index = 0;  ///< skipped by token filters or dictionaries
  std::uint64_t units_fast = 0;          ///< answered from block metadata without decoding
  std::uint64_t events_scanned = 0;      ///< decoded and tested
  std::uint64_t events_matched = 0;
  std::uint64_t scan_errors = 0;  ///< Hyperscan errors while scanning (not expected)
  std::vector<SegmentError> errors;
};

/// One matching event as the search hands it on: its time, store sequence number and the text
/// `render` made of it.
struct SearchHit {
  std::int64_t time_ns = 0;
  std::uint64_t sequence = 0;
  std::string text;
};

/// Renders a matching event (e.g. as a JSON line). Called on worker threads, concurrently: must
/// be thread-safe. The event's views are valid only during the call.
using RenderFn = std::function<void(const StoredEvent& event, std::string& out)>;
/// Receives hits in (event time, sequence) order on the calling thread; return false to stop.
using EmitFn = std::function<bool(const SearchHit& hit)>;

/// Streams the events of the store at `dir` that match `query` (and the time range) to `emit`,
/// oldest first. Errors: the folder cannot be listed.
Result<SearchStats> search_events(const std::filesystem::path& dir, const CompiledQuery& query,
                                  const SearchOptions& options, const RenderFn& render,
                                  const EmitFn& emit);

/// One row of an aggregation: a field value (or a bucket start as RFC 3339) and its count.
struct AggregateRow {
  std::string key;
  std::uint64_t count = 0;
  std::int64_t bucket_ns = 0;  ///< timechart: the bucket's start
};

struct AggregateResult {
  Aggregation::Kind kind = Aggregation::Kind::count;
  std::uint64_t count = 0;  ///< matching events (every kind)
  /// count_by/top: most frequent first (ties by key); timechart: by time, empty buckets included
  /// between the first and the last.
  std::vector<AggregateRow> rows;
  SearchStats stats;
};

/// Computes the query's aggregation (`Kind::count` when the query has none). Errors: the folder
/// cannot be listed.
Result<AggregateResult> aggregate(const std::filesystem::path& dir, const CompiledQuery& query,
                                  const SearchOptions& options);

}  // namespace sluice::search
