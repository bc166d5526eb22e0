// SPDX-License-Identifier: Apache-2.0
/// The `[correlation]`, `[alerts]`, `[[alerts.sink]]` and `[[alerts.suppress]]` sections: values
/// read, defaults kept, and every mistake reported with its key and line.
#include <gtest/gtest.h>

#include "sluice/config/config.hpp"

namespace sluice {
namespace {

constexpr const char* input = "[[input]]\ntype = \"stdin\"\n";

TEST(CorrelationConfig, ReadsEverySection) {
  auto c = parse_config(std::string(input) + R"(
[correlation]
threads = 2
shards = 16
max_groups = 1000
tolerance_seconds = 2.5
max_refs = 4
data_dir = "state"
snapshot_interval_seconds = 30

[alerts]
dedup_seconds = 60
throttle_seconds = 300
throttle_max = 5

[[alerts.sink]]
type = "syslog"
address = "127.0.0.1:514"
protocol = "tcp"

[[alerts.sink]]
type = "webhook"
url = "http://127.0.0.1:8080/x"
retries = 1

[[alerts.suppress]]
field = "src_ip"
cidr = "10.0.0.0/8"
)",
                        "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const auto& k = c->correlation;
  EXPECT_EQ(k.engine.threads, 2u);
  EXPECT_EQ(k.engine.shards, 16u);
  EXPECT_EQ(k.engine.max_groups, 1000u);
  EXPECT_EQ(k.engine.tolerance_ns, 2'500'000'000);
  EXPECT_EQ(k.engine.max_refs, 4u);
  EXPECT_EQ(k.data_dir, "state");
  EXPECT_EQ(k.snapshot_interval_seconds, 30);
  EXPECT_EQ(c->alerts.dedup_seconds, 60);
  EXPECT_EQ(c->alerts.throttle_max, 5u);
  ASSERT_EQ(c->alerts.sinks.size(), 2u);
  EXPECT_EQ(c->alerts.sinks[0].protocol, "tcp");
  EXPECT_EQ(c->alerts.sinks[1].retries, 1u);
  EXPECT_EQ(c->alerts.sinks[1].queue, 1024u);
  ASSERT_EQ(c->alerts.suppress.size(), 1u);
  EXPECT_EQ(c->alerts.suppress[0].cidr, "10.0.0.0/8");
}

TEST(CorrelationConfig, DefaultsWithoutTheSections) {
  auto c = parse_config(input, "t.toml");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->correlation.enabled);
  EXPECT_EQ(c->correlation.engine.tolerance_ns, 5'000'000'000);
  EXPECT_TRUE(c->alerts.sinks.empty());
}

TEST(CorrelationConfig, MistakesNameKeyAndLine) {
  auto c = parse_config(std::string(input) + R"(
[correlation]
shards = 3
colour = "red"

[[alerts.sink]]
type = "pager"

[[alerts.sink]]
type = "syslog"

[[alerts.suppress]]
field = "src_ip"
value = "1.2.3.4"
cidr = "10.0.0.0/8"
)",
                        "t.toml");
  ASSERT_FALSE(c.has_value());
  const auto& m = c.error().message;
  for (const char* part : {"t.toml:5: correlation.shards: must be a power of two",
                           "t.toml:6: correlation.colour: unknown key",
                           "t.toml:9: alerts.sink[0].type: one of jsonl, stdout, syslog, webhook",
                           "alerts.sink[1].address: required for a syslog sink",
                           "alerts.suppress[0]: needs exactly one of value, cidr, filter"})
    EXPECT_NE(m.find(part), std::string::npos) << part << "\n" << m;
}

}  // namespace
}  // namespace sluice
