// SPDX-License-Identifier: Apache-2.0
/// `IpReassembler` puts fragmented IP datagrams back together, within a bounded table. Sluice
/// uses it for UDP syslog only (large RFC 5424 messages over UDP fragment); other fragments are
/// only accounted in flows.
///
/// Policy: a datagram whose fragments overlap is discarded whole and counted (RFC 5722 requires
/// this for IPv6; for IPv4 it closes the overlapping-fragment evasion of Ptacek and Newsham,
/// where a sensor and a host would reassemble different bytes). A datagram longer than 65535
/// bytes is discarded. When the table is full the oldest incomplete datagram is evicted; one
/// not completed within the timeout is expired. Each loss is counted in `ReassemblyCounters`.
/// Not thread-safe: one reassembler per capture queue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sluice/capture/packet_decoder.hpp"

namespace sluice {

struct ReassemblyCounters {
  std::uint64_t fragments = 0;    ///< fragments offered
  std::uint64_t reassembled = 0;  ///< datagrams completed
  std::uint64_t overlapping = 0;  ///< datagrams discarded for overlapping fragments
  std::uint64_t too_large = 0;    ///< datagrams discarded for exceeding 65535 bytes
  std::uint64_t evicted = 0;      ///< incomplete datagrams evicted for room
  std::uint64_t timed_out = 0;    ///< incomplete datagrams expired
};

class IpReassembler {
 public:
  /// At most `max_datagrams` incomplete datagrams and `max_bytes` of buffered fragment data
  /// are held; a datagram incomplete after `timeout_ns` is dropped (RFC 791 suggests 15 s;
  /// Linux's `ipfrag_time` is 30 s).
  IpReassembler(std::size_t max_datagrams, std::size_t max_bytes, std::int64_t timeout_ns);

  /// Offers one fragment (`packet.fragment` set, `fragment_data` the bytes it carries). When it
  /// completes a datagram, returns true and `out` views the whole IP payload (transport header
  /// first); the view stays valid until the next call.
  bool add(const DecodedPacket& packet, std::int64_t now_ns, std::string_view& out);

  /// Drops datagrams older than the timeout.
  void expire(std::int64_t now_ns);

  std::size_t size() const { return index_.size(); }
  const ReassemblyCounters& counters() const { return counters_; }

 private:
  struct Key {
    IpAddress src;
    IpAddress dst;
    std::uint32_t id = 0;
    std::uint8_t protocol = 0;
    std::uint8_t version = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };
  struct Datagram {
    Key key;
    std::int64_t first_ns = 0;
    std::string data;                                             ///< bytes by offset
    std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;  ///< [begin, end) received
    std::uint32_t total = 0;  ///< known once the last fragment (MF clear) arrived; 0 before
  };
  using List = std::list<Datagram>;

  void erase(List::iterator it);

  std::size_t max_datagrams_;
  std::size_t max_bytes_;
  std::int64_t timeout_ns_;
  std::size_t bytes_ = 0;
  List order_;  ///< oldest first
  std::unordered_map<Key, List::iterator, KeyHash> index_;
  std::string done_;
  ReassemblyCounters counters_;
};

}  // namespace sluice
