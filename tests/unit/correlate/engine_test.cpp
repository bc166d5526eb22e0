// SPDX-License-Identifier: Apache-2.0
/// Event-time tests of `CorrelationEngine`: window edges (exactly `timespan` in, 1 ns over out),
/// out-of-order arrival inside and beyond the tolerance, multi-field group-by, eviction under the
/// cap, restart from a snapshot, and identical alerts from 1 and N threads, for every type
/// (the metric types value_sum, value_avg and value_percentile included).
#include "sluice/correlate/engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "tests_support.hpp"

namespace sluice {
namespace {

constexpr std::int64_t s = 1'000'000'000;

/// prefix + number (not `"v" + std::to_string(n)`: GCC 12 warns falsely on that, -Wrestrict).
std::string name(const char* prefix, std::uint64_t n) {
  std::string out(prefix);
  out += std::to_string(n);
  return out;
}

CorrelationSpec spec(CorrelationType type, std::vector<std::string> rules, std::int64_t timespan,
                     CountCondition cond, std::string id = "c1") {
  CorrelationSpec sp;
  sp.rule.id = std::move(id);
  sp.rule.title = sp.rule.id;
  sp.rule.type = type;
  sp.rule.rules = std::move(rules);
  sp.rule.group_by = {"src_ip"};
  sp.rule.timespan_ns = timespan;
  sp.rule.condition = cond;
  return sp;
}

CountCondition gte(std::uint64_t n) {
  CountCondition c;
  c.min = n;
  return c;
}

/// A metric correlation on field "v" with a real-number condition.
CorrelationSpec metric(CorrelationType type, std::int64_t timespan, ValueCondition cond,
                       std::string id = "m1") {
  auto sp = spec(type, {"a"}, timespan, CountCondition{}, std::move(id));
  sp.rule.value_field = "v";
  sp.rule.value_condition = cond;
  return sp;
}

ValueCondition above(double x, bool inclusive = false) {
  ValueCondition c;
  c.min = x;
  c.min_inclusive = inclusive;
  return c;
}

ValueCondition at_most(double x) {
  ValueCondition c;
  c.max = x;
  return c;
}

CorrelationConfig config(std::size_t threads = 1, std::int64_t tolerance = 0) {
  CorrelationConfig c;
  c.threads = threads;
  c.tolerance_ns = tolerance;
  return c;
}

struct In {
  std::int64_t t;
  std::string key;
  std::uint16_t step = 0;
  std::string value = {};
  std::uint32_t corr = 0;
  std::uint64_t id = 0;  ///< the event's identity (its reference); 0 = its position
};

std::vector<CorrelationAlert> feed(CorrelationEngine& e, const std::vector<In>& ins,
                                   bool finish = true, std::size_t chunk = 1) {
  std::vector<CorrelationAlert> out;
  for (std::size_t i = 0; i < ins.size(); i += chunk) {
    std::vector<CorrelationInput> batch;
    for (std::size_t j = i; j < std::min(ins.size(), i + chunk); ++j) {
      const auto& x = ins[j];
      batch.push_back(
          {x.t, x.corr, x.step, x.key, x.value, EventRef::line(0, x.id ? x.id : j + 1)});
    }
    e.submit(batch, out);
  }
  if (finish) e.finish(out);
  return out;
}

std::string describe(const std::vector<CorrelationAlert>& alerts) {
  std::string out;
  for (const auto& a : alerts) {
    out += std::to_string(a.correlation) + ":" + a.key + "@" + std::to_string(a.first_ns) + "-" +
           std::to_string(a.last_ns) + "#" + std::to_string(a.count) +
           (a.value != 0 ? "=" + std::to_string(a.value) : "") + "[";
    for (auto r : a.refs)
      out += std::to_string(r.line_number()) + ",";
    out += "] ";
  }
  return out;
}

/// Where two long descriptions part, with some context (the whole strings are too long to read).
std::string first_difference(const std::string& want, const std::string& got) {
  std::size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i])
    ++i;
  const std::size_t from = i > 80 ? i - 80 : 0;
  return "at " + std::to_string(i) + ": want '" + want.substr(from, 200) + "' got '" +
         got.substr(from, 200) + "'";
}

TEST(CorrelationEngine, EventCountWindowIncludesExactlyTimespan) {
  CorrelationEngine e({spec(CorrelationType::event_count, {"a"}, 10 * s, gte(3))}, config());
  // 0, 5 s and 10 s: the first and last are exactly 10 s apart -> inside one window.
  auto alerts = feed(e, {{0, "k"}, {5 * s, "k"}, {10 * s, "k"}});
  ASSERT_EQ(alerts.size(), 1u) << describe(alerts);
  EXPECT_EQ(alerts[0].count, 3u);
  EXPECT_EQ(alerts[0].first_ns, 0);
  EXPECT_EQ(alerts[0].last_ns, 10 * s);
  ASSERT_EQ(alerts[0].refs.size(), 3u);
  EXPECT_EQ(alerts[0].refs[0].line_number(), 1u);
  EXPECT_EQ(alerts[0].refs[2].line_number(), 3u);
}

TEST(CorrelationEngine, EventCountOneNanosecondOverIsOutside) {
  CorrelationEngine e({spec(CorrelationType::event_count, {"a"}, 10 * s, gte(3))}, config());
  auto alerts = feed(e, {{0, "k"}, {5 * s, "k"}, {10 * s + 1, "k"}});
  EXPECT_TRUE(alerts.empty()) << describe(alerts);
  // The window slides: one more event at 12 s sees 5 s, 10 s + 1 and 12 s.
  std::vector<CorrelationAlert> more;
  std::vector<CorrelationInput> in{{12 * s, 0, 0, "k", "", EventRef::line(0, 4)}};
  CorrelationEngine e2({spec(CorrelationType::event_count, {"a"}, 10 * s, gte(3))}, config());
  auto alerts2 = feed(e2, {{0, "k"}, {5 * s, "k"}, {10 * s + 1, "k"}, {12 * s, "k"}});
  ASSERT_EQ(alerts2.size(), 1u) << describe(alerts2);
  EXPECT_EQ(alerts2[0].first_ns, 5 * s);
}

TEST(CorrelationEngine, EventCountStartsOverAfterAnAlert) {
  CorrelationEngine e({spec(CorrelationType::event_count, {"a"}, 60 * s, gte(2))}, config());
  auto alerts = feed(e, {{1 * s, "k"}, {2 * s, "k"}, {3 * s, "k"}, {4 * s, "k"}, {5 * s, "k"}});
  EXPECT_EQ(alerts.size(), 2u) << describe(alerts);
}

TEST(CorrelationEngine, GroupsAreSeparateOnEveryGroupByField) {
  auto sp = spec(CorrelationType::event_count, {"a"}, 60 * s, gte(2));
  sp.rule.group_by = {"src_ip", "user"};
  CorrelationEngine e({sp}, config());
  const std::string sep(1, group_key_separator);
  auto alerts = feed(e, {{1 * s, "10.0.0.1" + sep + "root"},
                         {2 * s, "10.0.0.1" + sep + "admin"},
                         {3 * s, "10.0.0.2" + sep + "root"},
                         {4 * s, "10.0.0.1" + sep + "root"}});
  ASSERT_EQ(alerts.size(), 1u) << describe(alerts);
  EXPECT_EQ(alerts[0].key, "10.0.0.1" + sep + "root");
}

TEST(CorrelationEngine, OutOfOrderInsideToleranceEqualsSorted) {
  const std::vector<In> sorted = {{1 * s, "k", 0, "", 0, 1},  {2 * s, "k", 0, "", 0, 2},
                                  {3 * s, "k", 0, "", 0, 3},  {20 * s, "k", 0, "", 0, 4},
                                  {21 * s, "k", 0, "", 0, 5}, {22 * s, "k", 0, "", 0, 6},
                                  {40 * s, "j", 0, "", 0, 7}};
  const std::vector<In> shuffled = {sorted[1], sorted[0], sorted[2], sorted[4],
                                    sorted[3], sorted[6], sorted[5]};
  auto sp = spec(CorrelationType::event_count, {"a"}, 5 * s, gte(3));
  CorrelationEngine a({sp}, config(1, 20 * s));
  CorrelationEngine b({sp}, config(1, 20 * s));
  const auto want = describe(feed(a, sorted));
  const auto got = describe(feed(b, shuffled));
  EXPECT_EQ(want, got);
  EXPECT_EQ(b.stats().late, 0u);
}

TEST(CorrelationEngine, OutOfOrderBeyondToleranceIsLateAndCounted) {
  auto sp = spec(CorrelationType::event_count, {"a"}, 60 * s, gte(3));
  CorrelationEngine e({sp}, config(1, 5 * s));
  // 100 s moves the watermark to 95 s; 10 s and 20 s are then older than it.
  auto alerts = feed(e, {{100 * s, "k"}, {10 * s, "k"}, {20 * s, "k"}, {96 * s, "k"}});
  EXPECT_TRUE(alerts.empty()) << describe(alerts);
  const auto st = e.stats();
  EXPECT_EQ(st.late, 2u);
  EXPECT_EQ(st.inputs, 4u);
  EXPECT_EQ(st.applied, 2u);
}

TEST(CorrelationEngine, DrainAppliesWhatWaitsForTheWatermark) {
  CorrelationEngine e({spec(CorrelationType::event_count, {"a"}, 60 * s, gte(2))},
                      config(1, 10 * s));
  auto alerts = feed(e, {{1 * s, "k"}, {2 * s, "k"}}, false);
  EXPECT_TRUE(alerts.empty());  // both wait: the watermark is at -8 s
  EXPECT_EQ(e.stats().pending, 2u);
  e.drain(alerts);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(e.stats().pending, 0u);
  // Anything older than what was drained is late now.
  feed(e, {{1 * s + 5, "k"}}, false);
  EXPECT_EQ(e.stats().late, 1u);
}

TEST(CorrelationEngine, ValueCountCountsDistinctValuesInTheWindow) {
  auto sp = spec(CorrelationType::value_count, {"a"}, 10 * s, gte(3));
  CorrelationEngine e({sp}, config());
  auto alerts = feed(e, {{0, "src", 0, "alice"},
                         {1 * s, "src", 0, "alice"},
                         {2 * s, "src", 0, "bob"},
                         {11 * s + 1, "src", 0, "carol"},  // alice (1 s) is out: 2 values
                         {12 * s, "src", 0, "dave"}});     // bob exactly 10 s before: 3 values
  ASSERT_EQ(alerts.size(), 1u) << describe(alerts);
  EXPECT_EQ(alerts[0].count, 3u);
  EXPECT_EQ(alerts[0].first_ns, 2 * s);
}

TEST(CorrelationEngine, TemporalNeedsEveryRuleWithinTheWindow) {
  auto sp = spec(CorrelationType::temporal, {"a", "b", "c"}, 10 * s, gte(3));
  CorrelationEngine e({sp}, config());
  auto alerts = feed(e, {{0, "h", 2},
                         {5 * s, "h", 0},
                         {10 * s + 1, "h", 1},  // c too old
                         {11 * s, "h", 2}});
  ASSERT_EQ(alerts.size(), 1u) << describe(alerts);
  EXPECT_EQ(alerts[0].first_ns, 5 * s);
  EXPECT_EQ(alerts[0].count, 3u);
}

TEST(CorrelationEngine, TemporalOrderedNeedsTheOrder) {
  auto sp = spec(CorrelationType::temporal_ordered, {"fail", "success"}, 10 * s, gte(2));
  CorrelationEngine e({sp}, config());
  // success before fail: no alert; then fail, success 10 s later (exact edge): alert.
  auto alerts = feed(e, {{0, "u", 1}, {1 * s, "u", 0}, {11 * s, "u", 1}});
  ASSERT_EQ(alerts.size(), 1u) << describe(alerts);
  EXPECT_EQ(alerts[0].first_ns, 1 * s);
  EXPECT_EQ(alerts[0].last_ns, 11 * s);
  CorrelationEngine late({sp}, config());
  EXPECT_TRUE(feed(late, {{0, "u", 0}, {10 * s + 1, "u", 1}}).empty());
  CorrelationEngine same({sp}, config(1, 5 * s));
  // Equal event times count as in order, whatever the arrival order.
  EXPECT_EQ(feed(same, {{3 * s, "u", 1}, {3 * s, "u", 0}}).size(), 1u);
}

TEST(CorrelationEngine, UpperBoundConditionsAreDecidedWhenTheWindowCloses) {
  CountCondition range;
  range.min = 2;
  range.max = 3;
  auto sp = spec(CorrelationType::event_count, {"a"}, 10 * s, range);
  CorrelationEngine e({sp}, config());
  // Window [0, 10 s] of "a" holds 2 events (alert); "b" holds 4 (no alert); the event at
  // 10 s + 1 opens a new window for "a" that holds 1 event at the end (no alert).
  auto alerts = feed(e,
                     {{0, "a"},
                      {10 * s, "a"},
                      {1 * s, "b"},
                      {2 * s, "b"},
                      {3 * s, "b"},
                      {4 * s, "b"},
                      {10 * s + 1, "a"}},
                     true);
  ASSERT_EQ(alerts.size(), 1u) << describe(alerts);
  EXPECT_EQ(alerts[0].key, "a");
  EXPECT_EQ(alerts[0].count, 2u);
}

TEST(CorrelationEngine, ChainedCorrelationsConsumeUpstreamAlerts) {
  // many failures (event_count >= 3 per user) followed by a success of that user
  // (temporal_ordered).
  auto fails = spec(CorrelationType::event_count, {"failed"}, 60 * s, gte(3), "many_failed");
  fails.rule.group_by = {"user"};
  auto chain = spec(CorrelationType::temporal_ordered, {"many_failed", "success"}, 120 * s, gte(2),
                    "then_success");
  chain.rule.group_by = {"user"};
  chain.level = 1;
  fails.consumers.push_back(CorrelationLink{1, 0, {0}, -1});
  CorrelationEngine e({fails, chain}, config(2));
  auto alerts = feed(e, {{1 * s, "bob", 0, "", 0},
                         {2 * s, "bob", 0, "", 0},
                         {3 * s, "bob", 0, "", 0},
                         {4 * s, "bob", 1, "", 1},
                         {5 * s, "eve", 1, "", 1}});
  ASSERT_EQ(alerts.size(), 2u) << describe(alerts);
  EXPECT_EQ(alerts[0].correlation, 0u);
  EXPECT_EQ(alerts[1].correlation, 1u);
  EXPECT_EQ(alerts[1].key, "bob");
  EXPECT_EQ(alerts[1].first_ns, 3 * s);
}

TEST(CorrelationEngine, EvictsTheOldestGroupUnderTheCapAndCountsIt) {
  auto sp = spec(CorrelationType::event_count, {"a"}, 3600 * s, gte(2));
  auto cfg = config();
  cfg.shards = 1;
  cfg.max_groups = 2;
  CorrelationEngine e({sp}, cfg);
  // a, b, c: c evicts a (the least recently updated); a's second event then starts over.
  auto alerts = feed(e, {{1 * s, "a"}, {2 * s, "b"}, {3 * s, "c"}, {4 * s, "a"}, {5 * s, "c"}});
  ASSERT_EQ(alerts.size(), 1u) << describe(alerts);
  EXPECT_EQ(alerts[0].key, "c");
  const auto st = e.stats();
  EXPECT_EQ(st.evicted, 2u);  // a (by c), then b (by a's return)
  EXPECT_EQ(st.groups, 2u);
}

TEST(CorrelationEngine, ExpiredGroupsAreRemovedNotEvicted) {
  auto sp = spec(CorrelationType::event_count, {"a"}, 10 * s, gte(5));
  auto cfg = config();
  cfg.shards = 1;  // expiry is lazy per shard: it runs when an input reaches the shard
  CorrelationEngine e({sp}, cfg);
  feed(e, {{0, "a"}, {1 * s, "b"}, {100 * s, "c"}}, false);
  const auto st = e.stats();
  EXPECT_EQ(st.groups, 1u);
  EXPECT_EQ(st.expired, 2u);
  EXPECT_EQ(st.evicted, 0u);
}

TEST(CorrelationEngine, RestartFromSnapshotGivesTheSameAlerts) {
  test::TempDir dir;
  const std::string path = dir.path().string() + "/correlation.state";
  std::vector<CorrelationSpec> specs = {
      spec(CorrelationType::event_count, {"a"}, 60 * s, gte(4), "ec"),
      spec(CorrelationType::value_count, {"a"}, 60 * s, gte(3), "vc"),
      spec(CorrelationType::temporal_ordered, {"a", "b"}, 60 * s, gte(2), "to"),
      metric(CorrelationType::value_sum, 60 * s, above(20), "vs"),
      metric(CorrelationType::value_avg, 60 * s, at_most(100), "va"),
      metric(CorrelationType::value_percentile, 60 * s, at_most(20), "vp")};
  std::vector<In> first, second;
  for (int i = 0; i < 6; ++i) {
    const std::string v = std::to_string(i % 4);
    for (std::uint32_t c : {0u, 1u, 3u, 4u, 5u}) {
      if (c < 2 && static_cast<std::uint32_t>(i % 2) != c) continue;
      first.push_back({i * s, "k", 0, v, c});
      second.push_back({(10 + i) * s, "k", 0, v, c});
    }
  }
  first.push_back({6 * s, "k", 0, "", 2});
  second.push_back({16 * s, "k", 1, "", 2});
  std::vector<In> all = first;
  all.insert(all.end(), second.begin(), second.end());
  for (std::size_t i = 0; i < all.size(); ++i)
    all[i].id = i + 1;
  first.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(first.size()));
  second.assign(all.begin() + static_cast<std::ptrdiff_t>(first.size()), all.end());

  CorrelationEngine whole(specs, config(1, 2 * s));
  const auto want = describe(feed(whole, all));

  std::string got;
  {
    CorrelationEngine before(specs, config(1, 2 * s));
    got += describe(feed(before, first, false));
    ASSERT_TRUE(before.save(path).has_value());
  }
  CorrelationEngine after(specs, config(2, 2 * s));
  ASSERT_TRUE(after.restore(path).has_value());
  EXPECT_GT(after.stats().restored_groups, 0u);
  got += describe(feed(after, second));
  EXPECT_EQ(want, got);
  EXPECT_FALSE(want.empty());
}

TEST(CorrelationEngine, RestoreDropsStateOfRulesNoLongerLoaded) {
  test::TempDir dir;
  const std::string path = dir.path().string() + "/correlation.state";
  {
    CorrelationEngine e({spec(CorrelationType::event_count, {"a"}, 60 * s, gte(9), "old")},
                        config());
    feed(e, {{0, "x"}, {1 * s, "y"}}, false);
    ASSERT_TRUE(e.save(path).has_value());
  }
  CorrelationEngine e({spec(CorrelationType::event_count, {"a"}, 60 * s, gte(9), "new")}, config());
  ASSERT_TRUE(e.restore(path).has_value());
  EXPECT_EQ(e.stats().dropped_restored, 2u);
  EXPECT_EQ(e.stats().groups, 0u);
  EXPECT_TRUE(e.restore(dir.path().string() + "/missing").has_value());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::fputs("garbage", f);
  std::fclose(f);
  EXPECT_FALSE(e.restore(path).has_value());
}

TEST(CorrelationEngine, SameAlertsFromOneAndManyThreadsAndAnyBatching) {
  ValueCondition avg_range;
  avg_range.min = 1.5;
  avg_range.max = 2.5;
  std::vector<CorrelationSpec> specs = {
      spec(CorrelationType::event_count, {"a"}, 30 * s, gte(3), "ec"),
      spec(CorrelationType::value_count, {"a"}, 30 * s, gte(3), "vc"),
      spec(CorrelationType::temporal, {"a", "b"}, 30 * s, gte(2), "t"),
      spec(CorrelationType::temporal_ordered, {"a", "b"}, 30 * s, gte(2), "to"),
      metric(CorrelationType::value_sum, 30 * s, above(9), "vs"),
      metric(CorrelationType::value_avg, 30 * s, avg_range, "va"),
      metric(CorrelationType::value_percentile, 600 * s, at_most(15), "vp"),
      metric(CorrelationType::value_percentile, 30 * s, above(50, true), "vp2")};
  std::mt19937_64 rng(7);
  std::vector<In> sorted;
  std::int64_t t = 0;
  for (int i = 0; i < 20000; ++i) {
    t += static_cast<std::int64_t>(rng() % (s / 2));
    const auto corr = static_cast<std::uint32_t>(rng() % 8);
    const auto step = static_cast<std::uint16_t>(corr >= 2 ? rng() % 2 : 0);
    // Numbers for the sums and averages; "v0".."v4" for the others.
    std::string value = corr == 4 || corr == 5 ? std::to_string(rng() % 4) : name("v", rng() % 5);
    sorted.push_back(
        {t, name("k", rng() % 20), step, value, corr, static_cast<std::uint64_t>(i + 1)});
  }
  // Arrival order shuffled within 3 s of event time: inside the 5 s tolerance.
  std::vector<In> shuffled = sorted;
  for (std::size_t i = 0; i + 1 < shuffled.size(); ++i) {
    const std::size_t j = i + rng() % 4;
    if (j < shuffled.size() && shuffled[j].t - shuffled[i].t < 3 * s)
      std::swap(shuffled[i], shuffled[j]);
  }
  // Alerts of windows decided when they close come out with the submit that closes them, so
  // their order among other alerts depends on the batching: compare batchings as sorted sets,
  // and thread counts at the same batching exactly, order included.
  auto sorted_set = [](std::vector<CorrelationAlert> v) {
    std::vector<std::string> lines;
    for (const auto& a : v)
      lines.push_back(describe({a}));
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const auto& l : lines)
      out += l;
    return out;
  };
  CorrelationEngine one(specs, config(1, 5 * s));
  const auto one_alerts = feed(one, sorted, true, 1);
  const auto want = sorted_set(one_alerts);
  std::vector<int> per_rule(specs.size(), 0);
  for (const auto& a : one_alerts)
    ++per_rule[a.correlation];
  for (std::size_t c = 0; c < specs.size(); ++c)
    EXPECT_GT(per_rule[c], 0) << specs[c].rule.id << " raised no alert: the test checks nothing";
  CorrelationEngine one_batched(specs, config(1, 5 * s));
  const auto want_batched = describe(feed(one_batched, shuffled, true, 97));
  for (std::size_t threads : {2u, 4u}) {
    CorrelationEngine many(specs, config(threads, 5 * s));
    const auto alerts = feed(many, shuffled, true, 97);
    const auto got = describe(alerts);
    EXPECT_TRUE(want_batched == got)
        << threads << " threads: " << first_difference(want_batched, got);
    const auto got_set = sorted_set(alerts);
    EXPECT_TRUE(want == got_set) << threads << " threads: " << first_difference(want, got_set);
    EXPECT_EQ(many.stats().late, 0u);
  }
}

TEST(CorrelationEngine, ValueSumWindowIncludesExactlyTimespan) {
  CorrelationEngine e({metric(CorrelationType::value_sum, 10 * s, above(100))}, config());
  // 40 + 30 + 31 = 101 > 100 with the first and last exactly 10 s apart: inside one window.
  auto alerts = feed(e, {{0, "k", 0, "40"}, {5 * s, "k", 0, "30"}, {10 * s, "k", 0, "31"}});
  ASSERT_EQ(alerts.size(), 1u) << describe(alerts);
  EXPECT_EQ(alerts[0].value, 101.0);
  EXPECT_EQ(alerts[0].count, 3u);
  EXPECT_EQ(alerts[0].first_ns, 0);
  EXPECT_EQ(alerts[0].last_ns, 10 * s);
  ASSERT_EQ(alerts[0].refs.size(), 3u);
  EXPECT_EQ(alerts[0].refs[2].line_number(), 3u);
  // 1 ns over: 40 has left the window, 30 + 31 = 61.
  CorrelationEngine over({metric(CorrelationType::value_sum, 10 * s, above(100))}, config());
  EXPECT_TRUE(
      feed(over, {{0, "k", 0, "40"}, {5 * s, "k", 0, "30"}, {10 * s + 1, "k", 0, "31"}}).empty());
  // Exactly the threshold does not pass `gt`; `gte` does.
  CorrelationEngine gt({metric(CorrelationType::value_sum, 10 * s, above(100))}, config());
  EXPECT_TRUE(feed(gt, {{0, "k", 0, "60"}, {1 * s, "k", 0, "40"}}).empty());
  CorrelationEngine gte_({metric(CorrelationType::value_sum, 10 * s, above(100, true))}, config());
  EXPECT_EQ(feed(gte_, {{0, "k", 0, "60"}, {1 * s, "k", 0, "40"}}).size(), 1u);
}

TEST(CorrelationEngine, ValueSumReadsDecimalNumbersAndCountsTheRest) {
  CorrelationEngine e({metric(CorrelationType::value_sum, 60 * s, above(10))}, config());
  auto alerts = feed(e, {{0, "k", 0, " 2.5 "},
                         {1 * s, "k", 0, "+1e1"},  // 12.5: alert, the group starts over
                         {2 * s, "k", 0, "lots"},
                         {3 * s, "k", 0, "inf"},
                         {4 * s, "k", 0, ""},
                         {5 * s, "k", 0, "-3"},
                         {6 * s, "k", 0, "13.5"}});  // -3 + 13.5 = 10.5: alert
  ASSERT_EQ(alerts.size(), 2u) << describe(alerts);
  EXPECT_EQ(alerts[0].value, 12.5);
  EXPECT_EQ(alerts[1].value, 10.5);
  EXPECT_EQ(alerts[1].first_ns, 5 * s);
  const auto st = e.stats();
  EXPECT_EQ(st.non_numeric, 3u);
  EXPECT_EQ(st.inputs, st.applied + st.pending + st.late + st.non_numeric);
}

TEST(CorrelationEngine, ValueAvgSlidesAndClosesWithUpperBounds) {
  // Lower bound: decided at each event over [t - 10 s, t]. 10, 20 -> 15; then 60 at 10 s + 1
  // sees 20 and 60 only (10 is 1 ns too old): 40 >= 40.
  CorrelationEngine slide({metric(CorrelationType::value_avg, 10 * s, above(40, true))}, config());
  auto alerts = feed(slide, {{0, "k", 0, "10"}, {1 * s, "k", 0, "20"}, {10 * s + 1, "k", 0, "60"}});
  ASSERT_EQ(alerts.size(), 1u) << describe(alerts);
  EXPECT_EQ(alerts[0].value, 40.0);
  EXPECT_EQ(alerts[0].count, 2u);
  EXPECT_EQ(alerts[0].first_ns, 1 * s);
  // Upper bound: window [t0, t0 + 10 s] decided when it closes. "a": 4, 6 (exactly 10 s
  // later) -> 5 <= 5 alert; "b": 4, 8 -> 6 no alert; "a" again at 10 s + 1 opens a new
  // window holding 100 (no alert at the end).
  CorrelationEngine close({metric(CorrelationType::value_avg, 10 * s, at_most(5))}, config());
  alerts = feed(close, {{0, "a", 0, "4"},
                        {1 * s, "b", 0, "4"},
                        {2 * s, "b", 0, "8"},
                        {10 * s, "a", 0, "6"},
                        {10 * s + 1, "a", 0, "100"}});
  ASSERT_EQ(alerts.size(), 1u) << describe(alerts);
  EXPECT_EQ(alerts[0].key, "a");
  EXPECT_EQ(alerts[0].value, 5.0);
  EXPECT_EQ(alerts[0].count, 2u);
  EXPECT_EQ(alerts[0].last_ns, 10 * s);
  ASSERT_EQ(alerts[0].refs.size(), 2u);
  EXPECT_EQ(alerts[0].refs[1].line_number(), 4u);
}

TEST(CorrelationEngine, ValueSumClosingWindowKeepsOnlyTheLastReferences) {
  auto cfg = config();
  cfg.max_refs = 3;
  CorrelationEngine e({metric(CorrelationType::value_sum, 60 * s, at_most(1000))}, cfg);
  std::vector<In> in;
  for (int i = 0; i < 50; ++i)
    in.push_back({i * s, "k", 0, "10"});
  auto alerts = feed(e, in);
  ASSERT_EQ(alerts.size(), 1u) << describe(alerts);
  EXPECT_EQ(alerts[0].value, 500.0);
  EXPECT_EQ(alerts[0].count, 50u);
  ASSERT_EQ(alerts[0].refs.size(), 3u);
  EXPECT_EQ(alerts[0].refs[0].line_number(), 48u);
  EXPECT_EQ(e.stats().window_overflow, 0u);  // the sum is exact: nothing left early
}

TEST(CorrelationEngine, ValuePercentileFindsTheRareValueWhenTheWindowCloses) {
  // The spec's example: a process name in at most 10 % of a computer's process starts.
  CorrelationEngine e({metric(CorrelationType::value_percentile, 60 * s, at_most(10))}, config());
  std::vector<In> in;
  for (int i = 0; i < 10; ++i)
    in.push_back({i * s, "pc1", 0, "svchost.exe"});
  in.push_back({30 * s, "pc1", 0, "evil.exe"});  // 1 of 11: 9.09 %
  for (int i = 0; i < 5; ++i)
    in.push_back({i * s, "pc2", 0, i == 4 ? "rare.exe" : "cmd.exe"});  // 1 of 5: 20 %
  std::sort(in.begin(), in.end(), [](const In& a, const In& b) { return a.t < b.t; });
  for (std::size_t i = 0; i < in.size(); ++i)
    in[i].id = in[i].value == "evil.exe" ? 99 : i + 1;
  auto alerts = feed(e, in);
  ASSERT_EQ(alerts.size(), 1u) << describe(alerts);
  EXPECT_EQ(alerts[0].key, "pc1");
  EXPECT_NEAR(alerts[0].value, 100.0 / 11, 1e-9);
  EXPECT_EQ(alerts[0].count, 11u);
  ASSERT_EQ(alerts[0].refs.size(), 1u);
  EXPECT_EQ(alerts[0].refs[0].line_number(), 99u);
}

TEST(CorrelationEngine, ValuePercentileWithALowerBoundIsAlsoDecidedWhenTheWindowCloses) {
  // A value in at least 75 % of the window [t0, t0 + 10 s]: x is 3 of 4 in the first window
  // (the event exactly 10 s after the first is inside); the event 1 ns later opens a new
  // window where z alone is 100 %.
  CorrelationEngine e({metric(CorrelationType::value_percentile, 10 * s, above(75, true))},
                      config());
  auto alerts = feed(e, {{0, "k", 0, "x"},
                         {1 * s, "k", 0, "y"},
                         {2 * s, "k", 0, "x"},
                         {10 * s, "k", 0, "x"},
                         {20 * s + 1, "k", 0, "z"}});
  ASSERT_EQ(alerts.size(), 2u) << describe(alerts);
  EXPECT_EQ(alerts[0].value, 75.0);
  EXPECT_EQ(alerts[0].count, 4u);
  EXPECT_EQ(alerts[0].first_ns, 0);
  EXPECT_EQ(alerts[0].last_ns, 10 * s);
  ASSERT_EQ(alerts[0].refs.size(), 3u);
  EXPECT_EQ(alerts[0].refs[1].line_number(), 3u);
  EXPECT_EQ(alerts[1].value, 100.0);
  EXPECT_EQ(alerts[1].first_ns, 20 * s + 1);
}

TEST(CorrelationEngine, MetricWindowsAreBoundedAndCountWhatLeavesEarly) {
  auto cfg = config();
  cfg.max_window_events = 3;
  CorrelationEngine e({metric(CorrelationType::value_sum, 60 * s, above(100, true))}, cfg);
  // 5 x 30 in one window: only the last 3 count (90), two left early.
  auto alerts = feed(e, {{0, "k", 0, "30"},
                         {1 * s, "k", 0, "30"},
                         {2 * s, "k", 0, "30"},
                         {3 * s, "k", 0, "30"},
                         {4 * s, "k", 0, "30"}});
  EXPECT_TRUE(alerts.empty()) << describe(alerts);
  EXPECT_EQ(e.stats().window_overflow, 2u);
}

TEST(CorrelationEngine, MetricTypesGroupOnEveryFieldAndAcceptDisorderWithinTolerance) {
  auto sp = metric(CorrelationType::value_sum, 10 * s, above(10));
  sp.rule.group_by = {"src_ip", "user"};
  const std::string sep(1, group_key_separator);
  const std::vector<In> sorted = {{0, "h" + sep + "root", 0, "6", 0, 1},
                                  {1 * s, "h" + sep + "admin", 0, "6", 0, 2},
                                  {2 * s, "g" + sep + "root", 0, "6", 0, 3},
                                  {3 * s, "h" + sep + "root", 0, "6", 0, 4}};
  const std::vector<In> shuffled = {sorted[3], sorted[1], sorted[0], sorted[2]};
  CorrelationEngine a({sp}, config(1, 5 * s));
  CorrelationEngine b({sp}, config(1, 5 * s));
  const auto want = feed(a, sorted);
  ASSERT_EQ(want.size(), 1u) << describe(want);
  EXPECT_EQ(want[0].key, "h" + sep + "root");
  EXPECT_EQ(describe(want), describe(feed(b, shuffled)));
  EXPECT_EQ(b.stats().late, 0u);
}

TEST(CorrelationEngine, ReloadKeepsStateOfUnchangedRulesAndDropsTheRest) {
  auto keep = spec(CorrelationType::event_count, {"a"}, 60 * s, gte(3), "keep");
  auto change = spec(CorrelationType::event_count, {"a"}, 60 * s, gte(3), "change");
  auto gone = spec(CorrelationType::value_count, {"a"}, 60 * s, gte(2), "gone");
  gone.rule.value_field = "v";
  CorrelationEngine e({keep, change, gone}, config(2, 5 * s));
  std::vector<CorrelationAlert> out;
  // Two events per rule applied, and one more per rule still waiting for the watermark.
  std::vector<In> before;
  for (std::int64_t t : {1, 2, 9})
    for (std::uint32_t c = 0; c < 3; ++c)
      before.push_back({t * s, "k", 0, "same", c});
  out = feed(e, before, false);
  EXPECT_TRUE(out.empty()) << describe(out);
  const auto st0 = e.stats();
  EXPECT_EQ(st0.pending, 3u);

  // The new set: a new rule first (so "keep" moves from index 0 to 2), "change" with another
  // threshold, "gone" removed; level, title and tags may change without losing state.
  auto added = spec(CorrelationType::event_count, {"a"}, 60 * s, gte(1), "added");
  auto changed = change;
  changed.rule.condition = gte(4);
  auto kept = keep;
  kept.rule.title = "renamed";
  kept.rule.level = "critical";
  const auto r = e.reload({added, changed, kept});
  EXPECT_EQ(r.kept, 1u);
  EXPECT_EQ(r.changed, 1u);
  EXPECT_EQ(r.removed, 1u);
  EXPECT_EQ(r.added, 1u);
  EXPECT_EQ(r.kept_groups, 1u);
  EXPECT_EQ(r.dropped_groups, 2u);
  EXPECT_EQ(r.dropped_pending, 2u);
  ASSERT_EQ(e.specs().size(), 3u);
  EXPECT_EQ(e.specs()[2].rule.title, "renamed");
  const auto st = e.stats();
  EXPECT_EQ(st.reloads, 1u);
  EXPECT_EQ(st.reload_dropped, 2u);
  EXPECT_EQ(st.pending, 1u);  // keep's event at 9 s, now under index 2
  EXPECT_EQ(st.applied, st0.applied);
  EXPECT_EQ(st.inputs, st.applied + st.pending + st.late + st.non_numeric + st.reload_dropped);

  // keep: 1 s and 2 s survived, so its pending event at 9 s completes 3 in a minute; change
  // starts over (needs 4 new ones).
  out = feed(e, {{20 * s, "k", 0, "", 2, 100}, {21 * s, "k", 0, "", 1, 101}});
  std::vector<std::string> fired;
  for (const auto& a : out)
    fired.push_back(e.specs()[a.correlation].rule.id + "#" + std::to_string(a.count));
  EXPECT_EQ(fired, (std::vector<std::string>{"keep#3"})) << describe(out);
  EXPECT_EQ(out[0].first_ns, 1 * s);
  EXPECT_EQ(out[0].last_ns, 9 * s);
}

}  // namespace
}  // namespace sluice
