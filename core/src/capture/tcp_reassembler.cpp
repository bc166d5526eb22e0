// SPDX-License-Identifier: Apache-2.0
#include "sluice/capture/tcp_reassembler.hpp"

#include <cstring>

namespace sluice {
namespace {

/// Signed distance a − b in sequence space (RFC 9293 §3.4 comparisons).
std::int32_t seq_diff(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b);
}

}  // namespace

PeerAddress peer_of(const IpAddress& address, std::uint8_t ip_version, std::uint16_t port) {
  PeerAddress p;
  p.family = ip_version;
  p.port = port;
  p.address = address.bytes;
  return p;
}

struct TcpReassembler::Stream {
  Stream(Key k, PeerAddress p, std::size_t max) : key(k), peer(p), framer(max) {}
  Key key;
  PeerAddress peer;
  SyslogFramer framer;
  std::int64_t last_ns = 0;
  std::uint32_t base = 0;
  std::uint32_t next = 0;  ///< relative sequence number of the next byte to frame
  bool fin = false;
  std::uint32_t fin_at = 0;
  std::map<std::uint32_t, std::string> pending;  ///< out-of-order data by relative sequence
  std::size_t pending_bytes = 0;
};

std::size_t TcpReassembler::KeyHash::operator()(const Key& k) const {
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](const std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      h = (h ^ p[i]) * 1099511628211ULL;
  };
  mix(k.src.bytes.data(), 16);
  mix(k.dst.bytes.data(), 16);
  const std::uint8_t ports[4] = {
      static_cast<std::uint8_t>(k.src_port >> 8), static_cast<std::uint8_t>(k.src_port),
      static_cast<std::uint8_t>(k.dst_port >> 8), static_cast<std::uint8_t>(k.dst_port)};
  mix(ports, 4);
  return static_cast<std::size_t>(h);
}

TcpReassembler::TcpReassembler(TcpReassemblerConfig config, TcpRecordFn on_record)
    : config_(config), on_record_(std::move(on_record)) {
  if (config_.max_streams == 0) config_.max_streams = 1;
}

TcpReassembler::~TcpReassembler() = default;

void TcpReassembler::deliver(Stream& s, std::string_view data) {
  s.framer.feed(data, [&](const Frame& f) { on_record_(f.bytes, s.peer, f.truncated); });
  s.next += static_cast<std::uint32_t>(data.size());
}

void TcpReassembler::drain(Stream& s) {
  while (!s.pending.empty()) {
    auto it = s.pending.begin();
    const std::int32_t ahead = seq_diff(it->first, s.next);
    if (ahead > 0) break;
    const auto overlap = static_cast<std::size_t>(-static_cast<std::int64_t>(ahead));
    if (overlap < it->second.size()) {
      deliver(s, std::string_view(it->second).substr(overlap));
    }
    counters_.retransmitted_bytes += std::min(overlap, it->second.size());
    s.pending_bytes -= it->second.size();
    total_pending_bytes_ -= it->second.size();
    s.pending.erase(it);
  }
}

void TcpReassembler::skip_hole(Stream& s) {
  if (s.pending.empty()) return;
  ++counters_.gaps;
  s.framer.resync();
  s.next = s.pending.begin()->first;
  drain(s);
}

void TcpReassembler::close(List::iterator it) {
  Stream& s = **it;
  while (!s.pending.empty())
    skip_hole(s);
  s.framer.finish([&](const Frame& f) { on_record_(f.bytes, s.peer, f.truncated); });
  index_.erase(s.key);
  lru_.erase(it);
}

void TcpReassembler::expire(std::int64_t now_ns) {
  while (!lru_.empty() && now_ns - lru_.front()->last_ns >= config_.idle_timeout_ns) {
    ++counters_.timed_out;
    close(lru_.begin());
  }
}

void TcpReassembler::finish() {
  while (!lru_.empty())
    close(lru_.begin());
}

void TcpReassembler::segment(const DecodedPacket& t, std::int64_t now_ns) {
  ++counters_.segments;
  Key key{t.src, t.dst, t.src_port, t.dst_port};
  const bool syn = (t.tcp_flags & tcp_flag_syn) != 0;
  auto found = index_.find(key);
  if (found != index_.end() && syn) {
    Stream& old = **found->second;
    if (seq_diff(t.seq + 1, old.base) != 0) {
      // A new connection reusing the 4-tuple: the old one is over.
      close(found->second);
      found = index_.end();
    }
  }
  List::iterator it;
  if (found == index_.end()) {
    if ((t.tcp_flags & tcp_flag_rst) != 0) return;  // nothing to close
    while (index_.size() >= config_.max_streams) {
      ++counters_.evicted;
      close(lru_.begin());
    }
    auto s = std::make_unique<Stream>(key, peer_of(t.src, t.ip_version, t.src_port),
                                      config_.max_message_bytes);
    // Without a SYN the capture started mid-stream; the first segment is assumed to start a
    // frame (captures usually begin between messages).
    s->base = syn ? t.seq + 1 : t.seq;
    lru_.push_back(std::move(s));
    it = std::prev(lru_.end());
    index_.emplace(key, it);
    ++counters_.streams;
  } else {
    it = found->second;
    lru_.splice(lru_.end(), lru_, it);  // most recently used last
  }
  Stream& s = **it;
  s.last_ns = now_ns;
  const std::uint32_t rel = t.seq + (syn ? 1u : 0u) - s.base;
  const std::size_t size = t.payload_wire_bytes;
  if (t.payload_bytes < size) {
    // The segment's bytes were not captured: a hole of known size. In order, skip it now so the
    // stream goes on; out of order it stays a hole until buffering gives up on it.
    if (seq_diff(rel, s.next) <= 0 &&
        seq_diff(rel + static_cast<std::uint32_t>(size), s.next) > 0) {
      ++counters_.gaps;
      s.framer.resync();
      s.next = rel + static_cast<std::uint32_t>(size);
      drain(s);
    }
  } else if (size > 0) {
    std::string_view data(reinterpret_cast<const char*>(t.payload), size);
    const std::int32_t ahead = seq_diff(rel, s.next);
    if (ahead <= 0) {
      // In order, or a retransmission overlapping what was framed: keep only the new bytes.
      const auto overlap = static_cast<std::size_t>(-static_cast<std::int64_t>(ahead));
      counters_.retransmitted_bytes += std::min(overlap, data.size());
      if (overlap < data.size()) {
        deliver(s, data.substr(overlap));
        drain(s);
      }
    } else {
      ++counters_.out_of_order;
      auto [slot, inserted] = s.pending.try_emplace(rel);
      if (inserted || slot->second.size() < data.size()) {
        s.pending_bytes += data.size() - slot->second.size();
        total_pending_bytes_ += data.size() - slot->second.size();
        slot->second.assign(data);
      }
      while (!s.pending.empty() && (s.pending_bytes > config_.max_stream_buffer_bytes ||
                                    total_pending_bytes_ > config_.max_total_buffer_bytes))
        skip_hole(s);
    }
  }
  if ((t.tcp_flags & tcp_flag_fin) != 0 && !s.fin) {
    s.fin = true;
    s.fin_at = rel + static_cast<std::uint32_t>(size);
  }
  const bool rst = (t.tcp_flags & tcp_flag_rst) != 0;
  if (rst || (s.fin && seq_diff(s.next, s.fin_at) >= 0)) close(it);
}

}  // namespace sluice
