// SPDX-License-Identifier: Apache-2.0
/// AF_PACKET capture with a TPACKET_V3 RX ring (Documentation/networking/packet_mmap.rst in
/// the kernel tree). The ring is a sequence of blocks; the kernel fills a block with frames and
/// flips its status to TP_STATUS_USER; we walk the frames and give the block back.
#include "sluice/ingest/afpacket_source.hpp"

// <net/if.h> before any <linux/*> header: the other order redefines the IFF_ flags.
#include <net/if.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "ingest/source_util.hpp"
#include "sluice/capture/packet_processor.hpp"
#include "sluice/common/log.hpp"

namespace sluice {
namespace {

constexpr Logger log{"ingest.afpacket"};

/// How long one poll waits when the ring is empty: bounds how late stop is noticed and how
/// late a part-filled batch is flushed (with `source_flush_interval_ns`).
constexpr int poll_timeout_ms = 50;

}  // namespace

AfPacketSource::AfPacketSource(AfPacketConfig config, std::size_t member)
    : config_(std::move(config)), member_(member) {}

AfPacketSource::~AfPacketSource() {
  if (ring_ != nullptr) ::munmap(ring_, ring_bytes_);
  if (fd_ >= 0) ::close(fd_);
}

std::string AfPacketSource::describe() const {
  return "afpacket " + config_.interface + ":" + std::to_string(member_);
}

Result<void> AfPacketSource::open() {
  const std::string where = describe();
  const unsigned ifindex = ::if_nametoindex(config_.interface.c_str());
  if (ifindex == 0) return Error::from_errno(where + ": no interface '" + config_.interface + "'");
  fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd_ < 0) return Error::from_errno(where + ": socket(AF_PACKET) (needs CAP_NET_RAW)");
  // Only Ethernet framing (and loopback, which carries a zeroed Ethernet header) is decoded.
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, config_.interface.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd_, SIOCGIFHWADDR, &ifr) != 0) return Error::from_errno(where + ": SIOCGIFHWADDR");
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER && ifr.ifr_hwaddr.sa_family != ARPHRD_LOOPBACK)
    return Error{where + ": interface type " + std::to_string(ifr.ifr_hwaddr.sa_family) +
                 " is not Ethernet"};
  int version = TPACKET_V3;
  if (::setsockopt(fd_, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0)
    return Error::from_errno(where + ": PACKET_VERSION TPACKET_V3");
  int one = 1;
  if (::setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0)
    return Error::from_errno(where + ": PACKET_IGNORE_OUTGOING");
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  if (config_.block_bytes % page != 0 || config_.frame_bytes % TPACKET_ALIGNMENT != 0 ||
      config_.block_bytes % config_.frame_bytes != 0)
    return Error{where + ": block_bytes must be a multiple of the page size and of frame_bytes"};
  tpacket_req3 req{};
  req.tp_block_size = static_cast<unsigned>(config_.block_bytes);
  req.tp_block_nr = static_cast<unsigned>(config_.block_count);
  req.tp_frame_size = static_cast<unsigned>(config_.frame_bytes);
  req.tp_frame_nr =
      static_cast<unsigned>(config_.block_bytes / config_.frame_bytes * config_.block_count);
  req.tp_retire_blk_tov = config_.block_timeout_ms;
  req.tp_feature_req_word = 0;
  if (::setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0)
    return Error::from_errno(where + ": PACKET_RX_RING");
  ring_bytes_ = config_.block_bytes * config_.block_count;
  ring_ = ::mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (ring_ == MAP_FAILED) {
    ring_ = nullptr;
    return Error::from_errno(where + ": mmap of the packet ring");
  }
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = static_cast<int>(ifindex);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0)
    return Error::from_errno(where + ": bind");
  if (config_.promiscuous) {
    packet_mreq mr{};
    mr.mr_ifindex = static_cast<int>(ifindex);
    mr.mr_type = PACKET_MR_PROMISC;
    if (::setsockopt(fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) != 0)
      return Error::from_errno(where + ": promiscuous mode");
  }
  if (config_.fanout > 1) {
    // The group id only has to be shared by this process's sockets on this interface.
    const int group = static_cast<int>((static_cast<unsigned>(::getpid()) ^ ifindex) & 0xffff);
    const int arg = group | (PACKET_FANOUT_HASH << 16);
    if (::setsockopt(fd_, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0)
      return Error::from_errno(where + ": PACKET_FANOUT");
  }
  return {};
}

Result<void> AfPacketSource::run(SourceContext& ctx) {
  SLUICE_ASSERT(ring_ != nullptr, "AfPacketSource::run before a successful open");
  SourceCounters& counters = *ctx.counters;
  detail::BatchBuilder batch(ctx);
  bool dropped_warned = false;
  PacketProcessor processor(config_.options, [&](std::string_view bytes, const PeerAddress& peer,
                                                 std::int64_t time_ns, bool truncated) {
    Event& e = batch.add(bytes, time_ns);
    e.peer = peer;
    if (truncated) {
      e.flags |= event_flag_truncated;
      counters.truncated.add();
    }
    if (!batch.flush_if_full() && !dropped_warned) {
      // Counted by the pipeline under ring_full; said once.
      log.warn("{}: workers behind, batches dropped (counted)", describe());
      dropped_warned = true;
    }
  });
  auto* base = static_cast<std::uint8_t*>(ring_);
  std::size_t block = 0;
  std::int64_t last_expire = wall_clock_ns();
  auto kernel_stats = [&] {
    tpacket_stats_v3 st{};
    socklen_t len = sizeof st;
    // Reading the statistics also resets them, so each read adds what is new.
    if (::getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
      counters.kernel_drops.add(st.tp_drops);
  };
  // Walks the frames of one block the kernel handed over and gives it back.
  auto take_block = [&](tpacket_block_desc* desc) {
    const std::uint32_t packets = desc->hdr.bh1.num_pkts;
    auto* frame = reinterpret_cast<std::uint8_t*>(desc) + desc->hdr.bh1.offset_to_first_pkt;
    std::uint64_t bytes = 0;
    for (std::uint32_t i = 0; i < packets; ++i) {
      const auto* h = reinterpret_cast<const tpacket3_hdr*>(frame);
      const std::int64_t ts = std::int64_t{h->tp_sec} * 1'000'000'000 + h->tp_nsec;
      // A NIC that strips VLAN tags leaves the id in the frame header.
      const std::uint16_t vlan = (h->tp_status & TP_STATUS_VLAN_VALID) != 0
                                     ? static_cast<std::uint16_t>(h->hv1.tp_vlan_tci & 0x0fff)
                                     : 0;
      processor.process(LinkType::ethernet, frame + h->tp_mac, h->tp_snaplen, h->tp_len, ts, vlan);
      bytes += h->tp_snaplen;
      frame += h->tp_next_offset;
    }
    counters.bytes.add(bytes);
    __atomic_store_n(&desc->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    block = (block + 1) % config_.block_count;
  };
  auto block_at = [&] {
    return reinterpret_cast<tpacket_block_desc*>(base + block * config_.block_bytes);
  };
  auto ready = [](tpacket_block_desc* desc) {
    return (__atomic_load_n(&desc->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) != 0;
  };
  while (!ctx.stop.stop_requested()) {
    auto* desc = block_at();
    if (!ready(desc)) {
      pollfd pfd{fd_, POLLIN | POLLERR, 0};
      ::poll(&pfd, 1, poll_timeout_ms);
      const std::int64_t now = wall_clock_ns();
      if (now - last_expire >= 1'000'000'000) {
        processor.expire(now);
        processor.publish(metrics_);
        kernel_stats();
        last_expire = now;
      }
      (void)batch.flush_if_due();
      continue;
    }
    take_block(desc);
    processor.publish(metrics_);
    (void)batch.flush_if_due();
  }
  // Stop: what the kernel already captured is processed, including the block it is filling,
  // which it hands over within the block timeout. Bounded by one pass over the ring.
  for (std::size_t taken = 0; taken <= config_.block_count;) {
    auto* desc = block_at();
    if (ready(desc)) {
      take_block(desc);
      ++taken;
      continue;
    }
    pollfd pfd{fd_, POLLIN | POLLERR, 0};
    if (::poll(&pfd, 1, static_cast<int>(2 * config_.block_timeout_ms)) <= 0 && !ready(desc)) break;
  }
  const std::int64_t now = wall_clock_ns();
  processor.finish(now);
  processor.publish(metrics_);
  kernel_stats();
  (void)batch.flush();
  return {};
}

Result<std::vector<std::unique_ptr<Source>>> make_afpacket_sources(const AfPacketConfig& config,
                                                                   MetricsRegistry& metrics) {
  if (config.interface.empty()) return Error{"capture.afpacket: interface is required"};
  if (config.fanout == 0) return Error{"capture.afpacket: fanout must be at least 1"};
  std::vector<std::unique_ptr<Source>> out;
  for (std::size_t i = 0; i < config.fanout; ++i) {
    auto s = std::make_unique<AfPacketSource>(config, i);
    s->metrics().register_metrics(
        metrics, "source=\"afpacket:" + config.interface + ":" + std::to_string(i) + "\"");
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace sluice
