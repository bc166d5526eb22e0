// SPDX-License-Identifier: Apache-2.0
/// `TcpReassembler` rebuilds the client-to-server byte streams of TCP syslog connections (RFC
/// 6587 over port 601, or 514 by convention) and frames them with `SyslogFramer`, both framings
/// (octet counting and LF) detected per frame.
///
/// Per stream, bytes are framed in sequence order: retransmitted bytes are framed once,
/// out-of-order segments wait in a buffer of at most `max_stream_buffer_bytes`; past that the
/// missing bytes are given up (a counted gap) and framing resumes at the next LF. A segment
/// whose payload was not captured (snap length) is a gap of known size. Streams end on FIN
/// (once all bytes before it are framed), RST, a new SYN on the same 4-tuple, idle timeout, or
/// eviction of the least recently used stream when `max_streams` are open; every end hands out
/// the unfinished frame. Sequence numbers are taken relative to the stream's first byte, so
/// their 32-bit wrap does not matter.
///
/// Not thread-safe: one reassembler per capture queue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sluice/capture/packet_decoder.hpp"
#include "sluice/event/event.hpp"
#include "sluice/ingest/framing.hpp"

namespace sluice {

struct TcpReassemblyCounters {
  std::uint64_t segments = 0;             ///< segments of syslog streams seen
  std::uint64_t streams = 0;              ///< streams opened
  std::uint64_t gaps = 0;                 ///< holes skipped (lost or uncaptured bytes)
  std::uint64_t retransmitted_bytes = 0;  ///< bytes seen again and framed once
  std::uint64_t out_of_order = 0;         ///< segments that arrived ahead of a hole
  std::uint64_t evicted = 0;              ///< streams closed to make room
  std::uint64_t timed_out = 0;            ///< streams closed for idleness
};

struct TcpReassemblerConfig {
  std::size_t max_streams = 65536;                    ///< open streams at most
  std::size_t max_stream_buffer_bytes = 1024 * 1024;  ///< out-of-order bytes held per stream
  /// Out-of-order bytes held over all streams: past it, the stream adding more gives up its
  /// holes (counted gaps), so many half-open streams cannot exhaust memory.
  std::size_t max_total_buffer_bytes = 64 * 1024 * 1024;
  std::size_t max_message_bytes = default_max_message_bytes;
  std::int64_t idle_timeout_ns = 300'000'000'000;  ///< 5 min without a segment closes a stream
};

/// Called for every framed record: bytes (valid during the call), the client's address and
/// port, and whether the record was cut.
using TcpRecordFn = std::function<void(std::string_view, const PeerAddress&, bool)>;

class TcpReassembler {
 public:
  TcpReassembler(TcpReassemblerConfig config, TcpRecordFn on_record);
  ~TcpReassembler();
  TcpReassembler(const TcpReassembler&) = delete;
  TcpReassembler& operator=(const TcpReassembler&) = delete;

  /// One TCP segment towards the syslog port (`packet.protocol == ip_proto_tcp`).
  void segment(const DecodedPacket& packet, std::int64_t now_ns);
  /// Closes streams idle for longer than the timeout.
  void expire(std::int64_t now_ns);
  /// Closes every stream, handing out unfinished frames.
  void finish();

  std::size_t size() const { return index_.size(); }
  /// Out-of-order bytes held now, over all streams.
  std::size_t buffered_bytes() const { return total_pending_bytes_; }
  const TcpReassemblyCounters& counters() const { return counters_; }

 private:
  struct Key {
    IpAddress src;
    IpAddress dst;
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };
  struct Stream;
  using List = std::list<std::unique_ptr<Stream>>;

  void deliver(Stream& s, std::string_view data);
  void drain(Stream& s);
  void skip_hole(Stream& s);
  void close(List::iterator it);

  TcpReassemblerConfig config_;
  TcpRecordFn on_record_;
  List lru_;  ///< least recently used first
  std::size_t total_pending_bytes_ = 0;
  std::unordered_map<Key, List::iterator, KeyHash> index_;
  TcpReassemblyCounters counters_;
};

/// The `PeerAddress` of a decoded packet's source or destination.
PeerAddress peer_of(const IpAddress& address, std::uint8_t ip_version, std::uint16_t port);

}  // namespace sluice
