// SPDX-License-Identifier: Apache-2.0
/// `EventBatch` is the unit that crosses rings: a few hundred to a few thousand events and the one
/// arena their bytes live in. A source appends records (`add_record` copies the bytes into the
/// arena); a worker parses them in place.
///
/// Ownership moves with the batch (`std::unique_ptr<EventBatch>`); exactly one thread touches a
/// batch at a time. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "sluice/event/arena.hpp"
#include "sluice/event/event.hpp"

namespace sluice {

class EventBatch {
 public:
  /// Batch size used by sources: one ring hand-off and one wake-up per few hundred records
  /// keeps their cost per record small, while a batch still fills within milliseconds at
  /// modest rates (a trade-off; `general.batch_size` changes it).
  static constexpr std::size_t default_capacity = 512;

  explicit EventBatch(std::uint32_t source_id = 0, std::size_t capacity = default_capacity)
      : source_id_(source_id) {
    events_.reserve(capacity);
  }

  /// Appends a record whose bytes are copied into the arena. Returns the new event so the caller
  /// can set `line`, `peer` and flags.
  Event& add_record(std::string_view bytes, std::int64_t receive_time_ns) {
    Event& e = events_.emplace_back();
    e.raw = arena_.copy(bytes);
    e.receive_time_ns = receive_time_ns;
    e.listener_id = source_id_;
    return e;
  }

  std::size_t size() const { return events_.size(); }
  bool empty() const { return events_.empty(); }
  std::vector<Event>& events() { return events_; }
  const std::vector<Event>& events() const { return events_; }
  Arena& arena() { return arena_; }

  std::uint32_t source_id() const { return source_id_; }
  /// Per-source sequence number, assigned by the pipeline; sinks use it to keep source order.
  std::uint64_t sequence() const { return sequence_; }
  void set_sequence(std::uint64_t s) { sequence_ = s; }

  /// Path of the file the records came from (for `log.file.path`), empty for network input.
  std::string_view source_path() const { return source_path_; }
  void set_source_path(std::string_view path) { source_path_ = arena_.copy(path); }

  /// Empties the batch for reuse, keeping its capacity and arena chunks.
  void clear() {
    events_.clear();
    arena_.reset();
    source_path_ = {};
    sequence_ = 0;
  }

 private:
  std::uint32_t source_id_;
  std::uint64_t sequence_ = 0;
  std::string_view source_path_;
  std::vector<Event> events_;
  Arena arena_;
};

using BatchPtr = std::unique_ptr<EventBatch>;

}  // namespace sluice
