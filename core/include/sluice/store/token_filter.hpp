// SPDX-License-Identifier: Apache-2.0
/// The token filter of a sealed block: a split-block Bloom filter (the layout Apache Parquet
/// specifies for its column filters) over the case-folded hashes of every token (tokens.hpp) the
/// block's events contain. `may_contain` never says no for a token that is there; it says yes
/// for an absent token with a probability of about 0.5 % at the 12 bits per distinct token the
/// builder allots.
///
/// Layout (little-endian): u32 number of 32-byte buckets B (B >= 1), then B buckets of eight u32
/// words. A hash h picks bucket `((h >> 32) * B) >> 32` and sets one bit in each of its eight
/// words: bit `(u32(h) * salt[i]) >> 27` of word i. The hash is `token_hash` below; changing
/// either is a segment format change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

/// 64-bit hash of a token, ASCII case-folded (so "Failed" and "FAILED" hash alike). `token` must
/// be a token (only [A-Za-z0-9_] bytes); other bytes are hashed as they are, ORed with 0x20.
/// Thread-safe, does not allocate.
std::uint64_t token_hash(std::string_view token);

/// Read-only view of a filter's bytes (inside a segment mapping). Cheap to copy; valid while the
/// bytes are. An empty (default) filter contains nothing.
class TokenFilter {
 public:
  TokenFilter() = default;
  /// Views the filter whose layout (the u32 bucket count, then the buckets) starts at `filter`;
  /// `buckets` is that count, already checked against the bytes available.
  TokenFilter(const std::byte* filter, std::uint32_t buckets) : words_(filter), buckets_(buckets) {}

  /// False only when `token` (any case) is certainly absent. Does not allocate.
  bool may_contain(std::string_view token) const { return may_contain_hash(token_hash(token)); }
  /// As `may_contain`, with the hash computed once by the caller (one term, many blocks).
  bool may_contain_hash(std::uint64_t hash) const;
  /// Buckets (of 32 bytes) in the filter.
  std::uint32_t buckets() const { return buckets_; }

 private:
  const std::byte* words_ = nullptr;
  std::uint32_t buckets_ = 0;
};

/// Collects the distinct token hashes of one block and writes its filter. Not thread-safe;
/// reuse one per writer (it keeps its memory between blocks).
class TokenFilterBuilder {
 public:
  TokenFilterBuilder();
  /// Adds every token of `text`.
  void add_tokens(std::string_view text);
  /// Adds one hash (from `token_hash`).
  void add_hash(std::uint64_t hash);
  /// Adds every distinct hash collected here to `other` (a segment's filter gathers those of its
  /// blocks). `other` must be another builder.
  void add_to(TokenFilterBuilder& other) const;
  /// Distinct hashes added since the last `clear`.
  std::size_t distinct() const { return count_; }
  /// Appends the filter (layout above) to `out`: 12 bits per distinct hash, at least one bucket.
  void write(std::string& out) const;
  /// Forgets every hash; keeps the memory.
  void clear();

 private:
  void grow();
  std::vector<std::uint64_t> slots_;  // open addressing; 0 = empty (a zero hash is stored as 1)
  std::size_t count_ = 0;
};

}  // namespace sluice
