// SPDX-License-Identifier: Apache-2.0
/// `FieldScratch` collects the fields of one event in a fixed-capacity array owned by the parser,
/// then copies them into the batch's arena with one allocation (`commit`). This keeps the field
/// array of every event contiguous and sized exactly, without counting twice or touching the heap.
///
/// Deliberate loss: an event with more than `capacity` fields (a huge JSON object, a CEF line with
/// hundreds of extension keys) keeps the first `capacity` and drops the rest; the raw bytes are
/// always kept in `Event::raw`, the event is flagged `event_flag_fields_dropped` and counted under
/// `sluice_events_fields_dropped_total`.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

#include "sluice/event/arena.hpp"
#include "sluice/event/event.hpp"

namespace sluice {

/// Fixed-capacity field collector, one per `Parser` (8 KiB, so keep it off small stacks). Not
/// thread-safe; never allocates except in `commit`, and then only from the arena.
class FieldScratch {
 public:
  /// Most fields one event can carry. 256 covers every real JSON and CEF record in the test
  /// corpora (cowrie's largest has 40) with room to spare; 8 KiB of scratch per parser.
  static constexpr std::size_t capacity = 256;

  /// Forgets the collected fields. Does not allocate.
  void clear() {
    size_ = 0;
    dropped_ = 0;
  }

  /// Appends a field; returns false (and drops it) when the scratch is full. Both views must
  /// outlive the event (point into the raw bytes or the arena). Does not allocate.
  bool push(std::string_view name, std::string_view value) {
    if (size_ == capacity) {
      ++dropped_;
      return false;
    }
    fields_[size_++] = Field{name, value};
    return true;
  }

  /// Number of fields collected so far.
  std::size_t size() const { return size_; }

  /// Fields dropped since `clear` because the scratch was full (or a caller's cap was reached,
  /// see `note_dropped`).
  std::size_t dropped() const { return dropped_; }
  /// Records that a caller stopped collecting at its own cap with fields left over.
  void note_dropped() { ++dropped_; }

  /// True when no more fields fit.
  bool full() const { return size_ == capacity; }

  /// The collected fields, valid until the next `clear` or `push`.
  std::span<const Field> view() const { return {fields_.data(), size_}; }

  /// Copies the collected fields into `arena` (one allocation, none when empty) and returns them.
  std::span<const Field> commit(Arena& arena) const {
    if (size_ == 0) return {};
    auto* p = static_cast<Field*>(arena.allocate(sizeof(Field) * size_, alignof(Field)));
    for (std::size_t i = 0; i < size_; ++i)
      new (p + i) Field{fields_[i]};
    return {p, size_};
  }

 private:
  std::array<Field, capacity> fields_{};
  std::size_t size_ = 0;
  std::size_t dropped_ = 0;
};

}  // namespace sluice
