// SPDX-License-Identifier: Apache-2.0
/// `CorrelationCoalescer`: held inputs own their bytes, reach the engine in arrival order in one
/// submit, and are due when enough are held or the oldest has waited long enough; the engine
/// gives the same alerts whether inputs come coalesced or one batch at a time.
#include "sluice/correlate/coalescer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice {
namespace {

constexpr std::int64_t s = 1'000'000'000;

CorrelationSpec three_in_a_minute() {
  CorrelationSpec sp;
  sp.rule.id = "c1";
  sp.rule.title = "c1";
  sp.rule.type = CorrelationType::event_count;
  sp.rule.rules = {"a"};
  sp.rule.group_by = {"src_ip"};
  sp.rule.timespan_ns = 60 * s;
  sp.rule.condition.min = 3;
  return sp;
}

CorrelationConfig one_thread() {
  CorrelationConfig c;
  c.threads = 1;
  c.tolerance_ns = 0;
  return c;
}

TEST(CorrelationCoalescer, DueWhenFullOrOld) {
  CorrelationCoalescer c(3, 1000);
  EXPECT_FALSE(c.due(0));
  const CorrelationInput in{1, 0, 0, "k", "", EventRef::line(0, 1)};
  c.add(in, 100);
  EXPECT_EQ(c.oldest_ns(), 100);
  c.add(in, 200);
  EXPECT_FALSE(c.due(1099));
  EXPECT_TRUE(c.due(1100));  // the oldest waited 1000 ns
  c.add(in, 300);
  EXPECT_TRUE(c.due(300));  // 3 held
}

TEST(CorrelationCoalescer, HeldInputsOwnTheirBytesAndKeepTheirOrder) {
  CorrelationEngine coalesced({three_in_a_minute()}, one_thread());
  CorrelationEngine direct({three_in_a_minute()}, one_thread());
  CorrelationCoalescer c;
  std::vector<CorrelationAlert> a, b;
  for (int batch = 0; batch < 4; ++batch) {
    std::vector<CorrelationInput> inputs;
    std::vector<std::string> keys;  // gone after this batch, as a pipeline batch's bytes are
    for (int i = 0; i < 5; ++i)
      keys.push_back("10.0.0." + std::to_string((batch + i) % 3));
    for (int i = 0; i < 5; ++i)
      inputs.push_back({(batch * 5 + i) * s, 0, 0, keys[static_cast<std::size_t>(i)], "",
                        EventRef::line(0, static_cast<std::uint64_t>(batch * 5 + i + 1))});
    direct.submit(inputs, b);
    for (const auto& in : inputs)
      c.add(in, batch);
    for (auto& k : keys)
      k.assign("xxxxxxxxxx");  // overwrite: held inputs must not look at these bytes
  }
  EXPECT_EQ(c.size(), 20u);
  c.submit(coalesced, a);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.submits(), 1u);
  EXPECT_EQ(c.submitted(), 20u);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_FALSE(a.empty());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key, b[i].key);
    EXPECT_EQ(a[i].first_ns, b[i].first_ns);
    EXPECT_EQ(a[i].last_ns, b[i].last_ns);
    ASSERT_EQ(a[i].refs.size(), b[i].refs.size());
    for (std::size_t r = 0; r < a[i].refs.size(); ++r)
      EXPECT_EQ(a[i].refs[r], b[i].refs[r]);
  }
}

}  // namespace
}  // namespace sluice
