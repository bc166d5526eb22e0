// SPDX-License-Identifier: Apache-2.0
/// `UdpSource` receives syslog datagrams (RFC 5426) on one UDP socket. Several sockets on one
/// port are several `UdpSource`s sharing a port through SO_REUSEPORT, each on its own thread:
/// the kernel spreads senders over them by flow hash. Build them with `make_udp_sources`.
///
/// UDP is lossy by design: when the workers fall behind the source drops whole batches
/// (`Backpressure::drop`, counted by the pipeline as `dropped{reason="ring_full"}`), and when
/// the source falls behind the kernel drops datagrams (counted under `kernel_drops`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/ingest/framing.hpp"
#include "sluice/ingest/source.hpp"

namespace sluice {

/// Configuration of a UDP listener (`[[source]] kind = "udp"`).
struct UdpSourceConfig {
  /// Address to bind: an IPv4 or IPv6 literal. "::" also receives IPv4 (dual stack).
  std::string address = "0.0.0.0";
  /// Port to bind; 0 lets the kernel choose (read it back with `UdpSource::local_port`).
  std::uint16_t port = 514;
  /// Sockets bound to the port with SO_REUSEPORT, one source and thread each.
  std::size_t socket_count = 1;
  /// Socket receive buffer asked for (SO_RCVBUFFORCE, else SO_RCVBUF capped by
  /// net.core.rmem_max): 32 MiB absorbs about 100k typical datagrams of burst.
  std::size_t receive_buffer_bytes = 32 * 1024 * 1024;
  /// Split a datagram at each LF followed by `<` into several records (see `split_datagram`).
  bool split_messages = true;
};

namespace detail {
/// The port that the sockets of one SO_REUSEPORT group share: the first to open binds the
/// configured port (maybe 0) and stores the port it got; the others bind that one. The pipeline
/// opens sources one after another on one thread, so this needs no lock.
struct UdpPortGroup {
  std::uint16_t port = 0;
  bool reuse_port = false;
};
}  // namespace detail

/// One UDP socket and the loop that reads it with `recvmmsg`. `open` binds; `run` returns within
/// about 20 ms of a stop request. Records carry the sender's address and port; one trailing LF,
/// CR LF or NUL is removed. Datagrams longer than 64 KiB are cut and flagged truncated.
class UdpSource final : public Source {
 public:
  /// Datagrams taken per `recvmmsg` call: amortises the system call while keeping the receive
  /// buffers (64 × 64 KiB, allocated once per source in `run`) small enough for one thread.
  static constexpr std::size_t datagrams_per_call = 64;
  /// Largest datagram kept whole: the UDP length field's limit.
  static constexpr std::size_t max_datagram_bytes = 64 * 1024;

  /// A source alone on its port (or the only member of `group`).
  explicit UdpSource(UdpSourceConfig config, std::shared_ptr<detail::UdpPortGroup> group = nullptr);
  ~UdpSource() override;
  UdpSource(const UdpSource&) = delete;
  UdpSource& operator=(const UdpSource&) = delete;

  std::string_view kind() const override { return "udp"; }
  std::string describe() const override;
  Backpressure backpressure() const override { return Backpressure::drop; }
  /// Creates, configures and binds the socket. Errors name the address, port and errno text.
  Result<void> open() override;
  Result<void> run(SourceContext& ctx) override;
  bool finite() const override { return false; }

  /// The bound port, valid after a successful `open` (the kernel's choice when the port was 0).
  std::uint16_t local_port() const { return local_port_; }
  /// The receive buffer size the kernel granted, after `open`: half of what SO_RCVBUF reads
  /// back, since the kernel doubles the request to cover its bookkeeping (socket(7)).
  std::size_t receive_buffer_bytes() const { return receive_buffer_bytes_; }

 private:
  UdpSourceConfig config_;
  std::shared_ptr<detail::UdpPortGroup> group_;
  int fd_ = -1;
  std::uint16_t local_port_ = 0;
  std::size_t receive_buffer_bytes_ = 0;
  std::uint32_t last_drop_count_ = 0;
};

/// Makes `config.socket_count` sources bound to one address and port with SO_REUSEPORT (one,
/// without SO_REUSEPORT, when the count is 1). Open them in order; with port 0 the first picks
/// the port and the rest share it.
std::vector<std::unique_ptr<UdpSource>> make_udp_sources(const UdpSourceConfig& config);

}  // namespace sluice
