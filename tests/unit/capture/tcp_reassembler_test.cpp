// SPDX-License-Identifier: Apache-2.0
/// `TcpReassembler` bounds: idle timeout and eviction close streams and hand out their
/// unfinished frame; out-of-order bytes are capped per stream and over all streams, each
/// give-up a counted gap. (Ordering, retransmission and both framings are covered through
/// `PcapSource` and `PacketProcessor` tests.)
#include "sluice/capture/tcp_reassembler.hpp"

#include <gtest/gtest.h>

#include "packet_builder.hpp"

namespace sluice {
namespace {

using namespace sluice::test;

struct Fixture {
  std::vector<std::string> records;
  TcpReassembler make(TcpReassemblerConfig c) {
    return TcpReassembler(
        c, [this](std::string_view b, const PeerAddress&, bool) { records.emplace_back(b); });
  }
};

DecodedPacket seg(int client, std::uint32_t seq, std::uint8_t flags, const std::string& data,
                  std::string& keep) {
  const std::string src = "10.0.0." + std::to_string(client);
  keep = ether(0x0800, ipv4(src.c_str(), "10.0.0.100", 6, tcp(4000, 601, seq, flags, data)));
  DecodedPacket p;
  MalformedReason r;
  EXPECT_EQ(decode_packet(LinkType::ethernet, bytes(keep), keep.size(), keep.size(), p, r),
            DecodeStatus::ok);
  return p;
}

TEST(TcpReassembler, IdleTimeoutAndEvictionHandOutTheUnfinishedFrame) {
  Fixture f;
  TcpReassemblerConfig c;
  c.max_streams = 2;
  c.idle_timeout_ns = 100;
  auto r = f.make(c);
  std::string k;
  r.segment(seg(1, 1, tcp_flag_ack, "<1>one unterminated", k), 0);
  r.segment(seg(2, 1, tcp_flag_ack, "<2>two unterminated", k), 10);
  r.segment(seg(3, 1, tcp_flag_ack, "<3>three", k), 20);  // evicts stream 1
  EXPECT_EQ(r.counters().evicted, 1u);
  EXPECT_EQ(f.records, std::vector<std::string>{"<1>one unterminated"});
  r.expire(110);  // stream 2 idle for 100
  EXPECT_EQ(r.counters().timed_out, 1u);
  EXPECT_EQ(f.records.back(), "<2>two unterminated");
  EXPECT_EQ(r.size(), 1u);
  r.finish();
  EXPECT_EQ(f.records.back(), "<3>three");
  EXPECT_EQ(r.size(), 0u);
}

TEST(TcpReassembler, OutOfOrderBytesAreBoundedPerStreamAndInTotal) {
  Fixture f;
  TcpReassemblerConfig c;
  c.max_stream_buffer_bytes = 1000;
  c.max_total_buffer_bytes = 1500;
  auto r = f.make(c);
  std::string k;
  const std::string chunk(400, 'x');
  // Two streams, each missing its first byte, each buffering segments behind the hole.
  for (int client : {1, 2}) {
    r.segment(seg(client, 0, tcp_flag_syn, "", k), 0);
    for (std::uint32_t i = 0; i < 2; ++i)
      r.segment(seg(client, 2 + i * 400, tcp_flag_ack, chunk, k), 1);
  }
  EXPECT_EQ(r.buffered_bytes(), 1600u - 800u);  // the second stream crossed the total: gave up
  EXPECT_EQ(r.counters().gaps, 1u);
  // The first stream crosses its own bound.
  for (std::uint32_t i = 2; i < 4; ++i)
    r.segment(seg(1, 2 + i * 400, tcp_flag_ack, chunk, k), 2);
  EXPECT_GE(r.counters().gaps, 2u);
  EXPECT_LE(r.buffered_bytes(), 1500u);
  r.finish();
  EXPECT_EQ(r.buffered_bytes(), 0u);
}

}  // namespace
}  // namespace sluice
