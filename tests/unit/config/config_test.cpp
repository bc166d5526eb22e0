// SPDX-License-Identifier: Apache-2.0
#include "sluice/config/config.hpp"

#include <gtest/gtest.h>

#include "tests_support.hpp"

namespace sluice {
namespace {

TEST(Config, MinimalFileGetsDefaults) {
  auto c = parse_config("[[input]]\ntype = \"udp\"\n", "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->inputs.size(), 1u);
  EXPECT_EQ(c->inputs[0].spec.kind, "udp");
  EXPECT_EQ(c->inputs[0].spec.address, "127.0.0.1");
  EXPECT_EQ(c->inputs[0].spec.port, 5514);
  EXPECT_EQ(c->general.workers, 0u);
  EXPECT_EQ(c->metrics.listen, "127.0.0.1:9514");
  EXPECT_EQ(c->parser.format, ParseFormat::auto_detect);
}

TEST(Config, ReadsEverySection) {
  const char* text = R"(
[general]
workers = 3
pin_cpus = true
log_level = "debug"
summary_interval_seconds = 2.5
batch_size = 100
ring_capacity = 8

[parser]
format = "rfc5424"
extract_key_values = false
default_tz_offset_minutes = -300

[[input]]
type = "tcp"
address = "::1"
port = 0
max_message_bytes = 1024

[[input]]
type = "file"
path = "/var/log/auth.log"
follow = true

[[input]]
type = "pcap"
path = "x.pcap"
ports = [514, 1514]

[rules]
paths = ["rules/packs/linux", "more"]
min_level = "high"

[output.events]
path = "out/events.jsonl"
[output.alerts]
path = "-"

[metrics]
listen = ""
)";
  auto c = parse_config(text, "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->general.workers, 3u);
  EXPECT_TRUE(c->general.pin_cpus);
  EXPECT_EQ(c->general.log_level, "debug");
  EXPECT_DOUBLE_EQ(c->general.summary_interval_seconds, 2.5);
  EXPECT_EQ(c->general.batch_size, 100u);
  EXPECT_EQ(c->general.ring_capacity, 8u);
  EXPECT_EQ(c->parser.format, ParseFormat::rfc5424);
  EXPECT_FALSE(c->parser.extract_key_values);
  EXPECT_EQ(c->parser.default_tz_offset_minutes, -300);
  ASSERT_EQ(c->inputs.size(), 3u);
  EXPECT_EQ(c->inputs[0].spec.address, "::1");
  EXPECT_EQ(c->inputs[0].spec.port, 0);
  EXPECT_EQ(c->inputs[0].spec.max_message_bytes, 1024u);
  EXPECT_TRUE(c->inputs[1].spec.follow);
  EXPECT_EQ(c->inputs[2].spec.ports, (std::vector<std::uint16_t>{514, 1514}));
  EXPECT_EQ(c->rules.paths.size(), 2u);
  EXPECT_EQ(c->rules.min_level, "high");
  EXPECT_EQ(c->output.events_path, "out/events.jsonl");
  EXPECT_EQ(c->output.alerts_path, "-");
  EXPECT_EQ(c->metrics.listen, "");
}

// Each bad configuration and the exact text its error must contain: file, line and key.
struct BadConfig {
  const char* text;
  const char* expected;
};

class ConfigErrors : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ConfigErrors, NameFileLineAndKey) {
  auto c = parse_config(GetParam().text, "bad.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find(GetParam().expected), std::string::npos) << c.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigErrors,
    ::testing::Values(BadConfig{"[[input]]\ntype = \"udp\"\nport = 70000\n",
                                "bad.toml:3: input[0].port: must be between 0 and 65535"},
                      BadConfig{"[[input]]\ntype = \"udp\"\nprot = 1\n",
                                "bad.toml:3: input[0].prot: unknown key"},
                      BadConfig{"[[input]]\ntype = \"carrier-pigeon\"\n",
                                "bad.toml:2: input[0].type: unknown input type 'carrier-pigeon'"},
                      BadConfig{"[[input]]\ntype = \"file\"\n",
                                "input[0].path: required for a file input"},
                      BadConfig{"[general]\nworkers = \"two\"\n[[input]]\ntype=\"stdin\"\n",
                                "bad.toml:2: general.workers: expected an integer"},
                      BadConfig{"[general]\nring_capacity = 6\n[[input]]\ntype=\"stdin\"\n",
                                "bad.toml:2: general.ring_capacity: must be a power of two"},
                      BadConfig{"[parser]\nformat = \"xml\"\n[[input]]\ntype=\"stdin\"\n",
                                "bad.toml:2: parser.format: one of auto"},
                      BadConfig{"[general]\n\n\nlog_level = \"loud\"\n[[input]]\ntype=\"stdin\"\n",
                                "bad.toml:4: general.log_level"},
                      BadConfig{"[outptu]\n[[input]]\ntype=\"stdin\"\n", "outptu: unknown key"},
                      BadConfig{"[[input]]\ntype = \"udp\"\nport = = 3\n", "bad.toml:3:"},
                      BadConfig{"[general]\nworkers = 1\n", "input: no [[input]] section"},
                      BadConfig{"[store]\npath = \"/tmp/s\"\ncodec = \"brotli\"\n[[input]]\n"
                                "type=\"stdin\"\n",
                                "bad.toml:3: store.codec: one of zstd, lz4"}));

TEST(Config, AllProblemsReportedAtOnce) {
  auto c = parse_config("[[input]]\ntype = \"udp\"\nport = -1\nsockets = 0\nbogus = 1\n", "x.toml");
  ASSERT_FALSE(c.has_value());
  const auto& m = c.error().message;
  EXPECT_NE(m.find("x.toml:3: input[0].port"), std::string::npos) << m;
  EXPECT_NE(m.find("x.toml:4: input[0].sockets"), std::string::npos) << m;
  EXPECT_NE(m.find("x.toml:5: input[0].bogus: unknown key"), std::string::npos) << m;
}

TEST(Config, MissingFileIsAnError) {
  auto c = load_config("/nonexistent/sluice.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("/nonexistent/sluice.toml"), std::string::npos);
}

TEST(Config, ShippedConfigurationsLoad) {
  for (const char* name : {"config/sluice.toml", "config/demo.toml"}) {
    auto path = test::source_dir() / name;
    auto c = load_config(path.string());
    EXPECT_TRUE(c.has_value()) << name << ": " << (c ? "" : c.error().message);
  }
}

}  // namespace
}  // namespace sluice
