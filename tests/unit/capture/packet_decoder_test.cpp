// SPDX-License-Identifier: Apache-2.0
/// `decode_packet` on crafted packets: every layer it knows, and hostile input (every
/// truncation of every test packet, lengths that lie, too many layers), each with the reason
/// it is counted under.
#include "sluice/capture/packet_decoder.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "packet_builder.hpp"

namespace sluice {
namespace {

using namespace sluice::test;

struct Decoded {
  DecodeStatus status;
  MalformedReason reason;
  DecodedPacket p;
  /// The decoded bytes, kept alive with the result (the views point into them).
  std::shared_ptr<std::vector<std::uint8_t>> frame;
};

Decoded decode(const std::string& frame, LinkType link = LinkType::ethernet, std::size_t wire = 0) {
  Decoded d{};
  // An exact-size heap copy, so sanitizers see any read past the end.
  d.frame = std::make_shared<std::vector<std::uint8_t>>(frame.begin(), frame.end());
  d.status = decode_packet(link, d.frame->data(), d.frame->size(),
                           wire == 0 ? d.frame->size() : wire, d.p, d.reason);
  return d;
}

std::string payload_of(const Decoded& d) {
  return std::string(reinterpret_cast<const char*>(d.p.payload), d.p.payload_bytes);
}

TEST(PacketDecoder, EthernetIpv4Udp) {
  const auto f = ether(0x0800, ipv4("10.0.0.1", "192.168.1.2", 17, udp(40000, 514, "<1>hi")));
  const auto d = decode(f);
  ASSERT_EQ(d.status, DecodeStatus::ok);
  EXPECT_EQ(d.p.ip_version, 4);
  EXPECT_EQ(d.p.protocol, ip_proto_udp);
  EXPECT_EQ(d.p.src_port, 40000);
  EXPECT_EQ(d.p.dst_port, 514);
  EXPECT_EQ(d.p.ip_bytes, 20u + 8u + 5u);
  EXPECT_EQ(payload_of(d), "<1>hi");
  EXPECT_EQ(d.p.src.bytes[0], 10);
  EXPECT_EQ(d.p.dst.bytes[3], 2);
  EXPECT_FALSE(d.p.fragment);
}

TEST(PacketDecoder, Ipv4OptionsAreSkippedByIhl) {
  const std::string options("\x94\x04\x00\x00\x01\x01\x01\x00", 8);  // router alert, NOPs, EOL
  const auto f =
      ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 514, "<2>opt"), 0, 1, options));
  const auto d = decode(f);
  ASSERT_EQ(d.status, DecodeStatus::ok);
  EXPECT_EQ(payload_of(d), "<2>opt");
  EXPECT_EQ(d.p.ip_bytes, 28u + 8u + 6u);
}

TEST(PacketDecoder, VlanAndQinQ) {
  const auto l3 = ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 514, "<3>vlan"));
  auto d = decode(ether(0x0800, l3, {{0x8100, 100}}));
  ASSERT_EQ(d.status, DecodeStatus::ok);
  EXPECT_EQ(d.p.vlan, 100);
  d = decode(ether(0x0800, l3, {{0x88a8, 7}, {0x8100, 200}}));
  ASSERT_EQ(d.status, DecodeStatus::ok);
  EXPECT_EQ(d.p.vlan, 200);  // the inner (customer) tag
  EXPECT_EQ(payload_of(d), "<3>vlan");
  // Nine tags are more than any network uses: counted, not walked forever.
  std::vector<std::pair<std::uint16_t, std::uint16_t>> many(9, {0x8100, 1});
  d = decode(ether(0x0800, l3, many));
  EXPECT_EQ(d.status, DecodeStatus::malformed);
  EXPECT_EQ(d.reason, MalformedReason::too_many_layers);
}

TEST(PacketDecoder, Ipv6ExtensionHeadersTcpAndIcmp) {
  const auto seg = tcp(5000, 601, 1234, tcp_flag_syn | tcp_flag_ack, "data");
  const auto l3 = ipv6("2001:db8::1", "2001:db8::2", 0,
                       ipv6_ext(43) + ipv6_ext(60) + ipv6_ext(6) + seg);  // hop, routing, dst
  auto d = decode(ether(0x86dd, l3));
  ASSERT_EQ(d.status, DecodeStatus::ok) << to_string(d.reason);
  EXPECT_EQ(d.p.ip_version, 6);
  EXPECT_EQ(d.p.protocol, ip_proto_tcp);
  EXPECT_EQ(d.p.seq, 1234u);
  EXPECT_EQ(d.p.tcp_flags, tcp_flag_syn | tcp_flag_ack);
  EXPECT_EQ(payload_of(d), "data");
  EXPECT_EQ(d.p.ip_bytes, 40u + 24u + 20u + 4u);
  d = decode(ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 1, icmp(8, 0, "ping"))));
  ASSERT_EQ(d.status, DecodeStatus::ok);
  EXPECT_EQ(d.p.protocol, ip_proto_icmp);
  EXPECT_EQ(d.p.icmp_type, 8);
  d = decode(ether(0x86dd, ipv6("::1", "::2", 58, icmp(128, 0, "ping6"))));
  ASSERT_EQ(d.status, DecodeStatus::ok);
  EXPECT_EQ(d.p.icmp_type, 128);
}

TEST(PacketDecoder, FragmentsCarryTheirOffsetAndData) {
  auto d =
      decode(ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 514, "<1>first"), 0x2000, 77)));
  ASSERT_EQ(d.status, DecodeStatus::ok);
  EXPECT_TRUE(d.p.fragment);
  EXPECT_TRUE(d.p.more_fragments);
  EXPECT_EQ(d.p.fragment_offset, 0u);
  EXPECT_EQ(d.p.fragment_id, 77u);
  EXPECT_EQ(d.p.dst_port, 514);
  EXPECT_EQ(d.p.fragment_bytes, 8u + 8u);
  d = decode(ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, "tail", 0x0002, 77)));
  ASSERT_EQ(d.status, DecodeStatus::ok);
  EXPECT_EQ(d.p.fragment_offset, 16u);
  EXPECT_FALSE(d.p.more_fragments);
  EXPECT_EQ(d.p.dst_port, 0);  // later fragments have no transport header
  // IPv6 fragment header: offset 0, M set, id 9.
  const std::string fh = std::string(1, char{17}) + std::string(1, '\0') + be16(1) + be32(9);
  d = decode(ether(0x86dd, ipv6("::1", "::2", 44, fh + udp(1, 514, "<1>v6"))));
  ASSERT_EQ(d.status, DecodeStatus::ok);
  EXPECT_TRUE(d.p.fragment);
  EXPECT_EQ(d.p.fragment_id, 9u);
  // An atomic fragment (offset 0, no M; RFC 6946) is a whole datagram.
  const std::string atomic = std::string(1, char{17}) + std::string(1, '\0') + be16(0) + be32(9);
  d = decode(ether(0x86dd, ipv6("::1", "::2", 44, atomic + udp(1, 514, "<1>v6"))));
  ASSERT_EQ(d.status, DecodeStatus::ok);
  EXPECT_FALSE(d.p.fragment);
  EXPECT_EQ(payload_of(d), "<1>v6");
}

TEST(PacketDecoder, NotIpIsNotMalformed) {
  const auto arp = ether(0x0806, std::string(28, '\1'));
  EXPECT_EQ(decode(arp).status, DecodeStatus::not_ip);
}

TEST(PacketDecoder, EveryTruncationIsCountedNeverRead) {
  const std::vector<std::string> frames = {
      ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 514, "<1>x")), {{0x8100, 5}}),
      ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 6, tcp(1, 601, 1, tcp_flag_ack, "y"))),
      ether(0x86dd, ipv6("::1", "::2", 0, ipv6_ext(17) + udp(1, 514, "<1>z"))),
      ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 1, icmp(3, 3, ""))),
  };
  for (const auto& f : frames) {
    ASSERT_EQ(decode(f).status, DecodeStatus::ok);
    for (std::size_t cut = 0; cut < f.size(); ++cut) {
      // A frame that is really this short: the lengths inside lie.
      const auto d = decode(f.substr(0, cut));
      EXPECT_EQ(d.status, DecodeStatus::malformed) << "cut " << cut;
      EXPECT_NE(d.reason, MalformedReason::none);
      // A capture cut short (snap length): headers cut are malformed, a cut payload is not.
      const auto s = decode(f.substr(0, cut), LinkType::ethernet, f.size());
      if (s.status == DecodeStatus::ok) {
        EXPECT_TRUE(s.p.truncated);
        EXPECT_LE(s.p.payload_bytes, s.p.payload_wire_bytes);
      }
    }
  }
}

TEST(PacketDecoder, LyingLengthsHaveReasons) {
  const auto good = ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 514, "<1>len")));
  auto bad = good;
  bad[14] = 0x43;  // IHL 3
  EXPECT_EQ(decode(bad).reason, MalformedReason::bad_ipv4_header);
  bad = good;
  bad[14] = 0x4f;  // IHL 15: a 60-byte header in a 33-byte packet
  EXPECT_EQ(decode(bad).reason, MalformedReason::bad_ipv4_header);
  bad = good;
  bad[16] = '\x7f';  // total length beyond the frame
  EXPECT_EQ(decode(bad).reason, MalformedReason::bad_ip_length);
  bad = good;
  bad[14 + 20 + 4] = '\0';
  bad[14 + 20 + 5] = '\4';  // UDP length 4 < 8
  EXPECT_EQ(decode(bad).reason, MalformedReason::bad_udp_length);
  bad = good;
  bad[14] = 0x55;  // version 5
  EXPECT_EQ(decode(bad).reason, MalformedReason::bad_ip_version);
  auto seg = ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 6, tcp(1, 601, 1, 0, "")));
  seg[14 + 20 + 12] = 0x40;  // data offset 4
  EXPECT_EQ(decode(seg).reason, MalformedReason::bad_tcp_offset);
  // An IPv6 extension header that claims to run past the packet.
  auto ext = ipv6_ext(17);
  ext[1] = '\x20';
  EXPECT_EQ(decode(ether(0x86dd, ipv6("::1", "::2", 0, ext + udp(1, 514, "x")))).reason,
            MalformedReason::bad_ipv6_extension);
  // IP in IP in IP ... deeper than three.
  std::string nested = udp(1, 514, "<1>deep");
  nested = ipv4("10.0.0.1", "10.0.0.2", 17, nested);
  for (int i = 0; i < 4; ++i)
    nested = ipv4("10.0.0.1", "10.0.0.2", 4, nested);
  EXPECT_EQ(decode(ether(0x0800, nested)).reason, MalformedReason::too_many_layers);
}

TEST(PacketDecoder, EthernetPaddingIsNotPayload) {
  const auto f =
      ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 514, "X"))) + std::string(20, '\0');
  const auto d = decode(f);
  ASSERT_EQ(d.status, DecodeStatus::ok);
  EXPECT_EQ(payload_of(d), "X");
  EXPECT_EQ(d.p.ip_bytes, 29u);
}

TEST(PacketDecoder, OtherLinkTypes) {
  const auto l3 = ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 514, "<1>raw"));
  EXPECT_EQ(decode(l3, LinkType::raw).status, DecodeStatus::ok);
  EXPECT_EQ(
      decode(std::string(16, '\0').replace(14, 2, be16(0x0800)) + l3, LinkType::linux_sll).status,
      DecodeStatus::ok);
  EXPECT_EQ(decode(std::string("\2\0\0\0", 4) + l3, LinkType::null).status, DecodeStatus::ok);
  EXPECT_TRUE(link_type_supported(1));
  EXPECT_FALSE(link_type_supported(105));  // 802.11
}

}  // namespace
}  // namespace sluice
