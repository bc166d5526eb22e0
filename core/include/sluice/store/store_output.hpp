// SPDX-License-Identifier: Apache-2.0
/// `StoreOutput` puts the event store into the pipeline as an `Output`: `render` encodes each
/// event of a batch into a framed record (on the worker threads, in parallel), `write` appends
/// those bytes to the active segment (on the sink thread, in source order), `flush` applies the
/// fsync policy. Alerts go to the store's alert log (`<path>/alerts/`, alert_log.hpp) one of two
/// ways: as a sink of the `AlertHandler` (`alert_sink`, what `sluice run` and `sluice scan` do:
/// then the log holds exactly what alert handling emits, after suppression, dedup and
/// throttling, and `generate: false` detections are not there), or, when detection alerts are
/// on (`set_detection_alerts`, the default for a store used without a handler), one alert record
/// per detection naming the sequence number of its event.
///
/// The bytes `render` produces for a batch are: the event records, the batch's alert records
/// (their event sequences relative to the batch's first stored event), then an 8-byte trailer
/// (u32 bytes of alert records, u32 `render_trailer_magic`). `write` appends the events, learns
/// their sequences, patches the alerts and appends them to the alert log.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sluice/alert/alert.hpp"
#include "sluice/metrics/counter.hpp"
#include "sluice/output/output.hpp"
#include "sluice/store/segment_writer.hpp"
#include "sluice/store/store_config.hpp"

namespace sluice {

/// Marks the end of a batch rendered by `StoreOutput::render` ("SLAL").
inline constexpr std::uint32_t render_trailer_magic = 0x4c414c53;

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
  /// Appends one framed record per event of `batch` to `out`, one alert record per detection
  /// (rule details from `rules`; detections are ignored when `rules` is null) and the trailer,
  /// and returns how many events. Thread-safe (touches only `out` and atomic counters); grows
  /// `out` once per event at most. An event whose payload would exceed 1 GiB is not stored and is
  /// counted in `events_too_large`; its alerts are stored without an event sequence.
  std::size_t render(const EventBatch& batch, std::span<const Detection> detections,
                     const RuleSet* rules, std::string& out) const override;
  /// Appends rendered events to the store and their alerts to the alert log; sink thread only.
  /// Errors when `bytes` is not one `render` result.
  Result<void> write(std::string_view bytes) override;
  /// Applies the fsync policy, rolls an aged segment, runs retention; sink thread only.
  Result<void> flush() override;
  /// Seals the active segments now (the destructor does it too, logging errors instead).
  Result<void> close();

  /// Whether `render` turns each detection into an alert record (default true). Turn it off
  /// when `alert_sink` feeds the alert log, so that no alert is stored twice. Call before the
  /// pipeline starts.
  void set_detection_alerts(bool on) { detection_alerts_ = on; }
  /// Appends `alert` to the alert log: its event references of kind store become the event
  /// sequences, its group the fields, its details and extension fields as in alert_log.hpp,
  /// ATT&CK techniques from its `attack.tNNNN` tags. Sink thread only (the `AlertHandler` runs
  /// there), or after the pipeline stopped and before `close`.
  Result<void> append_alert(const Alert& alert);
  /// An `AlertSink` ("store:<path>/alerts") that appends every alert it is sent with
  /// `append_alert`. The sink must not outlive this output.
  std::unique_ptr<AlertSink> alert_sink();

  /// The counters, readable from any thread.
  const StoreCounters& counters() const { return writer_->counters(); }
  /// Alerts appended to the alert log. Readable from any thread.
  const Counter& alerts_written() const { return alerts_written_; }
  /// Registers every counter (`sluice_store_events_written_total`, ...) in `registry`. This output
  /// must outlive the registry's use. Start-up only (takes its lock).
  void register_metrics(MetricsRegistry& registry) const;
  /// "N events in M segments, X bytes". Sink thread, or after the pipeline stopped.
  std::string summary() const;
  /// The writer, for tests and tools (e.g. `set_clock`). Sink thread only.
  SegmentWriter& writer() { return *writer_; }

 private:
  StoreOutput(std::unique_ptr<SegmentWriter> writer, const StoreConfig& config)
      : writer_(std::move(writer)), config_(config) {}
  Result<void> open_alerts();
  std::unique_ptr<SegmentWriter> writer_;
  StoreConfig config_;
  // The alert log, opened at start when it exists, else at the first alert.
  std::unique_ptr<SegmentWriter> alerts_;
  std::string patched_;       // alert records of the batch being written, sequences made absolute
  std::string alert_record_;  // one alert from append_alert, framed
  Counter alerts_written_;
  bool detection_alerts_ = true;
};

}  // namespace sluice
