// SPDX-License-Identifier: Apache-2.0
/// Token hashing and the split-block Bloom filter. The hash reads a token up to eight bytes at a
/// time and folds case with one OR: for token bytes, `c | 0x20` maps A-Z onto a-z, leaves digits
/// and a-z alone and maps `_` to 0x7F, which no other token byte reaches.
#include "sluice/store/token_filter.hpp"

#include <algorithm>
#include <array>
#include <bit>

#include "sluice/store/tokens.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice {
namespace {

/// The eight odd salts of the Parquet split-block Bloom filter specification.
constexpr std::uint32_t salt[8] = {0x47b6137bU, 0x44974d91U, 0x8824ad5bU, 0xa2b7289dU,
                                   0x705495c7U, 0x2df1424bU, 0x9efc4947U, 0x5c6bfb31U};

/// 64 x 64 -> 128-bit multiply folded to 64 bits (the "mum" step of wyhash): one multiply
/// mixes every input bit into the middle output bits, and the fold spreads them.
inline std::uint64_t mum(std::uint64_t a, std::uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

constexpr std::uint64_t k0 = 0xa0761d6478bd642fULL;  // wyhash's secret constants
constexpr std::uint64_t k1 = 0xe7037ed1a0b428dbULL;
constexpr std::uint64_t k2 = 0x8ebc6af09c88c6e3ULL;
constexpr std::uint64_t fold8 = 0x2020202020202020ULL;
constexpr std::uint32_t fold4 = 0x20202020U;

inline std::uint64_t load64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline std::uint64_t load32(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

/// The token hash. Never reads outside [p, p + n). Loads overlap for lengths that are not a
/// multiple of 8 (the length is mixed in, so overlapping loads cannot make two tokens collide
/// systematically), as wyhash does. Every byte is ORed with 0x20 before mixing: the case fold.
inline std::uint64_t hash_token(const unsigned char* p, std::size_t n) {
  std::uint64_t h = k0 ^ n;
  if (n <= 8) {
    std::uint64_t w;
    if (n >= 4)
      w = ((load32(p) | fold4) << 32) | (load32(p + n - 4) | fold4);
    else if (n > 0)
      w = (std::uint64_t{p[0] | 0x20u} << 16) | (std::uint64_t{p[n >> 1] | 0x20u} << 8) |
          std::uint64_t{p[n - 1] | 0x20u};
    else
      w = 0;
    h = mum(h ^ w, k1);
  } else {
    std::size_t i = 0;
    for (; i + 8 < n; i += 8)
      h = mum(h ^ (load64(p + i) | fold8), k1);
    h = mum(h ^ (load64(p + n - 8) | fold8), k2);
  }
  h = mum(h, k2 ^ k0);
  return h == 0 ? 1 : h;
}

/// [A-Za-z0-9_] as a table (tokens.hpp's `is_token_byte`), for the tokenising loop.
constexpr auto token_table = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[c] = is_token_byte(static_cast<unsigned char>(c));
  return t;
}();

/// Bits per distinct token: ~0.5 % false positives for a split-block filter (Parquet spec,
/// "Sizing"). The filters of a Loghub block take under 3 % of its raw bytes at this size.
constexpr std::size_t bits_per_token = 12;

}  // namespace

std::uint64_t token_hash(std::string_view token) {
  return hash_token(reinterpret_cast<const unsigned char*>(token.data()), token.size());
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

#if defined(__SSE2__)
/// Bit i set when byte i of the 64 at `p` is a token byte: [A-Za-z0-9_]. Signed byte compares
/// are safe: every token byte is below 0x80, and bytes from 0x80 up compare as negative.
std::uint64_t token_mask64(const unsigned char* p) {
  std::uint64_t m = 0;
  for (int k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    const __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
    const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)),
                                         _mm_cmplt_epi8(lower, _mm_set1_epi8('z' + 1)));
    const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                        _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
    const __m128i under = _mm_cmpeq_epi8(v, _mm_set1_epi8('_'));
    const __m128i t = _mm_or_si128(_mm_or_si128(letter, digit), under);
    m |= std::uint64_t{static_cast<std::uint32_t>(_mm_movemask_epi8(t))} << (16 * k);
  }
  return m;
}
#endif

void TokenFilterBuilder::add_tokens(std::string_view text) {
  // Hashes are gathered first and their table slots prefetched, then inserted: a block's table
  // (tens of thousands of distinct tokens) does not fit in L1/L2, and overlapping the misses
  // took a quarter off sealing time on the Loghub corpus.
  constexpr std::size_t batch = 32;
  std::uint64_t hashes[batch];
  std::size_t pending = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  auto emit = [&](std::size_t begin, std::size_t end) {
    const std::uint64_t h = hash_token(p + begin, end - begin);
    __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
    hashes[pending++] = h;
    if (pending == batch) {
      for (std::size_t i = 0; i < pending; ++i)
        add_hash(hashes[i]);
      pending = 0;
    }
  };
#if defined(__SSE2__)
  // 64 bytes at a time: a mask of token bytes, then its 0->1 (start) and 1->0 (end)
  // transitions, visited in order. Byte loops took a third of the tokenising time before.
  bool in_token = false;
  std::size_t start = 0;
  for (std::size_t base = 0; base < n; base += 64) {
    const std::size_t len = std::min<std::size_t>(64, n - base);
    std::uint64_t m;
    if (len == 64) {
      m = token_mask64(p + base);
    } else {
      // Zero padding is not a token byte, so a token running to the end gets its end here.
      alignas(16) unsigned char tail[64] = {};
      std::memcpy(tail, p + base, len);
      m = token_mask64(tail);
    }
    const std::uint64_t before = (m << 1) | (in_token ? 1 : 0);
    const std::uint64_t starts = m & ~before;
    std::uint64_t edges = starts | (~m & before);
    while (edges != 0) {
      const int i = std::countr_zero(edges);
      edges &= edges - 1;
      if ((starts >> i) & 1)
        start = base + static_cast<std::size_t>(i);
      else
        emit(start, base + static_cast<std::size_t>(i));
    }
    in_token = (m >> 63) & 1;
  }
  if (in_token) emit(start, n);
#else
  std::size_t i = 0;
  while (i < n) {
    while (i < n && !token_table[p[i]])
      ++i;
    const std::size_t begin = i;
    while (i < n && token_table[p[i]])
      ++i;
    if (i > begin) emit(begin, i);
  }
#endif
  for (std::size_t i = 0; i < pending; ++i)
    add_hash(hashes[i]);
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
  // not make every later clear expensive. The size stays a power of two (the probe masks).
  const std::size_t keep = std::bit_ceil(std::max<std::size_t>(1024, count_ * 4));
  if (slots_.size() > 4 * keep)
    slots_.assign(keep, 0);
  else
    std::fill(slots_.begin(), slots_.end(), 0);
  count_ = 0;
}

void TokenFilterBuilder::add_to(TokenFilterBuilder& other) const {
  // As in `add_tokens`: prefetch the target slots of a batch, then insert (a segment's table is
  // far larger than a block's and mostly misses the cache).
  constexpr std::size_t batch = 32;
  std::uint64_t hashes[batch];
  std::size_t pending = 0;
  for (std::uint64_t hash : slots_) {
    if (hash == 0) continue;
    __builtin_prefetch(&other.slots_[hash & (other.slots_.size() - 1)]);
    hashes[pending++] = hash;
    if (pending == batch) {
      for (std::size_t i = 0; i < pending; ++i)
        other.add_hash(hashes[i]);
      pending = 0;
    }
  }
  for (std::size_t i = 0; i < pending; ++i)
    other.add_hash(hashes[i]);
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
