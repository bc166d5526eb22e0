// SPDX-License-Identifier: Apache-2.0
/// The store as search sees it: a list of scan units with time bounds, the pruning test for a
/// unit, and a thread-safe scan of one unit. Private to core/src/search; the only file that
/// knows how the store is laid out.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "sluice/common/result.hpp"
#include "sluice/search/matcher.hpp"
#include "sluice/store/segment_reader.hpp"

namespace sluice::search::detail {

/// A piece of the store scanned as a whole by one thread.
struct Unit {
  std::size_t segment = 0;  ///< index into the store's segment list
  /// Oldest and newest event time in the unit; the full range when unknown (unsealed data).
  std::int64_t min_time = std::numeric_limits<std::int64_t>::min();
  std::int64_t max_time = std::numeric_limits<std::int64_t>::max();
};

/// The units of one store folder, listed once. Read-only after `open`; `scan` and `may_match`
/// are thread-safe.
class StoreUnits {
 public:
  static Result<StoreUnits> open(const std::filesystem::path& dir);

  const std::vector<Unit>& units() const { return units_; }
  std::size_t segment_count() const { return segments_.size(); }

  /// False when the unit's index proves no event in it can match.
  bool may_match(const Unit& unit, const CompiledQuery& query) const;

  /// Calls `visit(const StoredEvent&)` for every event of `unit` (fields in `arena`, reset
  /// between events). Returns the error when the unit is corrupt (events before the corruption
  /// were visited).
  template <typename Visit>
  std::optional<SegmentError> scan(const Unit& unit, Arena& arena, Visit&& visit) const {
    const auto& file = segments_[unit.segment];
    auto reader = SegmentReader::open(file);
    if (!reader) {
      std::error_code ec;
      if (!std::filesystem::exists(file, ec)) return std::nullopt;  // retention deleted it
      return SegmentError{file, 0, reader.error().message};
    }
    StoredEvent ev;
    for (;;) {
      const auto step = (*reader)->next(ev, arena);
      if (step == SegmentReader::Step::end) return std::nullopt;
      if (step == SegmentReader::Step::corrupt)
        return SegmentError{file, (*reader)->offset(), (*reader)->error()};
      visit(static_cast<const StoredEvent&>(ev));
      arena.reset();
    }
  }

  /// Adds the unit's answer to a whole-unit aggregation from its metadata alone, without
  /// decoding events, when the index holds what is needed (e.g. per-event host codes for
  /// `count by host`). Returns false when it does not; then the caller scans.
  template <typename AddValue>
  bool fast_count(const Unit& unit, Aggregation::Kind kind, const FieldRef& field,
                  std::uint64_t& count, AddValue&& add_value) const {
    (void)unit;
    (void)kind;
    (void)field;
    (void)count;
    (void)add_value;
    return false;
  }

 private:
  std::vector<std::filesystem::path> segments_;
  std::vector<Unit> units_;
};

}  // namespace sluice::search::detail
