// SPDX-License-Identifier: Apache-2.0
#include "sluice/capture/packet_processor.hpp"

#include <algorithm>
#include <limits>

#include "sluice/ingest/framing.hpp"

namespace sluice {
namespace {

/// Calls `f(counter, value)` for every metric and its current total, in a fixed order.
template <class F>
void each_metric(CaptureMetrics& m, const PacketProcessor& p, F&& f) {
  const CaptureStats& s = p.stats();
  f(m.packets, s.packets);
  f(m.bytes, s.bytes);
  f(m.not_ip, s.not_ip);
  f(m.truncated, s.truncated);
  for (std::size_t i = 0; i < malformed_reason_count; ++i)
    f(m.malformed[i], s.malformed[i]);
  const ReassemblyCounters& r = p.fragments().counters();
  f(m.fragments, s.fragments);
  f(m.fragments_reassembled, r.reassembled);
  f(m.fragments_dropped, r.overlapping + r.too_large + r.evicted + r.timed_out);
  f(m.udp_syslog_datagrams, s.udp_syslog_datagrams);
  const TcpReassemblyCounters& t = p.tcp().counters();
  f(m.tcp_syslog_segments, t.segments);
  f(m.tcp_stream_gaps, t.gaps);
  f(m.tcp_streams_evicted, t.evicted);
  f(m.tls_segments, s.tls_segments);
  f(m.syslog_records, s.syslog_records);
  f(m.flow_records, s.flow_records);
  f(m.flows_evicted, p.flows().counters().evicted());
}

}  // namespace

void CaptureMetrics::register_metrics(MetricsRegistry& r, const std::string& labels) const {
  auto sep = labels.empty() ? std::string() : labels + ",";
  r.add_counter("sluice_capture_packets_total", "Packets seen by a capture source", labels,
                &packets);
  r.add_counter("sluice_capture_bytes_total", "Wire bytes of captured packets", labels, &bytes);
  r.add_counter("sluice_capture_not_ip_total", "Frames without IP (ARP, LLDP, ...)", labels,
                &not_ip);
  r.add_counter("sluice_capture_truncated_total", "Packets captured shorter than sent", labels,
                &truncated);
  for (std::size_t i = 1; i < malformed_reason_count; ++i) {
    r.add_counter(
        "sluice_capture_malformed_total", "Packets that could not be decoded, by reason",
        sep + "reason=\"" + std::string(to_string(static_cast<MalformedReason>(i))) + "\"",
        &malformed[i]);
  }
  r.add_counter("sluice_capture_fragments_total", "IP fragments seen", labels, &fragments);
  r.add_counter("sluice_capture_fragments_reassembled_total", "UDP datagrams reassembled", labels,
                &fragments_reassembled);
  r.add_counter("sluice_capture_fragments_dropped_total",
                "Fragmented datagrams given up (overlap, size, eviction, timeout)", labels,
                &fragments_dropped);
  r.add_counter("sluice_capture_udp_syslog_datagrams_total", "UDP syslog datagrams", labels,
                &udp_syslog_datagrams);
  r.add_counter("sluice_capture_tcp_syslog_segments_total", "TCP syslog segments", labels,
                &tcp_syslog_segments);
  r.add_counter("sluice_capture_tcp_stream_gaps_total", "Holes skipped in TCP syslog streams",
                labels, &tcp_stream_gaps);
  r.add_counter("sluice_capture_tcp_streams_evicted_total", "TCP streams closed for room", labels,
                &tcp_streams_evicted);
  r.add_counter("sluice_capture_tls_segments_total", "Syslog-over-TLS segments (counted only)",
                labels, &tls_segments);
  r.add_counter("sluice_capture_syslog_records_total", "Syslog records extracted", labels,
                &syslog_records);
  r.add_counter("sluice_capture_flow_records_total", "Flow records exported", labels,
                &flow_records);
  r.add_counter("sluice_capture_flows_evicted_total", "Flows exported early for room", labels,
                &flows_evicted);
}

PacketProcessor::PacketProcessor(const CaptureOptions& options, CaptureRecordFn on_record)
    : options_(options), on_record_(std::move(on_record)), port_roles_(65536, 0) {
  for (auto p : options_.udp_ports)
    port_roles_[p] |= port_udp;
  for (auto p : options_.tcp_ports)
    port_roles_[p] |= port_tcp;
  for (auto p : options_.tls_ports)
    port_roles_[p] |= port_tls;
  FlowTableConfig ft = options_.flow_table;
  if (!options_.flows) ft.max_flows = 1;  // unused, but keeps `flows()` valid
  flows_ = std::make_unique<FlowTable>(ft, [this](const FlowRecord& f) {
    flow_json_.clear();
    render_flow_json(f, flow_json_);
    ++stats_.flow_records;
    on_record_(flow_json_, peer_of(f.src, f.ip_version, f.src_port), f.last_ns, false);
  });
  TcpReassemblerConfig tc = options_.tcp;
  tc.max_message_bytes = options_.max_message_bytes;
  tcp_ = std::make_unique<TcpReassembler>(
      tc, [this](std::string_view bytes, const PeerAddress& peer, bool cut) {
        ++stats_.syslog_records;
        if (cut) ++stats_.records_truncated;
        on_record_(bytes, peer, now_ns_, cut);
      });
  fragments_ = std::make_unique<IpReassembler>(
      options_.max_fragment_datagrams, options_.max_fragment_bytes, options_.fragment_timeout_ns);
  published_.assign(64, 0);
}

PacketProcessor::~PacketProcessor() = default;

void PacketProcessor::emit(std::string_view bytes, const PeerAddress& peer, std::int64_t time_ns) {
  const bool cut = bytes.size() > options_.max_message_bytes;
  if (cut) {
    bytes = bytes.substr(0, options_.max_message_bytes);
    ++stats_.records_truncated;
  }
  ++stats_.syslog_records;
  on_record_(bytes, peer, time_ns, cut);
}

void PacketProcessor::on_udp_syslog(const DecodedPacket& p, std::int64_t time_ns) {
  ++stats_.udp_syslog_datagrams;
  if (p.payload_bytes < p.payload_wire_bytes) {
    // The capture cut the payload: a partial message would mislead, so it is counted instead.
    ++stats_.udp_payload_cut;
    return;
  }
  const PeerAddress peer = peer_of(p.src, p.ip_version, p.src_port);
  split_datagram(std::string_view(reinterpret_cast<const char*>(p.payload), p.payload_bytes),
                 options_.split_messages,
                 [&](std::string_view record) { emit(record, peer, time_ns); });
}

void PacketProcessor::process(LinkType link, const std::uint8_t* data, std::size_t captured,
                              std::size_t wire_bytes, std::int64_t time_ns, std::uint16_t vlan) {
  ++stats_.packets;
  stats_.bytes += wire_bytes;
  now_ns_ = time_ns;
  DecodedPacket p;
  MalformedReason reason;
  const DecodeStatus status = decode_packet(link, data, captured, wire_bytes, p, reason);
  if (p.truncated) ++stats_.truncated;
  if (status == DecodeStatus::not_ip) [[unlikely]] {
    ++stats_.not_ip;
    return;
  }
  if (status == DecodeStatus::malformed) [[unlikely]] {
    ++stats_.malformed[static_cast<std::size_t>(reason)];
    return;
  }
  if (p.vlan == 0) p.vlan = vlan;
  if (options_.flows) flows_->update(p, time_ns);
  extract(p, time_ns);
}

void PacketProcessor::process_burst(LinkType link, std::span<const RawFrame> frames,
                                    std::int64_t time_ns) {
  constexpr std::size_t max_burst = 64;
  DecodedPacket decoded[max_burst];
  now_ns_ = time_ns;
  for (std::size_t base = 0; base < frames.size(); base += max_burst) {
    const std::size_t n = std::min(max_burst, frames.size() - base);
    std::size_t ok = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const RawFrame& f = frames[base + i];
      ++stats_.packets;
      stats_.bytes += f.wire_bytes;
      MalformedReason reason;
      const DecodeStatus status =
          decode_packet(link, f.data, f.captured, f.wire_bytes, decoded[ok], reason);
      if (decoded[ok].truncated) ++stats_.truncated;
      if (status == DecodeStatus::ok) [[likely]] {
        ++ok;
      } else if (status == DecodeStatus::not_ip) {
        ++stats_.not_ip;
      } else {
        ++stats_.malformed[static_cast<std::size_t>(reason)];
      }
    }
    if (options_.flows) flows_->update_burst({decoded, ok}, time_ns);
    for (std::size_t i = 0; i < ok; ++i)
      extract(decoded[i], time_ns);
  }
}

void PacketProcessor::extract(const DecodedPacket& p, std::int64_t time_ns) {
  if (p.fragment) [[unlikely]] {
    ++stats_.fragments;
    // Later fragments carry no ports, so every UDP fragment is held until its datagram is
    // whole; the table's bounds cap what that costs.
    if (p.protocol != ip_proto_udp) return;
    std::string_view whole;
    if (!fragments_->add(p, time_ns, whole)) return;
    DecodedPacket d = p;
    MalformedReason r;
    if (decode_udp_datagram(reinterpret_cast<const std::uint8_t*>(whole.data()), whole.size(), d,
                            r) != DecodeStatus::ok) {
      ++stats_.malformed[static_cast<std::size_t>(r)];
      return;
    }
    if (options_.all_udp || (port_roles_[d.dst_port] & port_udp) != 0 ||
        (port_roles_[d.src_port] & port_udp) != 0)
      on_udp_syslog(d, time_ns);
    return;
  }
  if (p.protocol == ip_proto_udp) {
    if (options_.all_udp || ((port_roles_[p.dst_port] | port_roles_[p.src_port]) & port_udp) != 0) {
      on_udp_syslog(p, time_ns);
      return;
    }
  } else if (p.protocol == ip_proto_tcp) {
    const std::uint8_t role = port_roles_[p.dst_port];
    if ((role & port_tcp) != 0) {
      tcp_->segment(p, time_ns);
      return;
    }
    if (((role | port_roles_[p.src_port]) & port_tls) != 0) {
      ++stats_.tls_segments;
      stats_.tls_bytes += p.payload_wire_bytes;
      return;
    }
  }
  ++stats_.other_ip;
}

void PacketProcessor::expire(std::int64_t now_ns) {
  now_ns_ = now_ns;
  if (options_.flows) flows_->expire(now_ns);
  tcp_->expire(now_ns);
  fragments_->expire(now_ns);
}

void PacketProcessor::finish(std::int64_t now_ns) {
  now_ns_ = now_ns;
  tcp_->finish();
  // Datagrams still missing fragments at the end will never complete: counted as timed out.
  fragments_->expire(std::numeric_limits<std::int64_t>::max());
  if (options_.flows) flows_->flush();
}

void PacketProcessor::publish(CaptureMetrics& metrics) {
  std::size_t i = 0;
  each_metric(metrics, *this, [&](Counter& c, std::uint64_t value) {
    if (value > published_[i]) c.add(value - published_[i]);
    published_[i] = value;
    ++i;
  });
}

}  // namespace sluice
