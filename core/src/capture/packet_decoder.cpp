// SPDX-License-Identifier: Apache-2.0
/// The shared L2–L4 decoder. Every header read is checked against the captured length first;
/// `Reader` offers only unchecked loads, so each read below sits after an explicit size check.
#include "sluice/capture/packet_decoder.hpp"

#include <cstring>

namespace sluice {
namespace {

constexpr std::uint16_t ethertype_ipv4 = 0x0800;
constexpr std::uint16_t ethertype_ipv6 = 0x86dd;
constexpr std::uint16_t ethertype_vlan = 0x8100;
constexpr std::uint16_t ethertype_qinq = 0x88a8;
constexpr std::uint16_t ethertype_qinq_old = 0x9100;
constexpr std::uint16_t ethertype_pppoe_session = 0x8864;
constexpr std::uint16_t ethertype_mpls = 0x8847;

constexpr std::uint8_t ip_proto_hop_by_hop = 0;
constexpr std::uint8_t ip_proto_ipip = 4;
constexpr std::uint8_t ip_proto_ipv6 = 41;
constexpr std::uint8_t ip_proto_routing = 43;
constexpr std::uint8_t ip_proto_fragment = 44;
constexpr std::uint8_t ip_proto_ah = 51;
constexpr std::uint8_t ip_proto_dest_opts = 60;

/// Tunnels nested deeper than this are malformed: a crafted packet could nest 6in4 headers to
/// the end of the snap length.
constexpr int max_ip_nesting = 3;
/// VLAN tags, PPPoE and MPLS labels before IP; real networks use two or three.
constexpr int max_link_layers = 8;
/// IPv6 extension headers walked before the transport header (RFC 8200 §4.1 recommends each
/// appear at most once, so eight is generous).
constexpr int max_ipv6_extensions = 8;

inline std::uint16_t u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
inline std::uint32_t u32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

struct Ctx {
  DecodedPacket& out;
  MalformedReason& reason;
  DecodeStatus bad(MalformedReason r) {
    reason = r;
    return DecodeStatus::malformed;
  }
};

DecodeStatus decode_ip(Ctx& c, const std::uint8_t* p, std::size_t cap, std::size_t wire, int depth);

/// The transport header at `p`: `cap` bytes captured, `wire` bytes of IP payload on the wire.
DecodeStatus decode_transport(Ctx& c, std::uint8_t proto, const std::uint8_t* p, std::size_t cap,
                              std::size_t wire, int depth) {
  DecodedPacket& o = c.out;
  o.protocol = proto;
  if (o.fragment) {
    o.fragment_data = p;
    o.fragment_bytes = cap;
    o.fragment_wire_bytes = wire;
    // Only the first fragment carries the transport header; later ones are payload.
    if (o.fragment_offset != 0) {
      o.payload = p;
      o.payload_bytes = cap;
      o.payload_wire_bytes = wire;
      return DecodeStatus::ok;
    }
  }
  switch (proto) {
    case ip_proto_udp: {
      if (cap < 8) {
        if (o.fragment) return DecodeStatus::ok;  // a first fragment may be cut anywhere
        return c.bad(MalformedReason::truncated_udp);
      }
      o.src_port = u16(p);
      o.dst_port = u16(p + 2);
      std::size_t len = u16(p + 4);
      if (o.fragment) {
        // The UDP length covers the whole datagram, not this fragment.
        o.payload = p + 8;
        o.payload_bytes = cap - 8;
        o.payload_wire_bytes = wire - 8;
        return DecodeStatus::ok;
      }
      if (len == 0 && o.ip_version == 6) len = wire;  // jumbogram (RFC 2675)
      if (len < 8 || len > wire) return c.bad(MalformedReason::bad_udp_length);
      o.payload = p + 8;
      o.payload_wire_bytes = len - 8;
      o.payload_bytes = cap - 8 < len - 8 ? cap - 8 : len - 8;
      return DecodeStatus::ok;
    }
    case ip_proto_tcp: {
      if (cap < 20) {
        if (o.fragment) return DecodeStatus::ok;
        return c.bad(MalformedReason::truncated_tcp);
      }
      const std::size_t header = static_cast<std::size_t>(p[12] >> 4) * 4;
      if (header < 20 || header > wire) return c.bad(MalformedReason::bad_tcp_offset);
      if (cap < header) return c.bad(MalformedReason::truncated_tcp);
      o.src_port = u16(p);
      o.dst_port = u16(p + 2);
      o.seq = u32(p + 4);
      o.tcp_flags = p[13];
      o.payload = p + header;
      o.payload_bytes = cap - header;
      o.payload_wire_bytes = wire - header;
      return DecodeStatus::ok;
    }
    case ip_proto_icmp:
    case ip_proto_icmpv6: {
      if (cap < 4) {
        if (o.fragment) return DecodeStatus::ok;
        return c.bad(MalformedReason::truncated_icmp);
      }
      o.icmp_type = p[0];
      o.icmp_code = p[1];
      o.payload = p + 4;
      o.payload_bytes = cap - 4;
      o.payload_wire_bytes = wire - 4;
      return DecodeStatus::ok;
    }
    case ip_proto_ipip:
    case ip_proto_ipv6:
      if (o.fragment) return DecodeStatus::ok;  // a fragmented tunnel is accounted as is
      return decode_ip(c, p, cap, wire, depth + 1);
    default:
      o.payload = p;
      o.payload_bytes = cap;
      o.payload_wire_bytes = wire;
      return DecodeStatus::ok;
  }
}

DecodeStatus decode_ipv4(Ctx& c, const std::uint8_t* p, std::size_t cap, std::size_t wire,
                         int depth) {
  DecodedPacket& o = c.out;
  if (cap < 20) return c.bad(MalformedReason::truncated_ipv4);
  // The EtherType said IPv4; the header must agree.
  if ((p[0] >> 4) != 4) return c.bad(MalformedReason::bad_ip_version);
  const std::size_t header = std::size_t{p[0] & 0x0fu} * 4;
  const std::size_t total = u16(p + 2);
  if (header < 20 || total < header) return c.bad(MalformedReason::bad_ipv4_header);
  if (cap < header) return c.bad(MalformedReason::truncated_ipv4);
  // The total length may be shorter than the frame (Ethernet padding), never longer.
  if (total > wire) return c.bad(MalformedReason::bad_ip_length);
  o.ip_version = 4;
  o.ip_bytes = static_cast<std::uint32_t>(total);
  o.src = {};
  o.dst = {};
  std::memcpy(o.src.bytes.data(), p + 12, 4);
  std::memcpy(o.dst.bytes.data(), p + 16, 4);
  const std::uint16_t frag = u16(p + 6);
  o.fragment = (frag & 0x3fff) != 0;  // MF set or a non-zero offset (RFC 791)
  o.more_fragments = (frag & 0x2000) != 0;
  o.fragment_offset = std::uint32_t{frag & 0x1fffu} * 8;
  o.fragment_id = u16(p + 4);
  o.src_port = o.dst_port = 0;
  const std::size_t in_cap = cap < total ? cap : total;
  return decode_transport(c, p[9], p + header, in_cap - header, total - header, depth);
}

DecodeStatus decode_ipv6(Ctx& c, const std::uint8_t* p, std::size_t cap, std::size_t wire,
                         int depth) {
  DecodedPacket& o = c.out;
  if (cap < 40) return c.bad(MalformedReason::truncated_ipv6);
  if ((p[0] >> 4) != 6) return c.bad(MalformedReason::bad_ip_version);
  const std::size_t payload_len = u16(p + 4);
  std::size_t total = 40 + payload_len;
  if (payload_len == 0) total = wire;  // jumbogram: the length is in a hop-by-hop option
  if (total > wire) return c.bad(MalformedReason::bad_ip_length);
  o.ip_version = 6;
  o.ip_bytes = static_cast<std::uint32_t>(total);
  std::memcpy(o.src.bytes.data(), p + 8, 16);
  std::memcpy(o.dst.bytes.data(), p + 24, 16);
  o.fragment = false;
  o.src_port = o.dst_port = 0;
  const std::size_t in_cap = cap < total ? cap : total;
  std::uint8_t next = p[6];
  std::size_t at = 40;
  for (int i = 0;; ++i) {
    if (i == max_ipv6_extensions) return c.bad(MalformedReason::too_many_layers);
    if (next == ip_proto_hop_by_hop || next == ip_proto_routing || next == ip_proto_dest_opts) {
      if (at + 2 > in_cap) return c.bad(MalformedReason::bad_ipv6_extension);
      const std::uint8_t following = p[at];
      at += (std::size_t{p[at + 1]} + 1) * 8;
      next = following;
    } else if (next == ip_proto_ah) {
      if (at + 2 > in_cap) return c.bad(MalformedReason::bad_ipv6_extension);
      const std::uint8_t following = p[at];
      at += (std::size_t{p[at + 1]} + 2) * 4;
      next = following;
    } else if (next == ip_proto_fragment) {
      // RFC 8200 §4.5: next header, reserved, offset (13 bits) + M, identification.
      if (at + 8 > in_cap) return c.bad(MalformedReason::bad_ipv6_extension);
      const std::uint16_t off = u16(p + at + 2);
      o.fragment_offset = std::uint32_t{static_cast<std::uint32_t>(off >> 3)} * 8;
      o.more_fragments = (off & 1) != 0;
      o.fragment_id = u32(p + at + 4);
      // An atomic fragment (offset 0, no M; RFC 6946) is a whole packet.
      o.fragment = o.fragment_offset != 0 || o.more_fragments;
      next = p[at];
      at += 8;
    } else {
      break;
    }
    if (at > total) return c.bad(MalformedReason::bad_ipv6_extension);
  }
  if (at > in_cap) return c.bad(MalformedReason::bad_ipv6_extension);
  return decode_transport(c, next, p + at, in_cap - at, total - at, depth);
}

DecodeStatus decode_ip(Ctx& c, const std::uint8_t* p, std::size_t cap, std::size_t wire,
                       int depth) {
  if (depth > max_ip_nesting) return c.bad(MalformedReason::too_many_layers);
  if (cap < 1) return c.bad(MalformedReason::truncated_ipv4);
  const int version = p[0] >> 4;
  if (version == 4) return decode_ipv4(c, p, cap, wire, depth);
  if (version == 6) return decode_ipv6(c, p, cap, wire, depth);
  return c.bad(MalformedReason::bad_ip_version);
}

/// Finds the IP header behind an EtherType, past VLAN tags, PPPoE and MPLS.
DecodeStatus decode_ethertype(Ctx& c, std::uint16_t type, const std::uint8_t* p, std::size_t cap,
                              std::size_t wire) {
  for (int layer = 0; layer < max_link_layers; ++layer) {
    if (type == ethertype_ipv4) return decode_ipv4(c, p, cap, wire, 0);
    if (type == ethertype_ipv6) return decode_ipv6(c, p, cap, wire, 0);
    if (type == ethertype_vlan || type == ethertype_qinq || type == ethertype_qinq_old) {
      if (cap < 4) return c.bad(MalformedReason::truncated_vlan);
      c.out.vlan = u16(p) & 0x0fff;
      type = u16(p + 2);
      p += 4;
      cap -= 4;
      wire -= 4;
    } else if (type == ethertype_pppoe_session) {
      // RFC 2516: 6-byte PPPoE header, then the 2-byte PPP protocol number.
      if (cap < 8) return c.bad(MalformedReason::truncated_vlan);
      const std::uint16_t ppp = u16(p + 6);
      p += 8;
      cap -= 8;
      wire -= 8;
      if (ppp == 0x0021) {
        type = ethertype_ipv4;
      } else if (ppp == 0x0057) {
        type = ethertype_ipv6;
      } else {
        return DecodeStatus::not_ip;
      }
    } else if (type == ethertype_mpls) {
      // RFC 3032: 4-byte labels to the bottom-of-stack bit; the version nibble says which IP.
      for (int label = 0;; ++label) {
        if (label == max_link_layers) return c.bad(MalformedReason::too_many_layers);
        if (cap < 4) return c.bad(MalformedReason::truncated_vlan);
        const bool bottom = (p[2] & 0x01) != 0;
        p += 4;
        cap -= 4;
        wire -= 4;
        if (bottom) break;
      }
      return decode_ip(c, p, cap, wire, 0);
    } else {
      return DecodeStatus::not_ip;
    }
  }
  return c.bad(MalformedReason::too_many_layers);
}

}  // namespace

bool link_type_supported(int link) {
  switch (static_cast<LinkType>(link)) {
    case LinkType::null:
    case LinkType::ethernet:
    case LinkType::raw_linux:
    case LinkType::raw:
    case LinkType::loop:
    case LinkType::linux_sll:
    case LinkType::ipv4:
    case LinkType::ipv6:
    case LinkType::linux_sll2:
      return true;
  }
  return false;
}

std::string_view to_string(MalformedReason reason) {
  switch (reason) {
    case MalformedReason::none:
      return "none";
    case MalformedReason::truncated_link:
      return "truncated_link";
    case MalformedReason::truncated_vlan:
      return "truncated_vlan";
    case MalformedReason::too_many_layers:
      return "too_many_layers";
    case MalformedReason::bad_ip_version:
      return "bad_ip_version";
    case MalformedReason::truncated_ipv4:
      return "truncated_ipv4";
    case MalformedReason::bad_ipv4_header:
      return "bad_ipv4_header";
    case MalformedReason::bad_ip_length:
      return "bad_ip_length";
    case MalformedReason::truncated_ipv6:
      return "truncated_ipv6";
    case MalformedReason::bad_ipv6_extension:
      return "bad_ipv6_extension";
    case MalformedReason::truncated_udp:
      return "truncated_udp";
    case MalformedReason::bad_udp_length:
      return "bad_udp_length";
    case MalformedReason::truncated_tcp:
      return "truncated_tcp";
    case MalformedReason::bad_tcp_offset:
      return "bad_tcp_offset";
    case MalformedReason::truncated_icmp:
      return "truncated_icmp";
  }
  return "unknown";
}

DecodeStatus decode_packet(LinkType link, const std::uint8_t* data, std::size_t captured,
                           std::size_t wire_bytes, DecodedPacket& out, MalformedReason& reason) {
  out.vlan = 0;
  out.tcp_flags = 0;
  out.icmp_type = out.icmp_code = 0;
  out.fragment_data = nullptr;
  out.fragment_bytes = 0;
  out.payload = nullptr;
  out.payload_bytes = out.payload_wire_bytes = 0;
  if (wire_bytes < captured) wire_bytes = captured;
  out.truncated = captured < wire_bytes;
  reason = MalformedReason::none;
  Ctx c{out, reason};
  const std::uint8_t* p = data;
  switch (link) {
    case LinkType::ethernet:
      if (captured < 14) return c.bad(MalformedReason::truncated_link);
      return decode_ethertype(c, u16(p + 12), p + 14, captured - 14, wire_bytes - 14);
    case LinkType::linux_sll:
      if (captured < 16) return c.bad(MalformedReason::truncated_link);
      return decode_ethertype(c, u16(p + 14), p + 16, captured - 16, wire_bytes - 16);
    case LinkType::linux_sll2:
      if (captured < 20) return c.bad(MalformedReason::truncated_link);
      return decode_ethertype(c, u16(p), p + 20, captured - 20, wire_bytes - 20);
    case LinkType::raw_linux:
    case LinkType::raw:
    case LinkType::ipv4:
    case LinkType::ipv6:
      return decode_ip(c, p, captured, wire_bytes, 0);
    case LinkType::null:
    case LinkType::loop:
      if (captured < 4) return c.bad(MalformedReason::truncated_link);
      return decode_ip(c, p + 4, captured - 4, wire_bytes - 4, 0);
  }
  return DecodeStatus::not_ip;
}

DecodeStatus decode_udp_datagram(const std::uint8_t* data, std::size_t size, DecodedPacket& out,
                                 MalformedReason& reason) {
  reason = MalformedReason::none;
  if (size < 8) {
    reason = MalformedReason::truncated_udp;
    return DecodeStatus::malformed;
  }
  const std::size_t len = u16(data + 4);
  if (len < 8 || len > size) {
    reason = MalformedReason::bad_udp_length;
    return DecodeStatus::malformed;
  }
  out.protocol = ip_proto_udp;
  out.src_port = u16(data);
  out.dst_port = u16(data + 2);
  out.fragment = false;
  out.payload = data + 8;
  out.payload_bytes = out.payload_wire_bytes = len - 8;
  return DecodeStatus::ok;
}

}  // namespace sluice
