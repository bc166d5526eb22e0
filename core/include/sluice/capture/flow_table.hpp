// SPDX-License-Identifier: Apache-2.0
/// `FlowTable` keeps one record per bidirectional flow (IP version, protocol, the two addresses
/// and ports, VLAN) of one capture queue, and hands finished flows to a callback: on idle
/// timeout, on active timeout (a long flow is reported every `active_timeout` and goes on), on
/// TCP RST, on the ACK that follows FINs from both sides, and on eviction when the table is full
/// (the oldest flow not updated since it was last checked goes; counted). Idle flows are exported
/// between one and two idle timeouts after their last packet. The side that sent the first packet
/// is the source, unless that packet was a SYN-ACK (its receiver opened the connection).
///
/// Layout: open addressing with linear probing over a power-of-two slot array (load factor at
/// most one half) whose slots carry hash bits, flows in a fixed pool of 128-byte entries linked
/// in a check queue, so an update touches one slot run and one entry, eviction and expiry are
/// amortised O(1), and nothing allocates after construction.
/// Not thread-safe: one table per capture queue, as the design wants (RSS keeps both
/// directions of a flow on one queue when the NIC uses a symmetric key).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "sluice/capture/packet_decoder.hpp"

namespace sluice {

/// Why a flow record was exported. Each value is a counter label.
enum class FlowEnd : std::uint8_t { idle_timeout, active_timeout, fin, rst, evicted, shutdown };
inline constexpr std::size_t flow_end_count = 6;
std::string_view to_string(FlowEnd end);

/// One exported flow. Times are nanoseconds since the epoch (packet timestamps).
struct FlowRecord {
  IpAddress src;  ///< the side that opened the flow
  IpAddress dst;
  std::uint16_t src_port = 0;  ///< 0 for ICMP and protocols without ports
  std::uint16_t dst_port = 0;
  std::uint8_t icmp_type = 0;  ///< ICMP/ICMPv6: type and code of the first packet
  std::uint8_t icmp_code = 0;
  std::uint8_t protocol = 0;
  std::uint8_t ip_version = 0;
  std::uint8_t tcp_flags = 0;  ///< every TCP flag seen, both directions
  FlowEnd end = FlowEnd::idle_timeout;
  std::uint16_t vlan = 0;
  std::uint64_t bytes = 0;  ///< IP bytes both ways (headers included)
  std::uint64_t packets = 0;
  std::uint64_t src_bytes = 0;  ///< from source to destination
  std::uint64_t src_packets = 0;
  std::int64_t first_ns = 0;
  std::int64_t last_ns = 0;
};

/// ECS `network.direction` of a flow from its addresses: "internal" (both private: RFC 1918,
/// RFC 4193, loopback, link-local), "outbound" (private to public), "inbound" (public to
/// private), "external" (neither private).
std::string_view flow_direction(const FlowRecord& flow);

/// Renders a flow as one JSON object whose names the Sigma `firewall` mapping reads (`src_ip`,
/// `dst_ip`, `src_port`, `dst_port`) plus `proto`, `bytes`, `packets`, `tcp_flags`,
/// `direction`, `@timestamp` (the last packet), and more; appends to `out`.
void render_flow_json(const FlowRecord& flow, std::string& out);

struct FlowTableConfig {
  /// Flows held at once; each costs about 150 bytes (pool entry and two slots), so the
  /// default holds 256 Ki flows in about 40 MiB per queue.
  std::size_t max_flows = 1 << 18;
  std::int64_t idle_timeout_ns = 30'000'000'000;     ///< 30 s without a packet ends a flow
  std::int64_t active_timeout_ns = 300'000'000'000;  ///< a flow is reported every 5 min
};

struct FlowCounters {
  std::uint64_t created = 0;
  std::uint64_t exported[flow_end_count] = {};  ///< by `FlowEnd`
  std::uint64_t evicted() const { return exported[static_cast<std::size_t>(FlowEnd::evicted)]; }
};

class FlowTable {
 public:
  using ExportFn = std::function<void(const FlowRecord&)>;

  /// Allocates the pool and slot array up front.
  FlowTable(FlowTableConfig config, ExportFn on_export);

  /// Accounts one decoded packet at time `now_ns`. Does not allocate.
  void update(const DecodedPacket& packet, std::int64_t now_ns);
  /// Accounts a burst of packets in order, as `update` would, with the table lookups of the
  /// burst prefetched so their cache misses overlap (what a DPDK burst of 32 wants).
  void update_burst(std::span<const DecodedPacket> packets, std::int64_t now_ns);
  /// Exports flows idle for at least the idle timeout, walking the check queue from its head
  /// while entries were queued at least that long ago (amortised O(1) per flow).
  void expire(std::int64_t now_ns);
  /// Exports every flow (end of input, shutdown).
  void flush();

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return config_.max_flows; }
  const FlowCounters& counters() const { return counters_; }

 private:
  /// Canonical key: the lower (address, port) first, so both directions share it. 40 bytes,
  /// five 64-bit words for the hash.
  struct Key {
    IpAddress lo;
    IpAddress hi;
    std::uint16_t lo_port = 0;
    std::uint16_t hi_port = 0;
    std::uint8_t protocol = 0;
    std::uint8_t ip_version = 0;
    std::uint16_t vlan = 0;
    bool operator==(const Key&) const = default;
  };
  static_assert(sizeof(Key) == 40, "FlowTable::Key must stay five 64-bit words");
  /// 128 bytes: the first cache line holds everything a packet updates but the times.
  struct alignas(64) Entry {
    Key key;
    std::uint32_t slot = 0;  ///< where the entry sits in `slots_`
    bool src_is_lo = true;
    bool fin_lo = false;
    bool fin_hi = false;
    std::uint8_t tcp_flags = 0;
    std::uint64_t bytes = 0;
    std::uint64_t packets = 0;
    std::uint64_t src_bytes = 0;
    std::uint64_t src_packets = 0;
    std::int64_t first_ns = 0;
    std::int64_t last_ns = 0;
    std::int64_t queued_ns = 0;  ///< when the entry last joined the tail of the check queue
    std::uint32_t prev = 0;      ///< check-queue neighbours (pool index + 1; 0 = none)
    std::uint32_t next = 0;
    std::uint16_t icmp = 0;
  };
  /// A slot: pool index + 1 in the low half (0 = empty), the key hash's low 32 bits in the high
  /// half, so probing compares hashes without touching the pool.
  using Slot = std::uint64_t;

  static std::uint64_t hash_key(const Key& key);
  static Key make_key(const DecodedPacket& p, bool& src_is_lo);
  void update_keyed(const DecodedPacket& p, std::int64_t now_ns, const Key& key, std::uint64_t h,
                    bool src_is_lo);
  void export_entry(std::uint32_t index, FlowEnd end);
  void remove(std::uint32_t index);
  void queue_unlink(std::uint32_t index);
  void queue_push_back(std::uint32_t index, std::int64_t now_ns);

  FlowTableConfig config_;
  ExportFn on_export_;
  std::vector<Entry> pool_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::uint64_t mask_ = 0;
  /// The check queue, in order of `queued_ns` (pool index + 1). Packets do not reorder it:
  /// expiry and eviction look at the head and give a flow that was active since it was queued a
  /// second chance at the tail (the CLOCK approximation of LRU), so an update touches only its
  /// own entry.
  std::uint32_t head_ = 0;
  std::uint32_t tail_ = 0;
  std::size_t size_ = 0;
  FlowCounters counters_;
};

}  // namespace sluice
