// SPDX-License-Identifier: Apache-2.0
/// `StoreOutput`: the glue between the pipeline's `Output` interface and the segment writer.
#include "sluice/store/store_output.hpp"

#include <fmt/format.h>

namespace sluice {

Result<std::unique_ptr<StoreOutput>> StoreOutput::open(const StoreConfig& config) {
  auto writer = SegmentWriter::open(config);
  if (!writer) return writer.error();
  return std::unique_ptr<StoreOutput>(new StoreOutput(std::move(*writer)));
}

std::string StoreOutput::describe() const {
  return "store:" + writer_->path().string();
}

std::size_t StoreOutput::render(const EventBatch& batch, std::span<const Detection>, const RuleSet*,
                                std::string& out) const {
  std::size_t rendered = 0;
  const std::string_view source_path = batch.source_path();
  for (const Event& e : batch.events()) {
    if (append_record(out, e, source_path))
      ++rendered;
    else
      // Deliberate loss, counted: no log record comes near the 1 GiB payload limit.
      const_cast<Counter&>(writer_->counters().events_too_large).add();
  }
  return rendered;
}

Result<void> StoreOutput::write(std::string_view bytes) {
  return writer_->append(bytes);
}

Result<void> StoreOutput::flush() {
  return writer_->flush();
}

void StoreOutput::register_metrics(MetricsRegistry& registry) const {
  const StoreCounters& c = writer_->counters();
  const struct {
    const char* name;
    const char* help;
    const Counter* counter;
  } entries[] = {
      {"sluice_store_events_written_total", "Events appended to the event store.",
       &c.events_written},
      {"sluice_store_bytes_written_total",
       "Record bytes appended to the event store (frames included).", &c.bytes_written},
      {"sluice_store_segments_created_total", "Event store segment files created.",
       &c.segments_created},
      {"sluice_store_segments_deleted_total", "Event store segments deleted by retention.",
       &c.segments_deleted},
      {"sluice_store_events_deleted_total", "Events in segments deleted by retention.",
       &c.events_deleted},
      {"sluice_store_bytes_deleted_total", "Segment bytes deleted by retention.", &c.bytes_deleted},
      {"sluice_store_fsyncs_total", "msync/fdatasync/fsync calls made by the event store.",
       &c.fsyncs},
      {"sluice_store_recovered_bytes_total",
       "Bytes of torn or corrupt segment tails cut off when the store was opened.",
       &c.recovered_bytes},
      {"sluice_store_records_cut_total",
       "Segments whose tail held a partial or corrupt record when the store was opened.",
       &c.records_cut},
      {"sluice_store_events_too_large_total",
       "Events not stored because their record would exceed 1 GiB.", &c.events_too_large},
      {"sluice_store_segments_sealed_total",
       "Event store segments converted to compressed, indexed blocks.", &c.segments_sealed},
      {"sluice_store_blocks_sealed_total", "Compressed, indexed blocks written by the event store.",
       &c.blocks_sealed},
      {"sluice_store_sealed_bytes_total",
       "File bytes of sealed (blocked) segments written, indexes included.", &c.sealed_bytes},
      {"sluice_store_sealed_raw_bytes_total", "Raw event bytes inside the sealed segments written.",
       &c.sealed_raw_bytes},
      {"sluice_store_seal_failures_total",
       "Segments whose conversion to blocks failed (kept as record logs).", &c.seal_failures},
  };
  for (const auto& e : entries)
    registry.add_counter(e.name, e.help, "", e.counter);
  registry.add_gauge(
      "sluice_store_compression_ratio",
      "Sealed segment bytes per raw event byte (0.25 = a quarter of the raw size).", "", [&c] {
        const auto raw = c.sealed_raw_bytes.value();
        return raw == 0 ? 0.0
                        : static_cast<double>(c.sealed_bytes.value()) / static_cast<double>(raw);
      });
}

std::string StoreOutput::summary() const {
  const StoreStats s = writer_->stats();
  const StoreCounters& c = writer_->counters();
  std::string text =
      fmt::format("{} events in {} segments, {} bytes", s.events, s.segments, s.bytes);
  if (c.sealed_raw_bytes.value() > 0)
    text += fmt::format("; sealed: {} blocks, {:.3f} bytes stored per raw byte",
                        c.blocks_sealed.value(),
                        static_cast<double>(c.sealed_bytes.value()) /
                            static_cast<double>(c.sealed_raw_bytes.value()));
  return text;
}

}  // namespace sluice
