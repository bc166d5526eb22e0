// SPDX-License-Identifier: Apache-2.0
/// `[capture.afpacket]` and `[capture.dpdk]` in the TOML configuration: every key read, errors
/// name the key and line, and a section whose backend this build lacks is a clear start error.
#include "sluice/capture/capture_config.hpp"

#include <gtest/gtest.h>

#include "sluice/capture/capture_registry.hpp"
#include "sluice/config/config.hpp"

namespace sluice {
namespace {

TEST(CaptureConfig, EveryKeyIsRead) {
  const auto c = parse_config(R"(
[capture.afpacket]
interface = "eth1"
fanout = 4
block_bytes = 1048576
block_count = 16
frame_bytes = 4096
block_timeout_ms = 5
promiscuous = true
udp_ports = [514, 5514]
tcp_ports = [601]
tls_ports = [6514]
all_udp = true
split_messages = false
max_message_bytes = 8192
flows = false
max_flows = 1000
flow_idle_timeout_seconds = 15
flow_active_timeout_seconds = 60
tcp_idle_timeout_seconds = 120
max_tcp_streams = 100
max_stream_buffer_bytes = 4096
max_fragment_datagrams = 10
[capture.dpdk]
eal_args = ["--no-huge", "--no-pci"]
ports = [0, 1]
queues = 2
lcores = [2, 3, 4, 5]
burst = 64
rx_descriptors = 2048
mbufs = 32767
mbuf_cache = 512
promiscuous = false
stop_after_idle_polls = 1000
udp_ports = [1514]
)",
                              "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const auto& a = c.value().capture.afpacket;
  EXPECT_TRUE(a.enabled);
  EXPECT_EQ(a.interface, "eth1");
  EXPECT_EQ(a.fanout, 4u);
  EXPECT_EQ(a.frame_bytes, 4096u);
  EXPECT_EQ(a.options.udp_ports, (std::vector<std::uint16_t>{514, 5514}));
  EXPECT_TRUE(a.options.all_udp);
  EXPECT_FALSE(a.options.flows);
  EXPECT_EQ(a.options.flow_table.max_flows, 1000u);
  EXPECT_EQ(a.options.flow_table.idle_timeout_ns, 15'000'000'000);
  EXPECT_EQ(a.options.flow_table.active_timeout_ns, 60'000'000'000);
  EXPECT_EQ(a.options.tcp.idle_timeout_ns, 120'000'000'000);
  EXPECT_EQ(a.options.tcp.max_streams, 100u);
  EXPECT_EQ(a.options.max_fragment_datagrams, 10u);
  const auto& d = c.value().capture.dpdk;
  EXPECT_TRUE(d.enabled);
  EXPECT_EQ(d.eal_args, (std::vector<std::string>{"--no-huge", "--no-pci"}));
  EXPECT_EQ(d.ports, (std::vector<std::uint16_t>{0, 1}));
  EXPECT_EQ(d.lcores, (std::vector<std::uint32_t>{2, 3, 4, 5}));
  EXPECT_EQ(d.burst, 64u);
  EXPECT_EQ(d.mbufs, 32767u);
  EXPECT_EQ(d.stop_after_idle_polls, 1000u);
  EXPECT_EQ(d.options.udp_ports, (std::vector<std::uint16_t>{1514}));
}

TEST(CaptureConfig, ErrorsNameKeyAndLine) {
  const auto c = parse_config(
      "[capture.dpdk]\nports = [0]\nqueues = 2\nlcores = [1]\n"
      "bogus = 1\n[capture.afpacket]\nfanout = 0\n",
      "t.toml");
  ASSERT_FALSE(c.has_value());
  const auto& m = c.error().message;
  EXPECT_NE(m.find("t.toml:4: capture.dpdk.lcores: one CPU per (port, queue): expected 2, got 1"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("t.toml:5: capture.dpdk.bogus: unknown key"), std::string::npos) << m;
  EXPECT_NE(m.find("capture.afpacket.fanout: must be between 1 and 64"), std::string::npos) << m;
  EXPECT_NE(m.find("capture.afpacket.interface: required"), std::string::npos) << m;
}

TEST(CaptureConfig, CaptureAloneIsEnoughInput) {
  const auto c = parse_config("[capture.afpacket]\ninterface = \"lo\"\n", "t.toml");
  EXPECT_TRUE(c.has_value()) << c.error().message;
}

TEST(CaptureRegistry, AfPacketIsAlwaysThereAndAMissingBackendIsAClearError) {
  const auto names = capture_backend_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "afpacket"), names.end());
  CaptureConfig config;
  config.dpdk.enabled = true;
  MetricsRegistry metrics;
  if (find_capture_backend("dpdk") == nullptr) {
    const auto made = make_capture_sources(config, metrics);
    ASSERT_FALSE(made.has_value());
    EXPECT_NE(made.error().message.find("libdpdk-dev"), std::string::npos);
  }
  config.dpdk.enabled = false;
  config.afpacket.enabled = true;
  config.afpacket.interface = "lo";
  config.afpacket.fanout = 2;
  const auto made = make_capture_sources(config, metrics);
  ASSERT_TRUE(made.has_value()) << made.error().message;
  EXPECT_EQ(made.value().size(), 2u);
  EXPECT_EQ(made.value()[1]->describe(), "afpacket lo:1");
  EXPECT_NE(
      metrics.prometheus_text().find("sluice_capture_packets_total{source=\"afpacket:lo:1\"}"),
      std::string::npos);
}

}  // namespace
}  // namespace sluice
