// SPDX-License-Identifier: Apache-2.0
/// Alert record encoding and the alert log reader.
#include "sluice/store/alert_log.hpp"

#include <cstring>
#include <system_error>

#include "codec.hpp"
#include "segment_map.hpp"
#include "sluice/store/crc32c.hpp"
#include "sluice/store/segment_format.hpp"

namespace sluice {
namespace {

using detail::Cursor;
using detail::unzigzag;
using detail::zigzag;

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

}  // namespace

std::optional<std::size_t> append_alert_record(std::string& out, const StoredAlert& a) {
  const std::size_t start = out.size();
  out.append(record_frame_bytes, '\0');
  const std::size_t payload_at = out.size();
  char t[8];
  std::memcpy(t, &a.event_time_ns, 8);
  out.append(t, 8);
  put_varint(out, zigzag(static_cast<std::int64_t>(static_cast<std::uint64_t>(a.receive_time_ns) -
                                                   static_cast<std::uint64_t>(a.event_time_ns))));
  put_varint(out, a.event_sequences.size());
  const std::size_t sequences_at = out.size() - payload_at;
  for (std::uint64_t s : a.event_sequences) {
    char b[8];
    std::memcpy(b, &s, 8);
    out.append(b, 8);
  }
  put_string(out, a.rule_id);
  put_string(out, a.title);
  put_string(out, a.level);
  put_varint(out, a.attack_techniques.size());
  for (std::string_view id : a.attack_techniques)
    put_string(out, id);
  put_varint(out, a.matched.size());
  for (const auto& f : a.matched) {
    put_string(out, f.name);
    put_string(out, f.value);
  }
  if (!a.kind.empty()) {
    put_varint(out, 1);
    put_string(out, a.alert_id);
    put_string(out, a.kind);
    put_string(out, a.rule_name);
    put_string(out, a.correlation_type);
    put_varint(out, zigzag(static_cast<std::int64_t>(static_cast<std::uint64_t>(a.last_time_ns) -
                                                     static_cast<std::uint64_t>(a.event_time_ns))));
    put_varint(out, a.count);
    put_varint(out, a.details.size());
    for (const auto& f : a.details) {
      put_string(out, f.name);
      put_string(out, f.value);
    }
  }
  const std::size_t length = out.size() - payload_at;
  if (length > max_record_payload_bytes) {
    out.resize(start);
    return std::nullopt;
  }
  const auto len32 = static_cast<std::uint32_t>(length);
  const std::uint32_t crc = crc32c(out.data() + payload_at, length);
  std::memcpy(out.data() + start, &len32, 4);
  std::memcpy(out.data() + start + 4, &crc, 4);
  out.resize(start + framed_record_bytes(length), '\0');
  return sequences_at;
}

void patch_alert_sequences(char* record, std::size_t sequences_offset, std::size_t count,
                           std::uint64_t base) {
  std::uint32_t len;
  std::memcpy(&len, record, 4);
  char* payload = record + record_frame_bytes;
  for (std::size_t i = 0; i < count; ++i) {
    std::uint64_t s;
    std::memcpy(&s, payload + sequences_offset + 8 * i, 8);
    s += base;
    std::memcpy(payload + sequences_offset + 8 * i, &s, 8);
  }
  const std::uint32_t crc = crc32c(payload, len);
  std::memcpy(record + 4, &crc, 4);
}

bool decode_alert(std::string_view payload, StoredAlert& out, Arena& arena) {
  Cursor c(payload);
  out = StoredAlert{};
  out.event_time_ns = c.fixed<std::int64_t>();
  out.receive_time_ns = static_cast<std::int64_t>(static_cast<std::uint64_t>(out.event_time_ns) +
                                                  static_cast<std::uint64_t>(unzigzag(c.varint())));
  const std::uint64_t n = c.varint();
  if (!c.ok() || n > payload.size() / 8) return false;
  if (n > 0) {
    auto seqs = arena.allocate_array<std::uint64_t>(n);
    for (auto& s : seqs)
      s = c.fixed<std::uint64_t>();
    out.event_sequences = seqs;
  }
  out.rule_id = c.bytes(c.varint());
  out.title = c.bytes(c.varint());
  out.level = c.bytes(c.varint());
  const std::uint64_t techniques = c.varint();
  if (!c.ok() || techniques > payload.size()) return false;
  if (techniques > 0) {
    auto ids = arena.allocate_array<std::string_view>(techniques);
    for (auto& id : ids)
      id = c.bytes(c.varint());
    out.attack_techniques = ids;
  }
  const std::uint64_t matched = c.varint();
  if (!c.ok() || matched > payload.size() / 2) return false;
  if (matched > 0) {
    auto fields = arena.allocate_array<Field>(matched);
    for (auto& f : fields) {
      f.name = c.bytes(c.varint());
      f.value = c.bytes(c.varint());
    }
    out.matched = fields;
  }
  out.last_time_ns = out.event_time_ns;
  if (!c.ok() || c.at_end()) return c.ok();
  if (c.varint() != 1) return false;  // an extension this reader does not know
  out.alert_id = c.bytes(c.varint());
  out.kind = c.bytes(c.varint());
  out.rule_name = c.bytes(c.varint());
  out.correlation_type = c.bytes(c.varint());
  out.last_time_ns = static_cast<std::int64_t>(static_cast<std::uint64_t>(out.event_time_ns) +
                                               static_cast<std::uint64_t>(unzigzag(c.varint())));
  out.count = c.varint();
  const std::uint64_t details = c.varint();
  if (!c.ok() || details > payload.size() / 2) return false;
  if (details > 0) {
    auto fields = arena.allocate_array<Field>(details);
    for (auto& f : fields) {
      f.name = c.bytes(c.varint());
      f.value = c.bytes(c.varint());
    }
    out.details = fields;
  }
  return c.ok() && c.at_end();
}

Result<AlertReader> AlertReader::open(const std::filesystem::path& dir) {
  AlertReader r;
  const auto folder = dir / alerts_folder_name;
  std::error_code ec;
  if (!std::filesystem::exists(folder, ec)) return r;
  auto listing = StoreReader::open(folder);
  if (!listing) return listing.error();
  r.segments_ = listing->segments();
  return r;
}

ScanReport AlertReader::for_each(Arena& arena,
                                 const std::function<bool(const StoredAlert&)>& visit) const {
  ScanReport report;
  StoredAlert alert;
  for (const auto& file : segments_) {
    auto reader = open_listed_segment(file, report);
    if (!reader) continue;
    for (;;) {
      std::string_view payload;
      const std::uint64_t offset = reader->offset();
      const auto step = reader->next_payload(payload);
      if (step == SegmentReader::Step::end) break;
      if (step == SegmentReader::Step::corrupt) {
        report.errors.push_back(SegmentError{file, reader->offset(), reader->error()});
        break;
      }
      if (!decode_alert(payload, alert, arena)) {
        report.errors.push_back(SegmentError{file, offset,
                                             file.string() + ": corrupt alert record at offset " +
                                                 std::to_string(offset) +
                                                 ": the payload does not follow the alert layout"});
        break;
      }
      alert.sequence = reader->header().first_sequence + reader->records() - 1;
      ++report.records;
      const bool go_on = visit(alert);
      arena.reset();
      if (!go_on) return report;
    }
  }
  return report;
}

}  // namespace sluice
