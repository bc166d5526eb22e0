// SPDX-License-Identifier: Apache-2.0
#include "sluice/capture/flow_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "sluice/common/assert.hpp"
#include "sluice/event/event.hpp"

namespace sluice {
namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/// RFC 3339 UTC with milliseconds, from nanoseconds since the epoch.
void append_time(std::int64_t ns, std::string& out) {
  const std::int64_t ms = floor_div(ns, 1'000'000);
  std::int64_t days = floor_div(ms, 86'400'000);
  const std::int64_t in_day = ms - days * 86'400'000;
  // Civil from days (Howard Hinnant's algorithm).
  days += 719468;
  const std::int64_t era = floor_div(days, 146097);
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", y, m, d,
                 in_day / 3'600'000, in_day / 60'000 % 60, in_day / 1000 % 60, in_day % 1000);
}

bool is_private(const IpAddress& a, std::uint8_t version) {
  const auto& b = a.bytes;
  if (version == 4) {
    return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
           b[0] == 127 || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && (b[1] & 0xc0) == 64);
  }
  static constexpr std::uint8_t loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||
         std::memcmp(b.data(), loopback, 16) == 0;
}

std::string_view protocol_name(std::uint8_t p) {
  switch (p) {
    case ip_proto_tcp:
      return "tcp";
    case ip_proto_udp:
      return "udp";
    case ip_proto_icmp:
      return "icmp";
    case ip_proto_icmpv6:
      return "ipv6-icmp";
    default:
      return {};
  }
}

}  // namespace

std::string_view to_string(FlowEnd end) {
  switch (end) {
    case FlowEnd::idle_timeout:
      return "idle_timeout";
    case FlowEnd::active_timeout:
      return "active_timeout";
    case FlowEnd::fin:
      return "fin";
    case FlowEnd::rst:
      return "rst";
    case FlowEnd::evicted:
      return "evicted";
    case FlowEnd::shutdown:
      return "shutdown";
  }
  return "unknown";
}

std::string_view flow_direction(const FlowRecord& f) {
  const bool src = is_private(f.src, f.ip_version);
  const bool dst = is_private(f.dst, f.ip_version);
  if (src && dst) return "internal";
  if (src) return "outbound";
  if (dst) return "inbound";
  return "external";
}

void render_flow_json(const FlowRecord& f, std::string& out) {
  char src[64];
  char dst[64];
  const PeerAddress ps{f.ip_version, 0, f.src.bytes};
  const PeerAddress pd{f.ip_version, 0, f.dst.bytes};
  const std::size_t src_len = ps.format_address(src);
  const std::size_t dst_len = pd.format_address(dst);
  auto it = std::back_inserter(out);
  out += R"({"event.kind":"flow","@timestamp":")";
  append_time(f.last_ns, out);
  out += R"(","first_seen":")";
  append_time(f.first_ns, out);
  fmt::format_to(it, R"(","src_ip":"{}","dst_ip":"{}","src_port":{},"dst_port":{},"proto":)",
                 std::string_view(src, src_len), std::string_view(dst, dst_len), f.src_port,
                 f.dst_port);
  if (auto name = protocol_name(f.protocol); !name.empty()) {
    fmt::format_to(it, R"("{}")", name);
  } else {
    fmt::format_to(it, R"("{}")", f.protocol);
  }
  fmt::format_to(it,
                 R"(,"ip_version":{},"bytes":{},"packets":{},"src_bytes":{},"src_packets":{},)"
                 R"("dst_bytes":{},"dst_packets":{},"duration_ms":{},"direction":"{}",)"
                 R"("flow_end":"{}")",
                 f.ip_version, f.bytes, f.packets, f.src_bytes, f.src_packets,
                 f.bytes - f.src_bytes, f.packets - f.src_packets,
                 (f.last_ns - f.first_ns) / 1'000'000, flow_direction(f), to_string(f.end));
  if (f.protocol == ip_proto_tcp) {
    // Flag letters in header order (RFC 9293 §3.1), as tcpdump and Zeek's history show them.
    char flags[8];
    std::size_t n = 0;
    static constexpr char letters[] = {'F', 'S', 'R', 'P', 'A', 'U'};
    for (int b = 0; b < 6; ++b)
      if ((f.tcp_flags & (1u << b)) != 0) flags[n++] = letters[b];
    fmt::format_to(it, R"(,"tcp_flags":"{}")", std::string_view(flags, n));
  }
  if (f.protocol == ip_proto_icmp || f.protocol == ip_proto_icmpv6) {
    fmt::format_to(it, R"(,"icmp_type":{},"icmp_code":{})", f.icmp_type, f.icmp_code);
  }
  if (f.vlan != 0) fmt::format_to(it, R"(,"vlan":{})", f.vlan);
  out += '}';
}

FlowTable::FlowTable(FlowTableConfig config, ExportFn on_export)
    : config_(config), on_export_(std::move(on_export)) {
  if (config_.max_flows == 0) config_.max_flows = 1;
  SLUICE_ASSERT(config_.max_flows < (std::size_t{1} << 31), "FlowTable: max_flows too large");
  // Load factor at most one half keeps linear-probe runs short.
  const std::size_t slots = std::bit_ceil(config_.max_flows * 2);
  slots_.assign(slots, 0);
  mask_ = slots - 1;
  pool_.resize(config_.max_flows);
  free_.reserve(config_.max_flows);
  for (std::size_t i = config_.max_flows; i-- > 0;)
    free_.push_back(static_cast<std::uint32_t>(i));
}

std::uint64_t FlowTable::hash_key(const Key& key) {
  std::uint64_t w[5];
  std::memcpy(w, &key, sizeof w);
  std::uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (auto x : w) {
    h = (h ^ x) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
  }
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 29);
}

void FlowTable::queue_unlink(std::uint32_t i) {
  Entry& e = pool_[i];
  if (e.prev != 0) {
    pool_[e.prev - 1].next = e.next;
  } else {
    head_ = e.next;
  }
  if (e.next != 0) {
    pool_[e.next - 1].prev = e.prev;
  } else {
    tail_ = e.prev;
  }
  e.prev = e.next = 0;
}

void FlowTable::queue_push_back(std::uint32_t i, std::int64_t now_ns) {
  Entry& e = pool_[i];
  e.queued_ns = now_ns;
  e.prev = tail_;
  e.next = 0;
  if (tail_ != 0) {
    pool_[tail_ - 1].next = i + 1;
  } else {
    head_ = i + 1;
  }
  tail_ = i + 1;
}

void FlowTable::export_entry(std::uint32_t i, FlowEnd end) {
  const Entry& e = pool_[i];
  FlowRecord r;
  if (e.src_is_lo) {
    r.src = e.key.lo;
    r.dst = e.key.hi;
    r.src_port = e.key.lo_port;
    r.dst_port = e.key.hi_port;
  } else {
    r.src = e.key.hi;
    r.dst = e.key.lo;
    r.src_port = e.key.hi_port;
    r.dst_port = e.key.lo_port;
  }
  r.protocol = e.key.protocol;
  r.ip_version = e.key.ip_version;
  r.vlan = e.key.vlan;
  r.tcp_flags = e.tcp_flags;
  r.icmp_type = static_cast<std::uint8_t>(e.icmp >> 8);
  r.icmp_code = static_cast<std::uint8_t>(e.icmp);
  r.end = end;
  r.bytes = e.bytes;
  r.packets = e.packets;
  r.src_bytes = e.src_bytes;
  r.src_packets = e.src_packets;
  r.first_ns = e.first_ns;
  r.last_ns = e.last_ns;
  ++counters_.exported[static_cast<std::size_t>(end)];
  on_export_(r);
}

void FlowTable::remove(std::uint32_t i) {
  queue_unlink(i);
  // Backward-shift deletion keeps every probe run unbroken without tombstones.
  std::uint64_t hole = pool_[i].slot;
  std::uint64_t j = hole;
  for (;;) {
    j = (j + 1) & mask_;
    const Slot occupant = slots_[j];
    if (occupant == 0) break;
    const std::uint64_t home = (occupant >> 32) & mask_;
    // Move the occupant into the hole unless its home lies cyclically in (hole, j].
    const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!stays) {
      slots_[hole] = occupant;
      pool_[static_cast<std::uint32_t>(occupant) - 1].slot = static_cast<std::uint32_t>(hole);
      hole = j;
    }
  }
  slots_[hole] = 0;
  free_.push_back(i);
  --size_;
}

FlowTable::Key FlowTable::make_key(const DecodedPacket& p, bool& src_is_lo) {
  Key key;
  const bool ports = p.protocol == ip_proto_tcp || p.protocol == ip_proto_udp;
  const std::uint16_t sport = ports ? p.src_port : 0;
  const std::uint16_t dport = ports ? p.dst_port : 0;
  const int order = std::memcmp(p.src.bytes.data(), p.dst.bytes.data(), 16);
  src_is_lo = order < 0 || (order == 0 && sport <= dport);
  if (src_is_lo) {
    key.lo = p.src;
    key.hi = p.dst;
    key.lo_port = sport;
    key.hi_port = dport;
  } else {
    key.lo = p.dst;
    key.hi = p.src;
    key.lo_port = dport;
    key.hi_port = sport;
  }
  key.protocol = p.protocol;
  key.ip_version = p.ip_version;
  key.vlan = p.vlan;
  return key;
}

void FlowTable::update(const DecodedPacket& p, std::int64_t now_ns) {
  bool src_is_lo = true;
  const Key key = make_key(p, src_is_lo);
  update_keyed(p, now_ns, key, hash_key(key), src_is_lo);
}

void FlowTable::update_burst(std::span<const DecodedPacket> packets, std::int64_t now_ns) {
  // Three passes so the memory of one packet's lookup is in flight while the others compute:
  // hash and prefetch the slot; read the slot and prefetch the entry; then update as usual
  // (which probes again, now from cache, so inserts and removals in between stay correct).
  constexpr std::size_t max_burst = 64;
  Key keys[max_burst];
  std::uint64_t hashes[max_burst];
  bool src_lo[max_burst];
  for (std::size_t base = 0; base < packets.size(); base += max_burst) {
    const std::size_t n = std::min(max_burst, packets.size() - base);
    for (std::size_t i = 0; i < n; ++i) {
      keys[i] = make_key(packets[base + i], src_lo[i]);
      hashes[i] = hash_key(keys[i]);
      __builtin_prefetch(&slots_[hashes[i] & mask_]);
    }
    for (std::size_t i = 0; i < n; ++i) {
      const Slot occupant = slots_[hashes[i] & mask_];
      if (occupant != 0) __builtin_prefetch(&pool_[static_cast<std::uint32_t>(occupant) - 1]);
    }
    for (std::size_t i = 0; i < n; ++i)
      update_keyed(packets[base + i], now_ns, keys[i], hashes[i], src_lo[i]);
  }
}

void FlowTable::update_keyed(const DecodedPacket& p, std::int64_t now_ns, const Key& key,
                             std::uint64_t h, bool src_is_lo) {
  const std::uint64_t tag = h << 32;
  std::uint64_t pos = h & mask_;
  std::uint32_t index = 0;
  for (;;) {
    const Slot occupant = slots_[pos];
    if (occupant == 0) break;
    if ((occupant & 0xffffffff00000000ULL) == tag &&
        pool_[static_cast<std::uint32_t>(occupant) - 1].key == key) {
      index = static_cast<std::uint32_t>(occupant);
      break;
    }
    pos = (pos + 1) & mask_;
  }
  Entry* e = nullptr;
  if (index == 0) {
    if (free_.empty()) {
      // Full: evict the oldest flow not updated since it was queued; a flow that was updated
      // gets a second chance at the tail. Bounded, so a table of busy flows still makes room.
      std::uint32_t victim = head_ - 1;
      for (int tries = 0; tries < 8 && pool_[victim].last_ns > pool_[victim].queued_ns; ++tries) {
        queue_unlink(victim);
        queue_push_back(victim, now_ns);
        victim = head_ - 1;
      }
      export_entry(victim, FlowEnd::evicted);
      remove(victim);
      // The removal may have moved the run the probe ended in: probe again.
      pos = h & mask_;
      while (slots_[pos] != 0)
        pos = (pos + 1) & mask_;
    }
    const std::uint32_t i = free_.back();
    free_.pop_back();
    e = &pool_[i];
    e->key = key;
    // The SYN-ACK's receiver opened the connection.
    const bool syn_ack =
        p.protocol == ip_proto_tcp &&
        (p.tcp_flags & (tcp_flag_syn | tcp_flag_ack)) == (tcp_flag_syn | tcp_flag_ack);
    e->src_is_lo = syn_ack ? !src_is_lo : src_is_lo;
    e->fin_lo = e->fin_hi = false;
    e->tcp_flags = 0;
    e->icmp = static_cast<std::uint16_t>(p.icmp_type << 8 | p.icmp_code);
    e->bytes = e->packets = e->src_bytes = e->src_packets = 0;
    e->first_ns = now_ns;
    e->slot = static_cast<std::uint32_t>(pos);
    slots_[pos] = tag | (i + 1);
    index = i + 1;
    queue_push_back(i, now_ns);
    ++size_;
    ++counters_.created;
  } else {
    e = &pool_[index - 1];
  }
  e->bytes += p.ip_bytes;
  e->packets += 1;
  if (src_is_lo == e->src_is_lo) {
    e->src_bytes += p.ip_bytes;
    e->src_packets += 1;
  }
  e->last_ns = now_ns;
  if (p.protocol == ip_proto_tcp) {
    e->tcp_flags |= p.tcp_flags;
    if ((p.tcp_flags & tcp_flag_rst) != 0) {
      export_entry(index - 1, FlowEnd::rst);
      remove(index - 1);
      return;
    }
    if (e->fin_lo && e->fin_hi && (p.tcp_flags & tcp_flag_fin) == 0) {
      // The ACK of the second FIN closes the connection (RFC 9293 §3.6); it belongs to this
      // flow, not to a new one. Without it the flow ends by idle timeout.
      export_entry(index - 1, FlowEnd::fin);
      remove(index - 1);
      return;
    }
    if ((p.tcp_flags & tcp_flag_fin) != 0) (src_is_lo ? e->fin_lo : e->fin_hi) = true;
  }
  if (now_ns - e->first_ns >= config_.active_timeout_ns) [[unlikely]] {
    // A long flow is reported and goes on with fresh counts.
    export_entry(index - 1, FlowEnd::active_timeout);
    e->bytes = e->packets = e->src_bytes = e->src_packets = 0;
    e->first_ns = now_ns;
  }
}

void FlowTable::expire(std::int64_t now_ns) {
  while (head_ != 0 && pool_[head_ - 1].queued_ns <= now_ns - config_.idle_timeout_ns) {
    const std::uint32_t i = head_ - 1;
    if (pool_[i].last_ns <= now_ns - config_.idle_timeout_ns) {
      export_entry(i, FlowEnd::idle_timeout);
      remove(i);
    } else {
      // Active since it was queued: check again one idle timeout from now.
      queue_unlink(i);
      queue_push_back(i, now_ns);
    }
  }
}

void FlowTable::flush() {
  while (head_ != 0) {
    const std::uint32_t i = head_ - 1;
    export_entry(i, FlowEnd::shutdown);
    remove(i);
  }
}

}  // namespace sluice
