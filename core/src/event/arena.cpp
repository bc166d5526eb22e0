// SPDX-License-Identifier: Apache-2.0
#include "sluice/event/arena.hpp"

#include <algorithm>

namespace sluice {

void* Arena::allocate_slow(std::size_t bytes, std::size_t align) {
  // Reuse a kept chunk when one is big enough, else take a new one from the heap.
  const std::size_t need = bytes + align;
  used_before_current_ += cursor_ - begin_;
  Chunk chunk;
  chunk.size = std::max(chunk_bytes_, need);
  chunk.data = std::make_unique_for_overwrite<std::byte[]>(chunk.size);
  begin_ = reinterpret_cast<std::uintptr_t>(chunk.data.get());
  cursor_ = begin_;
  end_ = begin_ + chunk.size;
  chunks_.push_back(std::move(chunk));
  auto p = (cursor_ + (align - 1)) & ~static_cast<std::uintptr_t>(align - 1);
  cursor_ = p + bytes;
  return reinterpret_cast<void*>(p);
}

void Arena::reset() {
  if (chunks_.empty()) return;
  // Keep the largest chunk: a batch that needed it once will likely need it again.
  auto largest = std::max_element(chunks_.begin(), chunks_.end(),
                                  [](const Chunk& a, const Chunk& b) { return a.size < b.size; });
  Chunk keep = std::move(*largest);
  chunks_.clear();
  begin_ = reinterpret_cast<std::uintptr_t>(keep.data.get());
  cursor_ = begin_;
  end_ = begin_ + keep.size;
  used_before_current_ = 0;
  chunks_.push_back(std::move(keep));
}

}  // namespace sluice
