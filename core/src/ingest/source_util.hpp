// SPDX-License-Identifier: Apache-2.0
/// Private helpers shared by the ingest sources: the batch builder, address parsing and
/// formatting, peer addresses, the monotonic clock for flush timing, and a sleep that a stop
/// request cuts short.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>
#include <string_view>

#include "sluice/common/result.hpp"
#include "sluice/event/event.hpp"
#include "sluice/ingest/source.hpp"

namespace sluice::detail {

/// CLOCK_MONOTONIC in nanoseconds, for flush intervals.
std::int64_t monotonic_ns();

/// A socket address ready for `bind`.
struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

/// Parses an IPv4 or IPv6 literal (no host names: a resolver could block start-up) and a port.
Result<Endpoint> parse_endpoint(const std::string& address, std::uint16_t port);

/// "127.0.0.1:514" or "[::1]:514".
std::string format_endpoint(std::string_view address, std::uint16_t port);

/// The local port a socket is bound to.
Result<std::uint16_t> bound_port(int fd);

/// The sender of a datagram or connection; IPv4-mapped IPv6 addresses become IPv4.
PeerAddress peer_address(const sockaddr_storage& addr);

/// Builds batches for one source: creates a batch on the first record, hands it to the sink when
/// it is full or older than `source_flush_interval_ns`, and counts handed-on records. Bytes are
/// counted by the caller when read. Single-threaded, like the source.
class BatchBuilder {
 public:
  explicit BatchBuilder(SourceContext& ctx) : ctx_(ctx) {}

  /// Appends a record copied into the arena. Call `flush_if_full` after setting its fields.
  Event& add(std::string_view bytes, std::int64_t receive_time_ns) {
    if (!batch_) start();
    return batch_->add_record(bytes, receive_time_ns);
  }
  /// The path recorded on every batch from now on (file sources).
  void set_source_path(std::string path) { path_ = std::move(path); }

  /// Hands the batch on when it holds `batch_capacity` records. False when the sink refused it
  /// (stop requested while blocked, or dropped).
  bool flush_if_full() { return batch_ && batch_->size() >= ctx_.batch_capacity ? flush() : true; }
  /// Hands on a non-empty batch older than the flush interval.
  bool flush_if_due() {
    if (!batch_ || batch_->empty()) return true;
    return monotonic_ns() - started_ns_ >= source_flush_interval_ns ? flush() : true;
  }
  /// Hands on the batch if it has records. True when there was none or the sink took it.
  bool flush() {
    if (!batch_ || batch_->empty()) return true;
    ctx_.counters->records.add(batch_->size());
    const bool ok = ctx_.sink->push(std::move(batch_));
    batch_.reset();
    return ok;
  }
  bool empty() const { return !batch_ || batch_->empty(); }

 private:
  void start() {
    batch_ = std::make_unique<EventBatch>(ctx_.source_id, ctx_.batch_capacity);
    if (!path_.empty()) batch_->set_source_path(path_);
    started_ns_ = monotonic_ns();
  }

  SourceContext& ctx_;
  BatchPtr batch_;
  std::int64_t started_ns_ = 0;
  std::string path_;
};

/// Sleeps for `duration` or until `stop` is requested, whichever comes first. Returns false
/// when stop was requested.
bool sleep_unless_stopped(const std::stop_token& stop, std::chrono::milliseconds duration);

}  // namespace sluice::detail
