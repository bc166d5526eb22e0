// SPDX-License-Identifier: Apache-2.0
/// Configuration of the live capture sources: `[capture.afpacket]` (kernel AF_PACKET with a
/// TPACKET_V3 ring, in core) and `[capture.dpdk]` (in dpdk/, built when libdpdk is found). Both
/// share `CaptureOptions` (what to extract). Plain structs with working defaults; the TOML
/// reader in config.cpp fills them and names the key and line of every error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sluice/capture/packet_processor.hpp"

namespace sluice {

/// `[capture.afpacket]`: one interface, `fanout` sockets joined in a PACKET_FANOUT_HASH group
/// (the kernel keeps each flow on one socket), one source thread each.
struct AfPacketConfig {
  bool enabled = false;                 ///< the section is present
  std::string interface;                ///< e.g. "eth0" or "lo"; required
  std::size_t fanout = 1;               ///< sockets (and threads) sharing the interface
  std::size_t block_bytes = 4 << 20;    ///< TPACKET_V3 block size (a power of two pages)
  std::size_t block_count = 64;         ///< blocks per ring: 256 MiB per socket by default
  std::size_t frame_bytes = 2048;       ///< tp_frame_size; frames longer than this are cut
  std::uint32_t block_timeout_ms = 10;  ///< the kernel hands over a part-filled block this late
  bool promiscuous = false;             ///< see traffic not addressed to this host (a mirror port)
  CaptureOptions options;
  int line = 0;
};

/// `[capture.dpdk]`: DPDK ports polled from user space. EAL arguments as on a DPDK command
/// line; each (port, queue) pair is one source thread on its own lcore.
struct DpdkConfig {
  bool enabled = false;
  /// EAL arguments, e.g. ["--no-huge", "--no-pci", "-m", "512",
  /// "--vdev=net_pcap0,rx_pcap=capture.pcap"]. "--proc-type", "--file-prefix" as needed.
  std::vector<std::string> eal_args;
  std::vector<std::uint16_t> ports = {0};  ///< DPDK port ids
  std::size_t queues = 1;                  ///< RX queues per port (RSS spreads flows)
  /// CPU for each (port, queue) in order; empty = not pinned.
  std::vector<std::uint32_t> lcores;
  std::size_t burst = 32;             ///< packets per rte_eth_rx_burst
  std::size_t rx_descriptors = 1024;  ///< RX ring size per queue
  std::size_t mbufs = 16383;          ///< mbufs per queue's mempool (2^n - 1 is optimal)
  std::size_t mbuf_cache = 256;       ///< per-lcore mempool cache
  bool promiscuous = true;
  /// A net_pcap replay ends: stop the source once this many consecutive empty polls have been
  /// seen after at least one packet (0 = never; live ports never end).
  std::size_t stop_after_idle_polls = 0;
  /// After 64 empty polls in a row, sleep this long before polling again (0 = spin: a polling
  /// core is dedicated to its queue). Non-zero suits shared machines and demos, at the price of
  /// up to this much added latency and RX ring headroom.
  std::uint32_t idle_sleep_us = 0;
  CaptureOptions options;
  int line = 0;
};

/// `[capture]` as a whole.
struct CaptureConfig {
  AfPacketConfig afpacket;
  DpdkConfig dpdk;
};

}  // namespace sluice
