// SPDX-License-Identifier: Apache-2.0
#include "sluice/pipeline/pipeline.hpp"

#include <pthread.h>
#include <sched.h>

#include <fmt/format.h>
#include <chrono>
#include <map>
#include <mutex>

#include "backoff.hpp"
#include "parker.hpp"
#include "sluice/common/log.hpp"
#include "sluice/ring/spsc_ring.hpp"

namespace sluice {
namespace {

constexpr Logger logger("pipeline");

/// Longest an idle worker or sink sleeps before it looks again on its own. Producers wake it
/// sooner; the bound keeps the periodic output flush (200 ms) and shutdown checks timely.
constexpr std::chrono::microseconds idle_park_timeout{50'000};

/// A batch after a worker is done with it: the batch, its detections and the rendered bytes
/// for each output.
struct Processed {
  BatchPtr batch;
  std::vector<Detection> detections;
  std::vector<std::string> rendered;       // one per output
  std::vector<std::size_t> record_counts;  // one per output
};
using ProcessedPtr = std::unique_ptr<Processed>;

std::int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string PipelineStats::to_json() const {
  const double rate = seconds > 0 ? static_cast<double>(events) / seconds : 0;
  return fmt::format(
      "{{\"events\":{},\"parsed\":{},\"unparsed\":{},\"dropped\":{},\"alerts\":{},\"bytes\":{},"
      "\"seconds\":{:.3f},\"events_per_second\":{:.0f},\"dropped_ring_full\":{},"
      "\"dropped_socket_buffer\":{},\"truncated\":{}}}",
      events, parsed, unparsed, dropped, alerts, bytes, seconds, rate, dropped_ring_full,
      dropped_socket_buffer, truncated);
}

struct Pipeline::Impl {
  struct SourceSlot;

  /// The `BatchSink` a source pushes into: round robin over this source's worker rings.
  class SourceSink final : public BatchSink {
   public:
    SourceSink(Impl& impl, SourceSlot& slot) : impl_(impl), slot_(slot) {}
    bool push(BatchPtr batch) override { return impl_.push_from_source(slot_, std::move(batch)); }

   private:
    Impl& impl_;
    SourceSlot& slot_;
  };

  struct SourceSlot {
    std::unique_ptr<Source> source;
    SourceCounters counters;
    std::vector<std::unique_ptr<SpscRing<BatchPtr>>> rings;  // one per worker
    std::uint64_t next_sequence = 0;
    std::size_t next_worker = 0;
    std::unique_ptr<SourceSink> sink;
    std::jthread thread;
    std::atomic<bool> done{false};
  };

  struct WorkerSlot {
    std::unique_ptr<SpscRing<ProcessedPtr>> out;
    detail::Parker parker;  // sources wake the worker after handing it a batch
    std::jthread thread;
    std::atomic<bool> done{false};
  };

  struct OutputSlot {
    std::unique_ptr<Output> output;
    Counter written;
  };

  PipelineConfig config;
  MetricsRegistry& metrics;
  std::vector<std::unique_ptr<SourceSlot>> sources;
  std::vector<std::unique_ptr<WorkerSlot>> workers;
  std::vector<std::unique_ptr<OutputSlot>> outputs;

  std::vector<std::shared_ptr<BatchStage>> stages;  // fixed before start; run by every worker
  std::mutex rules_mutex;  // guards `rules` only; workers copy the pointer once per batch
  std::shared_ptr<const RuleSet> rules;
  std::atomic<std::uint64_t> rules_generation{0};

  Counter parsed;
  Counter unparsed;
  std::array<Counter, unparsed_reason_count> unparsed_by_reason;
  Counter dropped_ring_full;
  Counter fields_dropped;
  Counter alerts;
  Counter batches;
  Counter output_errors;

  std::stop_source stop;
  detail::Parker sink_parker;  // workers wake the sink after handing it a batch
  std::jthread sink_thread;
  std::atomic<bool> sink_done{false};
  std::atomic<bool> started{false};
  std::int64_t start_ns = 0;
  std::atomic<std::int64_t> end_ns{0};
  bool waited = false;

  Impl(PipelineConfig c, MetricsRegistry& m) : config(c), metrics(m) {
    if (config.workers == 0) {
      config.workers = std::max(1u, std::thread::hardware_concurrency());
    }
  }

  bool push_from_source(SourceSlot& slot, BatchPtr batch) {
    if (!batch || batch->empty()) return true;
    batch->set_sequence(slot.next_sequence);
    const std::size_t n = slot.rings.size();
    detail::Backoff backoff;
    while (true) {
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t w = (slot.next_worker + k) % n;
        if (slot.rings[w]->try_push(batch)) {
          slot.next_worker = (w + 1) % n;
          ++slot.next_sequence;
          workers[w]->parker.unpark();
          return true;
        }
      }
      if (slot.source->backpressure() == Backpressure::drop) {
        // UDP is lossy by design: when every worker ring is full the batch is dropped and
        // counted under sluice_events_dropped_total{reason="ring_full"}.
        dropped_ring_full.add(batch->size());
        return false;
      }
      backoff.pause();
    }
  }

  void run_source(SourceSlot& slot, std::uint32_t id) {
    SourceContext ctx;
    ctx.source_id = id;
    ctx.stop = stop.get_token();
    ctx.sink = slot.sink.get();
    ctx.counters = &slot.counters;
    ctx.batch_capacity = config.batch_size;
    auto r = slot.source->run(ctx);
    if (!r) logger.error("{} stopped: {}", slot.source->describe(), r.error().message);
    slot.done.store(true, std::memory_order_release);
    for (auto& w : workers)
      w->parker.unpark();
  }

  void run_worker(std::size_t index) {
    auto& me = *workers[index];
    if (config.pin_cpus) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(index % std::max(1u, std::thread::hardware_concurrency()), &set);
      pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    }
    Parser parser(config.parser);
    std::shared_ptr<const RuleSet> my_rules;
    std::uint64_t my_generation = ~std::uint64_t{0};
    std::unique_ptr<RuleScanner> scanner;
    detail::Backoff backoff;
    std::size_t next_source = 0;
    while (true) {
      BatchPtr batch;
      bool got = false;
      const std::size_t ns = sources.size();
      for (std::size_t k = 0; k < ns && !got; ++k) {
        auto& s = *sources[(next_source + k) % ns];
        if (s.rings[index]->try_pop(batch)) {
          got = true;
          next_source = (next_source + k + 1) % ns;
        }
      }
      if (!got) {
        if (all_sources_done() && all_source_rings_empty(index)) break;
        if (backoff.spinning()) {
          backoff.pause();
          continue;
        }
        // Nothing for a while: sleep until a source hands over a batch.
        const auto ticket = me.parker.prepare();
        if (all_source_rings_empty(index) && !all_sources_done()) {
          me.parker.park(ticket, idle_park_timeout);
        } else {
          me.parker.cancel();
        }
        continue;
      }
      backoff.reset();

      // Pick up a replaced rule set between batches, never inside one.
      const auto generation = rules_generation.load(std::memory_order_acquire);
      if (generation != my_generation) {
        std::lock_guard lock(rules_mutex);
        my_rules = rules;
        my_generation = rules_generation.load(std::memory_order_relaxed);
        scanner = my_rules ? my_rules->make_scanner() : nullptr;
      }

      auto processed = std::make_unique<Processed>();
      std::uint64_t n_parsed = 0, n_unparsed = 0, n_fields_dropped = 0;
      std::array<std::uint64_t, unparsed_reason_count> by_reason{};
      for (auto& e : batch->events()) {
        parser.parse(e, batch->arena());
        if (e.status == ParseStatus::parsed) {
          ++n_parsed;
          n_fields_dropped += (e.flags & event_flag_fields_dropped) != 0;
        } else {
          ++n_unparsed;
          ++by_reason[static_cast<std::size_t>(e.reason)];
        }
      }
      parsed.add(n_parsed);
      unparsed.add(n_unparsed);
      if (n_fields_dropped != 0) fields_dropped.add(n_fields_dropped);
      for (std::size_t r = 0; r < by_reason.size(); ++r)
        if (by_reason[r] != 0) unparsed_by_reason[r].add(by_reason[r]);

      for (const auto& stage : stages)
        stage->process(*batch, index);

      if (scanner) scanner->scan(*batch, processed->detections);
      alerts.add(processed->detections.size());

      processed->rendered.resize(outputs.size());
      processed->record_counts.resize(outputs.size());
      for (std::size_t o = 0; o < outputs.size(); ++o) {
        processed->record_counts[o] = outputs[o]->output->render(
            *batch, processed->detections, my_rules.get(), processed->rendered[o]);
      }
      processed->batch = std::move(batch);
      batches.add();

      detail::Backoff out_backoff;
      while (!me.out->try_push(processed))
        out_backoff.pause();
      sink_parker.unpark();
    }
    me.done.store(true, std::memory_order_release);
    sink_parker.unpark();
  }

  bool all_sources_done() const {
    for (const auto& s : sources)
      if (!s->done.load(std::memory_order_acquire)) return false;
    return true;
  }

  bool all_source_rings_empty(std::size_t worker) const {
    for (const auto& s : sources)
      if (!s->rings[worker]->empty_approx()) return false;
    return true;
  }

  void write_processed(Processed& p) {
    for (std::size_t o = 0; o < outputs.size(); ++o) {
      if (p.rendered[o].empty()) continue;
      auto r = outputs[o]->output->write(p.rendered[o]);
      if (!r) {
        output_errors.add();
        static RateLimit limit(std::chrono::seconds(5));
        std::uint64_t suppressed = 0;
        if (limit.allow(suppressed))
          logger.error("output {}: {} ({} more suppressed)", outputs[o]->output->describe(),
                       r.error().message, suppressed);
      } else {
        outputs[o]->written.add(p.record_counts[o]);
      }
    }
  }

  void run_sink() {
    // Per source: the next sequence number to write, and batches that arrived early.
    std::vector<std::uint64_t> expected(sources.size(), 0);
    std::vector<std::map<std::uint64_t, ProcessedPtr>> early(sources.size());
    detail::Backoff backoff;
    auto last_flush = monotonic_ns();
    bool told_idle = false;
    while (true) {
      bool got_any = false;
      for (auto& w : workers) {
        ProcessedPtr p;
        while (w->out->try_pop(p)) {
          got_any = true;
          const auto sid = p->batch->source_id();
          auto& exp = expected[sid];
          if (p->batch->sequence() != exp) {
            early[sid].emplace(p->batch->sequence(), std::move(p));
            continue;
          }
          write_processed(*p);
          ++exp;
          auto& pending = early[sid];
          for (auto it = pending.begin(); it != pending.end() && it->first == exp;
               it = pending.erase(it)) {
            write_processed(*it->second);
            ++exp;
          }
        }
      }
      const auto now = monotonic_ns();
      // Flush at least every 200 ms so followers of the output see events promptly.
      if (now - last_flush > 200'000'000) {
        for (auto& o : outputs)
          (void)o->output->flush();
        last_flush = now;
      }
      if (got_any) {
        backoff.reset();
        told_idle = false;
        continue;
      }
      if (!told_idle) {
        for (auto& o : outputs)
          o->output->idle();
        told_idle = true;
      }
      bool workers_done = true;
      for (auto& w : workers)
        workers_done &= w->done.load(std::memory_order_acquire) && w->out->empty_approx();
      if (workers_done) {
        // One more pass: a worker may have pushed between our pop and its done flag.
        bool leftover = false;
        for (auto& w : workers)
          leftover |= !w->out->empty_approx();
        if (!leftover) break;
        continue;
      }
      if (backoff.spinning()) {
        backoff.pause();
        continue;
      }
      // Nothing for a while: sleep until a worker hands over a batch (or the flush is due).
      const auto ticket = sink_parker.prepare();
      bool empty = true;
      for (auto& w : workers)
        empty &= w->out->empty_approx();
      if (empty) {
        sink_parker.park(ticket, idle_park_timeout);
      } else {
        sink_parker.cancel();
      }
    }
    for (std::size_t sid = 0; sid < early.size(); ++sid) {
      // Gaps cannot happen (sequence numbers are assigned only to queued batches); write any
      // stragglers in order rather than lose them.
      for (auto& [seq, p] : early[sid])
        write_processed(*p);
    }
    for (auto& o : outputs) {
      auto r = o->output->flush();
      if (!r) logger.error("output {}: {}", o->output->describe(), r.error().message);
    }
    end_ns.store(monotonic_ns(), std::memory_order_release);
    sink_done.store(true, std::memory_order_release);
  }

  void register_metrics() {
    metrics.add_counter("sluice_events_parsed_total", "Events a parser accepted", "", &parsed);
    metrics.add_counter("sluice_events_unparsed_total", "Events kept unparsed with raw bytes", "",
                        &unparsed);
    for (std::size_t r = 1; r < unparsed_reason_count; ++r) {
      metrics.add_counter("sluice_events_unparsed_by_reason_total", "Unparsed events by reason",
                          fmt::format("reason=\"{}\"", to_string(static_cast<UnparsedReason>(r))),
                          &unparsed_by_reason[r]);
    }
    metrics.add_counter("sluice_events_dropped_total", "Events dropped, by reason",
                        "reason=\"ring_full\"", &dropped_ring_full);
    metrics.add_counter("sluice_alerts_total", "Detections raised", "", &alerts);
    metrics.add_counter("sluice_events_fields_dropped_total",
                        "Events with more fields than a parser keeps (the rest stay in the raw "
                        "bytes)",
                        "", &fields_dropped);
    metrics.add_counter("sluice_batches_total", "Batches processed by workers", "", &batches);
    metrics.add_counter("sluice_output_errors_total", "Failed output writes", "", &output_errors);
    for (std::size_t i = 0; i < sources.size(); ++i) {
      auto& s = *sources[i];
      const auto labels = fmt::format("source=\"{}:{}\"", s.source->kind(), i);
      metrics.add_counter("sluice_source_records_total", "Records read by a source", labels,
                          &s.counters.records);
      metrics.add_counter("sluice_source_bytes_total", "Bytes read by a source", labels,
                          &s.counters.bytes);
      metrics.add_counter("sluice_source_truncated_total",
                          "Records cut at the maximum message size", labels, &s.counters.truncated);
      metrics.add_counter("sluice_source_errors_total", "Source errors that did not stop it",
                          labels, &s.counters.errors);
      metrics.add_counter("sluice_source_connections_total", "Connections accepted", labels,
                          &s.counters.connections);
      metrics.add_counter("sluice_events_dropped_total", "Events dropped, by reason",
                          fmt::format("reason=\"socket_buffer\",{}", labels),
                          &s.counters.kernel_drops);
    }
    for (auto& o : outputs) {
      metrics.add_counter("sluice_output_records_total", "Records written by an output",
                          fmt::format("output=\"{}\"", o->output->describe()), &o->written);
    }
    metrics.add_gauge("sluice_workers", "Worker threads", "",
                      [n = workers.size()] { return static_cast<double>(n); });
  }
};

Pipeline::Pipeline(PipelineConfig config, MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(config, metrics)) {}

Pipeline::~Pipeline() {
  if (impl_->started.load() && !impl_->waited) {
    request_stop();
    wait();
  }
}

void Pipeline::add_source(std::unique_ptr<Source> source) {
  auto slot = std::make_unique<Impl::SourceSlot>();
  slot->source = std::move(source);
  impl_->sources.push_back(std::move(slot));
}

void Pipeline::add_output(std::unique_ptr<Output> output) {
  auto slot = std::make_unique<Impl::OutputSlot>();
  slot->output = std::move(output);
  impl_->outputs.push_back(std::move(slot));
}

void Pipeline::set_rules(std::shared_ptr<const RuleSet> rules) {
  std::lock_guard lock(impl_->rules_mutex);
  impl_->rules = std::move(rules);
  impl_->rules_generation.fetch_add(1, std::memory_order_acq_rel);
}

void Pipeline::add_stage(std::shared_ptr<BatchStage> stage) {
  SLUICE_ASSERT(!impl_->started.load(), "Pipeline::add_stage after start");
  impl_->stages.push_back(std::move(stage));
}

Result<void> Pipeline::start() {
  auto& d = *impl_;
  SLUICE_ASSERT(!d.started.load(), "Pipeline::start called twice");
  if (d.sources.empty()) return Error{"no input configured"};
  for (auto& s : d.sources) {
    auto r = s->source->open();
    if (!r) return Error{s->source->describe() + ": " + r.error().message};
  }
  for (std::size_t w = 0; w < d.config.workers; ++w) {
    auto slot = std::make_unique<Impl::WorkerSlot>();
    slot->out = std::make_unique<SpscRing<ProcessedPtr>>(d.config.ring_capacity);
    d.workers.push_back(std::move(slot));
  }
  for (auto& s : d.sources) {
    for (std::size_t w = 0; w < d.config.workers; ++w)
      s->rings.push_back(std::make_unique<SpscRing<BatchPtr>>(d.config.ring_capacity));
    s->sink = std::make_unique<Impl::SourceSink>(d, *s);
  }
  d.register_metrics();
  d.start_ns = monotonic_ns();
  d.started.store(true);
  d.sink_thread = std::jthread([&d] { d.run_sink(); });
  for (std::size_t w = 0; w < d.workers.size(); ++w)
    d.workers[w]->thread = std::jthread([&d, w] { d.run_worker(w); });
  for (std::size_t i = 0; i < d.sources.size(); ++i) {
    auto* slot = d.sources[i].get();
    slot->thread =
        std::jthread([&d, slot, i] { d.run_source(*slot, static_cast<std::uint32_t>(i)); });
  }
  return {};
}

void Pipeline::request_stop() {
  impl_->stop.request_stop();
}

bool Pipeline::finished() const {
  return impl_->sink_done.load(std::memory_order_acquire);
}

void Pipeline::wait() {
  auto& d = *impl_;
  if (!d.started.load() || d.waited) return;
  for (auto& s : d.sources)
    if (s->thread.joinable()) s->thread.join();
  for (auto& w : d.workers)
    if (w->thread.joinable()) w->thread.join();
  if (d.sink_thread.joinable()) d.sink_thread.join();
  d.waited = true;
}

PipelineStats Pipeline::stats() const {
  const auto& d = *impl_;
  PipelineStats st;
  std::uint64_t records = 0;
  for (const auto& s : d.sources) {
    records += s->counters.records.value();
    st.dropped_socket_buffer += s->counters.kernel_drops.value();
    st.bytes += s->counters.bytes.value();
    st.truncated += s->counters.truncated.value();
  }
  st.parsed = d.parsed.value();
  st.unparsed = d.unparsed.value();
  st.dropped_ring_full = d.dropped_ring_full.value();
  st.dropped = st.dropped_ring_full + st.dropped_socket_buffer;
  st.events = records + st.dropped_socket_buffer;
  st.alerts = d.alerts.value();
  const auto end = d.end_ns.load(std::memory_order_acquire);
  st.seconds = static_cast<double>((end != 0 ? end : monotonic_ns()) - d.start_ns) / 1e9;
  return st;
}

std::size_t Pipeline::source_count() const {
  return impl_->sources.size();
}

const Source& Pipeline::source(std::size_t index) const {
  SLUICE_ASSERT(index < impl_->sources.size(), "source index out of range");
  return *impl_->sources[index]->source;
}

std::vector<std::string> Pipeline::output_descriptions() const {
  std::vector<std::string> out;
  for (const auto& o : impl_->outputs)
    out.push_back(o->output->describe());
  return out;
}

}  // namespace sluice
