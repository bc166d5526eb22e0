// SPDX-License-Identifier: Apache-2.0
/// UDP and TCP senders. Each connection is one thread with its own socket, bucket and counters;
/// the threads share only the read-only corpus and are summed after they are joined.
#include "sluice/blast/sender.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include "sluice/blast/token_bucket.hpp"
#include "sluice/common/assert.hpp"

namespace sluice::blast {
namespace {

using Clock = std::chrono::steady_clock;

/// The largest UDP payload over IPv4 (65535 - 8 - 20); larger corpus lines cannot be sent.
constexpr std::size_t max_udp_payload_bytes = 65507;
/// A send that makes no progress for this long is given up; loopback never stalls this long
/// unless the receiver is gone.
constexpr auto stall_limit = std::chrono::seconds{5};

/// Closes a descriptor on scope exit.
class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

/// One connection's share of the work: messages `first`, `first + stride`, ... (modulo the
/// corpus size), `share` of them in all (unlimited when `share` is max).
struct Assignment {
  std::uint64_t first = 0;
  std::uint64_t stride = 1;
  std::uint64_t share = 0;
  double rate_per_second = 0;
};

/// Messages per paced batch: about 1000 batches a second, so pacing stays smooth at low rates
/// and syscalls stay amortised at high ones.
std::size_t paced_batch(double rate_per_second, std::size_t max_batch) {
  if (rate_per_second <= 0) return max_batch;
  const auto per_ms = static_cast<std::size_t>(rate_per_second / 1000.0);
  return std::clamp<std::size_t>(per_ms, 1, max_batch);
}

class Worker {
 public:
  Worker(const Corpus& corpus, const SendOptions& options, Assignment assignment, Socket socket,
         Clock::time_point deadline)
      : corpus_(corpus),
        options_(options),
        assignment_(assignment),
        socket_(std::move(socket)),
        deadline_(deadline),
        next_index_(assignment.first % corpus.size()) {}

  void run() {
    if (options_.protocol == Protocol::udp) {
      run_udp();
    } else {
      run_tcp();
    }
  }

  const SendStats& stats() const { return stats_; }

 private:
  bool should_stop() const {
    if (taken_ >= assignment_.share) return true;
    if (options_.stop != nullptr && options_.stop->load(std::memory_order_relaxed)) return true;
    return deadline_ != Clock::time_point::max() && Clock::now() >= deadline_;
  }

  std::string_view take_message() {
    const auto message = corpus_[next_index_];
    next_index_ = (next_index_ + assignment_.stride) % corpus_.size();
    ++taken_;
    return message;
  }

  /// Bucket depth: one batch, or 10 ms worth of messages if that is more. A sleep that
  /// overshoots by less than that (scheduler jitter on a busy machine) is made up by sending the
  /// next batches without waiting, so the achieved rate stays on target.
  double burst(std::size_t max_batch) const {
    return std::max(static_cast<double>(max_batch), assignment_.rate_per_second / 100.0);
  }

  void pace(std::size_t messages, TokenBucket& bucket) {
    const auto wait = bucket.take(static_cast<double>(messages), Clock::now());
    if (wait.count() > 0) std::this_thread::sleep_for(wait);
  }

  void run_udp() {
    const std::size_t max_batch = paced_batch(
        assignment_.rate_per_second, std::max<std::size_t>(options_.udp_batch_messages, 1));
    std::vector<mmsghdr> headers(max_batch);
    std::vector<iovec> vectors(max_batch);
    TokenBucket bucket(assignment_.rate_per_second, burst(max_batch), Clock::now());
    while (!should_stop()) {
      std::size_t n = 0;
      while (n < max_batch && taken_ < assignment_.share) {
        const auto message = take_message();
        if (message.size() > max_udp_payload_bytes) {
          // Too big for one datagram: not sent, counted as an error.
          ++stats_.errors;
          continue;
        }
        vectors[n] = iovec{const_cast<char*>(message.data()), message.size()};
        headers[n] = mmsghdr{};
        headers[n].msg_hdr.msg_iov = &vectors[n];
        headers[n].msg_hdr.msg_iovlen = 1;
        ++n;
      }
      if (n == 0) continue;
      pace(n, bucket);
      if (!send_udp_batch(headers.data(), n)) return;
    }
  }

  /// Sends `n` prepared datagrams, retrying the ones the kernel refuses for now. Returns false
  /// after a failure that ends this connection (recorded in `stats_.failure`).
  bool send_udp_batch(mmsghdr* headers, std::size_t n) {
    std::size_t done = 0;
    auto last_progress = Clock::now();
    while (done < n) {
      const int r = ::sendmmsg(socket_.fd(), headers + done, static_cast<unsigned>(n - done), 0);
      if (r > 0) {
        for (std::size_t i = done; i < done + static_cast<std::size_t>(r); ++i) {
          stats_.bytes += headers[i].msg_hdr.msg_iov->iov_len;
        }
        stats_.sent += static_cast<std::uint64_t>(r);
        done += static_cast<std::size_t>(r);
        last_progress = Clock::now();
        continue;
      }
      const int error = errno;
      if (error == EINTR) continue;
      ++stats_.errors;
      switch (error) {
        case ENOBUFS:
        case EAGAIN:
          // The send buffer or the device queue is full: wait a moment and retry the same
          // datagram. ECONNREFUSED reports an ICMP error for an earlier datagram (no listener
          // yet); the current one was not sent, so it is retried too.
        case ECONNREFUSED: {
          if (Clock::now() - last_progress > stall_limit) {
            fail(error, "stalled");
            stats_.errors += n - done;
            return false;
          }
          pollfd p{socket_.fd(), POLLOUT, 0};
          ::poll(&p, 1, 1);
          continue;
        }
        case EMSGSIZE:
          // Larger than the path allows: skip this one datagram, already counted as an error.
          ++done;
          continue;
        default:
          fail(error, "sendmmsg");
          stats_.errors += n - done - 1;
          return false;
      }
    }
    return true;
  }

  void run_tcp() {
    const std::size_t write_bytes = std::max<std::size_t>(options_.tcp_write_bytes, 1);
    const std::size_t max_batch =
        paced_batch(assignment_.rate_per_second, std::numeric_limits<std::size_t>::max());
    TokenBucket bucket(assignment_.rate_per_second, burst(max_batch), Clock::now());
    std::string buffer;
    buffer.reserve(write_bytes + 1024);
    // End offset in `buffer` and payload size of each message, to count a partial write.
    std::vector<std::pair<std::size_t, std::size_t>> ends;
    char length_text[24];
    while (!should_stop()) {
      buffer.clear();
      ends.clear();
      while (buffer.size() < write_bytes && ends.size() < max_batch && taken_ < assignment_.share) {
        const auto message = take_message();
        if (options_.framing == Framing::octet_counting) {
          auto [end, ec] =
              std::to_chars(length_text, length_text + sizeof length_text - 1, message.size());
          SLUICE_ASSERT(ec == std::errc{}, "a size_t fits in 24 characters");
          *end++ = ' ';
          buffer.append(length_text, end);
          buffer.append(message);
        } else {
          buffer.append(message);
          buffer.push_back('\n');
        }
        ends.emplace_back(buffer.size(), message.size());
      }
      if (ends.empty()) continue;
      pace(ends.size(), bucket);
      std::size_t written = 0;
      while (written < buffer.size()) {
        const ssize_t r =
            ::send(socket_.fd(), buffer.data() + written, buffer.size() - written, MSG_NOSIGNAL);
        if (r >= 0) {
          written += static_cast<std::size_t>(r);
          continue;
        }
        const int error = errno;
        if (error == EINTR) continue;
        ++stats_.errors;
        for (const auto& [end, size] : ends) {
          if (end <= written) {
            ++stats_.sent;
            stats_.bytes += size;
          } else {
            // Framed but not (completely) written: not sent, counted as an error.
            ++stats_.errors;
          }
        }
        fail(error, "send");
        return;
      }
      stats_.sent += ends.size();
      for (const auto& entry : ends)
        stats_.bytes += entry.second;
    }
    // Half-close so the receiver sees the end of the stream after the last byte.
    ::shutdown(socket_.fd(), SHUT_WR);
  }

  void fail(int error, std::string_view what) {
    stats_.failure =
        fmt::format("{} to {}: {}", what, options_.endpoint.text, std::strerror(error));
  }

  const Corpus& corpus_;
  const SendOptions& options_;
  Assignment assignment_;
  Socket socket_;
  Clock::time_point deadline_;
  std::uint64_t next_index_;
  std::uint64_t taken_ = 0;
  SendStats stats_;
};

Result<Socket> connect_socket(const SendOptions& options) {
  const int type = options.protocol == Protocol::udp ? SOCK_DGRAM : SOCK_STREAM;
  Socket socket(::socket(options.endpoint.address.ss_family, type | SOCK_CLOEXEC, 0));
  const std::string_view proto = options.protocol == Protocol::udp ? "udp" : "tcp";
  if (socket.fd() < 0) return Error::from_errno(fmt::format("create {} socket", proto));
  if (options.protocol == Protocol::udp) {
    // A 4 MiB send buffer lets sendmmsg hand over whole batches without blocking mid-batch;
    // the kernel caps it at net.core.wmem_max, which is fine.
    const int bytes = 4 << 20;
    ::setsockopt(socket.fd(), SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  }
  if (::connect(socket.fd(), reinterpret_cast<const sockaddr*>(&options.endpoint.address),
                options.endpoint.length) != 0) {
    return Error::from_errno(fmt::format("connect {} {}", proto, options.endpoint.text));
  }
  return socket;
}

}  // namespace

Result<Endpoint> parse_endpoint(std::string_view text) {
  Endpoint endpoint;
  endpoint.text = std::string(text);
  std::string host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Error{fmt::format("bad endpoint '{}': expected [IPV6]:PORT", text)};
    }
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return Error{fmt::format("bad endpoint '{}': expected IPV4:PORT or [IPV6]:PORT", text)};
    }
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return Error{fmt::format("bad endpoint '{}': port must be 1-65535", text)};
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&endpoint.address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&endpoint.address);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    endpoint.length = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    endpoint.length = sizeof(sockaddr_in6);
  } else {
    return Error{fmt::format("bad endpoint '{}': '{}' is not a numeric IP address", text, host)};
  }
  return endpoint;
}

Result<SendStats> send_corpus(const Corpus& corpus, const SendOptions& options) {
  SLUICE_ASSERT(!corpus.empty(), "send_corpus needs at least one message");
  constexpr auto unlimited = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t total = options.loop ? unlimited : corpus.size();
  if (options.count > 0) total = std::min<std::uint64_t>(total, options.count);
  const unsigned connections = std::max(options.connections, 1u);

  std::vector<Socket> sockets;
  for (unsigned i = 0; i < connections; ++i) {
    auto socket = connect_socket(options);
    if (!socket) return socket.error();
    sockets.push_back(std::move(socket).value());
  }

  const auto start = Clock::now();
  const auto deadline = options.duration.count() > 0
                            ? start + std::chrono::duration_cast<Clock::duration>(options.duration)
                            : Clock::time_point::max();
  std::vector<Worker> workers;
  workers.reserve(connections);
  for (unsigned i = 0; i < connections; ++i) {
    Assignment assignment;
    assignment.first = i;
    assignment.stride = connections;
    assignment.share =
        total == unlimited ? unlimited : total / connections + (i < total % connections ? 1 : 0);
    assignment.rate_per_second = options.rate_per_second / connections;
    workers.emplace_back(corpus, options, assignment, std::move(sockets[i]), deadline);
  }
  {
    std::vector<std::jthread> threads;
    threads.reserve(connections);
    for (auto& worker : workers)
      threads.emplace_back([&worker] { worker.run(); });
  }
  const std::chrono::duration<double> elapsed = Clock::now() - start;

  SendStats total_stats;
  total_stats.seconds = elapsed.count();
  for (const auto& worker : workers) {
    total_stats.sent += worker.stats().sent;
    total_stats.bytes += worker.stats().bytes;
    total_stats.errors += worker.stats().errors;
    if (total_stats.failure.empty()) total_stats.failure = worker.stats().failure;
  }
  return total_stats;
}

std::string to_json(const SendStats& stats) {
  return fmt::format(R"({{"sent":{},"bytes":{},"seconds":{:.6f},"rate":{:.1f},"errors":{}}})",
                     stats.sent, stats.bytes, stats.seconds, stats.rate(), stats.errors);
}

}  // namespace sluice::blast
