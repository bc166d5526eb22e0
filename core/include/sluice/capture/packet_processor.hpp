// SPDX-License-Identifier: Apache-2.0
/// `PacketProcessor` is what every capture source runs per queue: decode → flow table →
/// syslog extraction (UDP datagrams on the syslog ports, IPv4/IPv6 UDP fragments reassembled,
/// TCP streams reassembled and framed; TLS syslog counted only), handing records to a callback.
/// Flow records are rendered as JSON objects (see `render_flow_json`) and become events like
/// any other record, so Sigma `category: firewall` rules and correlation read them.
///
/// Counting: every packet ends in exactly one of `not_ip`, `malformed` (by reason) or decoded;
/// the plain `CaptureStats` are updated per packet without atomics, and `CaptureMetrics`
/// (what `/metrics` shows) is brought up to date by `publish`, which sources call once per
/// burst or batch. Not thread-safe: one processor per queue and thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/capture/flow_table.hpp"
#include "sluice/capture/ip_reassembler.hpp"
#include "sluice/capture/packet_decoder.hpp"
#include "sluice/capture/tcp_reassembler.hpp"
#include "sluice/event/event.hpp"
#include "sluice/metrics/counter.hpp"

namespace sluice {

/// What to extract from packets; shared by `[capture.dpdk]`, `[capture.afpacket]` and pcap
/// replay. Plain struct with working defaults.
struct CaptureOptions {
  /// UDP ports whose datagrams (to or from them) are syslog; RFC 5426 names 514.
  std::vector<std::uint16_t> udp_ports = {514};
  /// TCP ports whose client-to-server streams are syslog: 601 (RFC 3195/6587).
  std::vector<std::uint16_t> tcp_ports = {601};
  /// TCP ports of syslog over TLS (RFC 5425: 6514): counted, not decrypted.
  std::vector<std::uint16_t> tls_ports = {6514};
  /// Every UDP datagram is syslog, whatever its ports.
  bool all_udp = false;
  /// Split a datagram at each LF followed by `<` (see `split_datagram`).
  bool split_messages = true;
  /// Longest record kept; longer ones are cut and flagged truncated.
  std::size_t max_message_bytes = 64 * 1024;
  /// Export flow records as events.
  bool flows = true;
  FlowTableConfig flow_table;
  TcpReassemblerConfig tcp;
  /// Incomplete fragmented datagrams held at once, bytes they may buffer, and how long one may
  /// wait for its missing fragments.
  std::size_t max_fragment_datagrams = 1024;
  std::size_t max_fragment_bytes = 16 * 1024 * 1024;
  std::int64_t fragment_timeout_ns = 30'000'000'000;
};

/// Per-processor totals, updated without atomics on the processor's thread.
struct CaptureStats {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;  ///< wire bytes of every packet
  std::uint64_t not_ip = 0;
  std::uint64_t truncated = 0;  ///< packets captured shorter than on the wire
  std::array<std::uint64_t, malformed_reason_count> malformed{};
  std::uint64_t fragments = 0;
  std::uint64_t other_ip = 0;  ///< decoded IP packets that carried no syslog
  std::uint64_t udp_syslog_datagrams = 0;
  std::uint64_t udp_payload_cut = 0;  ///< syslog datagrams whose payload was not captured whole
  std::uint64_t tls_segments = 0;
  std::uint64_t tls_bytes = 0;
  std::uint64_t syslog_records = 0;
  std::uint64_t records_truncated = 0;
  std::uint64_t flow_records = 0;

  std::uint64_t malformed_total() const {
    std::uint64_t n = 0;
    for (auto v : malformed)
      n += v;
    return n;
  }
};

/// Counters for `/metrics`, labelled by capture source; filled from `CaptureStats` and the
/// table counters by `PacketProcessor::publish`. Register once with `register_metrics`.
struct CaptureMetrics {
  Counter packets;
  Counter bytes;
  Counter not_ip;
  Counter truncated;
  std::array<Counter, malformed_reason_count> malformed;
  Counter fragments;
  Counter fragments_reassembled;
  Counter fragments_dropped;  ///< overlapping, too large, evicted or timed out
  Counter udp_syslog_datagrams;
  Counter tcp_syslog_segments;
  Counter tcp_stream_gaps;
  Counter tcp_streams_evicted;
  Counter tls_segments;
  Counter syslog_records;
  Counter flow_records;
  Counter flows_evicted;

  /// Adds every counter to `registry` under `sluice_capture_*` with `labels` (e.g.
  /// `source="dpdk:0:1"`). `this` must outlive the registry's use.
  void register_metrics(MetricsRegistry& registry, const std::string& labels) const;
};

/// One captured frame for `PacketProcessor::process_burst`.
struct RawFrame {
  const std::uint8_t* data = nullptr;
  std::size_t captured = 0;    ///< bytes at `data`
  std::size_t wire_bytes = 0;  ///< the frame's length on the wire
};

/// Receives a record: bytes (valid during the call), the peer, the packet time, and whether the
/// record was cut at the maximum size.
using CaptureRecordFn = std::function<void(std::string_view bytes, const PeerAddress& peer,
                                           std::int64_t time_ns, bool truncated)>;

class PacketProcessor {
 public:
  /// Allocates the flow table and the port map up front.
  PacketProcessor(const CaptureOptions& options, CaptureRecordFn on_record);
  ~PacketProcessor();
  PacketProcessor(const PacketProcessor&) = delete;
  PacketProcessor& operator=(const PacketProcessor&) = delete;

  /// One frame: `captured` bytes at `data` of a frame `wire_bytes` long, received at `time_ns`.
  /// `vlan` is a VLAN id the capture took out of the frame (NIC VLAN stripping, reported by
  /// AF_PACKET in `tp_vlan_tci`); it counts as the frame's VLAN when the frame carries no tag.
  void process(LinkType link, const std::uint8_t* data, std::size_t captured,
               std::size_t wire_bytes, std::int64_t time_ns, std::uint16_t vlan = 0);
  /// A burst of frames received at `time_ns`, all valid until the call returns: decoded first,
  /// then their flow updates as one prefetched burst, then syslog extraction in order. Same
  /// results as calling `process` on each (flow exports may come before records of the same
  /// burst).
  void process_burst(LinkType link, std::span<const RawFrame> frames, std::int64_t time_ns);
  /// Ends idle flows, streams and fragment sets as of `now_ns`.
  void expire(std::int64_t now_ns);
  /// End of input or shutdown: exports every flow and closes every stream.
  void finish(std::int64_t now_ns);
  /// Brings `metrics` up to date (adds what changed since the last call).
  void publish(CaptureMetrics& metrics);

  const CaptureStats& stats() const { return stats_; }
  const FlowTable& flows() const { return *flows_; }
  const TcpReassembler& tcp() const { return *tcp_; }
  const IpReassembler& fragments() const { return *fragments_; }

 private:
  enum PortRole : std::uint8_t { port_udp = 1, port_tcp = 2, port_tls = 4 };

  void extract(const DecodedPacket& p, std::int64_t time_ns);
  void on_udp_syslog(const DecodedPacket& p, std::int64_t time_ns);
  void emit(std::string_view bytes, const PeerAddress& peer, std::int64_t time_ns);

  CaptureOptions options_;
  CaptureRecordFn on_record_;
  std::vector<std::uint8_t> port_roles_;  ///< 65536 entries of `PortRole` bits
  std::unique_ptr<FlowTable> flows_;
  std::unique_ptr<TcpReassembler> tcp_;
  std::unique_ptr<IpReassembler> fragments_;
  std::int64_t now_ns_ = 0;
  std::string flow_json_;
  CaptureStats stats_;
  /// Values at the last `publish`, to add only the difference.
  std::vector<std::uint64_t> published_;
};

}  // namespace sluice
