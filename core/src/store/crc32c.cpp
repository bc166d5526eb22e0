// SPDX-License-Identifier: Apache-2.0
/// CRC32C: slicing-by-8 tables built at compile time, and an SSE4.2 path compiled with a
/// function-level target attribute so the rest of the build needs no `-msse4.2`.
#include "sluice/store/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace sluice {
namespace {

/// Reflected Castagnoli polynomial (RFC 3720 §12.1).
constexpr std::uint32_t polynomial = 0x82F63B78u;

constexpr std::array<std::array<std::uint32_t, 256>, 8> make_tables() {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? (c >> 1) ^ polynomial : c >> 1;
    t[0][i] = c;
  }
  for (std::uint32_t i = 0; i < 256; ++i)
    for (std::size_t s = 1; s < 8; ++s)
      t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  return t;
}

constexpr auto tables = make_tables();

std::uint32_t portable_raw(const unsigned char* p, std::size_t n, std::uint32_t c) {
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);  // little-endian host assumed (x86-64, aarch64)
    w ^= c;
    c = tables[7][w & 0xFF] ^ tables[6][(w >> 8) & 0xFF] ^ tables[5][(w >> 16) & 0xFF] ^
        tables[4][(w >> 24) & 0xFF] ^ tables[3][(w >> 32) & 0xFF] ^ tables[2][(w >> 40) & 0xFF] ^
        tables[1][(w >> 48) & 0xFF] ^ tables[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n--)
    c = (c >> 8) ^ tables[0][(c ^ *p++) & 0xFF];
  return c;
}

/// a(x) * b(x) modulo the polynomial, both reflected (zlib's multmodp).
std::uint32_t multmodp(std::uint32_t a, std::uint32_t b) {
  std::uint32_t m = 1u << 31;
  std::uint32_t p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = (b & 1) ? (b >> 1) ^ polynomial : b >> 1;
  }
  return p;
}

/// Bytes per lane of the interleaved hardware loop: three independent CRCs over consecutive
/// lanes hide the instruction's latency; the lanes are then combined by shifting.
constexpr std::size_t lane_bytes = 2048;

/// x^(8 * lane_bytes) modulo the polynomial: the register after `lane_bytes` zero bytes from x^0.
std::uint32_t lane_shift() {
  static const std::uint32_t shift = [] {
    const unsigned char zeros[256] = {};
    std::uint32_t c = 1u << 31;
    for (std::size_t done = 0; done < lane_bytes; done += sizeof zeros)
      c = portable_raw(zeros, sizeof zeros, c);
    return c;
  }();
  return shift;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t hardware_raw(const unsigned char* p, std::size_t n,
                                                             std::uint32_t c) {
  std::uint64_t c64 = c;
  if (n >= 3 * lane_bytes) {
    const std::uint32_t shift = lane_shift();
    while (n >= 3 * lane_bytes) {
      std::uint64_t c1 = 0;
      std::uint64_t c2 = 0;
      for (std::size_t i = 0; i < lane_bytes; i += 8) {
        std::uint64_t w0, w1, w2;
        std::memcpy(&w0, p + i, 8);
        std::memcpy(&w1, p + lane_bytes + i, 8);
        std::memcpy(&w2, p + 2 * lane_bytes + i, 8);
        c64 = _mm_crc32_u64(c64, w0);
        c1 = _mm_crc32_u64(c1, w1);
        c2 = _mm_crc32_u64(c2, w2);
      }
      std::uint32_t r =
          multmodp(shift, static_cast<std::uint32_t>(c64)) ^ static_cast<std::uint32_t>(c1);
      r = multmodp(shift, r) ^ static_cast<std::uint32_t>(c2);
      c64 = r;
      p += 3 * lane_bytes;
      n -= 3 * lane_bytes;
    }
  }
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    c64 = _mm_crc32_u64(c64, w);
    p += 8;
    n -= 8;
  }
  c = static_cast<std::uint32_t>(c64);
  while (n--)
    c = _mm_crc32_u8(c, *p++);
  return c;
}

bool detect_hardware() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}
#else
bool detect_hardware() {
  return false;
}
#endif

/// Decided once; a static local is initialised thread-safely.
bool use_hardware() {
  static const bool yes = detect_hardware();
  return yes;
}

}  // namespace

std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc) {
  const auto* p = static_cast<const unsigned char*>(data);
#if defined(__x86_64__)
  if (use_hardware()) return ~hardware_raw(p, size, ~crc);
#endif
  return ~portable_raw(p, size, ~crc);
}

std::uint32_t crc32c_portable(const void* data, std::size_t size, std::uint32_t crc) {
  return ~portable_raw(static_cast<const unsigned char*>(data), size, ~crc);
}

bool crc32c_uses_hardware() {
  return use_hardware();
}

}  // namespace sluice
