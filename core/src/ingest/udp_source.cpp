// SPDX-License-Identifier: Apache-2.0
/// UDP syslog source: one non-blocking socket, `poll` with a short timeout so stop requests and
/// the flush interval are honoured, `recvmmsg` for up to 64 datagrams per system call.
#include "sluice/ingest/udp_source.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "ingest/source_util.hpp"
#include "sluice/common/log.hpp"

namespace sluice {
using detail::BatchBuilder;

namespace {

constexpr Logger log{"ingest.udp"};

/// Poll timeout: bounds how late a stop request or a due flush is noticed. 20 ms is well inside
/// the 100 ms stop contract and costs 50 idle wake-ups a second.
constexpr int poll_timeout_ms = 20;

/// Space for the SO_RXQ_OVFL control message (one `uint32_t`) and a spare one.
constexpr std::size_t control_bytes = CMSG_SPACE(sizeof(std::uint32_t)) * 2;

}  // namespace

UdpSource::UdpSource(UdpSourceConfig config, std::shared_ptr<detail::UdpPortGroup> group)
    : config_(std::move(config)), group_(std::move(group)) {
  if (!group_) group_ = std::make_shared<detail::UdpPortGroup>();
}

UdpSource::~UdpSource() {
  if (fd_ >= 0) ::close(fd_);
}

std::string UdpSource::describe() const {
  return "udp " +
         detail::format_endpoint(config_.address, local_port_ != 0 ? local_port_ : config_.port);
}

Result<void> UdpSource::open() {
  auto addr =
      detail::parse_endpoint(config_.address, group_->port != 0 ? group_->port : config_.port);
  if (!addr) return addr.error();
  const std::string where = "udp " + detail::format_endpoint(config_.address, config_.port);

  const int fd = ::socket(addr->storage.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::from_errno(where + ": socket");
  fd_ = fd;
  const int one = 1;
  if (group_->reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    return Error::from_errno(where + ": setsockopt(SO_REUSEPORT)");
  if (addr->storage.ss_family == AF_INET6) {
    // Dual stack for "::" whatever net.ipv6.bindv6only says; a specific address is one family.
    const int zero = 0;
    (void)::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  }
  // The kernel's drop counter arrives with every datagram (see `run`).
  if (::setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) != 0)
    return Error::from_errno(where + ": setsockopt(SO_RXQ_OVFL)");

  // SO_RCVBUFFORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN; SO_RCVBUF is capped.
  const int want = static_cast<int>(std::min<std::size_t>(config_.receive_buffer_bytes, 1u << 30));
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
  int got = 0;
  socklen_t got_len = sizeof got;
  (void)::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &got_len);
  // The kernel reports twice what it grants, to cover its bookkeeping (socket(7)).
  receive_buffer_bytes_ = static_cast<std::size_t>(got) / 2;

  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr->storage), addr->length) != 0)
    return Error::from_errno(where + ": bind");
  auto port = detail::bound_port(fd);
  if (!port) return Error{where + ": " + port.error().message};
  local_port_ = *port;
  if (group_->port == 0) group_->port = local_port_;

  log.info("{}: receive buffer {} KiB (asked for {} KiB)", describe(), receive_buffer_bytes_ / 1024,
           config_.receive_buffer_bytes / 1024);
  if (receive_buffer_bytes_ < config_.receive_buffer_bytes)
    log.warn(
        "{}: receive buffer is smaller than configured; raise net.core.rmem_max or grant "
        "CAP_NET_ADMIN to avoid kernel drops in bursts",
        describe());
  return {};
}

Result<void> UdpSource::run(SourceContext& ctx) {
  SLUICE_ASSERT(fd_ >= 0, "UdpSource::run before a successful open");
  SLUICE_ASSERT(ctx.sink != nullptr && ctx.counters != nullptr,
                "UdpSource needs a sink and counters");
  SourceCounters& counters = *ctx.counters;

  // Datagrams land in these buffers and are copied once into the batch arena. Receiving straight
  // into the arena would need a 64 KiB slot per datagram (the size is known only afterwards),
  // pinning about 32 MiB per 512-record batch for datagrams that are mostly a few hundred bytes;
  // the copy is from cache-hot memory and costs far less than the system call.
  std::vector<char> buffers(datagrams_per_call * max_datagram_bytes);
  std::vector<mmsghdr> msgs(datagrams_per_call);
  std::vector<iovec> iovs(datagrams_per_call);
  std::vector<sockaddr_storage> peers(datagrams_per_call);
  std::vector<std::array<char, control_bytes>> controls(datagrams_per_call);

  BatchBuilder batch(ctx);

  bool more_waiting = false;
  while (!ctx.stop.stop_requested()) {
    if (!more_waiting) {
      pollfd pfd{fd_, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, poll_timeout_ms);
      if (ready < 0 && errno != EINTR) return Error::from_errno(describe() + ": poll");
    }
    for (std::size_t i = 0; i < datagrams_per_call; ++i) {
      iovs[i] = iovec{buffers.data() + i * max_datagram_bytes, max_datagram_bytes};
      msgs[i].msg_hdr = msghdr{};
      msgs[i].msg_hdr.msg_name = &peers[i];
      msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = controls[i].data();
      msgs[i].msg_hdr.msg_controllen = control_bytes;
    }
    const int n = ::recvmmsg(fd_, msgs.data(), datagrams_per_call, MSG_DONTWAIT, nullptr);
    more_waiting = n == static_cast<int>(datagrams_per_call);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        counters.errors.add();
        static RateLimit limit{std::chrono::seconds(10)};
        if (std::uint64_t suppressed = 0; limit.allow(suppressed))
          log.warn("{}: recvmmsg: {} ({} similar suppressed)", describe(), std::strerror(errno),
                   suppressed);
      }
    }
    // One clock read per system call: the datagrams of one call arrived within microseconds.
    const std::int64_t now = n > 0 ? wall_clock_ns() : 0;
    std::uint64_t call_bytes = 0;  // counted once per call: one shared-counter update, not 64
    for (int i = 0; i < n; ++i) {
      const msghdr& hdr = msgs[i].msg_hdr;
      for (cmsghdr* c = CMSG_FIRSTHDR(&hdr); c != nullptr;
           c = CMSG_NXTHDR(const_cast<msghdr*>(&hdr), c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
          std::uint32_t drops = 0;
          std::memcpy(&drops, CMSG_DATA(c), sizeof drops);
          // Cumulative per socket; unsigned subtraction is right across wrap-around.
          counters.kernel_drops.add(drops - last_drop_count_);
          last_drop_count_ = drops;
        }
      }
      const std::size_t len = std::min<std::size_t>(msgs[i].msg_len, max_datagram_bytes);
      const bool truncated = (hdr.msg_flags & MSG_TRUNC) != 0;
      const PeerAddress peer = detail::peer_address(peers[i]);
      call_bytes += len;
      if (truncated) counters.truncated.add();
      split_datagram({buffers.data() + i * max_datagram_bytes, len}, config_.split_messages,
                     [&](std::string_view record) {
                       Event& e = batch.add(record, now);
                       e.peer = peer;
                       if (truncated) e.flags |= event_flag_truncated;
                       // With Backpressure::drop a refused batch is gone: the pipeline counted
                       // it as dropped.
                       (void)batch.flush_if_full();
                     });
    }
    if (call_bytes != 0) counters.bytes.add(call_bytes);
    (void)batch.flush_if_due();
  }
  // Datagrams still in the socket buffer at stop are not read: UDP is lossy by design and
  // the sender cannot tell the difference from a loss on the wire.
  (void)batch.flush();
  return {};
}
std::vector<std::unique_ptr<UdpSource>> make_udp_sources(const UdpSourceConfig& config) {
  auto group = std::make_shared<detail::UdpPortGroup>();
  group->reuse_port = config.socket_count > 1;
  std::vector<std::unique_ptr<UdpSource>> sources;
  for (std::size_t i = 0; i < std::max<std::size_t>(config.socket_count, 1); ++i)
    sources.push_back(std::make_unique<UdpSource>(config, group));
  return sources;
}

}  // namespace sluice
