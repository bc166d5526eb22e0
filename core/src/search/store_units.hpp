// SPDX-License-Identifier: Apache-2.0
/// The store as search sees it: a list of scan units with time bounds, the pruning test for a
/// unit, whole-unit answers from block metadata, and a thread-safe scan of one unit. Private to
/// core/src/search; the only search file that knows the store's layout (segment_index.hpp).
///
/// A unit is one sealed block (pruned by its time range, token filter and dictionaries, decoded
/// with zstd when it survives) or one record log (the active segment, or a sealed segment not yet
/// converted to blocks: no index, so it is always read, record by record).
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "sluice/common/result.hpp"
#include "sluice/search/matcher.hpp"
#include "sluice/store/segment_index.hpp"
#include "sluice/store/segment_reader.hpp"

namespace sluice::search::detail {

/// A piece of the store scanned as a whole by one thread.
struct Unit {
  const SegmentIndex* segment = nullptr;
  const BlockInfo* block = nullptr;  ///< null: the segment is a record log
  std::size_t block_index = 0;
  /// Oldest and newest event time in the unit; the full range when unknown (unsealed data).
  std::int64_t min_time = std::numeric_limits<std::int64_t>::min();
  std::int64_t max_time = std::numeric_limits<std::int64_t>::max();
};

/// Per-thread buffers for `StoreUnits::scan`.
struct UnitScratch {
  Arena arena;
  BlockScratch block;
};

/// The units of one store folder, listed once. Read-only after `open`; every const member is
/// thread-safe.
class StoreUnits {
 public:
  /// Opens every segment, in parallel on oneTBB's pool, reading its trailer, footer and segment
  /// token filter only: a block's index area is checked and parsed when `may_match` first asks
  /// about that block (`IndexCheck::on_first_use`), so a query that a segment's filter rules out
  /// never reads its blocks' index areas. A segment that cannot be opened goes to `open_errors`
  /// (as `StoreIndex::open` does), and so does a block whose footer entry is bad; a block whose
  /// index area is corrupt is reported by `may_match`. Errors: the folder cannot be listed.
  /// Sealed segments whose header puts all their events outside [from_ns, to_ns) are not opened
  /// at all (counted in `segments_skipped`).
  static Result<StoreUnits> open(const std::filesystem::path& dir,
                                 std::int64_t from_ns = std::numeric_limits<std::int64_t>::min(),
                                 std::int64_t to_ns = std::numeric_limits<std::int64_t>::max());

  const std::vector<Unit>& units() const { return units_; }
  std::size_t segment_count() const { return segment_count_; }
  /// Segments left unopened because of the time range.
  std::size_t segments_skipped() const { return segments_skipped_; }
  /// Segments that could not be opened and blocks whose index area is corrupt.
  const std::vector<SegmentError>& open_errors() const { return open_errors_; }

  /// What the index says about a unit and a query.
  enum class Verdict {
    may_match,  ///< the unit must be scanned
    no_match,   ///< its segment's or block's token filter or dictionaries rule every event out
    corrupt,    ///< the block's index area is bad (`Unit::segment->block(i).error` says why)
  };
  /// Checks the segment token filter, then (loading the block's index area on first use) the
  /// block's token filter and dictionaries. A unit that may match has its block's index loaded,
  /// so `scan` and `fast_count` may read it. Thread-safe.
  Verdict may_match(const Unit& unit, const CompiledQuery& query) const;

  /// Calls `visit(const StoredEvent&)` for every event of `unit`. Returns the error when the unit
  /// is corrupt (a record log's events before the corruption were visited; a corrupt block
  /// yields none).
  template <typename Visit>
  std::optional<SegmentError> scan(const Unit& unit, UnitScratch& scratch, Visit&& visit) const {
    if (unit.block != nullptr) {
      auto events = unit.segment->decode(unit.block_index, scratch.block);
      if (!events)
        return SegmentError{unit.segment->path(), unit.block->data_offset, events.error().message};
      for (const StoredEvent& ev : *events)
        visit(ev);
      return std::nullopt;
    }
    auto reader = unit.segment->log_reader();
    if (!reader) {
      std::error_code ec;
      if (!std::filesystem::exists(unit.segment->path(), ec)) return std::nullopt;  // retention
      return SegmentError{unit.segment->path(), 0, reader.error().message};
    }
    StoredEvent ev;
    std::optional<SegmentError> error;
    for (;;) {
      const auto step = (*reader)->next(ev, scratch.arena);
      if (step == SegmentReader::Step::end) break;
      if (step == SegmentReader::Step::corrupt) {
        // A record log ends at its first corrupt record; a blocked file read this way (a segment
        // converted since the listing) skips the bad block and goes on.
        if (!error)
          error = SegmentError{unit.segment->path(), (*reader)->offset(), (*reader)->error()};
        if (!(*reader)->blocked()) break;
        continue;
      }
      visit(static_cast<const StoredEvent&>(ev));
      scratch.arena.reset();
    }
    return error;
  }

  /// For a query that reads only the raw line (`CompiledQuery::raw_only`) on a sealed block:
  /// calls `visit(std::string_view raw)` for every event of the block, decompressing it but
  /// decoding none of the other fields. The unit must be a block (`unit.block` set).
  template <typename Visit>
  std::optional<SegmentError> scan_raw(const Unit& unit, UnitScratch& scratch,
                                       Visit&& visit) const {
    auto raws = unit.segment->decode_raw(unit.block_index, scratch.block);
    if (!raws)
      return SegmentError{unit.segment->path(), unit.block->data_offset, raws.error().message};
    for (std::string_view raw : *raws)
      visit(raw);
    return std::nullopt;
  }

  /// For a whole-unit aggregation of a query that matches everything: adds the unit's answer from
  /// its index alone, without decoding (the event count, and per-event dictionary codes for
  /// host, app and source path). Returns false when the index does not hold what is needed; then
  /// the caller scans.
  template <typename AddValue>
  bool fast_count(const Unit& unit, Aggregation::Kind kind, const FieldRef& field,
                  std::uint64_t& count, AddValue&& add_value) const {
    if (unit.block == nullptr) return false;
    const BlockInfo& b = *unit.block;
    if (kind == Aggregation::Kind::count) {
      count += b.events;
      return true;
    }
    if (kind != Aggregation::Kind::count_by && kind != Aggregation::Kind::top) return false;
    const std::vector<std::string_view>* dict = nullptr;
    const CodeColumn* codes = nullptr;
    switch (field.id) {
      case FieldId::host:
        dict = &b.hosts;
        codes = &b.host_codes;
        break;
      case FieldId::app:
        dict = &b.apps;
        codes = &b.app_codes;
        break;
      case FieldId::source_path:
        dict = &b.source_paths;
        codes = &b.source_codes;
        break;
      default:
        return false;
    }
    count_codes(*codes, dict->size(), counts_scratch());
    auto& counts = counts_scratch();
    for (std::size_t i = 0; i < dict->size(); ++i) {
      // An empty value is an absent field: not counted (query.hpp).
      if (counts[i] != 0 && !(*dict)[i].empty()) add_value((*dict)[i], counts[i]);
    }
    count += b.events;
    return true;
  }

 private:
  /// counts[c] = events with code c, for a dictionary of `entries`.
  static void count_codes(const CodeColumn& codes, std::size_t entries,
                          std::vector<std::uint64_t>& counts);
  static std::vector<std::uint64_t>& counts_scratch();

  std::vector<std::shared_ptr<const SegmentIndex>> segments_;
  std::size_t segment_count_ = 0;
  std::size_t segments_skipped_ = 0;
  std::vector<Unit> units_;
  std::vector<SegmentError> open_errors_;
};

}  // namespace sluice::search::detail
