// SPDX-License-Identifier: Apache-2.0
/// Helpers shared by the store tests: events made to exercise every field, an owned copy of a
/// decoded event for comparisons, a whole-store read into those copies, and a rewrite of a
/// blocked segment in the older format 2.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "sluice/event/event_batch.hpp"
#include "sluice/store/crc32c.hpp"
#include "sluice/store/segment_format.hpp"
#include "sluice/store/segment_reader.hpp"
#include "sluice/store/store_output.hpp"
#include "tests_support.hpp"

namespace sluice::test {

/// An event with its bytes owned, for comparing what was written with what was read.
struct OwnedEvent {
  std::int64_t event_time_ns = 0, receive_time_ns = 0;
  std::uint64_t line = 0;
  std::uint32_t listener_id = 0;
  PeerAddress peer;
  std::uint8_t facility = 0, severity = 0, flags = 0;
  InputFormat format = InputFormat::unknown;
  ParseStatus status = ParseStatus::pending;
  UnparsedReason reason = UnparsedReason::none;
  std::int16_t tz = 0;
  std::uint32_t template_id = 0;
  std::string raw, host, app, procid, msgid, message, sd, source_path;
  std::vector<std::pair<std::string, std::string>> fields;

  static OwnedEvent from(const Event& e, std::string_view source_path) {
    OwnedEvent o;
    o.event_time_ns = e.event_time_ns;
    o.receive_time_ns = e.receive_time_ns;
    o.line = e.line;
    o.listener_id = e.listener_id;
    o.peer = e.peer;
    o.facility = e.facility;
    o.severity = e.severity;
    o.flags = e.flags;
    o.format = e.format;
    o.status = e.status;
    o.reason = e.reason;
    o.tz = e.tz_offset_minutes;
    o.template_id = e.template_id;
    o.raw = e.raw;
    o.host = e.host;
    o.app = e.app;
    o.procid = e.procid;
    o.msgid = e.msgid;
    o.message = e.message;
    o.sd = e.structured_data;
    o.source_path = source_path;
    for (const auto& f : e.fields)
      o.fields.emplace_back(f.name, f.value);
    return o;
  }
  bool operator==(const OwnedEvent& o) const {
    return event_time_ns == o.event_time_ns && receive_time_ns == o.receive_time_ns &&
           line == o.line && listener_id == o.listener_id && peer.family == o.peer.family &&
           peer.port == o.peer.port && peer.address == o.peer.address && facility == o.facility &&
           severity == o.severity && flags == o.flags && format == o.format && status == o.status &&
           reason == o.reason && tz == o.tz && template_id == o.template_id && raw == o.raw &&
           host == o.host && app == o.app && procid == o.procid && msgid == o.msgid &&
           message == o.message && sd == o.sd && source_path == o.source_path && fields == o.fields;
  }
};

inline std::ostream& operator<<(std::ostream& os, const OwnedEvent& e) {
  return os << "{line " << e.line << ", t " << e.event_time_ns << ", raw \"" << e.raw << "\"}";
}

/// What reading a whole store gave.
struct ReadBack {
  std::vector<OwnedEvent> events;
  std::vector<std::uint64_t> sequences;
  ScanReport report;
};

inline ReadBack read_store(const std::filesystem::path& dir) {
  ReadBack out;
  auto reader = StoreReader::open(dir);
  EXPECT_TRUE(reader.has_value()) << (reader ? "" : reader.error().message);
  if (!reader) return out;
  Arena arena;
  out.report = reader->for_each(arena, [&](const StoredEvent& s) {
    out.events.push_back(OwnedEvent::from(s.event, s.source_path));
    out.sequences.push_back(s.sequence);
    return true;
  });
  return out;
}

/// A batch of `n` simple events numbered from `first` (line = number, event time = number
/// seconds after a fixed epoch), raw "event <number> ...".
inline BatchPtr numbered_batch(std::uint64_t first, std::size_t n, std::size_t pad = 0) {
  auto batch = std::make_unique<EventBatch>(1, n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t k = first + i;
    std::string raw = "event " + std::to_string(k) + " " + std::string(pad, 'x');
    Event& e = batch->add_record(raw, 1'700'000'000'000'000'000 + 7);
    e.line = k;
    e.event_time_ns = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(k) * 1'000'000'000;
    e.status = ParseStatus::parsed;
    e.format = InputFormat::raw;
    e.message = e.raw.substr(0, 5);
  }
  return batch;
}

/// Renders `batch` with `out` and writes it; returns the write result.
inline Result<void> store_batch(StoreOutput& out, const EventBatch& batch) {
  std::string bytes;
  out.render(batch, {}, nullptr, bytes);
  return out.write(bytes);
}

/// Writes `batches` through a writer that keeps sealed segments as record logs (no conversion to
/// blocks), so tests can damage records in place; opening the folder with a normal writer then
/// recovers and converts them.
inline Result<void> write_record_logs(const StoreConfig& config,
                                      const std::vector<const EventBatch*>& batches) {
  auto writer = SegmentWriter::open(config, false);
  if (!writer) return writer.error();
  for (const EventBatch* batch : batches) {
    std::string bytes;
    for (const Event& e : batch->events())
      append_record(bytes, e, batch->source_path());
    if (auto r = (*writer)->append(bytes); !r) return r;
  }
  return (*writer)->close();
}

/// Rewrites a format-3 blocked segment as format 2: the header's version; each block's index
/// area with the token filter moved from its start to its end (after padding to 4 bytes) under
/// one CRC32C, the block's offsets and footer entry to match; no segment token filter; a trailer
/// without the filter words. False when the file is not a blocked segment of format 3 or cannot
/// be rewritten.
inline bool downgrade_blocked_to_format_2(const std::filesystem::path& file) {
  const std::string bytes = test::read_file(file);
  if (bytes.size() < segment_header_bytes + blocks_trailer_bytes) return false;
  const auto get32 = [&](std::size_t at) {
    std::uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return v;
  };
  const auto get64 = [&](std::size_t at) {
    std::uint64_t v;
    std::memcpy(&v, bytes.data() + at, 8);
    return v;
  };
  const auto set32 = [](std::string& s, std::size_t at, std::uint32_t v) {
    std::memcpy(s.data() + at, &v, 4);
  };
  const auto set64 = [](std::string& s, std::size_t at, std::uint64_t v) {
    std::memcpy(s.data() + at, &v, 8);
  };
  if (get32(8) != 3) return false;
  const std::size_t trailer = bytes.size() - blocks_trailer_bytes;
  const std::uint64_t footer_offset = get64(trailer + 8);
  const std::uint32_t count = get32(trailer + 16);
  std::string out = bytes.substr(0, segment_header_bytes);
  set32(out, 8, 2);
  std::string footer = bytes.substr(footer_offset, std::size_t{count} * block_footer_entry_bytes);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t e = footer_offset + std::size_t{i} * block_footer_entry_bytes;
    const std::uint64_t index_offset = get64(e + 32), data_offset = get64(e + 40);
    const std::uint32_t data_bytes = get32(e + 48);
    const std::string area = bytes.substr(index_offset, data_offset - index_offset);
    const std::size_t filter_bytes = 4 + std::size_t{get32(index_offset)} * 32;
    std::string v2 = area.substr(filter_bytes);
    v2.resize((v2.size() + 3) & ~std::size_t{3}, '\0');
    v2 += area.substr(0, filter_bytes);
    std::string* entry = &footer;
    const std::size_t at = std::size_t{i} * block_footer_entry_bytes;
    set32(*entry, at + 12, crc32c(v2.data(), v2.size()));
    set64(*entry, at + 32, out.size());
    out += v2;
    set64(*entry, at + 40, out.size());
    set32(*entry, at + 60, 0);
    out += bytes.substr(data_offset, data_bytes);
    out.resize((out.size() + 7) & ~std::size_t{7}, '\0');
  }
  std::string tail = bytes.substr(trailer, blocks_trailer_bytes);
  set64(tail, 8, out.size());
  set32(tail, 20, crc32c(footer.data(), footer.size()));
  std::memset(tail.data() + 24, 0, 8);
  out += footer + tail;
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  f.write(out.data(), static_cast<std::streamsize>(out.size()));
  return static_cast<bool>(f);
}

/// A store config for tests: the folder, small segments, no age roll.
inline StoreConfig test_config(const std::filesystem::path& dir, std::uint64_t segment_bytes) {
  StoreConfig c;
  c.path = dir.string();
  c.segment_bytes = segment_bytes;
  c.max_segment_age_seconds = 0;
  c.fsync = "none";
  return c;
}

}  // namespace sluice::test
