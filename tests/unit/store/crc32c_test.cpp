// SPDX-License-Identifier: Apache-2.0
#include "sluice/store/crc32c.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace sluice {
namespace {

// RFC 3720 appendix B.4: the iSCSI CRC32C test vectors.
TEST(Crc32c, Rfc3720Vectors) {
  std::uint8_t buf[32];
  for (auto impl : {&crc32c, &crc32c_portable}) {
    std::fill(std::begin(buf), std::end(buf), 0);
    EXPECT_EQ(impl(buf, 32, 0), 0x8A9136AAu);
    std::fill(std::begin(buf), std::end(buf), 0xFF);
    EXPECT_EQ(impl(buf, 32, 0), 0x62A8AB43u);
    for (int i = 0; i < 32; ++i)
      buf[i] = static_cast<std::uint8_t>(i);
    EXPECT_EQ(impl(buf, 32, 0), 0x46DD794Eu);
    for (int i = 0; i < 32; ++i)
      buf[i] = static_cast<std::uint8_t>(31 - i);
    EXPECT_EQ(impl(buf, 32, 0), 0x113FDB5Cu);
  }
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);  // the common "check" value
}

// Hardware and table paths agree at every length and alignment, and in pieces.
TEST(Crc32c, HardwareMatchesPortable) {
  std::mt19937 rng(42);
  std::vector<std::uint8_t> data(1000);
  for (auto& b : data)
    b = static_cast<std::uint8_t>(rng());
  for (std::size_t off = 0; off < 8; ++off)
    for (std::size_t n = 0; n + off <= data.size(); n += 37) {
      const auto whole = crc32c(data.data() + off, n);
      ASSERT_EQ(whole, crc32c_portable(data.data() + off, n)) << off << " " << n;
      const auto half = n / 2;
      ASSERT_EQ(whole, crc32c(data.data() + off + half, n - half, crc32c(data.data() + off, half)));
    }
  RecordProperty("hardware", crc32c_uses_hardware() ? "sse4.2" : "table");
}

// Long inputs take the three-lane interleaved path (lanes of 2 KiB combined by shifting): it
// must agree with the table path at lengths around every lane boundary.
TEST(Crc32c, InterleavedLanesMatchPortable) {
  std::mt19937 rng(7);
  std::vector<std::uint8_t> data(40002);
  for (auto& b : data)
    b = static_cast<std::uint8_t>(rng());
  for (std::size_t n : {6143u, 6144u, 6145u, 12288u, 12295u, 20000u, 39999u})
    for (std::size_t off = 0; off < 3; ++off)
      ASSERT_EQ(crc32c(data.data() + off, n), crc32c_portable(data.data() + off, n))
          << off << " " << n;
  EXPECT_EQ(crc32c(data.data(), 30000, crc32c(data.data() + 30000, 9000)),
            crc32c_portable(data.data(), 30000, crc32c_portable(data.data() + 30000, 9000)));
}

}  // namespace
}  // namespace sluice
