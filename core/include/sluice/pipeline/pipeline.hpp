// SPDX-License-Identifier: Apache-2.0
/// `Pipeline` wires sources, workers and outputs together:
///
///   source threads ──SPSC ring per (source, worker)──► N worker threads
///        (frame records)                                (parse, detect, render output)
///   worker threads ──SPSC ring per worker──► one sink thread (writes outputs in source order)
///
/// Every ring is single-producer single-consumer, so no hand-off takes a lock. A source hands a
/// batch to the next worker with room (round robin). Workers parse in place, run the rule
/// scanner, and render JSON lines for the outputs into the batch's own buffers, so the sink only
/// writes bytes; it restores each source's order using the per-source sequence numbers.
///
/// Backpressure: block-mode sources (file, stdin, TCP, pcap) wait for room and lose nothing;
/// drop-mode sources (UDP) drop a batch only when every worker ring is full, counted under
/// `sluice_events_dropped_total{reason="ring_full"}`. Counters add up once the pipeline has
/// drained: events = parsed + unparsed + dropped.
///
/// Thread safety: configure (`add_*`, `set_rules`) before `start`; afterwards only `set_rules`,
/// `request_stop`, `stats` and `wait` may be called, from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sluice/common/result.hpp"
#include "sluice/detect/rule_set.hpp"
#include "sluice/ingest/source.hpp"
#include "sluice/metrics/counter.hpp"
#include "sluice/output/output.hpp"
#include "sluice/parse/parser.hpp"

namespace sluice {

/// A step workers run on every batch after parsing and before detection (the template miner,
/// the anomaly features). `process` is called from every worker thread at once, each with its
/// own batch and `worker` index: it must be thread-safe.
class BatchStage {
 public:
  virtual ~BatchStage() = default;
  virtual void process(EventBatch& batch, std::size_t worker) = 0;
};

struct PipelineConfig {
  /// Worker threads that parse and detect. Default: one per core, at least one.
  std::size_t workers = 0;
  /// Pin worker i to CPU i (mod the number of CPUs).
  bool pin_cpus = false;
  /// Batches each (source, worker) ring holds; a power of two >= 2.
  std::size_t ring_capacity = 64;
  /// Records per batch that sources build.
  std::size_t batch_size = EventBatch::default_capacity;
  ParserConfig parser;
};

/// Totals at one moment. After `wait()` returns they add up:
/// `events == parsed + unparsed + dropped`.
struct PipelineStats {
  std::uint64_t events = 0;  ///< records received plus records the kernel dropped
  std::uint64_t parsed = 0;
  std::uint64_t unparsed = 0;
  std::uint64_t dropped = 0;  ///< ring_full + socket_buffer
  std::uint64_t dropped_ring_full = 0;
  std::uint64_t dropped_socket_buffer = 0;
  std::uint64_t alerts = 0;
  std::uint64_t bytes = 0;
  std::uint64_t truncated = 0;
  double seconds = 0;

  /// One JSON object: events, parsed, unparsed, dropped, alerts, bytes, seconds and details.
  std::string to_json() const;
};

class Pipeline {
 public:
  Pipeline(PipelineConfig config, MetricsRegistry& metrics);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void add_source(std::unique_ptr<Source> source);
  void add_output(std::unique_ptr<Output> output);
  /// Replaces the rule set; workers pick the new one up at their next batch (no event is lost
  /// or scanned twice). `nullptr` disables detection.
  void set_rules(std::shared_ptr<const RuleSet> rules);
  /// Adds a stage that workers run on each batch after parsing, in the order added. Before
  /// `start` only.
  void add_stage(std::shared_ptr<BatchStage> stage);

  /// Opens every source (errors name the source) and starts all threads.
  Result<void> start();
  /// Asks sources to stop; the pipeline then drains everything already read.
  void request_stop();
  /// True once every source has ended and everything has been written.
  bool finished() const;
  /// Blocks until finished; flushes outputs.
  void wait();
  PipelineStats stats() const;

  /// Number of sources, and each one (for describing listeners, e.g. their bound ports).
  std::size_t source_count() const;
  const Source& source(std::size_t index) const;
  /// Descriptions of the outputs ("events:/path"), in the order added.
  std::vector<std::string> output_descriptions() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
