// SPDX-License-Identifier: Apache-2.0
/// `SpscRing<T>` is the bounded, lock-free, single-producer single-consumer queue that carries
/// batches from sources to workers and from workers to sinks.
///
/// Contract: exactly one thread calls the producer side (`try_push`, `try_push_n`) and exactly
/// one thread calls the consumer side (`try_pop`, `try_pop_n`) for the ring's whole life. No
/// call allocates or blocks; the capacity must be a power of two (checked at construction).
/// Head and tail sit on separate cache lines, and each side caches the other's index so a
/// transfer touches the shared line only when its cached view runs out (the usual
/// Lamport/Vyukov ring with cached indices).
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <utility>

#include "sluice/common/assert.hpp"

namespace sluice {

/// Cache line size on x86-64; `std::hardware_destructive_interference_size` warns on GCC 12.
inline constexpr std::size_t cache_line_bytes = 64;

template <class T>
class SpscRing {
 public:
  /// `capacity` must be a power of two and at least 2.
  explicit SpscRing(std::size_t capacity)
      : capacity_(capacity), mask_(capacity - 1), slots_(std::make_unique<Slot[]>(capacity)) {
    SLUICE_ASSERT(capacity >= 2 && std::has_single_bit(capacity),
                  "SpscRing capacity must be a power of two >= 2");
  }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  ~SpscRing() {
    // Destroy whatever is still queued so owned batches are freed.
    T item;
    while (try_pop(item)) {
    }
  }

  std::size_t capacity() const { return capacity_; }

  /// Producer side. Moves `item` in and returns true, or returns false (and leaves `item`
  /// untouched) when the ring is full.
  bool try_push(T& item) {
    const auto tail = tail_.value.load(std::memory_order_relaxed);
    if (tail - head_cache_ == capacity_) {
      head_cache_ = head_.value.load(std::memory_order_acquire);
      if (tail - head_cache_ == capacity_) return false;
    }
    slots_[tail & mask_].value = std::move(item);
    tail_.value.store(tail + 1, std::memory_order_release);
    return true;
  }
  bool try_push(T&& item) { return try_push(item); }

  /// Producer side. Moves as many of `items` as fit, in order; returns how many were moved.
  std::size_t try_push_n(std::span<T> items) {
    const auto tail = tail_.value.load(std::memory_order_relaxed);
    auto free = capacity_ - (tail - head_cache_);
    if (free < items.size()) {
      head_cache_ = head_.value.load(std::memory_order_acquire);
      free = capacity_ - (tail - head_cache_);
    }
    const std::size_t n = free < items.size() ? free : items.size();
    for (std::size_t i = 0; i < n; ++i)
      slots_[(tail + i) & mask_].value = std::move(items[i]);
    if (n != 0) tail_.value.store(tail + n, std::memory_order_release);
    return n;
  }

  /// Consumer side. Moves the oldest item into `out` and returns true, or returns false when the
  /// ring is empty.
  bool try_pop(T& out) {
    const auto head = head_.value.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.value.load(std::memory_order_acquire);
      if (head == tail_cache_) return false;
    }
    out = std::move(slots_[head & mask_].value);
    head_.value.store(head + 1, std::memory_order_release);
    return true;
  }

  /// Consumer side. Moves up to `out.size()` items, oldest first; returns how many.
  std::size_t try_pop_n(std::span<T> out) {
    const auto head = head_.value.load(std::memory_order_relaxed);
    auto avail = tail_cache_ - head;
    if (avail < out.size()) {
      tail_cache_ = tail_.value.load(std::memory_order_acquire);
      avail = tail_cache_ - head;
    }
    const std::size_t n = avail < out.size() ? avail : out.size();
    for (std::size_t i = 0; i < n; ++i)
      out[i] = std::move(slots_[(head + i) & mask_].value);
    if (n != 0) head_.value.store(head + n, std::memory_order_release);
    return n;
  }

  /// Approximate number of queued items; exact when called by either side while the other
  /// is idle.
  std::size_t size_approx() const {
    return tail_.value.load(std::memory_order_acquire) -
           head_.value.load(std::memory_order_acquire);
  }
  bool empty_approx() const { return size_approx() == 0; }

 private:
  struct alignas(cache_line_bytes) Index {
    std::atomic<std::uint64_t> value{0};
  };
  struct Slot {
    T value{};
  };

  const std::size_t capacity_;
  const std::size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  Index head_;                                              // written by the consumer
  alignas(cache_line_bytes) std::uint64_t tail_cache_ = 0;  // consumer's view of tail
  Index tail_;                                              // written by the producer
  alignas(cache_line_bytes) std::uint64_t head_cache_ = 0;  // producer's view of head
};

}  // namespace sluice
