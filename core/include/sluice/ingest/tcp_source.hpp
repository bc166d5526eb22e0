// SPDX-License-Identifier: Apache-2.0
/// `TcpSource` accepts syslog over TCP (RFC 6587): one listener and all its connections served
/// by one thread with epoll. Each connection has its own `SyslogFramer`, so octet-counted and
/// LF-framed senders share the listener, and one connection may mix both.
///
/// Nothing is lost to backpressure: while the sink blocks the source reads nothing, the socket
/// buffers fill and TCP flow control slows the senders down.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "sluice/ingest/framing.hpp"
#include "sluice/ingest/source.hpp"

namespace sluice {

/// Configuration of a TCP listener (`[[source]] kind = "tcp"`).
struct TcpSourceConfig {
  /// Address to bind: an IPv4 or IPv6 literal. "::" also accepts IPv4 (dual stack).
  std::string address = "0.0.0.0";
  /// Port to bind; 0 lets the kernel choose (read it back with `TcpSource::local_port`).
  std::uint16_t port = 514;
  /// Longest record kept; longer ones are cut, flagged truncated and counted.
  std::size_t max_message_bytes = default_max_message_bytes;
  /// Open connections at most; further ones are accepted and closed at once (counted as errors).
  std::size_t max_connections = 4096;
  /// Bytes read from one connection per turn: large enough for a full socket buffer's worth of
  /// small records per system call, small enough that one busy sender cannot starve the rest.
  std::size_t read_bytes = 64 * 1024;
};

/// One TCP listener and its connections. `open` binds and listens; `run` serves until stop is
/// requested (returns within about 20 ms, or once the sink lets go) and then hands out every
/// connection's unfinished frame and closes them. A connection closed by the peer hands out its
/// final unterminated LF frame. Records carry the peer's address and port.
class TcpSource final : public Source {
 public:
  explicit TcpSource(TcpSourceConfig config);
  ~TcpSource() override;
  TcpSource(const TcpSource&) = delete;
  TcpSource& operator=(const TcpSource&) = delete;

  std::string_view kind() const override { return "tcp"; }
  std::string describe() const override;
  Backpressure backpressure() const override { return Backpressure::block; }
  /// Creates, binds and listens. Errors name the address, port and errno text.
  Result<void> open() override;
  Result<void> run(SourceContext& ctx) override;
  bool finite() const override { return false; }

  /// The bound port, valid after a successful `open`.
  std::uint16_t local_port() const { return local_port_; }

 private:
  TcpSourceConfig config_;
  int listen_fd_ = -1;
  std::uint16_t local_port_ = 0;
};

}  // namespace sluice
