// SPDX-License-Identifier: Apache-2.0
#include "sluice/event/event.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "sluice/common/assert.hpp"

namespace sluice {

std::string_view to_string(InputFormat format) {
  switch (format) {
    case InputFormat::unknown:
      return "unknown";
    case InputFormat::rfc3164:
      return "rfc3164";
    case InputFormat::rfc5424:
      return "rfc5424";
    case InputFormat::json:
      return "json";
    case InputFormat::cef:
      return "cef";
    case InputFormat::raw:
      return "raw";
  }
  SLUICE_UNREACHABLE();
}

std::string_view to_string(UnparsedReason reason) {
  switch (reason) {
    case UnparsedReason::none:
      return "none";
    case UnparsedReason::empty:
      return "empty";
    case UnparsedReason::no_format_matched:
      return "no_format_matched";
    case UnparsedReason::bad_priority:
      return "bad_priority";
    case UnparsedReason::bad_header:
      return "bad_header";
    case UnparsedReason::bad_structured_data:
      return "bad_structured_data";
    case UnparsedReason::bad_json:
      return "bad_json";
    case UnparsedReason::bad_cef:
      return "bad_cef";
    case UnparsedReason::too_deep:
      return "too_deep";
  }
  SLUICE_UNREACHABLE();
}

std::size_t PeerAddress::format_address(char* buf) const {
  if (family == 4) {
    // The output writes an address per network event; inet_ntop formats IPv4 with sprintf.
    char* p = buf;
    for (int i = 0; i < 4; ++i) {
      const unsigned v = address[static_cast<std::size_t>(i)];
      if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
      if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
      *p++ = static_cast<char>('0' + v % 10);
      if (i != 3) *p++ = '.';
    }
    return static_cast<std::size_t>(p - buf);
  }
  if (family == 6 && inet_ntop(AF_INET6, address.data(), buf, INET6_ADDRSTRLEN) != nullptr)
    return std::strlen(buf);
  return 0;
}

std::string PeerAddress::address_string() const {
  char buf[INET6_ADDRSTRLEN];
  return std::string(buf, format_address(buf));
}

PeerAddress PeerAddress::ipv4(std::uint32_t host_order_address, std::uint16_t port) {
  PeerAddress p;
  p.family = 4;
  p.port = port;
  const std::uint32_t n = htonl(host_order_address);
  std::memcpy(p.address.data(), &n, 4);
  return p;
}

PeerAddress PeerAddress::ipv6(const std::uint8_t (&bytes)[16], std::uint16_t port) {
  PeerAddress p;
  p.family = 6;
  p.port = port;
  std::memcpy(p.address.data(), bytes, 16);
  return p;
}

}  // namespace sluice
