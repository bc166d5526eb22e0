// SPDX-License-Identifier: Apache-2.0
/// `IpReassembler`: fragments in any order, overlapping fragments (discarded whole and
/// counted), bounds (eviction, size) and timeouts.
#include "sluice/capture/ip_reassembler.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "packet_builder.hpp"

namespace sluice {
namespace {

using namespace sluice::test;

/// `datagram` (a UDP header and payload) cut into IPv4 fragments of `step` bytes (a multiple
/// of 8), in wire form.
std::vector<std::string> fragment(const std::string& datagram, std::size_t step,
                                  std::uint16_t id = 5) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at < datagram.size(); at += step) {
    const bool more = at + step < datagram.size();
    const auto frag = static_cast<std::uint16_t>((more ? 0x2000 : 0) | (at / 8));
    out.push_back(
        ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, datagram.substr(at, step), frag, id)));
  }
  return out;
}

struct Offer {
  std::vector<std::string> frames;
  std::vector<std::string> completed;
};

void offer(IpReassembler& r, const std::vector<std::string>& frames,
           std::vector<std::string>& completed, std::int64_t now = 0) {
  for (const auto& f : frames) {
    DecodedPacket p;
    MalformedReason reason;
    ASSERT_EQ(decode_packet(LinkType::ethernet, bytes(f), f.size(), f.size(), p, reason),
              DecodeStatus::ok);
    ASSERT_TRUE(p.fragment);
    std::string_view whole;
    if (r.add(p, now, whole)) completed.emplace_back(whole);
  }
}

TEST(IpReassembler, AnyOrderGivesTheDatagram) {
  const std::string datagram = udp(1, 514, "<1>" + std::string(200, 'm'));
  auto frames = fragment(datagram, 64);
  ASSERT_EQ(frames.size(), 4u);
  std::sort(frames.begin(), frames.end());
  do {
    IpReassembler r(16, 1 << 20, 30'000'000'000);
    std::vector<std::string> done;
    offer(r, frames, done);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0], datagram);
    EXPECT_EQ(r.size(), 0u);
  } while (std::next_permutation(frames.begin(), frames.end()));
}

TEST(IpReassembler, OverlapDiscardsTheDatagram) {
  const std::string datagram = udp(1, 514, "<1>" + std::string(100, 'a'));
  auto frames = fragment(datagram, 56);
  // A third fragment rewriting bytes 48..55 with different content.
  frames.insert(frames.begin() + 1, ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17,
                                                       std::string(8, 'Z'), 0x2000 | 6, 5)));
  IpReassembler r(16, 1 << 20, 30'000'000'000);
  std::vector<std::string> done;
  offer(r, frames, done);
  EXPECT_TRUE(done.empty());
  EXPECT_EQ(r.counters().overlapping, 1u);
}

TEST(IpReassembler, DuplicateLastFragmentIsAnOverlap) {
  const auto frames = fragment(udp(1, 514, std::string(40, 'b')), 24);
  IpReassembler r(16, 1 << 20, 30'000'000'000);
  std::vector<std::string> done;
  offer(r, {frames[1], frames[1]}, done);
  EXPECT_TRUE(done.empty());
  EXPECT_EQ(r.counters().overlapping, 1u);
}

TEST(IpReassembler, BoundsEvictAndTimeOut) {
  IpReassembler r(2, 1 << 20, 10);
  std::vector<std::string> done;
  for (std::uint16_t id = 1; id <= 3; ++id)
    offer(r, {fragment(udp(1, 514, std::string(40, 'c')), 24, id)[0]}, done, 0);
  EXPECT_EQ(r.counters().evicted, 1u);
  EXPECT_EQ(r.size(), 2u);
  r.expire(10);
  EXPECT_EQ(r.counters().timed_out, 2u);
  EXPECT_EQ(r.size(), 0u);
  // A byte budget smaller than one datagram: given up, counted.
  IpReassembler small(8, 16, 10);
  offer(small, {fragment(udp(1, 514, std::string(40, 'd')), 24)[0]}, done, 0);
  EXPECT_EQ(small.counters().evicted, 1u);
  // Offsets past 65535 bytes.
  IpReassembler big(8, 1 << 20, 10);
  offer(big, {ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, std::string(16, 'e'), 0x1fff, 9))},
        done, 0);
  EXPECT_EQ(big.counters().too_large, 1u);
  EXPECT_TRUE(done.empty());
}

}  // namespace
}  // namespace sluice
