// SPDX-License-Identifier: Apache-2.0
/// `FlowTable`: both directions in one record, export on FIN/RST and timeouts, eviction of the
/// least recently updated flow with a count, and a differential check of totals against a
/// plain map over many random packets with deletions and evictions.
#include "sluice/capture/flow_table.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <random>
#include <tuple>

#include "packet_builder.hpp"

namespace sluice {
namespace {

using namespace sluice::test;

DecodedPacket packet(const std::string& frame) {
  DecodedPacket p;
  MalformedReason r;
  EXPECT_EQ(decode_packet(LinkType::ethernet, bytes(frame), frame.size(), frame.size(), p, r),
            DecodeStatus::ok);
  return p;
}

struct Exports {
  std::vector<FlowRecord> flows;
  FlowTable::ExportFn fn() {
    return [this](const FlowRecord& f) { flows.push_back(f); };
  }
};

constexpr std::int64_t s = 1'000'000'000;

TEST(FlowTable, BothDirectionsOneRecordEndedByFin) {
  Exports out;
  FlowTable table({}, out.fn());
  const char* c = "10.0.0.5";
  const char* srv = "93.184.216.34";
  auto seg = [&](bool from_client, std::uint8_t flags, std::string_view data) {
    return from_client ? ether(0x0800, ipv4(c, srv, 6, tcp(40000, 443, 1, flags, data)))
                       : ether(0x0800, ipv4(srv, c, 6, tcp(443, 40000, 1, flags, data)));
  };
  table.update(packet(seg(true, tcp_flag_syn, "")), 1 * s);
  table.update(packet(seg(false, tcp_flag_syn | tcp_flag_ack, "")), 2 * s);
  table.update(packet(seg(true, tcp_flag_ack, "hello")), 3 * s);
  table.update(packet(seg(false, tcp_flag_fin | tcp_flag_ack, "")), 4 * s);
  table.update(packet(seg(true, tcp_flag_fin | tcp_flag_ack, "")), 5 * s);
  EXPECT_TRUE(out.flows.empty());
  table.update(packet(seg(false, tcp_flag_ack, "")), 6 * s);  // the last ACK closes it
  ASSERT_EQ(out.flows.size(), 1u);
  const FlowRecord& f = out.flows[0];
  EXPECT_EQ(f.end, FlowEnd::fin);
  EXPECT_EQ(f.packets, 6u);
  EXPECT_EQ(f.src_packets, 3u);
  EXPECT_EQ(f.bytes, 6u * 40 + 5);
  EXPECT_EQ(f.src_port, 40000);  // the client opened it
  EXPECT_EQ(f.dst_port, 443);
  EXPECT_EQ(f.first_ns, 1 * s);
  EXPECT_EQ(f.last_ns, 6 * s);
  EXPECT_EQ(f.tcp_flags, tcp_flag_syn | tcp_flag_ack | tcp_flag_fin);
  EXPECT_EQ(flow_direction(f), "outbound");
  EXPECT_EQ(table.size(), 0u);

  std::string json;
  render_flow_json(f, json);
  simdjson::dom::parser parser;
  auto doc = parser.parse(json);
  ASSERT_FALSE(doc.error()) << json;
  EXPECT_EQ(std::string_view(doc["src_ip"].get_string().value()), "10.0.0.5");
  EXPECT_EQ(std::string_view(doc["dst_ip"].get_string().value()), "93.184.216.34");
  EXPECT_EQ(doc["dst_port"].get_uint64().value(), 443u);
  EXPECT_EQ(std::string_view(doc["proto"].get_string().value()), "tcp");
  EXPECT_EQ(doc["bytes"].get_uint64().value(), 245u);
  EXPECT_EQ(std::string_view(doc["tcp_flags"].get_string().value()), "FSA");
  EXPECT_EQ(std::string_view(doc["direction"].get_string().value()), "outbound");
  EXPECT_EQ(std::string_view(doc["@timestamp"].get_string().value()), "1970-01-01T00:00:06.000Z");
}

TEST(FlowTable, SynAckSeenFirstMakesItsReceiverTheSource) {
  Exports out;
  FlowTable table({}, out.fn());
  table.update(packet(ether(0x0800, ipv4("8.8.8.8", "10.0.0.1", 6,
                                         tcp(53, 5555, 1, tcp_flag_syn | tcp_flag_ack, "")))),
               s);
  table.update(
      packet(ether(0x0800, ipv4("10.0.0.1", "8.8.8.8", 6, tcp(5555, 53, 1, tcp_flag_rst, "")))),
      2 * s);
  ASSERT_EQ(out.flows.size(), 1u);
  EXPECT_EQ(out.flows[0].end, FlowEnd::rst);
  EXPECT_EQ(out.flows[0].src_port, 5555);
  EXPECT_EQ(out.flows[0].src_packets, 1u);
}

TEST(FlowTable, IdleAndActiveTimeouts) {
  Exports out;
  FlowTableConfig config;
  config.idle_timeout_ns = 10 * s;
  config.active_timeout_ns = 60 * s;
  FlowTable table(config, out.fn());
  const auto a = packet(ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 2, "a"))));
  const auto b = packet(ether(0x0800, ipv4("10.0.0.1", "10.0.0.3", 17, udp(1, 2, "b"))));
  table.update(a, 0);
  table.update(b, 5 * s);
  table.expire(9 * s);
  EXPECT_TRUE(out.flows.empty());
  table.expire(10 * s);  // a is idle for 10 s, b for 5 s
  ASSERT_EQ(out.flows.size(), 1u);
  EXPECT_EQ(out.flows[0].end, FlowEnd::idle_timeout);
  EXPECT_EQ(out.flows[0].dst.bytes[3], 2);
  // b keeps talking every 5 s: reported at 60 s of age, then goes on.
  for (std::int64_t t = 10; t <= 70; t += 5)
    table.update(b, t * s);
  ASSERT_EQ(out.flows.size(), 2u);
  EXPECT_EQ(out.flows[1].end, FlowEnd::active_timeout);
  EXPECT_EQ(out.flows[1].packets, 13u);  // 5 s .. 65 s
  table.flush();
  ASSERT_EQ(out.flows.size(), 3u);
  EXPECT_EQ(out.flows[2].end, FlowEnd::shutdown);
  EXPECT_EQ(out.flows[2].packets, 1u);
}

TEST(FlowTable, FullTableEvictsTheLeastRecentlyUpdated) {
  Exports out;
  FlowTableConfig config;
  config.max_flows = 4;
  FlowTable table(config, out.fn());
  auto flow = [](int i) {
    return packet(ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17,
                                     udp(static_cast<std::uint16_t>(1000 + i), 514, "x"))));
  };
  for (int i = 0; i < 4; ++i)
    table.update(flow(i), i * s);
  table.update(flow(0), 10 * s);  // 0 is fresh again; 1 is now the oldest
  table.update(flow(9), 11 * s);
  ASSERT_EQ(out.flows.size(), 1u);
  EXPECT_EQ(out.flows[0].end, FlowEnd::evicted);
  EXPECT_EQ(out.flows[0].src_port, 1001);
  EXPECT_EQ(table.counters().evicted(), 1u);
  EXPECT_EQ(table.size(), 4u);
}

TEST(FlowTable, TotalsMatchAPlainMapUnderChurn) {
  // Random traffic over a small key space with RSTs and a table smaller than the key space:
  // whatever is exported plus what a final flush exports must add up to what went in, per key.
  Exports out;
  FlowTableConfig config;
  config.max_flows = 64;
  FlowTable table(config, out.fn());
  std::mt19937 rng(42);
  using Key = std::tuple<int, int, int>;
  std::map<Key, std::uint64_t> packets_in;
  std::uint64_t bytes_in = 0;
  for (int i = 0; i < 20000; ++i) {
    const int a = static_cast<int>(rng() % 12);
    const int b = static_cast<int>(rng() % 12);
    const int port = static_cast<int>(rng() % 8);
    const bool rst = rng() % 50 == 0;
    const std::string src = "10.0.0." + std::to_string(a);
    const std::string dst = "10.0.1." + std::to_string(b);
    const std::string payload(rng() % 100, 'x');
    const auto f = ether(0x0800, ipv4(src.c_str(), dst.c_str(), 6,
                                      tcp(static_cast<std::uint16_t>(2000 + port), 80, 1,
                                          rst ? tcp_flag_rst : tcp_flag_ack, payload)));
    const auto p = packet(f);
    table.update(p, i);
    ++packets_in[{a, b, port}];
    bytes_in += p.ip_bytes;
  }
  table.flush();
  std::map<Key, std::uint64_t> packets_out;
  std::uint64_t bytes_out = 0;
  for (const auto& f : out.flows) {
    const int a = f.src.bytes[2] == 0 ? f.src.bytes[3] : f.dst.bytes[3];
    const int b = f.src.bytes[2] == 1 ? f.src.bytes[3] : f.dst.bytes[3];
    const int port = (f.src.bytes[2] == 0 ? f.src_port : f.dst_port) - 2000;
    packets_out[{a, b, port}] += f.packets;
    bytes_out += f.bytes;
  }
  EXPECT_EQ(packets_out, packets_in);
  EXPECT_EQ(bytes_out, bytes_in);
  EXPECT_GT(table.counters().evicted(), 0u);
  EXPECT_GT(table.counters().exported[static_cast<std::size_t>(FlowEnd::rst)], 0u);
  EXPECT_EQ(table.size(), 0u);
}

TEST(FlowTable, DirectionFromAddresses) {
  FlowRecord f;
  f.ip_version = 4;
  f.src.bytes = {8, 8, 8, 8};
  f.dst.bytes = {192, 168, 0, 1};
  EXPECT_EQ(flow_direction(f), "inbound");
  f.dst.bytes = {1, 1, 1, 1};
  EXPECT_EQ(flow_direction(f), "external");
  f.src.bytes = {172, 16, 0, 1};
  f.dst.bytes = {10, 1, 1, 1};
  EXPECT_EQ(flow_direction(f), "internal");
}

}  // namespace
}  // namespace sluice
