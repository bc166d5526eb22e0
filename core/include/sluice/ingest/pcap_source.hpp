// SPDX-License-Identifier: Apache-2.0
/// `PcapSource` replays a capture file (pcap or pcapng, read with libpcap) through the shared
/// capture path (`PacketProcessor`: decode, syslog extraction, TCP reassembly, UDP fragment
/// reassembly and, when asked, flow records), so offline replay and live capture give the same
/// records. Time is the packets' own: flows and streams expire by packet timestamps, so a
/// replay gives the same flows however fast it runs.
///
/// Link types: Ethernet (with 802.1Q/802.1ad VLAN tags, PPPoE sessions and MPLS labels), Linux
/// cooked capture v1 and v2, raw IP, BSD loopback; see `packet_decoder.hpp`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sluice/capture/packet_processor.hpp"
#include "sluice/ingest/framing.hpp"
#include "sluice/ingest/source.hpp"

struct pcap;  // libpcap's pcap_t; libpcap stays a private dependency of sluice_core

namespace sluice {

/// Configuration of a pcap replay source (`[[source]] kind = "pcap"`).
struct PcapSourceConfig {
  /// The capture file (pcap or pcapng).
  std::string path;
  /// Syslog ports: UDP datagrams from or to them and TCP streams to them become records.
  /// 514 (UDP syslog, RFC 5426; TCP by convention), 601 (syslog over TCP, RFC 3195/6587), 1514
  /// (a common unprivileged choice). 6514 is left out: it carries TLS, which is not decrypted.
  std::vector<std::uint16_t> ports = {514, 601, 1514};
  /// Take every UDP datagram as syslog, whatever its ports.
  bool all_udp = false;
  /// Longest record kept; longer ones are cut, flagged truncated and counted.
  std::size_t max_message_bytes = default_max_message_bytes;
  /// Split a UDP payload at each LF followed by `<` (see `split_datagram`).
  bool split_messages = true;
  /// TCP streams tracked at once; the least recently used one is closed for a new one.
  std::size_t max_flows = 65536;
  /// Out-of-order bytes held per stream while waiting for a missing segment; past this the
  /// hole is given up (counted as an error) and framing resumes at the next LF.
  std::size_t max_flow_buffer_bytes = 1024 * 1024;
  /// Also export a flow record (a JSON event, see `render_flow_json`) for every flow.
  bool flows = false;
  /// Flow table bounds and timeouts when `flows` is set.
  FlowTableConfig flow_table;
};

/// What a replay saw, beyond the source counters. Read after `run` returns.
struct PcapStats {
  std::uint64_t packets = 0;            ///< packets read from the file
  std::uint64_t udp_datagrams = 0;      ///< UDP datagrams on a syslog port (or any, `all_udp`)
  std::uint64_t tcp_segments = 0;       ///< TCP segments of syslog streams, with or without data
  std::uint64_t truncated_packets = 0;  ///< captured shorter than sent (caplen < len)
  std::uint64_t fragments = 0;          ///< IPv4 or IPv6 fragments (UDP ones reassembled)
  std::uint64_t malformed = 0;          ///< headers that do not fit or do not add up
  std::uint64_t stream_gaps = 0;        ///< holes in TCP streams that were skipped
  std::uint64_t ignored = 0;            ///< other traffic (ARP, ICMP, other ports)
  std::uint64_t flow_records = 0;       ///< flow records exported
  CaptureStats capture;                 ///< the processor's full counts
};

/// Replays one capture file. `open` opens it and checks the link type; `run` reads it to the
/// end (or until stop), then hands out every stream's unfinished frame. Records carry the
/// sender's address and port and the packet's timestamp as receive time. Malformed packets,
/// syslog payloads the capture cut, skipped stream gaps and fragmented datagrams given up are
/// counted under `errors`.
class PcapSource final : public Source {
 public:
  explicit PcapSource(PcapSourceConfig config);
  ~PcapSource() override;
  PcapSource(const PcapSource&) = delete;
  PcapSource& operator=(const PcapSource&) = delete;

  std::string_view kind() const override { return "pcap"; }
  std::string describe() const override { return "pcap " + config_.path; }
  Backpressure backpressure() const override { return Backpressure::block; }
  /// Opens the file. Errors name the path and libpcap's reason, or the unsupported link type.
  Result<void> open() override;
  Result<void> run(SourceContext& ctx) override;
  bool finite() const override { return true; }

  /// Counts from the last `run`; not synchronised, read after `run` returned.
  const PcapStats& stats() const { return stats_; }

 private:
  PcapSourceConfig config_;
  ::pcap* handle_ = nullptr;
  int link_type_ = 0;
  PcapStats stats_;
};

}  // namespace sluice
