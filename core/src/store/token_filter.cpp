// SPDX-License-Identifier: Apache-2.0
/// Token hashing and the split-block Bloom filter. The hash reads a token eight bytes at a time
/// and folds case with one OR: for token bytes, `c | 0x20` maps A-Z onto a-z, leaves digits and
/// a-z alone and maps `_` to 0x7F, which no other token byte reaches.
#include "sluice/store/token_filter.hpp"

#include <algorithm>

#include "sluice/store/tokens.hpp"

namespace sluice {
namespace {

/// The eight odd salts of the Parquet split-block Bloom filter specification.
constexpr std::uint32_t salt[8] = {0x47b6137bU, 0x44974d91U, 0x8824ad5bU, 0xa2b7289dU,
                                   0x705495c7U, 0x2df1424bU, 0x9efc4947U, 0x5c6bfb31U};

/// The 64-bit finaliser of MurmurHash3: a full avalanche, so bucket and bit choices are
/// independent of how similar two tokens are.
constexpr std::uint64_t fmix64(std::uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

/// Bits per distinct token: ~0.5 % false positives for a split-block filter (Parquet spec,
/// "Sizing"). The filters of a Loghub block take under 3 % of its raw bytes at this size.
constexpr std::size_t bits_per_token = 12;

}  // namespace

std::uint64_t token_hash(std::string_view token) {
  const char* p = token.data();
  std::size_t n = token.size();
  std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = fmix64(h ^ (w | 0x2020202020202020ULL));
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    const std::uint64_t fold = 0x2020202020202020ULL >> (8 * (8 - n));
    h = fmix64(h ^ (w | fold) ^ 0xA5);
  }
  return h == 0 ? 1 : h;
}

bool TokenFilter::may_contain_hash(std::uint64_t hash) const {
  if (buckets_ == 0) return false;
  const std::uint64_t bucket = ((hash >> 32) * buckets_) >> 32;
  const std::byte* b = words_ + 4 + bucket * 32;
  const auto key = static_cast<std::uint32_t>(hash);
  for (int i = 0; i < 8; ++i) {
    std::uint32_t word;
    std::memcpy(&word, b + 4 * i, 4);
    if (!(word & (1u << ((key * salt[i]) >> 27)))) return false;
  }
  return true;
}

TokenFilterBuilder::TokenFilterBuilder() : slots_(1024, 0) {}

void TokenFilterBuilder::add_hash(std::uint64_t hash) {
  if (hash == 0) hash = 1;
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = hash & mask;
  for (;;) {
    std::uint64_t& s = slots_[i];
    if (s == hash) return;
    if (s == 0) {
      s = hash;
      if (++count_ * 2 > slots_.size()) grow();
      return;
    }
    i = (i + 1) & mask;
  }
}

void TokenFilterBuilder::add_tokens(std::string_view text) {
  for_each_token(text, [&](std::string_view t) { add_hash(token_hash(t)); });
}

void TokenFilterBuilder::grow() {
  std::vector<std::uint64_t> old(slots_.size() * 2, 0);
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  for (std::uint64_t h : old) {
    if (h == 0) continue;
    std::size_t i = h & mask;
    while (slots_[i] != 0)
      i = (i + 1) & mask;
    slots_[i] = h;
  }
}

void TokenFilterBuilder::clear() {
  // A block's table can grow large (many distinct ids); shrink back so one unusual block does
  // not make every later clear expensive.
  if (slots_.size() > 4 * std::max<std::size_t>(1024, count_ * 4))
    slots_.assign(std::max<std::size_t>(1024, count_ * 4), 0);
  else
    std::fill(slots_.begin(), slots_.end(), 0);
  count_ = 0;
}

void TokenFilterBuilder::write(std::string& out) const {
  const std::uint32_t buckets =
      static_cast<std::uint32_t>(std::max<std::size_t>(1, (count_ * bits_per_token + 255) / 256));
  const std::size_t start = out.size();
  out.resize(start + 4 + std::size_t{buckets} * 32, '\0');
  char* base = out.data() + start;
  std::memcpy(base, &buckets, 4);
  char* words = base + 4;
  for (std::uint64_t hash : slots_) {
    if (hash == 0) continue;
    const std::uint64_t bucket = ((hash >> 32) * buckets) >> 32;
    char* b = words + bucket * 32;
    const auto key = static_cast<std::uint32_t>(hash);
    for (int i = 0; i < 8; ++i) {
      std::uint32_t word;
      std::memcpy(&word, b + 4 * i, 4);
      word |= 1u << ((key * salt[i]) >> 27);
      std::memcpy(b + 4 * i, &word, 4);
    }
  }
}

}  // namespace sluice
