// SPDX-License-Identifier: Apache-2.0
/// Fuzz target: the capture path. The first input byte picks the link type, the rest is one
/// frame. Each frame is decoded on its own (every view must lie inside the frame, the payload
/// never longer than on the wire) and then fed to one long-lived `PacketProcessor` with small
/// tables, so TCP reassembly, fragment reassembly, flow eviction and expiry see sequences of
/// inputs and their bounds are reached. Seeds: crafted frames in tests/data/packets.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "sluice/capture/packet_processor.hpp"

namespace {

constexpr sluice::LinkType links[] = {
    sluice::LinkType::ethernet,   sluice::LinkType::raw,  sluice::LinkType::linux_sll,
    sluice::LinkType::linux_sll2, sluice::LinkType::null, sluice::LinkType::ipv6,
};

sluice::PacketProcessor& processor() {
  static sluice::CaptureOptions options = [] {
    sluice::CaptureOptions o;
    o.udp_ports = {514, 1};
    o.tcp_ports = {601, 514};
    o.flow_table.max_flows = 32;
    o.flow_table.idle_timeout_ns = 1000;
    o.tcp.max_streams = 8;
    o.tcp.max_stream_buffer_bytes = 4096;
    o.max_fragment_datagrams = 8;
    o.max_fragment_bytes = 64 * 1024;
    o.max_message_bytes = 512;
    return o;
  }();
  static sluice::PacketProcessor p(
      options, [](std::string_view bytes, const sluice::PeerAddress&, std::int64_t, bool) {
        if (bytes.size() > 64 * 1024) std::abort();
      });
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto link = links[data[0] % (sizeof links / sizeof links[0])];
  // An exact-size copy so sanitizers catch any read past the frame.
  std::vector<std::uint8_t> frame(data + 1, data + size);
  sluice::DecodedPacket p;
  sluice::MalformedReason reason;
  const auto status =
      sluice::decode_packet(link, frame.data(), frame.size(), frame.size(), p, reason);
  if (status == sluice::DecodeStatus::ok) {
    const auto* begin = frame.data();
    const auto* end = frame.data() + frame.size();
    if (p.payload != nullptr && (p.payload < begin || p.payload + p.payload_bytes > end ||
                                 p.payload_bytes > p.payload_wire_bytes))
      std::abort();
    if (p.fragment_data != nullptr &&
        (p.fragment_data < begin || p.fragment_data + p.fragment_bytes > end))
      std::abort();
  } else if (status == sluice::DecodeStatus::malformed && reason == sluice::MalformedReason::none) {
    std::abort();
  }
  static std::int64_t now = 0;
  now += 100;
  processor().process(link, frame.data(), frame.size(), frame.size(), now);
  if (now % 1000 == 0) processor().expire(now);
  return 0;
}
