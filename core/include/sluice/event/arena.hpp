// SPDX-License-Identifier: Apache-2.0
/// `Arena` is the bump allocator behind every `EventBatch`. Events, their fields and any bytes
/// a parser had to rewrite (unescaped strings) live in the batch's arena and die with it, so the
/// hot path does no per-event heap allocation: the arena takes memory from the heap a chunk
/// (64 KiB by default) at a time, and `reset()` keeps the chunks for reuse.
///
/// Not thread-safe: one batch, one owner, one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace sluice {

class Arena {
 public:
  /// Chunk size: large enough that a batch of a few hundred syslog lines needs one or two
  /// chunks, small enough that an idle batch pool does not pin much memory.
  static constexpr std::size_t default_chunk_bytes = std::size_t{64} * 1024;

  explicit Arena(std::size_t chunk_bytes = default_chunk_bytes) : chunk_bytes_(chunk_bytes) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) noexcept = default;
  Arena& operator=(Arena&&) noexcept = default;

  /// Returns `bytes` of uninitialised memory aligned to `align` (a power of two). Allocates a new
  /// chunk from the heap only when the current one is full.
  void* allocate(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
    auto p = (cursor_ + (align - 1)) & ~static_cast<std::uintptr_t>(align - 1);
    if (p + bytes > end_) [[unlikely]] {
      return allocate_slow(bytes, align);
    }
    cursor_ = p + bytes;
    return reinterpret_cast<void*>(p);
  }

  /// Typed array of `n` default-initialised trivially destructible `T`.
  template <class T>
  std::span<T> allocate_array(std::size_t n) {
    static_assert(std::is_trivially_destructible_v<T>, "arena memory is never destroyed");
    auto* p = static_cast<T*>(allocate(sizeof(T) * n, alignof(T)));
    for (std::size_t i = 0; i < n; ++i)
      new (p + i) T{};
    return {p, n};
  }

  /// Copies `s` into the arena and returns a view of the copy.
  std::string_view copy(std::string_view s) {
    if (s.empty()) return {};
    auto* p = static_cast<char*>(allocate(s.size(), 1));
    std::memcpy(p, s.data(), s.size());
    return {p, s.size()};
  }

  /// Forgets every allocation and keeps the largest chunk for reuse.
  void reset();

  /// Bytes handed out since the last reset (including alignment padding).
  std::size_t used_bytes() const { return used_before_current_ + (cursor_ - begin_); }

 private:
  void* allocate_slow(std::size_t bytes, std::size_t align);

  struct Chunk {
    std::unique_ptr<std::byte[]> data;
    std::size_t size = 0;
  };
  std::size_t chunk_bytes_;
  std::vector<Chunk> chunks_;
  std::uintptr_t begin_ = 0;
  std::uintptr_t cursor_ = 0;
  std::uintptr_t end_ = 0;
  std::size_t used_before_current_ = 0;
};

}  // namespace sluice
