// SPDX-License-Identifier: Apache-2.0
/// The DPDK capture backend. `register_capture_backend()` adds "dpdk" to core's capture
/// registry; the `sluice` binary calls it behind the build's only `#if SLUICE_HAVE_DPDK`.
///
/// What runs: EAL initialised once per process from `[capture.dpdk].eal_args`; each configured
/// port gets `queues` RX queues (RSS with a symmetric key when more than one, so both
/// directions of a flow meet on one queue and one flow table), one mempool per queue, and is
/// started once. Each (port, queue) is one `Source` whose thread registers with EAL (so the
/// mempool cache works), optionally pins itself to its configured CPU, polls
/// `rte_eth_rx_burst`, runs every frame through `PacketProcessor`, and frees the burst's mbufs
/// as soon as the records are copied into the batch arena. NIC counters (`rte_eth_stats`:
/// imissed, ierrors, rx_nombuf, per-queue packets) are in `/metrics`.
///
/// Without hardware: `--no-huge --no-pci -m 512 --vdev=net_pcap0,rx_pcap=FILE` replays a
/// capture; `net_ring`/`net_null` serve benchmarks.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sluice/capture/capture_config.hpp"
#include "sluice/common/result.hpp"
#include "sluice/ingest/source.hpp"
#include "sluice/metrics/counter.hpp"

namespace sluice::dpdk {

/// Adds the "dpdk" backend to `sluice::register_capture_backend`'s table.
void register_capture_backend();

/// Builds one source per (port, queue) of `config` (not opened; EAL starts at the first
/// `open`) and registers their metrics.
Result<std::vector<std::unique_ptr<Source>>> make_sources(const DpdkConfig& config,
                                                          MetricsRegistry& metrics);

/// Initialises EAL with `args` (once per process; later calls return the first result).
/// For benchmarks and tests that drive ports themselves.
Result<void> init_eal(const std::vector<std::string>& args);

}  // namespace sluice::dpdk
