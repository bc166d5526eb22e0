// SPDX-License-Identifier: Apache-2.0
#include "ingest/source_util.hpp"

#include <arpa/inet.h>

#include <condition_variable>
#include <cstring>
#include <ctime>
#include <mutex>

namespace sluice::detail {

Result<Endpoint> parse_endpoint(const std::string& address, std::uint16_t port) {
  Endpoint ep;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ep.storage);
  if (::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    ep.length = sizeof(sockaddr_in);
    return ep;
  }
  ep.storage = {};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ep.storage);
  if (::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    ep.length = sizeof(sockaddr_in6);
    return ep;
  }
  return Error{"'" + address + "' is not an IPv4 or IPv6 address (host names are not resolved)"};
}

std::string format_endpoint(std::string_view address, std::uint16_t port) {
  // Built with append: GCC 12 warns falsely (-Wrestrict, PR 105651) on chained operator+.
  std::string out;
  const bool v6 = address.find(':') != std::string_view::npos;
  if (v6) out.push_back('[');
  out.append(address);
  if (v6) out.push_back(']');
  out.push_back(':');
  out.append(std::to_string(port));
  return out;
}

Result<std::uint16_t> bound_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return Error::from_errno("getsockname");
  if (addr.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
}

PeerAddress peer_address(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
    return PeerAddress::ipv4(ntohl(v4->sin_addr.s_addr), ntohs(v4->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
      std::uint32_t a = 0;
      std::memcpy(&a, v6->sin6_addr.s6_addr + 12, 4);
      return PeerAddress::ipv4(ntohl(a), ntohs(v6->sin6_port));
    }
    std::uint8_t bytes[16];
    std::memcpy(bytes, v6->sin6_addr.s6_addr, 16);
    return PeerAddress::ipv6(bytes, ntohs(v6->sin6_port));
  }
  return {};
}

std::int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

bool sleep_unless_stopped(const std::stop_token& stop, std::chrono::milliseconds duration) {
  // A condition variable that waits on the stop token wakes at once on request_stop().
  std::mutex mutex;
  std::condition_variable_any cv;
  std::unique_lock lock(mutex);
  (void)cv.wait_for(lock, stop, duration, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace sluice::detail
