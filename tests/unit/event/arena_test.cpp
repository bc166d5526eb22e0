// SPDX-License-Identifier: Apache-2.0
#include "sluice/event/arena.hpp"

#include <gtest/gtest.h>

#include <cstdint>

#include "sluice/event/event_batch.hpp"

namespace sluice {
namespace {

TEST(Arena, AllocationsAreAlignedAndDisjoint) {
  Arena arena(256);
  std::vector<std::pair<std::uintptr_t, std::size_t>> spans;
  for (std::size_t i = 1; i < 200; ++i) {
    const std::size_t align = std::size_t{1} << (i % 5);
    auto* p = arena.allocate(i, align);
    const auto at = reinterpret_cast<std::uintptr_t>(p);
    EXPECT_EQ(at % align, 0u);
    std::memset(p, static_cast<int>(i), i);
    spans.emplace_back(at, i);
  }
  for (std::size_t i = 0; i < spans.size(); ++i) {
    auto* p = reinterpret_cast<unsigned char*>(spans[i].first);
    for (std::size_t k = 0; k < spans[i].second; ++k)
      ASSERT_EQ(p[k], (i + 1) & 0xff);
  }
}

TEST(Arena, OversizedAllocationGetsItsOwnChunk) {
  Arena arena(64);
  auto* big = static_cast<char*>(arena.allocate(10000, 1));
  std::memset(big, 'x', 10000);
  EXPECT_GE(arena.used_bytes(), 10000u);
}

TEST(Arena, ResetReusesMemory) {
  Arena arena(1024);
  auto* first = arena.allocate(100, 8);
  arena.reset();
  EXPECT_EQ(arena.used_bytes(), 0u);
  auto* again = arena.allocate(100, 8);
  EXPECT_EQ(first, again) << "after reset the kept chunk is reused";
}

TEST(Arena, CopyKeepsBytes) {
  Arena arena;
  std::string s = "hello\0world";
  auto v = arena.copy(std::string_view(s.data(), 11));
  EXPECT_EQ(v, std::string_view(s.data(), 11));
  EXPECT_NE(v.data(), s.data());
  EXPECT_TRUE(arena.copy({}).empty());
}

TEST(EventBatch, RecordsViewArenaCopies) {
  EventBatch batch(7, 4);
  std::string line = "<13>Jan  1 00:00:00 host app: hi";
  auto& e = batch.add_record(line, 123);
  line[0] = 'X';
  EXPECT_EQ(e.raw.substr(0, 4), "<13>");
  EXPECT_EQ(e.listener_id, 7u);
  EXPECT_EQ(e.receive_time_ns, 123);
  for (int i = 0; i < 100; ++i)
    batch.add_record("more", 1);
  EXPECT_EQ(batch.size(), 101u);
  EXPECT_EQ(batch.events()[0].raw.substr(0, 4), "<13>");
  batch.clear();
  EXPECT_TRUE(batch.empty());
}

}  // namespace
}  // namespace sluice
