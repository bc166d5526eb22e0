// SPDX-License-Identifier: Apache-2.0
#include "sluice/blast/token_bucket.hpp"

#include <gtest/gtest.h>

namespace sluice::blast {
namespace {

using namespace std::chrono_literals;
using Clock = TokenBucket::Clock;

TEST(TokenBucket, UnlimitedNeverWaits) {
  const auto t0 = Clock::time_point{};
  TokenBucket bucket(0, 64, t0);
  EXPECT_EQ(bucket.take(1e9, t0), 0ns);
}

TEST(TokenBucket, StartsFullThenAsksToWait) {
  const auto t0 = Clock::time_point{};
  TokenBucket bucket(1000, 10, t0);
  EXPECT_EQ(bucket.take(10, t0), 0ns);
  // 10 more tokens at 1000/s take 10 ms.
  EXPECT_EQ(bucket.take(10, t0), 10ms);
}

TEST(TokenBucket, RefillsWithTimeUpToTheBurst) {
  const auto t0 = Clock::time_point{};
  TokenBucket bucket(1000, 10, t0);
  EXPECT_EQ(bucket.take(10, t0), 0ns);
  EXPECT_EQ(bucket.take(5, t0 + 5ms), 0ns);
  // An hour idle refills only up to the burst.
  EXPECT_EQ(bucket.take(10, t0 + 1h), 0ns);
  EXPECT_EQ(bucket.take(1, t0 + 1h), 1ms);
}

TEST(TokenBucket, DebtKeepsTheLongRunRateExact) {
  // A sender that always sleeps 20 % too long still averages the configured rate, because the
  // bucket counts the oversleep as refill.
  const auto t0 = Clock::time_point{};
  TokenBucket bucket(10000, 100, t0);
  auto now = t0;
  for (int batch = 0; batch < 1000; ++batch) {
    const auto wait = bucket.take(100, now);
    now += wait + wait / 5;
  }
  // 100000 messages at 10000/s: 10 s, minus the initial burst of 100 (10 ms).
  const auto elapsed = std::chrono::duration<double>(now - t0).count();
  EXPECT_NEAR(elapsed, 9.99, 0.05);
}

}  // namespace
}  // namespace sluice::blast
