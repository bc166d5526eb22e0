// SPDX-License-Identifier: Apache-2.0
/// TCP syslog source: one epoll loop for the listener and every connection. Connections are
/// level-triggered and read once per turn, so a busy sender cannot starve the others.
#include "sluice/ingest/tcp_source.hpp"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "ingest/source_util.hpp"
#include "sluice/common/log.hpp"

namespace sluice {
namespace {

constexpr Logger log{"ingest.tcp"};

/// epoll timeout: bounds how late a stop request or a due flush is noticed (see udp_source.cpp).
constexpr int wait_timeout_ms = 20;

/// Pending connections the kernel queues for `accept`: bursts of reconnecting senders after a
/// restart are the case to absorb; the kernel caps it at net.core.somaxconn.
constexpr int listen_backlog = 1024;

/// Events taken per `epoll_wait`.
constexpr int events_per_wait = 64;

struct Connection {
  Connection(int fd_, PeerAddress peer_, std::size_t max) : fd(fd_), peer(peer_), framer(max) {}
  int fd;
  PeerAddress peer;
  SyslogFramer framer;
};

}  // namespace

TcpSource::TcpSource(TcpSourceConfig config) : config_(std::move(config)) {}

TcpSource::~TcpSource() {
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::string TcpSource::describe() const {
  return "tcp " +
         detail::format_endpoint(config_.address, local_port_ != 0 ? local_port_ : config_.port);
}

Result<void> TcpSource::open() {
  const std::string where = "tcp " + detail::format_endpoint(config_.address, config_.port);
  if (config_.max_message_bytes == 0) return Error{where + ": max_message_bytes must be > 0"};
  auto addr = detail::parse_endpoint(config_.address, config_.port);
  if (!addr) return Error{where + ": " + addr.error().message};
  const int fd = ::socket(addr->storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::from_errno(where + ": socket");
  listen_fd_ = fd;
  // Restarting while old connections sit in TIME_WAIT must not fail the bind.
  const int one = 1;
  (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (addr->storage.ss_family == AF_INET6) {
    const int zero = 0;
    (void)::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr->storage), addr->length) != 0)
    return Error::from_errno(where + ": bind");
  if (::listen(fd, listen_backlog) != 0) return Error::from_errno(where + ": listen");
  auto port = detail::bound_port(fd);
  if (!port) return Error{where + ": " + port.error().message};
  local_port_ = *port;
  return {};
}

Result<void> TcpSource::run(SourceContext& ctx) {
  SLUICE_ASSERT(listen_fd_ >= 0, "TcpSource::run before a successful open");
  SLUICE_ASSERT(ctx.sink != nullptr && ctx.counters != nullptr,
                "TcpSource needs a sink and counters");
  SourceCounters& counters = *ctx.counters;

  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return Error::from_errno(describe() + ": epoll_create1");
  epoll_event lev{};
  lev.events = EPOLLIN;
  lev.data.ptr = nullptr;  // nullptr marks the listener
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd_, &lev) != 0) {
    const int err = errno;
    ::close(ep);
    return Error::from_errno(describe() + ": epoll_ctl", err);
  }

  std::unordered_map<int, std::unique_ptr<Connection>> connections;
  std::vector<char> buffer(std::max<std::size_t>(config_.read_bytes, 4096));
  std::vector<epoll_event> events(events_per_wait);
  detail::BatchBuilder batch(ctx);
  bool sink_open = true;
  static RateLimit truncate_limit{std::chrono::seconds(10)};
  static RateLimit error_limit{std::chrono::seconds(10)};

  auto on_frame = [&](Connection& c, std::int64_t now) {
    return [&c, now, &batch, &counters, &sink_open, this](const Frame& f) {
      Event& e = batch.add(f.bytes, now);
      e.peer = c.peer;
      if (f.truncated) {
        e.flags |= event_flag_truncated;
        counters.truncated.add();
        if (std::uint64_t suppressed = 0; truncate_limit.allow(suppressed))
          log.warn("{}: record from {}:{} cut at {} bytes ({} similar suppressed)", describe(),
                   c.peer.address_string(), c.peer.port, config_.max_message_bytes, suppressed);
      }
      if (!batch.flush_if_full()) sink_open = false;
    };
  };
  auto close_connection = [&](Connection& c) {
    c.framer.finish(on_frame(c, wall_clock_ns()));
    (void)::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    connections.erase(c.fd);  // destroys `c`
  };
  auto accept_all = [&] {
    for (;;) {
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        // ECONNABORTED and friends concern one connection; EMFILE needs an operator.
        counters.errors.add();
        if (std::uint64_t suppressed = 0; error_limit.allow(suppressed))
          log.warn("{}: accept: {} ({} similar suppressed)", describe(), std::strerror(errno),
                   suppressed);
        return;
      }
      if (connections.size() >= config_.max_connections) {
        // Refused connections lose nothing silently: the sender sees the close.
        ::close(fd);
        counters.errors.add();
        if (std::uint64_t suppressed = 0; error_limit.allow(suppressed))
          log.warn("{}: {} connections open, refusing more ({} similar suppressed)", describe(),
                   connections.size(), suppressed);
        continue;
      }
      auto conn =
          std::make_unique<Connection>(fd, detail::peer_address(peer), config_.max_message_bytes);
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.ptr = conn.get();
      if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        ::close(fd);
        counters.errors.add();
        continue;
      }
      counters.connections.add();
      connections.emplace(fd, std::move(conn));
    }
  };

  while (sink_open && !ctx.stop.stop_requested()) {
    const int n = ::epoll_wait(ep, events.data(), events_per_wait, wait_timeout_ms);
    if (n < 0 && errno != EINTR) {
      const int err = errno;
      ::close(ep);
      return Error::from_errno(describe() + ": epoll_wait", err);
    }
    for (int i = 0; i < n && sink_open; ++i) {
      auto* conn = static_cast<Connection*>(events[i].data.ptr);
      if (conn == nullptr) {
        accept_all();
        continue;
      }
      const ssize_t got = ::read(conn->fd, buffer.data(), buffer.size());
      if (got > 0) {
        counters.bytes.add(static_cast<std::uint64_t>(got));
        conn->framer.feed({buffer.data(), static_cast<std::size_t>(got)},
                          on_frame(*conn, wall_clock_ns()));
      } else if (got == 0) {
        close_connection(*conn);
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        // A reset connection: what was framed is kept, the rest is the sender's loss.
        counters.errors.add();
        close_connection(*conn);
      }
    }
    if (!batch.flush_if_due()) sink_open = false;
  }

  // Stop: unfinished frames are handed on as records (the sender will not finish them), then
  // the connections close.
  while (!connections.empty())
    close_connection(*connections.begin()->second);
  ::close(ep);
  (void)batch.flush();
  return {};
}

}  // namespace sluice
