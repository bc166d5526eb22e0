// SPDX-License-Identifier: Apache-2.0
/// `PacketProcessor` end to end on the real captures in the shared data folder (read in place;
/// skipped with the reason when absent) and on crafted traffic: syslog records counted against
/// tshark, flow byte and packet totals against tshark, TCP reassembly under retransmission and
/// reordering, TLS counted only, malformed packets counted by reason.
#include "sluice/capture/packet_processor.hpp"

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <simdjson.h>

#include <algorithm>
#include <string>
#include <vector>

#include "packet_builder.hpp"
#include "tests_support.hpp"

namespace sluice {
namespace {

using namespace sluice::test;

struct Output {
  std::vector<std::string> syslog;
  std::uint64_t flow_packets = 0;
  std::uint64_t flow_bytes = 0;
  std::size_t flows = 0;
  std::vector<std::string> flow_json;
};

CaptureRecordFn collect(Output& out) {
  return [&out](std::string_view bytes, const PeerAddress&, std::int64_t, bool) {
    if (bytes.starts_with(R"({"event.kind":"flow")")) {
      simdjson::dom::parser parser;
      auto doc = parser.parse(bytes.data(), bytes.size());
      ASSERT_FALSE(doc.error()) << bytes;
      out.flow_packets += doc["packets"].get_uint64().value();
      out.flow_bytes += doc["bytes"].get_uint64().value();
      ++out.flows;
      out.flow_json.emplace_back(bytes);
    } else {
      out.syslog.emplace_back(bytes);
    }
  };
}

/// Runs a capture file through a processor.
CaptureStats replay(const std::string& path, const CaptureOptions& options, Output& out) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* h =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  EXPECT_NE(h, nullptr) << err;
  if (h == nullptr) return {};
  PacketProcessor processor(options, collect(out));
  const auto link = static_cast<LinkType>(pcap_datalink(h));
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  std::int64_t now = 0;
  while (pcap_next_ex(h, &hdr, &data) == 1) {
    now = std::int64_t{hdr->ts.tv_sec} * 1'000'000'000 + hdr->ts.tv_usec;
    processor.process(link, data, hdr->caplen, hdr->len, now);
  }
  pcap_close(h);
  processor.finish(now);
  return processor.stats();
}

TEST(PacketProcessorReal, SyslogAndFlowTotalsMatchTshark) {
  SLUICE_REQUIRE_DATA(path, "pcap/syslog/syslog.pcap");
  // Counted independently with tshark 4.0:
  //   tshark -r syslog.pcap -Y 'udp.port==514' | wc -l                       -> 83
  //   tshark -r syslog.pcap -Y 'ip or ipv6' -T fields -e ipv6.plen -e ip.len |
  //     awk -F'\t' '{n++; split($1,b,","); split($2,a,",");
  //                  s += ($1 != "") ? b[length(b)]+40 : a[length(a)]} END {print n, s}'
  //                                                                       -> 94 18767
  // (the innermost IP header's length: six packets are IPv6 in IPv4)
  Output out;
  const auto stats = replay(path, {}, out);
  EXPECT_EQ(stats.packets, 94u);
  EXPECT_EQ(out.syslog.size(), 83u);
  EXPECT_EQ(out.flow_packets, 94u);
  EXPECT_EQ(out.flow_bytes, 18767u);
  EXPECT_EQ(stats.malformed_total(), 0u);
}

TEST(PacketProcessorReal, AttackCapturesFlowTotalsMatchTshark) {
  // Same tshark command as above, per file: packets and innermost-IP bytes.
  struct Expect {
    const char* file;
    std::uint64_t packets;
    std::uint64_t bytes;
  };
  for (const Expect& e : {Expect{"pcap/attack/synscan.pcap", 2011, 88464},
                          Expect{"pcap/attack/sshguess.pcap", 431, 77967},
                          Expect{"pcap/attack/icmp-tunnel.pcap", 863, 178728}}) {
    SLUICE_REQUIRE_DATA(path, e.file);
    Output out;
    const auto stats = replay(path, {}, out);
    EXPECT_EQ(out.flow_packets, e.packets) << e.file;
    EXPECT_EQ(out.flow_bytes, e.bytes) << e.file;
    EXPECT_EQ(stats.malformed_total(), 0u) << e.file;
    EXPECT_TRUE(out.syslog.empty()) << e.file;
  }
}

TEST(PacketProcessorReal, SynScanIsManyPortsFromOneSource) {
  SLUICE_REQUIRE_DATA(path, "pcap/attack/synscan.pcap");
  Output out;
  replay(path, {}, out);
  // nmap from 172.16.0.8: one flow per probed port, each a SYN answered by RST or nothing.
  std::size_t from_scanner = 0;
  for (const auto& j : out.flow_json)
    if (j.find(R"("src_ip":"172.16.0.8")") != std::string::npos) ++from_scanner;
  EXPECT_GT(from_scanner, 900u);
}

TEST(PacketProcessorReal, FuzzedCaptureIsCountedNotCrashed) {
  SLUICE_REQUIRE_DATA(path, "pcap/fuzz/randpkt-syslog.pcap");
  Output out;
  const auto stats = replay(path, {}, out);
  EXPECT_EQ(stats.packets, 1000u);
  // Every packet is accounted exactly once.
  EXPECT_EQ(stats.not_ip + stats.malformed_total() + out.flow_packets, stats.packets);
}

TEST(PacketProcessorReal, BurstAndSinglePacketPathsAgree) {
  // Differential: `process_burst` (prefetched flow updates) against `process`, on every frame
  // of real captures, bursts of 32. Same records (flow exports may move within a burst, so
  // compared sorted) and the same counts.
  for (const char* file :
       {"pcap/syslog/syslog.pcap", "pcap/attack/synscan.pcap", "pcap/fuzz/randpkt-syslog.pcap"}) {
    SLUICE_REQUIRE_DATA(path, file);
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* h = pcap_open_offline(path.c_str(), err);
    ASSERT_NE(h, nullptr) << err;
    const auto link = static_cast<LinkType>(pcap_datalink(h));
    std::vector<std::string> frames;
    std::vector<std::size_t> wire;
    pcap_pkthdr* hdr = nullptr;
    const u_char* data = nullptr;
    while (pcap_next_ex(h, &hdr, &data) == 1) {
      frames.emplace_back(reinterpret_cast<const char*>(data), hdr->caplen);
      wire.push_back(hdr->len);
    }
    pcap_close(h);
    Output single;
    Output burst;
    PacketProcessor a({}, collect(single));
    PacketProcessor b({}, collect(burst));
    for (std::size_t at = 0; at < frames.size(); at += 32) {
      std::vector<RawFrame> raw;
      for (std::size_t i = at; i < std::min(frames.size(), at + 32); ++i) {
        a.process(link, bytes(frames[i]), frames[i].size(), wire[i], 1000 + at);
        raw.push_back({bytes(frames[i]), frames[i].size(), wire[i]});
      }
      b.process_burst(link, raw, 1000 + at);
    }
    a.finish(1'000'000);
    b.finish(1'000'000);
    EXPECT_EQ(single.syslog, burst.syslog) << file;
    std::sort(single.flow_json.begin(), single.flow_json.end());
    std::sort(burst.flow_json.begin(), burst.flow_json.end());
    EXPECT_EQ(single.flow_json, burst.flow_json) << file;
    EXPECT_EQ(a.stats().packets, b.stats().packets);
    EXPECT_EQ(a.stats().malformed, b.stats().malformed);
    EXPECT_EQ(a.stats().not_ip, b.stats().not_ip);
  }
}

class ProcessorCrafted : public ::testing::Test {
 protected:
  void feed(const std::string& frame, std::int64_t t = 1) {
    processor_.process(LinkType::ethernet, bytes(frame), frame.size(), frame.size(), t);
  }
  Output out_;
  CaptureOptions options_;
  PacketProcessor processor_{options_, collect(out_)};
};

TEST_F(ProcessorCrafted, TcpRetransmissionsAndReorderingFrameOnce) {
  const std::string stream =
      "21 <13>octet counted one<14>lf framed two\n23 <15>octet counted three";
  auto seg = [&](std::size_t at, std::size_t n, std::uint8_t flags = tcp_flag_ack | tcp_flag_psh) {
    return ether(0x0800, ipv4("10.1.1.1", "10.1.1.2", 6,
                              tcp(33000, 601, static_cast<std::uint32_t>(1001 + at), flags,
                                  stream.substr(at, n))));
  };
  feed(ether(0x0800, ipv4("10.1.1.1", "10.1.1.2", 6, tcp(33000, 601, 1000, tcp_flag_syn, ""))));
  feed(seg(30, 20));  // ahead of a hole
  feed(seg(0, 20));
  feed(seg(0, 20));   // retransmitted
  feed(seg(10, 30));  // overlaps both sides of what is buffered
  feed(seg(50, stream.size() - 50));
  feed(seg(stream.size(), 0, tcp_flag_fin | tcp_flag_ack));
  EXPECT_EQ(out_.syslog, (std::vector<std::string>{"<13>octet counted one", "<14>lf framed two",
                                                   "<15>octet counted three"}));
  EXPECT_EQ(processor_.tcp().counters().gaps, 0u);
  EXPECT_GT(processor_.tcp().counters().retransmitted_bytes, 0u);
  EXPECT_GT(processor_.tcp().counters().out_of_order, 0u);
}

TEST_F(ProcessorCrafted, VlanStrippedByTheCaptureStillKeysTheFlow) {
  const auto f = ether(0x0800, ipv4("10.1.1.1", "10.1.1.2", 17, udp(1, 9999, "x")));
  processor_.process(LinkType::ethernet, bytes(f), f.size(), f.size(), 1, 42);
  const auto tagged =
      ether(0x0800, ipv4("10.1.1.1", "10.1.1.2", 17, udp(1, 9999, "x")), {{0x8100, 7}});
  processor_.process(LinkType::ethernet, bytes(tagged), tagged.size(), tagged.size(), 2, 42);
  processor_.finish(3);
  ASSERT_EQ(out_.flows, 2u);  // the frame's own tag wins over the capture's
  std::sort(out_.flow_json.begin(), out_.flow_json.end());
  EXPECT_NE(out_.flow_json[0].find(R"("vlan":42)"), std::string::npos) << out_.flow_json[0];
  EXPECT_NE(out_.flow_json[1].find(R"("vlan":7)"), std::string::npos) << out_.flow_json[1];
}

TEST_F(ProcessorCrafted, TlsIsCountedOnlyAndMalformedByReason) {
  feed(ether(0x0800, ipv4("10.1.1.1", "10.1.1.2", 6,
                          tcp(33000, 6514, 1, tcp_flag_ack, "\x16\x03\x01 tls bytes"))));
  auto bad = ether(0x0800, ipv4("10.1.1.1", "10.1.1.2", 17, udp(1, 514, "<1>x")));
  bad[14 + 20 + 5] = 1;  // UDP length 1
  feed(bad);
  feed(ether(0x0800, ipv4("10.1.1.1", "10.1.1.2", 17, udp(1, 9999, "<1>not a syslog port"))));
  feed(ether(0x0800, ipv4("10.1.1.1", "10.1.1.2", 17, udp(1, 514, "<1>a\n<2>b\n"))));
  processor_.finish(2);
  const auto& s = processor_.stats();
  EXPECT_EQ(s.tls_segments, 1u);
  EXPECT_EQ(s.malformed[static_cast<std::size_t>(MalformedReason::bad_udp_length)], 1u);
  EXPECT_EQ(s.other_ip, 1u);
  EXPECT_EQ(out_.syslog, (std::vector<std::string>{"<1>a", "<2>b"}));
  EXPECT_EQ(out_.flows, 3u);  // TLS, not-syslog UDP and syslog UDP (the malformed one is not)
  MetricsRegistry registry;
  CaptureMetrics metrics;
  metrics.register_metrics(registry, "source=\"t\"");
  processor_.publish(metrics);
  processor_.publish(metrics);  // publishing twice adds nothing
  EXPECT_EQ(registry.value("sluice_capture_packets_total", "source=\"t\""), 4.0);
  EXPECT_EQ(
      registry.value("sluice_capture_malformed_total", "source=\"t\",reason=\"bad_udp_length\""),
      1.0);
}

}  // namespace
}  // namespace sluice
