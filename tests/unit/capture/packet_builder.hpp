// SPDX-License-Identifier: Apache-2.0
/// Builds packets byte by byte for the capture tests and benchmarks: Ethernet with VLAN tags,
/// IPv4 (options, fragments), IPv6 (extension headers), UDP, TCP and ICMP. Checksums are left
/// zero: the decoder does not verify them (a sensor must see what the host saw).
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::test {

inline std::string be16(std::uint16_t v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v)};
}
inline std::string be32(std::uint32_t v) {
  return be16(static_cast<std::uint16_t>(v >> 16)) + be16(static_cast<std::uint16_t>(v));
}
inline std::string v4(const char* text) {
  in_addr a{};
  inet_pton(AF_INET, text, &a);
  return std::string(reinterpret_cast<const char*>(&a), 4);
}
inline std::string v6(const char* text) {
  in6_addr a{};
  inet_pton(AF_INET6, text, &a);
  return std::string(reinterpret_cast<const char*>(&a), 16);
}
inline std::string udp(std::uint16_t sport, std::uint16_t dport, std::string_view payload) {
  return be16(sport) + be16(dport) + be16(static_cast<std::uint16_t>(8 + payload.size())) +
         be16(0) + std::string(payload);
}
inline std::string tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq,
                       std::uint8_t flags, std::string_view payload) {
  return be16(sport) + be16(dport) + be32(seq) + be32(0) + std::string(1, char{0x50}) +
         std::string(1, static_cast<char>(flags)) + be16(65535) + be16(0) + be16(0) +
         std::string(payload);
}
inline std::string icmp(std::uint8_t type, std::uint8_t code, std::string_view payload) {
  return std::string(1, static_cast<char>(type)) + std::string(1, static_cast<char>(code)) +
         be16(0) + std::string(payload);
}
/// IPv4 with `options` (a multiple of 4 bytes) and the fragment field `frag` (flags and offset
/// in 8-byte units), identification `id`.
inline std::string ipv4(const char* src, const char* dst, std::uint8_t proto, std::string_view l4,
                        std::uint16_t frag = 0, std::uint16_t id = 1,
                        std::string_view options = {}) {
  const auto ihl = static_cast<char>(0x40 | ((20 + options.size()) / 4));
  return std::string(1, ihl) + std::string(1, '\0') +
         be16(static_cast<std::uint16_t>(20 + options.size() + l4.size())) + be16(id) + be16(frag) +
         std::string(1, char{64}) + std::string(1, static_cast<char>(proto)) + be16(0) + v4(src) +
         v4(dst) + std::string(options) + std::string(l4);
}
/// IPv6; `next` is the first next-header value, `l4` everything after the fixed header.
inline std::string ipv6(const char* src, const char* dst, std::uint8_t next, std::string_view l4) {
  return std::string("\x60\x00\x00\x00", 4) + be16(static_cast<std::uint16_t>(l4.size())) +
         std::string(1, static_cast<char>(next)) + std::string(1, char{64}) + v6(src) + v6(dst) +
         std::string(l4);
}
/// An 8-byte IPv6 extension header (hop-by-hop, routing, destination options) with padding.
inline std::string ipv6_ext(std::uint8_t next) {
  return std::string(1, static_cast<char>(next)) + std::string(7, '\0');
}
/// Ethernet II; each entry of `tags` is (TPID, VLAN id): 0x8100 for 802.1Q, 0x88a8 for QinQ.
inline std::string ether(std::uint16_t type, std::string_view l3,
                         std::vector<std::pair<std::uint16_t, std::uint16_t>> tags = {}) {
  std::string out(12, '\x11');
  for (auto [tpid, vlan] : tags)
    out += be16(tpid) + be16(vlan);
  return out + be16(type) + std::string(l3);
}

inline const std::uint8_t* bytes(const std::string& s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

}  // namespace sluice::test
