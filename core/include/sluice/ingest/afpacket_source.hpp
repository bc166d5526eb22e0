// SPDX-License-Identifier: Apache-2.0
/// `AfPacketSource` captures from a network interface with a Linux AF_PACKET socket and a
/// TPACKET_V3 ring mapped into the process (blocks of frames the kernel fills and hands over;
/// no copy per packet and no system call per packet), and runs every frame through the shared
/// `PacketProcessor`: syslog records and flow records. It is the kernel fallback behind the DPDK
/// source. Several sockets on one interface form a PACKET_FANOUT_HASH group so each flow stays
/// on one socket, and so on one flow table.
///
/// Needs CAP_NET_RAW (root). Outgoing packets are ignored (PACKET_IGNORE_OUTGOING), so on `lo`
/// each packet is seen once. Kernel ring drops (`tp_drops`) are counted under
/// `sluice_events_dropped_total{reason="socket_buffer"}`: live capture is lossy under overload
/// by design, and the loss is counted, never silent.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/capture/capture_config.hpp"
#include "sluice/ingest/source.hpp"

namespace sluice {

class AfPacketSource final : public Source {
 public:
  /// `member` is this socket's index in the fanout group (0 .. fanout-1).
  AfPacketSource(AfPacketConfig config, std::size_t member);
  ~AfPacketSource() override;
  AfPacketSource(const AfPacketSource&) = delete;
  AfPacketSource& operator=(const AfPacketSource&) = delete;

  std::string_view kind() const override { return "afpacket"; }
  std::string describe() const override;
  /// Capture cannot slow the wire down: a full ring drops, counted.
  Backpressure backpressure() const override { return Backpressure::drop; }
  /// Opens the socket, sets up and maps the ring, binds to the interface and joins the fanout
  /// group. Errors name the interface and the failing call with errno text.
  Result<void> open() override;
  Result<void> run(SourceContext& ctx) override;
  bool finite() const override { return false; }

  /// The counters `/metrics` shows for this socket; register them before the source runs.
  CaptureMetrics& metrics() { return metrics_; }

 private:
  AfPacketConfig config_;
  std::size_t member_;
  int fd_ = -1;
  void* ring_ = nullptr;
  std::size_t ring_bytes_ = 0;
  CaptureMetrics metrics_;
};

/// Builds the `fanout` sources of a `[capture.afpacket]` section (not opened) and registers
/// their metrics with labels `source="afpacket:IFACE:N"`.
Result<std::vector<std::unique_ptr<Source>>> make_afpacket_sources(const AfPacketConfig& config,
                                                                   MetricsRegistry& metrics);

}  // namespace sluice
