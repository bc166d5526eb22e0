// SPDX-License-Identifier: Apache-2.0
/// `decode_packet` is the one L2–L4 decoder behind every capture source (pcap replay, AF_PACKET,
/// DPDK): link layer (Ethernet with 802.1Q/802.1ad/QinQ tags, PPPoE sessions and MPLS labels,
/// Linux cooked capture v1/v2, raw IP, BSD loopback), IPv4 (options skipped by IHL, fragments
/// recognised), IPv6 (hop-by-hop, routing, destination options, AH and fragment headers;
/// RFC 8200 §4), IP-in-IP tunnels to a bounded depth, and UDP, TCP and ICMP/ICMPv6 headers.
///
/// Contract: never reads past `captured` bytes, never allocates, never throws; a packet whose
/// headers do not fit or do not add up is `DecodeStatus::malformed` with a `MalformedReason`, a
/// packet that is not IP (ARP, LLDP, ...) is `DecodeStatus::not_ip`. Views in the result point
/// into the caller's buffer. Thread-safe (pure function).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice {

/// Link-layer header types, numbered as pcap's LINKTYPE_/DLT_ values.
enum class LinkType : std::uint16_t {
  null = 0,         ///< BSD loopback, host-order address family
  ethernet = 1,     ///< Ethernet II
  raw_linux = 12,   ///< raw IP (DLT_RAW on Linux)
  raw = 101,        ///< LINKTYPE_RAW
  loop = 108,       ///< OpenBSD loopback
  linux_sll = 113,  ///< Linux cooked capture v1
  ipv4 = 228,
  ipv6 = 229,
  linux_sll2 = 276,  ///< Linux cooked capture v2
};

/// True for the link types `decode_packet` understands.
bool link_type_supported(int link);

enum class DecodeStatus : std::uint8_t {
  ok,         ///< an IP packet; `DecodedPacket` is filled
  not_ip,     ///< a frame without IP (ARP, LLDP, STP, PPP control, ...)
  malformed,  ///< headers cut short or inconsistent; see `MalformedReason`
};

/// Why a packet could not be decoded. Each value is a counter label
/// (`sluice_capture_malformed_total{reason=...}`).
enum class MalformedReason : std::uint8_t {
  none,
  truncated_link,      ///< shorter than its link-layer header
  truncated_vlan,      ///< a VLAN/PPPoE/MPLS header cut short
  too_many_layers,     ///< more than 8 tags, or IP tunnels nested deeper than 3
  bad_ip_version,      ///< the version nibble is neither 4 nor 6
  truncated_ipv4,      ///< less than 20 bytes, or less than the IHL says
  bad_ipv4_header,     ///< IHL below 5, or total length below the header
  bad_ip_length,       ///< total/payload length beyond the bytes on the wire
  truncated_ipv6,      ///< less than the 40-byte IPv6 header
  bad_ipv6_extension,  ///< an extension header cut short or running past the payload
  truncated_udp,       ///< less than the 8-byte UDP header
  bad_udp_length,      ///< UDP length below 8 or beyond the IP payload
  truncated_tcp,       ///< less than 20 bytes, or less than the data offset says
  bad_tcp_offset,      ///< data offset below 5 or beyond the IP payload
  truncated_icmp,      ///< less than the 4-byte ICMP header
};
inline constexpr std::size_t malformed_reason_count = 15;
std::string_view to_string(MalformedReason reason);

inline constexpr std::uint8_t ip_proto_icmp = 1;
inline constexpr std::uint8_t ip_proto_tcp = 6;
inline constexpr std::uint8_t ip_proto_udp = 17;
inline constexpr std::uint8_t ip_proto_icmpv6 = 58;

inline constexpr std::uint8_t tcp_flag_fin = 0x01;
inline constexpr std::uint8_t tcp_flag_syn = 0x02;
inline constexpr std::uint8_t tcp_flag_rst = 0x04;
inline constexpr std::uint8_t tcp_flag_psh = 0x08;
inline constexpr std::uint8_t tcp_flag_ack = 0x10;
inline constexpr std::uint8_t tcp_flag_urg = 0x20;

/// An IP address: IPv4 in the first 4 bytes (network order, rest zero) or IPv6.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool operator==(const IpAddress&) const = default;
};

/// The decoded headers of one packet (of the innermost IP header, for tunnels).
struct DecodedPacket {
  std::uint8_t ip_version = 0;  ///< 4 or 6
  std::uint8_t protocol = 0;    ///< IP protocol of the transport header (after IPv6 extensions)
  std::uint8_t tcp_flags = 0;
  std::uint8_t icmp_type = 0;
  std::uint8_t icmp_code = 0;
  bool fragment = false;  ///< an IP fragment: ports are known only when `fragment_offset == 0`
  bool more_fragments = false;
  bool truncated = false;  ///< captured shorter than on the wire (snap length)
  std::uint16_t vlan = 0;  ///< innermost VLAN id, 0 when untagged
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t fragment_id = 0;      ///< IPv4 identification or IPv6 fragment id
  std::uint32_t fragment_offset = 0;  ///< in bytes
  std::uint32_t seq = 0;              ///< TCP sequence number
  std::uint32_t ip_bytes = 0;         ///< the IP packet's length on the wire (header included)
  IpAddress src;
  IpAddress dst;
  /// Captured bytes after the transport header (after the IP header for non-first fragments and
  /// unknown protocols). `payload_wire_bytes` is the length on the wire; the two differ when the
  /// capture cut the packet short.
  const std::uint8_t* payload = nullptr;
  std::size_t payload_bytes = 0;
  std::size_t payload_wire_bytes = 0;
  /// For fragments: the IP payload carried by this fragment (starting at its offset).
  const std::uint8_t* fragment_data = nullptr;
  std::size_t fragment_bytes = 0;
  std::size_t fragment_wire_bytes = 0;  ///< bytes the fragment carries on the wire
};

/// Decodes one captured frame. `wire_bytes` is the frame's length on the wire (>= `captured`);
/// the difference is a capture truncation, not an error, as long as the headers were captured.
DecodeStatus decode_packet(LinkType link, const std::uint8_t* data, std::size_t captured,
                           std::size_t wire_bytes, DecodedPacket& out, MalformedReason& reason);

/// Decodes the UDP header of a reassembled IPv4 datagram's payload into `out` (ports,
/// payload). Used after fragment reassembly; same error reporting as `decode_packet`.
DecodeStatus decode_udp_datagram(const std::uint8_t* data, std::size_t size, DecodedPacket& out,
                                 MalformedReason& reason);

}  // namespace sluice
