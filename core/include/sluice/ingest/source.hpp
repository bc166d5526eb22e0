// SPDX-License-Identifier: Apache-2.0
/// `Source` is the interface every ingest source implements (UDP, TCP, file, stdin, pcap; later
/// capture ports). A source turns bytes from the outside into `EventBatch`es of framed records
/// and hands them to a `BatchSink` that the pipeline provides. Parsing happens in workers, not in
/// sources.
///
/// Life cycle, all driven by the pipeline: `open()` on the starting thread (bind, open files;
/// errors are reported before anything runs), then `run()` on the source's own thread until the
/// input ends or `stop` is requested, then destruction.
#pragma once

#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include "sluice/common/result.hpp"
#include "sluice/event/event_batch.hpp"
#include "sluice/metrics/counter.hpp"

namespace sluice {

/// What a source does when the workers fall behind.
enum class Backpressure : std::uint8_t {
  block,  ///< wait for room: nothing is lost (file, stdin, TCP, pcap)
  drop,   ///< drop the batch and count it under `dropped{reason="ring_full"}` (UDP)
};

/// Receives finished batches from a source. Implemented by the pipeline.
class BatchSink {
 public:
  virtual ~BatchSink() = default;
  /// Hands over `batch`. With `Backpressure::block` it waits until the batch is queued (or stop
  /// is requested, when it returns false and the batch's events are counted as dropped with
  /// reason `shutdown`). With `Backpressure::drop` it returns false at once when no ring has room;
  /// the pipeline has then counted the batch's events as dropped. Called only from the source's
  /// own thread.
  virtual bool push(BatchPtr batch) = 0;
};

/// Counters every source keeps. Names are what `/metrics` shows, labelled by source.
struct SourceCounters {
  Counter records;       ///< records framed and handed on (`sluice_source_records_total`)
  Counter bytes;         ///< bytes read, framing included (`sluice_source_bytes_total`)
  Counter truncated;     ///< records cut at the maximum message size
  Counter kernel_drops;  ///< datagrams the kernel dropped for a full socket buffer (UDP)
  Counter connections;   ///< connections accepted (TCP)
  Counter errors;        ///< read or decode errors that did not stop the source
};

/// What a running source is given.
struct SourceContext {
  std::uint32_t source_id = 0;
  std::stop_token stop;
  BatchSink* sink = nullptr;
  SourceCounters* counters = nullptr;
  /// Records per batch before a batch is handed on.
  std::size_t batch_capacity = EventBatch::default_capacity;
};

class Source {
 public:
  virtual ~Source() = default;
  /// Short kind name: "udp", "tcp", "file", "stdin", "pcap".
  virtual std::string_view kind() const = 0;
  /// Human-readable description for logs and the summary ("udp 127.0.0.1:5514").
  virtual std::string describe() const = 0;
  virtual Backpressure backpressure() const = 0;
  /// Binds, opens, checks. Called once, before `run`, on the thread that starts the pipeline.
  virtual Result<void> open() { return {}; }
  /// Reads until the input ends (file, stdin, pcap: returns) or `ctx.stop` is requested
  /// (network: returns promptly, within about 100 ms). Hands every record on; a partial batch is
  /// flushed before returning and at least every `flush_interval` while input trickles in.
  virtual Result<void> run(SourceContext& ctx) = 0;
  /// True for sources whose input ends by itself (files, pcaps): the pipeline stops once all of
  /// them have ended and no other kind is configured.
  virtual bool finite() const = 0;
};

/// How long a source may hold a partial batch while input trickles in: bounds the latency a
/// quiet source adds to detection.
inline constexpr std::int64_t source_flush_interval_ns = 50'000'000;

/// Wall clock in nanoseconds since the Unix epoch (CLOCK_REALTIME).
std::int64_t wall_clock_ns();

}  // namespace sluice
