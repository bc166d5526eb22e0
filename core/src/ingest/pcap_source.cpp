// SPDX-License-Identifier: Apache-2.0
/// Pcap replay: link layer → IP → UDP/TCP decoding over bounds-checked views, and per-flow TCP
/// reassembly feeding `SyslogFramer`. Every header read goes through `View`, which never reads
/// past the captured bytes.
#include "sluice/ingest/pcap_source.hpp"

#include <pcap/pcap.h>

#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <unordered_map>

#include "ingest/source_util.hpp"
#include "sluice/common/log.hpp"

namespace sluice {
namespace {

constexpr Logger log{"ingest.pcap"};

// Link types by number, so the file does not depend on which DLT_ macros a libpcap defines.
constexpr int dlt_null = 0;          // BSD loopback, host-order address family
constexpr int dlt_en10mb = 1;        // Ethernet
constexpr int dlt_raw_linux = 12;    // raw IP (LINKTYPE_RAW 101 maps here on Linux)
constexpr int dlt_loop = 108;        // OpenBSD loopback, network-order address family
constexpr int dlt_linux_sll = 113;   // Linux cooked capture v1
constexpr int dlt_linux_sll2 = 276;  // Linux cooked capture v2
constexpr int dlt_ipv4 = 228;
constexpr int dlt_ipv6 = 229;
constexpr int linktype_raw = 101;

constexpr std::uint16_t ethertype_ipv4 = 0x0800;
constexpr std::uint16_t ethertype_ipv6 = 0x86dd;
constexpr std::uint16_t ethertype_vlan = 0x8100;
constexpr std::uint16_t ethertype_qinq = 0x88a8;
constexpr std::uint16_t ethertype_qinq_old = 0x9100;
constexpr std::uint16_t ethertype_pppoe_session = 0x8864;
constexpr std::uint16_t ethertype_mpls = 0x8847;

constexpr std::uint8_t ip_proto_hop_by_hop = 0;
constexpr std::uint8_t ip_proto_ipv4 = 4;
constexpr std::uint8_t ip_proto_tcp = 6;
constexpr std::uint8_t ip_proto_udp = 17;
constexpr std::uint8_t ip_proto_ipv6 = 41;
constexpr std::uint8_t ip_proto_routing = 43;
constexpr std::uint8_t ip_proto_fragment = 44;
constexpr std::uint8_t ip_proto_ah = 51;
constexpr std::uint8_t ip_proto_dest_opts = 60;

/// Tunnels nested deeper than this are counted as malformed (a crafted packet could nest
/// 6in4 headers to the end of the snap length).
constexpr int max_ip_nesting = 3;

constexpr std::uint8_t tcp_fin = 0x01;
constexpr std::uint8_t tcp_syn = 0x02;
constexpr std::uint8_t tcp_rst = 0x04;

/// Bounds-checked bytes of one packet.
struct View {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;

  bool has(std::size_t n) const { return n <= size; }
  std::uint8_t u8(std::size_t at) const { return data[at]; }
  std::uint16_t u16(std::size_t at) const {
    return static_cast<std::uint16_t>(data[at] << 8 | data[at + 1]);
  }
  std::uint32_t u32(std::size_t at) const {
    return std::uint32_t{data[at]} << 24 | std::uint32_t{data[at + 1]} << 16 |
           std::uint32_t{data[at + 2]} << 8 | data[at + 3];
  }
  View from(std::size_t at) const { return at <= size ? View{data + at, size - at} : View{}; }
  View first(std::size_t n) const { return View{data, std::min(n, size)}; }
};

enum class Outcome : std::uint8_t { ok, ignored, malformed, fragment };

/// What the IP and transport decoders found.
struct Transport {
  std::uint8_t protocol = 0;
  PeerAddress src;
  PeerAddress dst;
  View payload;                  ///< captured payload bytes
  std::size_t payload_size = 0;  ///< payload bytes on the wire (more when truncated)
  std::uint32_t seq = 0;
  std::uint8_t tcp_flags = 0;
};

Outcome decode_ip(View v, bool truncated, int depth, Transport& t);

Outcome decode_transport(std::uint8_t proto, View v, std::size_t wire_size, bool truncated,
                         int depth, Transport& t) {
  if (proto == ip_proto_ipv6 || proto == ip_proto_ipv4)
    return decode_ip(v, truncated, depth + 1, t);
  if (proto == ip_proto_udp) {
    if (!v.has(8)) return Outcome::malformed;
    t.protocol = ip_proto_udp;
    t.src.port = v.u16(0);
    t.dst.port = v.u16(2);
    std::size_t udp_len = v.u16(4);
    if (udp_len == 0) udp_len = wire_size;  // IPv6 jumbogram (RFC 2675)
    if (udp_len < 8 || udp_len > wire_size) return Outcome::malformed;
    t.payload = v.from(8).first(udp_len - 8);
    t.payload_size = udp_len - 8;
    return Outcome::ok;
  }
  if (proto == ip_proto_tcp) {
    if (!v.has(20)) return Outcome::malformed;
    const std::size_t header = static_cast<std::size_t>(v.u8(12) >> 4) * 4;
    if (header < 20 || header > wire_size || !v.has(header)) return Outcome::malformed;
    t.protocol = ip_proto_tcp;
    t.src.port = v.u16(0);
    t.dst.port = v.u16(2);
    t.seq = v.u32(4);
    t.tcp_flags = v.u8(13);
    t.payload = v.from(header);
    t.payload_size = wire_size - header;
    return Outcome::ok;
  }
  (void)truncated;
  return Outcome::ignored;
}

Outcome decode_ip(View v, bool truncated, int depth, Transport& t) {
  if (depth > max_ip_nesting || !v.has(1)) return Outcome::malformed;
  const int version = v.u8(0) >> 4;
  if (version == 4) {
    if (!v.has(20)) return Outcome::malformed;
    const std::size_t header = std::size_t{v.u8(0) & 0x0fu} * 4;
    const std::size_t total = v.u16(2);
    if (header < 20 || total < header || !v.has(header)) return Outcome::malformed;
    // A total length beyond the captured bytes is only legitimate in a truncated capture.
    if (!v.has(total) && !truncated) return Outcome::malformed;
    const std::uint16_t frag = v.u16(6);
    if ((frag & 0x3fff) != 0) return Outcome::fragment;  // MF set or a non-zero offset
    t.src = PeerAddress::ipv4(v.u32(12), 0);
    t.dst = PeerAddress::ipv4(v.u32(16), 0);
    // Trimming to the total length drops Ethernet padding after short packets.
    return decode_transport(v.u8(9), v.first(total).from(header), total - header, truncated, depth,
                            t);
  }
  if (version == 6) {
    if (!v.has(40)) return Outcome::malformed;
    const std::size_t payload_len = v.u16(4);
    std::size_t total = 40 + payload_len;
    if (payload_len == 0) total = v.size;  // jumbogram: the length is in a hop-by-hop option
    if (!v.has(total) && !truncated) return Outcome::malformed;
    std::uint8_t src[16];
    std::uint8_t dst[16];
    std::memcpy(src, v.data + 8, 16);
    std::memcpy(dst, v.data + 24, 16);
    t.src = PeerAddress::ipv6(src, 0);
    t.dst = PeerAddress::ipv6(dst, 0);
    std::uint8_t next = v.u8(6);
    std::size_t at = 40;
    // Walk the extension headers (RFC 8200 §4).
    for (int hops = 0; hops < 8; ++hops) {
      if (next == ip_proto_hop_by_hop || next == ip_proto_routing || next == ip_proto_dest_opts) {
        if (!v.has(at + 2)) return Outcome::malformed;
        const std::uint8_t following = v.u8(at);
        at += (std::size_t{v.u8(at + 1)} + 1) * 8;
        next = following;
      } else if (next == ip_proto_ah) {
        if (!v.has(at + 2)) return Outcome::malformed;
        const std::uint8_t following = v.u8(at);
        at += (std::size_t{v.u8(at + 1)} + 2) * 4;
        next = following;
      } else if (next == ip_proto_fragment) {
        return Outcome::fragment;
      } else {
        break;
      }
    }
    if (at > total || !v.has(std::min(at, v.size))) return Outcome::malformed;
    return decode_transport(next, v.first(total).from(at), total - at, truncated, depth, t);
  }
  return Outcome::malformed;
}

/// Finds the IP header behind an EtherType, past VLAN tags, PPPoE and MPLS.
Outcome decode_ethertype(std::uint16_t type, View v, bool truncated, Transport& t) {
  for (int layers = 0; layers < 8; ++layers) {
    if (type == ethertype_ipv4 || type == ethertype_ipv6) return decode_ip(v, truncated, 0, t);
    if (type == ethertype_vlan || type == ethertype_qinq || type == ethertype_qinq_old) {
      if (!v.has(4)) return Outcome::malformed;
      type = v.u16(2);
      v = v.from(4);
    } else if (type == ethertype_pppoe_session) {
      // RFC 2516: 6-byte PPPoE header, then the PPP protocol number.
      if (!v.has(8)) return Outcome::malformed;
      const std::uint16_t ppp = v.u16(6);
      v = v.from(8);
      if (ppp == 0x0021) {
        type = ethertype_ipv4;
      } else if (ppp == 0x0057) {
        type = ethertype_ipv6;
      } else {
        return Outcome::ignored;
      }
    } else if (type == ethertype_mpls) {
      // RFC 3032: 4-byte labels until the bottom-of-stack bit; the payload's version nibble
      // says which IP follows.
      for (;;) {
        if (!v.has(4)) return Outcome::malformed;
        const bool bottom = (v.u8(2) & 0x01) != 0;
        v = v.from(4);
        if (bottom) break;
      }
      return decode_ip(v, truncated, 0, t);
    } else {
      return Outcome::ignored;
    }
  }
  return Outcome::malformed;
}

Outcome decode_link(int link, View v, bool truncated, Transport& t) {
  switch (link) {
    case dlt_en10mb:
      if (!v.has(14)) return Outcome::malformed;
      return decode_ethertype(v.u16(12), v.from(14), truncated, t);
    case dlt_linux_sll:
      if (!v.has(16)) return Outcome::malformed;
      return decode_ethertype(v.u16(14), v.from(16), truncated, t);
    case dlt_linux_sll2:
      if (!v.has(20)) return Outcome::malformed;
      return decode_ethertype(v.u16(0), v.from(20), truncated, t);
    case dlt_raw_linux:
    case linktype_raw:
    case dlt_ipv4:
    case dlt_ipv6:
      return decode_ip(v, truncated, 0, t);
    case dlt_null:
    case dlt_loop:
      return v.has(4) ? decode_ip(v.from(4), truncated, 0, t) : Outcome::malformed;
    default:
      return Outcome::ignored;
  }
}

bool link_supported(int link) {
  switch (link) {
    case dlt_en10mb:
    case dlt_linux_sll:
    case dlt_linux_sll2:
    case dlt_raw_linux:
    case linktype_raw:
    case dlt_ipv4:
    case dlt_ipv6:
    case dlt_null:
    case dlt_loop:
      return true;
    default:
      return false;
  }
}

/// One direction of a TCP connection, client to server.
struct FlowKey {
  std::array<std::uint8_t, 16> src{};
  std::array<std::uint8_t, 16> dst{};
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint8_t family = 0;
  bool operator==(const FlowKey&) const = default;
};

struct FlowKeyHash {
  std::size_t operator()(const FlowKey& k) const {
    // FNV-1a over the fields: flows per capture are few, any decent mix will do.
    std::uint64_t h = 1469598103934665603ULL;
    auto mix = [&h](const std::uint8_t* p, std::size_t n) {
      for (std::size_t i = 0; i < n; ++i)
        h = (h ^ p[i]) * 1099511628211ULL;
    };
    mix(k.src.data(), 16);
    mix(k.dst.data(), 16);
    const std::uint8_t rest[5] = {static_cast<std::uint8_t>(k.src_port >> 8),
                                  static_cast<std::uint8_t>(k.src_port),
                                  static_cast<std::uint8_t>(k.dst_port >> 8),
                                  static_cast<std::uint8_t>(k.dst_port), k.family};
    mix(rest, 5);
    return static_cast<std::size_t>(h);
  }
};

/// Reassembly state of one stream. Sequence numbers are kept relative to the first byte seen
/// (`base`), so the 32-bit wrap of absolute numbers does not matter; streams above 4 GiB in one
/// capture are not supported.
struct Flow {
  Flow(PeerAddress peer_, std::size_t max) : peer(peer_), framer(max) {}
  PeerAddress peer;
  SyslogFramer framer;
  std::uint32_t base = 0;
  std::uint32_t next = 0;  ///< relative sequence number of the next byte to frame
  bool fin = false;
  std::uint32_t fin_at = 0;
  std::map<std::uint32_t, std::string> pending;  ///< out-of-order data by relative sequence
  std::size_t pending_bytes = 0;
};

/// Signed distance a − b in sequence space (RFC 793 comparisons).
std::int32_t seq_diff(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b);
}

}  // namespace

PcapSource::PcapSource(PcapSourceConfig config) : config_(std::move(config)) {}

PcapSource::~PcapSource() {
  if (handle_ != nullptr) pcap_close(handle_);
}

Result<void> PcapSource::open() {
  if (config_.max_message_bytes == 0) return Error{describe() + ": max_message_bytes must be > 0"};
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  handle_ = pcap_open_offline_with_tstamp_precision(config_.path.c_str(),
                                                    PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (handle_ == nullptr) return Error{describe() + ": " + errbuf};
  link_type_ = pcap_datalink(handle_);
  if (!link_supported(link_type_)) {
    const char* name = pcap_datalink_val_to_name(link_type_);
    return Error{describe() + ": unsupported link type " + std::to_string(link_type_) + " (" +
                 (name != nullptr ? name : "unknown") +
                 "); supported: Ethernet, Linux cooked v1/v2, raw IP, loopback"};
  }
  return {};
}

Result<void> PcapSource::run(SourceContext& ctx) {
  SLUICE_ASSERT(handle_ != nullptr, "PcapSource::run before a successful open");
  SLUICE_ASSERT(ctx.sink != nullptr && ctx.counters != nullptr,
                "PcapSource needs a sink and counters");
  SourceCounters& counters = *ctx.counters;
  stats_ = {};
  detail::BatchBuilder batch(ctx);
  std::vector<bool> syslog_port(65536, false);
  for (auto p : config_.ports)
    syslog_port[p] = true;
  std::unordered_map<FlowKey, std::unique_ptr<Flow>, FlowKeyHash> flows;
  static RateLimit truncate_limit{std::chrono::seconds(10)};
  bool sink_open = true;
  std::int64_t now = 0;

  auto add_record = [&](std::string_view bytes, const PeerAddress& peer, bool truncated) {
    Event& e = batch.add(bytes, now);
    e.peer = peer;
    if (truncated) {
      e.flags |= event_flag_truncated;
      counters.truncated.add();
      if (std::uint64_t suppressed = 0; truncate_limit.allow(suppressed))
        log.warn("{}: record from {}:{} cut at {} bytes ({} similar suppressed)", describe(),
                 peer.address_string(), peer.port, config_.max_message_bytes, suppressed);
    }
    if (!batch.flush_if_full()) sink_open = false;
  };
  auto frame_sink = [&](Flow& flow) {
    return [&](const Frame& f) { add_record(f.bytes, flow.peer, f.truncated); };
  };
  auto deliver = [&](Flow& flow, std::string_view data) {
    flow.framer.feed(data, frame_sink(flow));
    flow.next += static_cast<std::uint32_t>(data.size());
  };
  // Feeds buffered segments that have become contiguous with `next`.
  auto drain = [&](Flow& flow) {
    while (!flow.pending.empty()) {
      auto it = flow.pending.begin();
      const std::int32_t ahead = seq_diff(it->first, flow.next);
      if (ahead > 0) break;
      const std::size_t overlap = static_cast<std::size_t>(-ahead);
      if (overlap < it->second.size()) deliver(flow, std::string_view(it->second).substr(overlap));
      flow.pending_bytes -= it->second.size();
      flow.pending.erase(it);
    }
  };
  // Gives up on the hole before the first buffered segment: framing resumes at the next LF.
  auto skip_hole = [&](Flow& flow) {
    if (flow.pending.empty()) return;
    ++stats_.stream_gaps;
    counters.errors.add();
    flow.framer.resync();
    flow.next = flow.pending.begin()->first;
    drain(flow);
  };
  auto close_flow = [&](Flow& flow) {
    while (!flow.pending.empty())
      skip_hole(flow);
    flow.framer.finish(frame_sink(flow));
  };

  auto on_tcp = [&](const Transport& t, bool truncated) {
    FlowKey key;
    key.family = t.src.family;
    key.src = t.src.address;
    key.dst = t.dst.address;
    key.src_port = t.src.port;
    key.dst_port = t.dst.port;
    const bool syn = (t.tcp_flags & tcp_syn) != 0;
    auto it = flows.find(key);
    if (it != flows.end() && syn && seq_diff(t.seq + 1, it->second->base) != 0 &&
        it->second->next != 0) {
      // A new connection reusing the 4-tuple: the old one is over.
      close_flow(*it->second);
      flows.erase(it);
      it = flows.end();
    }
    if (it == flows.end()) {
      if (flows.size() >= config_.max_flows) {
        counters.errors.add();
        return;
      }
      auto flow = std::make_unique<Flow>(t.src, config_.max_message_bytes);
      // Without a SYN the capture started mid-stream; the first segment is assumed to start a
      // frame (captures usually begin between messages).
      flow->base = syn ? t.seq + 1 : t.seq;
      it = flows.emplace(key, std::move(flow)).first;
    }
    Flow& flow = *it->second;
    const std::uint32_t rel = t.seq + (syn ? 1u : 0u) - flow.base;
    const std::size_t size = t.payload_size;
    if (truncated) {
      // The segment's bytes were not captured: a hole of known size. In order, skip it now so
      // the stream goes on; out of order, it stays a hole until buffering gives up on it.
      if (size > 0 && seq_diff(rel, flow.next) <= 0 &&
          seq_diff(rel + static_cast<std::uint32_t>(size), flow.next) > 0) {
        ++stats_.stream_gaps;
        flow.framer.resync();
        flow.next = rel + static_cast<std::uint32_t>(size);
        drain(flow);
      }
    } else if (size > 0) {
      std::string_view data(reinterpret_cast<const char*>(t.payload.data), size);
      const std::int32_t ahead = seq_diff(rel, flow.next);
      if (ahead <= 0) {
        // In order, or a retransmission overlapping what was framed: keep only the new bytes.
        const std::size_t overlap = static_cast<std::size_t>(-static_cast<std::int64_t>(ahead));
        if (overlap < data.size()) {
          deliver(flow, data.substr(overlap));
          drain(flow);
        }
      } else {
        auto [slot, inserted] = flow.pending.try_emplace(rel);
        if (inserted || slot->second.size() < data.size()) {
          flow.pending_bytes += data.size() - slot->second.size();
          slot->second.assign(data);
        }
        while (flow.pending_bytes > config_.max_flow_buffer_bytes)
          skip_hole(flow);
      }
    }
    if ((t.tcp_flags & tcp_fin) != 0 && !flow.fin) {
      flow.fin = true;
      flow.fin_at = rel + static_cast<std::uint32_t>(size);
    }
    const bool rst = (t.tcp_flags & tcp_rst) != 0;
    if (rst || (flow.fin && seq_diff(flow.next, flow.fin_at) >= 0)) {
      close_flow(flow);
      flows.erase(it);
    }
  };

  pcap_pkthdr* header = nullptr;
  const u_char* bytes = nullptr;
  int rc = 0;
  while (sink_open && !ctx.stop.stop_requested() &&
         (rc = pcap_next_ex(handle_, &header, &bytes)) == 1) {
    ++stats_.packets;
    counters.bytes.add(header->caplen);
    // With nanosecond precision requested, libpcap puts nanoseconds in tv_usec.
    now = std::int64_t{header->ts.tv_sec} * 1'000'000'000 + header->ts.tv_usec;
    const bool truncated = header->caplen < header->len;
    Transport t;
    const Outcome outcome = decode_link(link_type_, View{bytes, header->caplen}, truncated, t);
    if (outcome == Outcome::ignored) {
      ++stats_.ignored;
      if (truncated) ++stats_.truncated_packets;
      continue;
    }
    if (outcome == Outcome::malformed || outcome == Outcome::fragment) {
      if (outcome == Outcome::fragment) ++stats_.fragments;
      if (outcome == Outcome::malformed) ++stats_.malformed;
      if (truncated) ++stats_.truncated_packets;
      counters.errors.add();
      continue;
    }
    if (t.protocol == ip_proto_udp) {
      if (!config_.all_udp && !syslog_port[t.dst.port] && !syslog_port[t.src.port]) {
        ++stats_.ignored;
        continue;
      }
      ++stats_.udp_datagrams;
      // A truncated packet whose payload was captured whole (only padding or trailing headers
      // missing) is still good; one missing payload bytes is counted and skipped.
      if (truncated) ++stats_.truncated_packets;
      if (t.payload.size < t.payload_size) {
        counters.errors.add();
        continue;
      }
      const PeerAddress& peer = t.src;
      split_datagram(
          std::string_view(reinterpret_cast<const char*>(t.payload.data), t.payload_size),
          config_.split_messages, [&](std::string_view record) {
            const bool cut = record.size() > config_.max_message_bytes;
            add_record(cut ? record.substr(0, config_.max_message_bytes) : record, peer, cut);
          });
    } else {
      if (!syslog_port[t.dst.port]) {
        ++stats_.ignored;
        continue;
      }
      ++stats_.tcp_segments;
      if (truncated) ++stats_.truncated_packets;
      const bool cut = t.payload.size < t.payload_size;
      if (cut) counters.errors.add();
      on_tcp(t, cut);
    }
  }
  if (rc == PCAP_ERROR) {
    // A damaged tail ends the replay; what was read is kept.
    counters.errors.add();
    log.warn("{}: {} (after {} packets)", describe(), pcap_geterr(handle_), stats_.packets);
  }
  for (auto& [key, flow] : flows)
    close_flow(*flow);
  flows.clear();
  (void)batch.flush();
  return {};
}

}  // namespace sluice
