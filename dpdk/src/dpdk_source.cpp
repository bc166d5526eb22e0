// SPDX-License-Identifier: Apache-2.0
/// DPDK ports as capture sources. One `Runtime` per process owns EAL and the ports; sources
/// share it and each polls one (port, queue).
#include "sluice/dpdk/dpdk_source.hpp"

#include <pthread.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "sluice/capture/capture_registry.hpp"
#include "sluice/capture/packet_processor.hpp"
#include "sluice/common/log.hpp"
#include "sluice/event/event_batch.hpp"

namespace sluice::dpdk {
namespace {

constexpr Logger log{"dpdk"};

/// Microsoft's RSS key repeated as 0x6d5a: with a key of repeating 16-bit words the Toeplitz
/// hash is symmetric (Woo and Park, "Scalable TCP Session Monitoring with Symmetric RSS"), so
/// both directions of a flow reach the same queue.
constexpr std::uint8_t symmetric_rss_key[40] = {
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a};

/// Empty polls between housekeeping (flush due batches, expire flows, publish counters): an
/// empty poll costs tens of nanoseconds, so 1024 of them is well under the 50 ms flush interval.
constexpr std::size_t housekeeping_every_polls = 1024;
/// Empty polls before `idle_sleep_us` applies: a short lull does not cost a sleep.
constexpr std::size_t idle_polls_before_sleep = 64;
/// Bursts between housekeeping while traffic flows.
constexpr std::size_t housekeeping_every_bursts = 256;
/// Largest frame assembled from a chained mbuf (jumbo frames).
constexpr std::size_t max_frame_bytes = 16384;

std::string dpdk_error(std::string_view what, int rc) {
  return fmt::format("{}: {}", what, rte_strerror(rc < 0 ? -rc : rc));
}

struct EalState {
  std::mutex mutex;
  bool tried = false;
  std::string error;
};

EalState& eal_state() {
  static EalState s;
  return s;
}

/// The ports of one `[capture.dpdk]` section, configured and started once.
class Runtime {
 public:
  explicit Runtime(DpdkConfig config) : config_(std::move(config)) {}
  ~Runtime() {
    for (auto port : started_) {
      rte_eth_dev_stop(port);
      rte_eth_dev_close(port);
    }
  }

  Result<void> start() {
    std::lock_guard lock(mutex_);
    if (done_) return error_.empty() ? Result<void>{} : Result<void>{Error{error_}};
    done_ = true;
    if (auto eal = init_eal(config_.eal_args); !eal) {
      error_ = eal.error().message;
      return eal.error();
    }
    for (auto port : config_.ports) {
      if (auto r = start_port(port); !r) {
        error_ = r.error().message;
        return r.error();
      }
    }
    return {};
  }

  const DpdkConfig& config() const { return config_; }

 private:
  Result<void> start_port(std::uint16_t port) {
    const std::string where = fmt::format("capture.dpdk: port {}", port);
    if (!rte_eth_dev_is_valid_port(port))
      return Error{
          fmt::format("{}: no such port ({} ports available; check eal_args --vdev or "
                      "the PCI devices bound to DPDK)",
                      where, rte_eth_dev_count_avail())};
    rte_eth_dev_info info{};
    if (int rc = rte_eth_dev_info_get(port, &info); rc != 0)
      return Error{dpdk_error(where + ": rte_eth_dev_info_get", rc)};
    const auto queues = static_cast<std::uint16_t>(config_.queues);
    if (queues > info.max_rx_queues)
      return Error{fmt::format("{} ({}): {} queues asked for, the device has {}", where,
                               info.driver_name, queues, info.max_rx_queues)};
    rte_eth_conf conf{};
    if (queues > 1) {
      const std::uint64_t wanted = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;
      const std::uint64_t hf = wanted & info.flow_type_rss_offloads;
      if (hf == 0) {
        // Virtual devices (net_ring, net_null) have no RSS: each queue gets what the device
        // puts on it, so flows are not kept on one queue. Said once, at start.
        log.warn("{} ({}): no RSS on this device; {} queues receive as the device spreads them",
                 where, info.driver_name, queues);
      }
      conf.rxmode.mq_mode = hf != 0 ? RTE_ETH_MQ_RX_RSS : RTE_ETH_MQ_RX_NONE;
      conf.rx_adv_conf.rss_conf.rss_hf = hf;
      if (hf != 0 && info.hash_key_size == sizeof symmetric_rss_key) {
        conf.rx_adv_conf.rss_conf.rss_key = const_cast<std::uint8_t*>(symmetric_rss_key);
        conf.rx_adv_conf.rss_conf.rss_key_len = sizeof symmetric_rss_key;
      }
    }
    // One TX queue: some PMDs refuse a port without one. Nothing is sent on it.
    if (int rc = rte_eth_dev_configure(port, queues, 1, &conf); rc != 0)
      return Error{dpdk_error(where + ": rte_eth_dev_configure", rc)};
    std::uint16_t rx_desc = static_cast<std::uint16_t>(config_.rx_descriptors);
    std::uint16_t tx_desc = 512;
    (void)rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_desc, &tx_desc);
    const int socket = rte_eth_dev_socket_id(port);
    const unsigned pool_socket = socket < 0 ? SOCKET_ID_ANY : static_cast<unsigned>(socket);
    for (std::uint16_t q = 0; q < queues; ++q) {
      const std::string name = fmt::format("sluice_p{}q{}", port, q);
      rte_mempool* pool =
          rte_pktmbuf_pool_create(name.c_str(), static_cast<unsigned>(config_.mbufs),
                                  static_cast<unsigned>(config_.mbuf_cache), 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(pool_socket));
      if (pool == nullptr)
        return Error{
            dpdk_error(fmt::format("{}: mempool of {} mbufs for queue {}", where, config_.mbufs, q),
                       rte_errno)};
      if (int rc = rte_eth_rx_queue_setup(port, q, rx_desc, pool_socket, nullptr, pool); rc != 0)
        return Error{dpdk_error(fmt::format("{}: rx queue {}", where, q), rc)};
    }
    if (int rc = rte_eth_tx_queue_setup(port, 0, tx_desc, pool_socket, nullptr); rc != 0)
      return Error{dpdk_error(where + ": tx queue", rc)};
    if (int rc = rte_eth_dev_start(port); rc != 0)
      return Error{dpdk_error(where + ": rte_eth_dev_start", rc)};
    started_.push_back(port);
    if (config_.promiscuous) (void)rte_eth_promiscuous_enable(port);
    log.info("port {} ({}) started: {} rx queue(s), {} descriptors, {} mbufs per queue", port,
             info.driver_name, queues, rx_desc, config_.mbufs);
    return {};
  }

  DpdkConfig config_;
  std::mutex mutex_;
  bool done_ = false;
  std::string error_;
  std::vector<std::uint16_t> started_;
};

class DpdkSource final : public Source {
 public:
  DpdkSource(std::shared_ptr<Runtime> runtime, std::uint16_t port, std::uint16_t queue, int cpu)
      : runtime_(std::move(runtime)), port_(port), queue_(queue), cpu_(cpu) {}

  std::string_view kind() const override { return "dpdk"; }
  std::string describe() const override {
    return fmt::format("dpdk port {} queue {}", port_, queue_);
  }
  /// A replay (`stop_after_idle_polls`) must lose nothing and waits; a live port cannot wait
  /// for the workers, so a full ring drops the batch, counted under ring_full.
  Backpressure backpressure() const override {
    return runtime_->config().stop_after_idle_polls > 0 ? Backpressure::block : Backpressure::drop;
  }
  Result<void> open() override { return runtime_->start(); }
  bool finite() const override { return runtime_->config().stop_after_idle_polls > 0; }
  CaptureMetrics& metrics() { return metrics_; }

  Result<void> run(SourceContext& ctx) override {
    const DpdkConfig& config = runtime_->config();
    // An EAL-registered thread gets an lcore id, and with it the mempool's per-lcore cache.
    if (rte_thread_register() != 0)
      log.warn("{}: rte_thread_register failed ({}); running without mempool cache", describe(),
               rte_strerror(rte_errno));
    if (cpu_ >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu_, &set);
      if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
        log.warn("{}: cannot pin to CPU {}", describe(), cpu_);
    }
    SourceCounters& counters = *ctx.counters;
    BatchPtr batch;
    std::int64_t batch_started = 0;
    bool sink_open = true;
    auto flush = [&] {
      if (!batch || batch->empty()) return;
      counters.records.add(batch->size());
      if (!ctx.sink->push(std::move(batch)) && backpressure() == Backpressure::block)
        sink_open = false;
      batch.reset();
    };
    PacketProcessor processor(config.options, [&](std::string_view bytes, const PeerAddress& peer,
                                                  std::int64_t time_ns, bool truncated) {
      if (!batch) {
        batch = std::make_unique<EventBatch>(ctx.source_id, ctx.batch_capacity);
        batch_started = wall_clock_ns();
      }
      Event& e = batch->add_record(bytes, time_ns);
      e.peer = peer;
      if (truncated) {
        e.flags |= event_flag_truncated;
        counters.truncated.add();
      }
      if (batch->size() >= ctx.batch_capacity) flush();
    });
    std::vector<rte_mbuf*> burst(config.burst);
    std::vector<std::uint8_t> linear(max_frame_bytes);
    std::vector<RawFrame> frames(config.burst);
    std::size_t idle_polls = 0;
    std::size_t bursts = 0;
    bool seen_packets = false;
    auto housekeeping = [&](std::int64_t now) {
      processor.expire(now);
      processor.publish(metrics_);
      if (batch && !batch->empty() && now - batch_started >= source_flush_interval_ns) flush();
    };
    while (sink_open && !ctx.stop.stop_requested()) {
      const std::uint16_t n =
          rte_eth_rx_burst(port_, queue_, burst.data(), static_cast<std::uint16_t>(burst.size()));
      if (n == 0) {
        ++idle_polls;
        if (idle_polls % housekeeping_every_polls == 0) housekeeping(wall_clock_ns());
        if (config.stop_after_idle_polls > 0 && seen_packets &&
            idle_polls >= config.stop_after_idle_polls)
          break;
        if (config.idle_sleep_us > 0 && idle_polls % idle_polls_before_sleep == 0)
          std::this_thread::sleep_for(std::chrono::microseconds(config.idle_sleep_us));
        continue;
      }
      idle_polls = 0;
      seen_packets = true;
      // NICs without timestamp offload give none; one clock read per burst is the receive time.
      const std::int64_t now = wall_clock_ns();
      std::uint64_t bytes = 0;
      std::size_t whole = 0;
      for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = burst[i];
        bytes += m->pkt_len;
        if (m->nb_segs > 1) [[unlikely]] {
          // A chained mbuf (jumbo frame) is made contiguous for the decoder, up to the limit,
          // and processed on its own (the burst's frames must stay valid together).
          const std::size_t len = std::min<std::size_t>(m->pkt_len, linear.size());
          const auto* data = static_cast<const std::uint8_t*>(
              rte_pktmbuf_read(m, 0, static_cast<std::uint32_t>(len), linear.data()));
          processor.process(LinkType::ethernet, data, len, m->pkt_len, now);
          continue;
        }
        frames[whole++] =
            RawFrame{rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len, m->pkt_len};
      }
      processor.process_burst(LinkType::ethernet, {frames.data(), whole}, now);
      // Records were copied into the batch arena by `add_record`: the mbufs go back at once.
      rte_pktmbuf_free_bulk(burst.data(), n);
      counters.bytes.add(bytes);
      if (++bursts % housekeeping_every_bursts == 0) housekeeping(now);
    }
    processor.finish(wall_clock_ns());
    processor.publish(metrics_);
    flush();
    return {};
  }

 private:
  std::shared_ptr<Runtime> runtime_;
  std::uint16_t port_;
  std::uint16_t queue_;
  int cpu_;
  CaptureMetrics metrics_;
};

/// `rte_eth_stats` of one port, read when `/metrics` is scraped.
void register_port_metrics(MetricsRegistry& m, std::uint16_t port, std::size_t queues) {
  const std::string labels = fmt::format("port=\"{}\"", port);
  auto stat = [port](auto field) {
    return [port, field] {
      rte_eth_stats st{};
      if (rte_eth_dev_is_valid_port(port) == 0 || rte_eth_stats_get(port, &st) != 0) return 0.0;
      return static_cast<double>(field(st));
    };
  };
  m.add_gauge("sluice_dpdk_rx_packets", "Packets the port received (rte_eth_stats.ipackets)",
              labels, stat([](const rte_eth_stats& s) { return s.ipackets; }));
  m.add_gauge("sluice_dpdk_rx_bytes", "Bytes the port received (ibytes)", labels,
              stat([](const rte_eth_stats& s) { return s.ibytes; }));
  m.add_gauge("sluice_dpdk_rx_missed", "Packets dropped by the NIC for full RX queues (imissed)",
              labels, stat([](const rte_eth_stats& s) { return s.imissed; }));
  m.add_gauge("sluice_dpdk_rx_errors", "Erroneous received packets (ierrors)", labels,
              stat([](const rte_eth_stats& s) { return s.ierrors; }));
  m.add_gauge("sluice_dpdk_rx_nombuf", "RX mbuf allocation failures (rx_nombuf)", labels,
              stat([](const rte_eth_stats& s) { return s.rx_nombuf; }));
  for (std::size_t q = 0; q < queues && q < RTE_ETHDEV_QUEUE_STAT_CNTRS; ++q) {
    m.add_gauge("sluice_dpdk_queue_rx_packets", "Packets received per queue (q_ipackets)",
                fmt::format("port=\"{}\",queue=\"{}\"", port, q),
                stat([q](const rte_eth_stats& s) { return s.q_ipackets[q]; }));
    m.add_gauge("sluice_dpdk_queue_rx_errors", "Packets dropped per queue (q_errors)",
                fmt::format("port=\"{}\",queue=\"{}\"", port, q),
                stat([q](const rte_eth_stats& s) { return s.q_errors[q]; }));
  }
}

}  // namespace

Result<void> init_eal(const std::vector<std::string>& args) {
  EalState& s = eal_state();
  std::lock_guard lock(s.mutex);
  if (s.tried) return s.error.empty() ? Result<void>{} : Result<void>{Error{s.error}};
  s.tried = true;
  std::vector<std::string> owned{"sluice"};
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : owned)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  // rte_eal_init pins the calling thread to the main lcore, and every thread started after it
  // would inherit that one CPU (workers included): keep the caller's affinity instead. Capture
  // threads pin themselves to their configured `lcores`.
  cpu_set_t before;
  const bool have_affinity = pthread_getaffinity_np(pthread_self(), sizeof before, &before) == 0;
  const int rc = rte_eal_init(static_cast<int>(owned.size()), argv.data());
  if (have_affinity) (void)pthread_setaffinity_np(pthread_self(), sizeof before, &before);
  if (rc < 0) {
    s.error = fmt::format("capture.dpdk: EAL initialisation failed: {} (eal_args: {})",
                          rte_strerror(rte_errno), fmt::join(args, " "));
    return Error{s.error};
  }
  return {};
}

Result<std::vector<std::unique_ptr<Source>>> make_sources(const DpdkConfig& config,
                                                          MetricsRegistry& metrics) {
  if (config.ports.empty()) return Error{"capture.dpdk: ports is empty"};
  if (config.queues == 0) return Error{"capture.dpdk: queues must be at least 1"};
  if (!config.lcores.empty() && config.lcores.size() != config.ports.size() * config.queues)
    return Error{"capture.dpdk: lcores needs one CPU per (port, queue)"};
  auto runtime = std::make_shared<Runtime>(config);
  std::vector<std::unique_ptr<Source>> out;
  std::size_t index = 0;
  for (auto port : config.ports) {
    register_port_metrics(metrics, port, config.queues);
    for (std::size_t q = 0; q < config.queues; ++q, ++index) {
      const int cpu = config.lcores.empty() ? -1 : static_cast<int>(config.lcores[index]);
      auto s = std::make_unique<DpdkSource>(runtime, port, static_cast<std::uint16_t>(q), cpu);
      s->metrics().register_metrics(metrics, fmt::format("source=\"dpdk:{}:{}\"", port, q));
      out.push_back(std::move(s));
    }
  }
  return out;
}

void register_capture_backend() {
  sluice::register_capture_backend(
      {"dpdk", "DPDK poll-mode ports (EAL, RSS queues, burst RX)",
       [](const CaptureConfig& c, MetricsRegistry& m) -> Result<CaptureSources> {
         return make_sources(c.dpdk, m);
       }});
}

}  // namespace sluice::dpdk
