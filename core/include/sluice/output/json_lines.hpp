// SPDX-License-Identifier: Apache-2.0
/// JSON-lines outputs with ECS-style field names, and the JSON helpers they share.
///
/// Event lines carry `@timestamp` (event time, RFC 3339 UTC), `event.created` (receive time),
/// `host.name`, `process.name`, `process.pid`, `log.syslog.facility.code`,
/// `log.syslog.severity.code`, `log.syslog.msgid`, `log.syslog.structured_data`, `message`,
/// `source.ip`, `source.port`, `log.file.path`, `log.file.line`, `sluice.format`, and the extracted
/// fields as an object under `sluice.fields`. Unparsed events carry `event.original` (the raw
/// bytes) and `sluice.unparsed_reason`. Bytes that are not valid UTF-8 are written as `\u00XX`
/// (the byte's value as a code point) so every line is valid JSON.
///
/// Alert lines carry `@timestamp`, `rule.id`, `rule.name`, `rule.level`, `rule.status`,
/// `rule.tags`, `threat.technique.id`, `sluice.matched` (the fields that matched) and the event's
/// identifying fields.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sluice/output/output.hpp"

namespace sluice {

/// Appends `s` as a JSON string (quotes included) to `out`.
void append_json_string(std::string& out, std::string_view s);

/// Appends `ns` since the epoch as RFC 3339 UTC with the shortest of 0, 3, 6 or 9 fraction
/// digits that is exact ("2026-11-28T06:55:46.123Z").
void append_rfc3339(std::string& out, std::int64_t ns);

/// Appends one event as a JSON object (no newline).
void append_event_json(std::string& out, const Event& event, std::string_view source_path);

/// What a JSON-lines output writes.
enum class JsonLinesKind : std::uint8_t { events, alerts };

/// Writes to a file (appending) or to standard output (`path == "-"`), through a buffer.
class JsonLinesOutput final : public Output {
 public:
  static Result<std::unique_ptr<JsonLinesOutput>> open(JsonLinesKind kind, const std::string& path);
  ~JsonLinesOutput() override;

  std::string describe() const override;
  std::size_t render(const EventBatch& batch, std::span<const Detection> detections,
                     const RuleSet* rules, std::string& out) const override;
  Result<void> write(std::string_view bytes) override;
  Result<void> flush() override;

  const std::string& path() const { return path_; }
  JsonLinesKind kind() const { return kind_; }

 private:
  JsonLinesOutput(JsonLinesKind kind, std::string path, int fd, bool owns_fd);
  JsonLinesKind kind_;
  std::string path_;
  int fd_;
  bool owns_fd_;
  std::string buffer_;
};

}  // namespace sluice
