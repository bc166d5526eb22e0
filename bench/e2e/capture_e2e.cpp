// SPDX-License-Identifier: Apache-2.0
/// `capture_e2e`: the same traffic through the DPDK source and the AF_PACKET source, end to end
/// (packets in; syslog events parsed and flow records out of a real `Pipeline`), side by side
/// (issue 6: DPDK `net_ring` at least 3x AF_PACKET).
///
/// Traffic: the Loghub Linux + OpenSSH lines with a PRI, one per UDP datagram to port 514 from
/// 256 senders, as pre-built Ethernet frames, sent flat out for `--seconds` by a generator
/// thread in this process:
/// - dpdk: EAL with `--no-huge --no-pci --vdev=net_ring0` (the ring PMD loops TX back to RX);
///   the generator copies frames into mbufs and `rte_eth_tx_burst`s them, the DPDK source polls
///   RX queue 0.
/// - afpacket: a packet socket on `lo` `sendmmsg`s the frames (64 per call); the AF_PACKET source
///   (TPACKET_V3, one socket) captures them as they come back in.
/// Each mode runs in its own process (EAL cannot be torn down and started again). Output: one
/// JSON line per run with packets captured, events parsed, flows, drops and rates.
///
/// usage: capture_e2e dpdk|afpacket [--seconds S] [--workers N]
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "sluice/capture/capture_config.hpp"
#include "sluice/dpdk/dpdk_source.hpp"
#include "sluice/ingest/afpacket_source.hpp"
#include "sluice/pipeline/pipeline.hpp"

namespace {

std::string be16(std::uint16_t v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v)};
}

/// An Ethernet/IPv4/UDP frame (checksums zero) from 10.0.0.S:40000+S to 10.0.1.1:514.
std::string frame(int sender, const std::string& msg) {
  std::string udp = be16(static_cast<std::uint16_t>(40000 + sender)) + be16(514) +
                    be16(static_cast<std::uint16_t>(8 + msg.size())) + be16(0) + msg;
  std::string ip = std::string("\x45\x00", 2) + be16(static_cast<std::uint16_t>(20 + udp.size())) +
                   be16(1) + be16(0) + std::string("\x40\x11\x00\x00", 4) +
                   std::string{10, 0, 0, static_cast<char>(sender)} + std::string{10, 0, 1, 1} +
                   udp;
  return std::string(6, '\x02') + std::string(6, '\x04') + be16(0x0800) + ip;
}

std::vector<std::string> load_frames() {
  std::vector<std::string> frames;
  const char* env = std::getenv("SLUICE_TEST_DATA");
  const std::string data = env != nullptr ? env : std::string(SLUICE_SOURCE_DIR "/../shared/data");
  int i = 0;
  for (const char* f : {"/loghub/Linux/Linux_2k.log", "/loghub/OpenSSH/OpenSSH_2k.log"}) {
    std::ifstream in(data + f);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) frames.push_back(frame(i++ % 256, "<38>" + line));
  }
  return frames;
}

struct Totals {
  double seconds = 0;
  std::uint64_t sent = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: capture_e2e dpdk|afpacket [--seconds S] [--workers N]\n");
    return 2;
  }
  const std::string mode = argv[1];
  double seconds = 5;
  std::size_t workers = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--workers") == 0) workers = std::strtoul(argv[i + 1], nullptr, 10);
  }
  const auto frames = load_frames();
  if (frames.empty()) {
    std::fprintf(stderr, "capture_e2e: Loghub corpus not found (SLUICE_TEST_DATA)\n");
    return 1;
  }
  sluice::MetricsRegistry metrics;
  sluice::PipelineConfig pc;
  pc.workers = workers;
  sluice::Pipeline pipeline(pc, metrics);
  sluice::CaptureOptions options;  // UDP 514, flows on: events and flows out
  std::atomic<bool> stop{false};
  std::uint64_t sent = 0;
  std::thread generator;

  if (mode == "dpdk") {
    sluice::DpdkConfig config;
    config.enabled = true;
    config.eal_args = {"--no-huge",        "--no-pci", "-m", "1024", "--file-prefix=capture-e2e",
                       "--vdev=net_ring0", "-l",       "0"};
    config.options = options;
    // This machine's cores are shared: a spinning poller would take turns with the generator
    // and waste both their slices. AF_PACKET sleeps in poll(); let DPDK nap too.
    config.idle_sleep_us = 20;
    auto sources = sluice::dpdk::make_sources(config, metrics);
    if (!sources) {
      std::fprintf(stderr, "capture_e2e: %s\n", sources.error().message.c_str());
      return 1;
    }
    for (auto& s : sources.value())
      pipeline.add_source(std::move(s));
    if (auto started = pipeline.start(); !started) {
      std::fprintf(stderr, "capture_e2e: %s\n", started.error().message.c_str());
      return 1;
    }
    generator = std::thread([&] {
      (void)rte_thread_register();
      rte_mempool* pool = rte_pktmbuf_pool_create("gen_pool", 65535, 256, 0,
                                                  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
      if (pool == nullptr) {
        std::fprintf(stderr, "capture_e2e: generator mempool failed\n");
        return;
      }
      constexpr unsigned burst = 32;
      rte_mbuf* mbufs[burst];
      std::size_t next = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (rte_pktmbuf_alloc_bulk(pool, mbufs, burst) != 0) continue;
        for (auto* m : mbufs) {
          const std::string& f = frames[next++ % frames.size()];
          std::memcpy(rte_pktmbuf_mtod(m, char*), f.data(), f.size());
          m->data_len = static_cast<std::uint16_t>(f.size());
          m->pkt_len = static_cast<std::uint32_t>(f.size());
        }
        unsigned done = 0;
        while (done < burst && !stop.load(std::memory_order_relaxed)) {
          const auto n =
              rte_eth_tx_burst(0, 0, mbufs + done, static_cast<std::uint16_t>(burst - done));
          done += n;
          if (n == 0) std::this_thread::yield();  // ring full: let the consumer run
        }
        if (done < burst) rte_pktmbuf_free_bulk(mbufs + done, burst - done);
        sent += done;
      }
    });
  } else if (mode == "afpacket") {
    sluice::AfPacketConfig config;
    config.enabled = true;
    config.interface = "lo";
    config.options = options;
    auto sources = sluice::make_afpacket_sources(config, metrics);
    if (!sources) {
      std::fprintf(stderr, "capture_e2e: %s\n", sources.error().message.c_str());
      return 1;
    }
    for (auto& s : sources.value())
      pipeline.add_source(std::move(s));
    if (auto started = pipeline.start(); !started) {
      std::fprintf(stderr, "capture_e2e: %s\n", started.error().message.c_str());
      return 1;
    }
    generator = std::thread([&] {
      const int fd = ::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
      sockaddr_ll to{};
      to.sll_family = AF_PACKET;
      to.sll_ifindex = static_cast<int>(::if_nametoindex("lo"));
      to.sll_halen = 6;
      constexpr unsigned burst = 64;
      mmsghdr msgs[burst]{};
      iovec iov[burst]{};
      std::size_t next = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        for (unsigned i = 0; i < burst; ++i) {
          const std::string& f = frames[next++ % frames.size()];
          iov[i] = {const_cast<char*>(f.data()), f.size()};
          msgs[i].msg_hdr = {};
          msgs[i].msg_hdr.msg_name = &to;
          msgs[i].msg_hdr.msg_namelen = sizeof to;
          msgs[i].msg_hdr.msg_iov = &iov[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int n = ::sendmmsg(fd, msgs, burst, 0);
        if (n > 0) sent += static_cast<std::uint64_t>(n);
      }
      ::close(fd);
    });
  } else {
    std::fprintf(stderr, "capture_e2e: mode is dpdk or afpacket\n");
    return 2;
  }

  // Warm-up, then measure over the window from counter to counter.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::string labels = mode == "dpdk" ? R"(source="dpdk:0:0")" : R"(source="afpacket:lo:0")";
  const auto packets = [&] { return metrics.value("sluice_capture_packets_total", labels); };
  rusage r0{};
  ::getrusage(RUSAGE_SELF, &r0);
  const double p0 = packets();
  const double e0 = static_cast<double>(pipeline.stats().parsed);
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const double p1 = packets();
  rusage r1{};
  ::getrusage(RUSAGE_SELF, &r1);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  const double cpu = secs(r1.ru_utime) - secs(r0.ru_utime) + secs(r1.ru_stime) - secs(r0.ru_stime);
  const double e1 = static_cast<double>(pipeline.stats().parsed);
  const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stop = true;
  generator.join();
  pipeline.request_stop();
  pipeline.wait();
  const auto st = pipeline.stats();
  const double syslog = metrics.value("sluice_capture_syslog_records_total", labels);
  const double flows = metrics.value("sluice_capture_flow_records_total", labels);
  const double kdrops = static_cast<double>(st.dropped_socket_buffer);
  std::printf(
      "{\"mode\":\"%s\",\"workers\":%zu,\"seconds\":%.3f,\"packets_per_second\":%.0f,"
      "\"events_per_second\":%.0f,\"sent\":%llu,\"captured\":%.0f,\"syslog\":%.0f,\"flows\":%.0f,"
      "\"parsed\":%llu,\"unparsed\":%llu,\"dropped_ring_full\":%llu,\"kernel_drops\":%.0f,"
      "\"cpu_seconds\":%.3f,\"packets_per_cpu_second\":%.0f}\n",
      mode.c_str(), workers, dt, (p1 - p0) / dt, (e1 - e0) / dt,
      static_cast<unsigned long long>(sent), packets(), syslog, flows,
      static_cast<unsigned long long>(st.parsed), static_cast<unsigned long long>(st.unparsed),
      static_cast<unsigned long long>(st.dropped_ring_full), kdrops, cpu, (p1 - p0) / cpu);
  return 0;
}
