// SPDX-License-Identifier: Apache-2.0
/// The senders behind `sluice blast`: UDP with `sendmmsg` (one datagram per message) and TCP
/// with large writes in octet-counting or LF framing (RFC 6587 sections 3.4.1 and 3.4.2), over
/// one or more connections, flat out or paced by a `TokenBucket`.
///
/// Counting is the contract: every message taken from the corpus ends up either in `sent` or,
/// when it could not be sent, in `errors`; send calls that fail and are retried are counted in
/// `errors` too. Nothing is dropped silently.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/blast/corpus.hpp"
#include "sluice/common/result.hpp"

namespace sluice::blast {

enum class Protocol : std::uint8_t { udp, tcp };

/// How TCP messages are delimited.
enum class Framing : std::uint8_t {
  octet_counting,  ///< "LEN SP MSG", RFC 6587 section 3.4.1
  lf,              ///< "MSG LF", RFC 6587 section 3.4.2 (non-transparent framing)
};

/// A numeric IPv4 or IPv6 address and port: "127.0.0.1:5514" or "[::1]:5514".
struct Endpoint {
  sockaddr_storage address{};
  socklen_t length = 0;
  std::string text;
};

/// Parses `text` as a numeric address and port. Names are not resolved.
Result<Endpoint> parse_endpoint(std::string_view text);

/// What to send and how fast.
struct SendOptions {
  Protocol protocol = Protocol::udp;
  Endpoint endpoint;
  Framing framing = Framing::octet_counting;  ///< TCP only
  double rate_per_second = 0;                 ///< all connections together; 0 = flat out
  std::uint64_t count = 0;                    ///< messages in all; 0 = no limit
  std::chrono::duration<double> duration{0};  ///< stop after this long; 0 = no limit
  /// Send the corpus again from the start when it runs out. Without it the corpus is sent once
  /// (or `count` messages, whichever is fewer).
  bool loop = false;
  unsigned connections = 1;  ///< sockets, each driven by its own thread
  /// Messages per `sendmmsg` call. 64 amortises the syscall well past the point of diminishing
  /// returns (measured on loopback: 32 → 64 gains a few percent, 64 → 256 nothing).
  std::size_t udp_batch_messages = 64;
  /// Bytes per TCP write; 64 KiB matches the default loopback segment size (the MTU) well.
  std::size_t tcp_write_bytes = 64 * 1024;
  /// Set from another thread or a signal handler to stop early; may be null.
  const std::atomic<bool>* stop = nullptr;
};

/// What a send did.
struct SendStats {
  std::uint64_t sent = 0;    ///< messages accepted by the kernel
  std::uint64_t bytes = 0;   ///< message bytes of those, framing excluded
  std::uint64_t errors = 0;  ///< failed send calls (retried or not) plus messages not sent
  double seconds = 0;        ///< wall time from the first send to the last
  /// The first runtime failure that stopped a connection early, or empty. `sent` still counts
  /// everything that went out before it.
  std::string failure;

  double rate() const { return seconds > 0 ? static_cast<double>(sent) / seconds : 0; }
};

/// Sends `corpus` as `options` say. Blocks until done. Fails before sending anything when a
/// socket cannot be created or connected; later failures are reported in `SendStats::failure`.
/// Precondition: `corpus` is not empty and, unless `loop` is off, `count` or `duration` or
/// `stop` bounds the run.
Result<SendStats> send_corpus(const Corpus& corpus, const SendOptions& options);

/// The one-line JSON summary: {"sent":N,"bytes":B,"seconds":S,"rate":R,"errors":E}.
std::string to_json(const SendStats& stats);

}  // namespace sluice::blast
