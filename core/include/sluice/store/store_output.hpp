// SPDX-License-Identifier: Apache-2.0
/// `StoreOutput` puts the event store into the pipeline as an `Output`: `render` encodes each
/// event of a batch into a framed record (on the worker threads, in parallel), `write` appends
/// those bytes to the active segment (on the sink thread, in source order), `flush` applies the
/// fsync policy. Detections are not stored here; only events.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sluice/metrics/counter.hpp"
#include "sluice/output/output.hpp"
#include "sluice/store/segment_writer.hpp"
#include "sluice/store/store_config.hpp"

namespace sluice {

/// The event store as a pipeline output. Owns its `SegmentWriter`. `render` is const and may run
/// on many workers at once; every other call belongs to the sink thread.
class StoreOutput final : public Output {
 public:
  /// Opens the store at `config.path` (creating, recovering and applying retention; see
  /// `SegmentWriter::open`). Errors name the path and errno text, or the bad key.
  static Result<std::unique_ptr<StoreOutput>> open(const StoreConfig& config);
  /// Seals the active segment.
  ~StoreOutput() override = default;

  /// "store:<path>".
  std::string describe() const override;
  /// Appends one framed record per event of `batch` to `out` and returns how many. Thread-safe
  /// (touches only `out` and atomic counters); grows `out` once per event at most. An event whose
  /// payload would exceed 1 GiB is not stored and is counted in `events_too_large`.
  std::size_t render(const EventBatch& batch, std::span<const Detection> detections,
                     const RuleSet* rules, std::string& out) const override;
  /// Appends rendered records to the store; sink thread only.
  Result<void> write(std::string_view bytes) override;
  /// Applies the fsync policy, rolls an aged segment, runs retention; sink thread only.
  Result<void> flush() override;
  /// Seals the active segment now (the destructor does it too, logging errors instead).
  Result<void> close() { return writer_->close(); }

  /// The counters, readable from any thread.
  const StoreCounters& counters() const { return writer_->counters(); }
  /// Registers every counter (`sluice_store_events_written_total`, ...) in `registry`. This output
  /// must outlive the registry's use. Start-up only (takes its lock).
  void register_metrics(MetricsRegistry& registry) const;
  /// "N events in M segments, X bytes". Sink thread, or after the pipeline stopped.
  std::string summary() const;
  /// The writer, for tests and tools (e.g. `set_clock`). Sink thread only.
  SegmentWriter& writer() { return *writer_; }

 private:
  explicit StoreOutput(std::unique_ptr<SegmentWriter> writer) : writer_(std::move(writer)) {}
  std::unique_ptr<SegmentWriter> writer_;
};

}  // namespace sluice
