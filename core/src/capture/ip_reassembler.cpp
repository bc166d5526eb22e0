// SPDX-License-Identifier: Apache-2.0
#include "sluice/capture/ip_reassembler.hpp"

#include <algorithm>
#include <cstring>

namespace sluice {
namespace {

/// The largest IP payload (IPv4 total length is 16 bits; IPv6 without jumbograms likewise).
constexpr std::uint32_t max_datagram_bytes = 65535;

}  // namespace

std::size_t IpReassembler::KeyHash::operator()(const Key& k) const {
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](const std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      h = (h ^ p[i]) * 1099511628211ULL;
  };
  mix(k.src.bytes.data(), 16);
  mix(k.dst.bytes.data(), 16);
  const std::uint8_t rest[6] = {static_cast<std::uint8_t>(k.id >> 24),
                                static_cast<std::uint8_t>(k.id >> 16),
                                static_cast<std::uint8_t>(k.id >> 8),
                                static_cast<std::uint8_t>(k.id),
                                k.protocol,
                                k.version};
  mix(rest, 6);
  return static_cast<std::size_t>(h);
}

IpReassembler::IpReassembler(std::size_t max_datagrams, std::size_t max_bytes,
                             std::int64_t timeout_ns)
    : max_datagrams_(max_datagrams == 0 ? 1 : max_datagrams),
      max_bytes_(max_bytes),
      timeout_ns_(timeout_ns) {}

void IpReassembler::erase(List::iterator it) {
  bytes_ -= it->data.size();
  index_.erase(it->key);
  order_.erase(it);
}

void IpReassembler::expire(std::int64_t now_ns) {
  while (!order_.empty() && order_.front().first_ns <= now_ns - timeout_ns_) {
    ++counters_.timed_out;
    erase(order_.begin());
  }
}

bool IpReassembler::add(const DecodedPacket& p, std::int64_t now_ns, std::string_view& out) {
  ++counters_.fragments;
  expire(now_ns);
  Key key{p.src, p.dst, p.fragment_id, p.protocol, p.ip_version};
  auto found = index_.find(key);
  List::iterator it;
  if (found == index_.end()) {
    while (index_.size() >= max_datagrams_) {
      ++counters_.evicted;
      erase(order_.begin());
    }
    order_.push_back(Datagram{key, now_ns, {}, {}, 0});
    it = std::prev(order_.end());
    index_.emplace(key, it);
  } else {
    it = found->second;
  }
  Datagram& d = *it;
  const std::uint32_t begin = p.fragment_offset;
  const std::uint64_t end64 = std::uint64_t{begin} + p.fragment_bytes;
  if (end64 > max_datagram_bytes) {
    ++counters_.too_large;
    erase(it);
    return false;
  }
  const auto end = static_cast<std::uint32_t>(end64);
  // Fragment data is only usable when captured whole; a cut fragment leaves a hole that the
  // timeout or eviction will count.
  if (p.fragment_bytes < p.fragment_wire_bytes) return false;
  for (const auto& [b, e] : d.ranges) {
    if (begin < e && b < end) {
      ++counters_.overlapping;
      erase(it);
      return false;
    }
  }
  if (!p.more_fragments) {
    if (d.total != 0 || end < d.data.size()) {  // two last fragments, or data past the end
      ++counters_.overlapping;
      erase(it);
      return false;
    }
    d.total = end;
  } else if (d.total != 0 && end > d.total) {
    ++counters_.overlapping;
    erase(it);
    return false;
  }
  if (end > d.data.size()) {
    const std::size_t grow = end - d.data.size();
    if (bytes_ + grow > max_bytes_) {
      // Make room from the oldest other datagrams; if that is not enough, give this one up.
      while (bytes_ + grow > max_bytes_ && order_.begin() != it) {
        ++counters_.evicted;
        erase(order_.begin());
      }
      if (bytes_ + grow > max_bytes_) {
        ++counters_.evicted;
        erase(it);
        return false;
      }
    }
    d.data.resize(end);
    bytes_ += grow;
  }
  if (end > begin) std::memcpy(d.data.data() + begin, p.fragment_data, end - begin);
  d.ranges.emplace_back(begin, end);
  if (d.total == 0) return false;
  std::uint64_t covered = 0;
  for (const auto& [b, e] : d.ranges)
    covered += e - b;  // ranges never overlap, so their sizes add up
  if (covered != d.total) return false;
  ++counters_.reassembled;
  std::string whole = std::move(d.data);
  d.data.clear();
  bytes_ -= whole.size();
  erase(it);
  done_ = std::move(whole);
  out = done_;
  return true;
}

}  // namespace sluice
