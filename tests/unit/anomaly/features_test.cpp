// SPDX-License-Identifier: Apache-2.0
/// Tumbling event-time windows per entity, entity keys, fixed-size batches.
#include <gtest/gtest.h>

#include "sluice/anomaly/features.hpp"

namespace sluice {
namespace {

constexpr std::int64_t s = 1'000'000'000;

TEST(WindowAggregator, TumblingWindowsPerEntity) {
  FeatureConfig config;
  config.window = std::chrono::seconds(10);
  config.lateness = std::chrono::seconds(2);
  WindowAggregator agg(config);
  agg.add("a", 100 * s, 1);
  agg.add("a", 105 * s, 1);
  agg.add("b", 101 * s, 2);
  agg.add("a", 109 * s, 3);
  agg.add("a", 110 * s, 1);  // next window
  EXPECT_EQ(agg.open_windows(), 3u);
  FeatureBatch batch(16);
  // Newest 110 s less 2 s lateness = 108 s: the [100, 110) windows are still open.
  EXPECT_EQ(agg.drain(batch), 0u);
  agg.add("b", 112 * s, 2);
  ASSERT_EQ(agg.drain(batch), 2u);
  ASSERT_EQ(batch.size(), 2u);
  const auto& a = batch.rows()[0];
  EXPECT_EQ(a.entity, "a");
  EXPECT_EQ(a.window_start_ns, 100 * s);
  EXPECT_EQ(a.window_end_ns, 110 * s);
  EXPECT_EQ(a.events, 3u);
  EXPECT_EQ(a.counts, (std::vector<std::pair<std::uint32_t, std::uint32_t>>{{1, 2}, {3, 1}}));
  EXPECT_DOUBLE_EQ(a.event_rate(), 0.3);
  EXPECT_EQ(batch.rows()[1].entity, "b");
  EXPECT_EQ(batch.rows()[1].events, 1u);
  // A late event is counted and kept: it reopens its window, which the next drain emits.
  agg.add("a", 101 * s, 5);
  EXPECT_EQ(agg.late_events(), 1u);
  batch.clear();
  ASSERT_EQ(agg.drain(batch), 1u);
  EXPECT_EQ(batch.rows()[0].counts, (std::vector<std::pair<std::uint32_t, std::uint32_t>>{{5, 1}}));
  batch.clear();
  EXPECT_EQ(agg.drain_all(batch), 2u);
  EXPECT_EQ(agg.open_windows(), 0u);
}

TEST(WindowAggregator, BatchesHaveAFixedMaximum) {
  FeatureConfig config;
  config.window = std::chrono::seconds(1);
  WindowAggregator agg(config);
  for (int e = 0; e < 10; ++e)
    agg.add(std::to_string(e), 0, 1);
  FeatureBatch batch(4);
  EXPECT_EQ(agg.drain_all(batch), 4u);
  EXPECT_TRUE(batch.full());
  EXPECT_EQ(agg.drain_all(batch), 0u);  // full: nothing more fits
  batch.clear();
  EXPECT_EQ(agg.drain_all(batch), 4u);
  batch.clear();
  EXPECT_EQ(agg.drain_all(batch), 2u);
  // Negative event times floor into their window rather than rounding toward zero.
  agg.add("n", -1, 1);
  batch.clear();
  ASSERT_EQ(agg.drain_all(batch), 1u);
  EXPECT_EQ(batch.rows()[0].window_start_ns, -s);
}

TEST(EntityKey, JoinsConfiguredFields) {
  Field fields[] = {{"user", "alice"}, {"block", "blk_1"}};
  Event e;
  e.host = "web1";
  e.app = "sshd";
  e.fields = fields;
  e.peer = PeerAddress::ipv4(0x0a000001, 514);
  std::string key;
  entity_key(e, {"host"}, key);
  EXPECT_EQ(key, "web1");
  entity_key(e, {"host", "process", "user", "source.ip", "missing"}, key);
  EXPECT_EQ(key, "web1|sshd|alice|10.0.0.1|");
}

}  // namespace
}  // namespace sluice
