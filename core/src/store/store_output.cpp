// SPDX-License-Identifier: Apache-2.0
/// `StoreOutput`: the glue between the pipeline's `Output` interface and the segment writer.
#include "sluice/store/store_output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <system_error>
#include <vector>

#include "codec.hpp"
#include "sluice/store/alert_log.hpp"

namespace sluice {

Result<std::unique_ptr<StoreOutput>> StoreOutput::open(const StoreConfig& config) {
  auto writer = SegmentWriter::open(config);
  if (!writer) return writer.error();
  std::unique_ptr<StoreOutput> out(new StoreOutput(std::move(*writer), config));
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::path(config.path) / alerts_folder_name, ec))
    if (auto r = out->open_alerts(); !r) return r.error();  // recovers the alert log
  return out;
}

Result<void> StoreOutput::open_alerts() {
  StoreConfig c = config_;
  c.path = (std::filesystem::path(config_.path) / alerts_folder_name).string();
  // Alerts are rare next to events: small segments, so age retention can drop them in steps.
  c.segment_bytes = std::min<std::uint64_t>(config_.segment_bytes, 16ull << 20);
  c.max_total_bytes = 0;  // size retention is for events (alert_log.hpp)
  auto w = SegmentWriter::open(c, false);
  if (!w) return w.error();
  alerts_ = std::move(*w);
  return {};
}

Result<void> StoreOutput::close() {
  auto events = writer_->close();
  if (alerts_ != nullptr)
    if (auto r = alerts_->close(); !r && events) return r;
  return events;
}

std::string StoreOutput::describe() const {
  return "store:" + writer_->path().string();
}

std::size_t StoreOutput::render(const EventBatch& batch, std::span<const Detection> detections,
                                const RuleSet* rules, std::string& out) const {
  std::size_t rendered = 0;
  const std::string_view source_path = batch.source_path();
  const auto& events = batch.events();
  // Events not stored (too large) shift the sequences of the ones after them; rare, so a list.
  std::vector<std::uint32_t> skipped;
  for (std::uint32_t i = 0; i < events.size(); ++i) {
    if (append_record(out, events[i], source_path)) {
      ++rendered;
    } else {
      // Deliberate loss, counted: no log record comes near the 1 GiB payload limit.
      const_cast<Counter&>(writer_->counters().events_too_large).add();
      skipped.push_back(i);
    }
  }
  const std::size_t alerts_at = out.size();
  if (rules != nullptr && detection_alerts_) {
    std::vector<std::string_view> techniques;
    std::vector<Field> matched;
    for (const Detection& d : detections) {
      if (d.event_index >= events.size() || d.rule_index >= rules->rule_count()) continue;
      const Event& e = events[d.event_index];
      const RuleInfo& rule = rules->rule(d.rule_index);
      techniques.assign(rule.attack_techniques.begin(), rule.attack_techniques.end());
      matched.clear();
      for (const auto& m : d.matched)
        matched.push_back(Field{m.name, m.value});
      const bool stored = !std::binary_search(skipped.begin(), skipped.end(), d.event_index);
      // Relative to the batch's first stored event; `write` adds the batch's first sequence.
      const std::uint64_t relative =
          d.event_index -
          static_cast<std::uint64_t>(
              std::lower_bound(skipped.begin(), skipped.end(), d.event_index) - skipped.begin());
      StoredAlert alert;
      alert.event_time_ns = e.event_time_ns;
      alert.receive_time_ns = e.receive_time_ns;
      alert.rule_id = rule.id;
      alert.title = rule.title;
      alert.level = rule.level;
      alert.attack_techniques = techniques;
      alert.matched = matched;
      alert.event_sequences =
          stored ? std::span<const std::uint64_t>(&relative, 1) : std::span<const std::uint64_t>();
      (void)append_alert_record(out, alert);  // under 1 GiB: rule texts are short
    }
  }
  const auto alert_bytes = static_cast<std::uint32_t>(out.size() - alerts_at);
  char trailer[8];
  std::memcpy(trailer, &alert_bytes, 4);
  std::memcpy(trailer + 4, &render_trailer_magic, 4);
  out.append(trailer, 8);
  return rendered;
}

Result<void> StoreOutput::write(std::string_view bytes) {
  std::uint32_t alert_bytes = 0, magic = 0;
  if (bytes.size() >= 8) {
    std::memcpy(&alert_bytes, bytes.data() + bytes.size() - 8, 4);
    std::memcpy(&magic, bytes.data() + bytes.size() - 4, 4);
  }
  if (magic != render_trailer_magic || alert_bytes > bytes.size() - 8)
    return Error{"store: write() got bytes that StoreOutput::render did not produce"};
  const std::size_t event_bytes = bytes.size() - 8 - alert_bytes;
  const std::uint64_t base = writer_->next_sequence();
  if (event_bytes > 0)
    if (auto r = writer_->append(bytes.substr(0, event_bytes)); !r) return r;
  if (alert_bytes == 0) return {};
  if (alerts_ == nullptr)
    if (auto r = open_alerts(); !r) return r;
  patched_.assign(bytes.substr(event_bytes, alert_bytes));
  std::size_t off = 0, count = 0;
  while (off + record_frame_bytes <= patched_.size()) {
    std::uint32_t len;
    std::memcpy(&len, patched_.data() + off, 4);
    // The sequences follow the fixed event time and two varints (alert_log.hpp).
    detail::Cursor c(std::string_view(patched_.data() + off + record_frame_bytes, len));
    c.fixed<std::int64_t>();
    c.varint();
    const std::uint64_t n = c.varint();
    if (!c.ok()) return Error{"store: a rendered alert record does not decode"};
    const auto at =
        static_cast<std::size_t>(c.position() - (patched_.data() + off + record_frame_bytes));
    patch_alert_sequences(patched_.data() + off, at, n, base);
    off += framed_record_bytes(len);
    ++count;
  }
  if (auto r = alerts_->append(patched_); !r) return r;
  alerts_written_.add(count);
  return {};
}

Result<void> StoreOutput::append_alert(const Alert& a) {
  std::vector<std::uint64_t> sequences;
  for (const EventRef& r : a.refs)
    if (r.kind() == EventRef::Kind::store) sequences.push_back(r.sequence());
  std::vector<std::string> techniques;
  for (const auto& t : a.tags) {
    // As the Sigma loader derives a rule's techniques: "attack.t1110.001" -> "T1110.001".
    if (t.size() > 8 && (t.compare(0, 8, "attack.t") == 0 || t.compare(0, 8, "attack.T") == 0)) {
      std::string tech = t.substr(7);
      for (auto& c : tech)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      techniques.push_back(std::move(tech));
    }
  }
  std::vector<std::string_view> technique_views(techniques.begin(), techniques.end());
  std::vector<Field> group, details;
  for (const auto& [k, v] : a.group)
    group.push_back(Field{k, v});
  for (const auto& [k, v] : a.details)
    details.push_back(Field{k, v});
  StoredAlert stored;
  stored.event_time_ns = a.first_ns;
  stored.receive_time_ns = a.first_ns;  // an alert has no receive time of its own
  stored.rule_id = a.rule_id;
  stored.title = a.rule_title;
  stored.level = a.severity;
  stored.attack_techniques = technique_views;
  stored.matched = group;
  stored.event_sequences = sequences;
  stored.alert_id = a.id;
  stored.kind = a.kind.empty() ? std::string_view("detection") : std::string_view(a.kind);
  stored.rule_name = a.rule_name;
  stored.correlation_type = a.correlation_type;
  stored.last_time_ns = a.last_ns;
  stored.count = a.count;
  stored.details = details;
  alert_record_.clear();
  if (!append_alert_record(alert_record_, stored))
    return Error{"store: alert " + a.id + " is over the record size limit"};
  if (alerts_ == nullptr)
    if (auto r = open_alerts(); !r) return r;
  if (auto r = alerts_->append(alert_record_); !r) return r;
  alerts_written_.add();
  return {};
}

namespace {

/// The alert log as an alert sink (store_output.hpp).
class StoreAlertSink final : public AlertSink {
 public:
  explicit StoreAlertSink(StoreOutput& store) : store_(store) {}
  std::string describe() const override { return store_.describe() + "/alerts"; }
  Result<void> send(const Alert& alert, std::string_view /*json*/) override {
    return store_.append_alert(alert);
  }

 private:
  StoreOutput& store_;
};

}  // namespace

std::unique_ptr<AlertSink> StoreOutput::alert_sink() {
  return std::make_unique<StoreAlertSink>(*this);
}

Result<void> StoreOutput::flush() {
  auto events = writer_->flush();
  if (alerts_ != nullptr)
    if (auto r = alerts_->flush(); !r && events) return r;
  return events;
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
  if (alerts_written_.value() > 0) text += fmt::format(", {} alerts", alerts_written_.value());
  if (c.sealed_raw_bytes.value() > 0)
    text += fmt::format("; sealed: {} blocks, {:.3f} bytes stored per raw byte",
                        c.blocks_sealed.value(),
                        static_cast<double>(c.sealed_bytes.value()) /
                            static_cast<double>(c.sealed_raw_bytes.value()));
  return text;
}

}  // namespace sluice
