// SPDX-License-Identifier: Apache-2.0
#include "sluice/ring/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace sluice {
namespace {

TEST(SpscRing, PopFromEmptyFails) {
  SpscRing<int> ring(4);
  int out = -1;
  EXPECT_FALSE(ring.try_pop(out));
  EXPECT_EQ(out, -1);
}

TEST(SpscRing, PushUntilFullThenFails) {
  SpscRing<int> ring(4);
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(ring.try_push(i));
  int extra = 99;
  EXPECT_FALSE(ring.try_push(extra));
  EXPECT_EQ(extra, 99) << "a failed push must leave the item with the caller";
  int out = 0;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(ring.try_pop(out));
    EXPECT_EQ(out, i);
  }
  EXPECT_FALSE(ring.try_pop(out));
}

TEST(SpscRing, FailedPushKeepsOwnership) {
  SpscRing<std::unique_ptr<int>> ring(2);
  ASSERT_TRUE(ring.try_push(std::make_unique<int>(1)));
  ASSERT_TRUE(ring.try_push(std::make_unique<int>(2)));
  auto third = std::make_unique<int>(3);
  EXPECT_FALSE(ring.try_push(third));
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(*third, 3);
}

TEST(SpscRing, DestructorReleasesQueuedItems) {
  auto tracker = std::make_shared<int>(0);
  {
    SpscRing<std::shared_ptr<int>> ring(8);
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(ring.try_push(std::shared_ptr<int>(tracker)));
    EXPECT_EQ(tracker.use_count(), 6);
  }
  EXPECT_EQ(tracker.use_count(), 1);
}

TEST(SpscRing, BatchedPushAndPopWrapAround) {
  SpscRing<int> ring(8);
  std::vector<int> in(6), out(8);
  int next = 0, expect = 0;
  for (int round = 0; round < 100; ++round) {
    for (auto& v : in)
      v = next++;
    auto pushed = ring.try_push_n(in);
    next -= static_cast<int>(in.size() - pushed);
    auto popped = ring.try_pop_n(out);
    for (std::size_t i = 0; i < popped; ++i)
      EXPECT_EQ(out[i], expect++);
  }
}

// Differential check against std::deque with a seeded random mix of operations.
TEST(SpscRing, MatchesDequeOnRandomOperations) {
  SpscRing<int> ring(16);
  std::deque<int> model;
  std::mt19937 rng(42);
  int next = 0;
  for (int step = 0; step < 100000; ++step) {
    if (rng() % 2 == 0) {
      int v = next;
      const bool ok = ring.try_push(v);
      EXPECT_EQ(ok, model.size() < 16);
      if (ok) {
        model.push_back(next);
        ++next;
      }
    } else {
      int v = -1;
      const bool ok = ring.try_pop(v);
      ASSERT_EQ(ok, !model.empty());
      if (ok) {
        EXPECT_EQ(v, model.front());
        model.pop_front();
      }
    }
  }
}

// Stress: two threads, small ring, tens of millions of items; every item arrives once, in order.
TEST(SpscRing, TwoThreadStressKeepsOrder) {
  constexpr std::uint64_t total = 5'000'000;
  for (std::size_t capacity : {2u, 64u, 1024u}) {
    SpscRing<std::uint64_t> ring(capacity);
    std::thread producer([&] {
      std::uint64_t buf[32];
      std::uint64_t i = 0;
      while (i < total) {
        const auto n = std::min<std::uint64_t>(1 + (i % 32), total - i);
        for (std::uint64_t k = 0; k < n; ++k)
          buf[k] = i + k;
        std::size_t sent = 0;
        while (sent < n)
          sent += ring.try_push_n(std::span(buf + sent, n - sent));
        i += n;
      }
    });
    std::uint64_t expect = 0;
    std::uint64_t buf[17];
    bool in_order = true;
    while (expect < total) {
      const auto n = ring.try_pop_n(buf);
      for (std::size_t k = 0; k < n; ++k)
        in_order &= (buf[k] == expect++);
    }
    producer.join();
    EXPECT_TRUE(in_order) << "capacity " << capacity;
    std::uint64_t leftover;
    EXPECT_FALSE(ring.try_pop(leftover));
  }
}

}  // namespace
}  // namespace sluice
