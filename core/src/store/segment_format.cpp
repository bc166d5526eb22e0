// SPDX-License-Identifier: Apache-2.0
/// Encoder and decoder for the record layout in segment_format.hpp. The encoder writes through a
/// raw pointer into space reserved up front (one bound per record), which keeps it at a few tens
/// of nanoseconds per event; the decoder checks every bound because its input is a file.
#include "sluice/store/segment_format.hpp"

#include <cstring>

#include "codec.hpp"
#include "sluice/store/crc32c.hpp"

namespace sluice {
namespace {

using detail::Cursor;
using detail::unzigzag;
using detail::zigzag;

template <class T>
void store_le(std::byte* p, T v) {
  std::memcpy(p, &v, sizeof v);  // little-endian host (x86-64, aarch64)
}
template <class T>
T load_le(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// Worst-case varint size.
constexpr std::size_t max_varint_bytes = 10;

char* put_varint(char* p, std::uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

char* put_bytes(char* p, std::string_view s) {
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

/// A slot: a reference into `raw` when `s` lies inside it, else a literal.
char* put_slot(char* p, std::string_view s, std::string_view raw) {
  const auto* b = s.data();
  if (!s.empty() && b >= raw.data() && b + s.size() <= raw.data() + raw.size()) {
    p = put_varint(p, (std::uint64_t{s.size()} << 1) | 1);
    return put_varint(p, static_cast<std::uint64_t>(b - raw.data()));
  }
  p = put_varint(p, std::uint64_t{s.size()} << 1);
  return put_bytes(p, s);
}

}  // namespace

void encode_segment_header(const SegmentHeader& h, std::byte* out) {
  std::memset(out, 0, segment_header_bytes);
  std::memcpy(out, segment_magic, sizeof segment_magic);
  store_le<std::uint32_t>(out + 8, h.version);
  store_le<std::uint32_t>(out + 12, segment_header_bytes);
  store_le<std::int64_t>(out + 16, h.created_ns);
  store_le<std::uint64_t>(out + 24, h.first_sequence);
  store_le<std::uint64_t>(out + 32, h.record_count);
  store_le<std::int64_t>(out + 40, h.oldest_event_ns);
  store_le<std::int64_t>(out + 48, h.newest_event_ns);
  store_le<std::uint32_t>(out + 56, h.sealed ? 1 : 0);
  store_le<std::uint32_t>(out + 60, h.blocked ? 1 : 0);
}

std::optional<SegmentHeader> decode_segment_header(const std::byte* in) {
  if (std::memcmp(in, segment_magic, sizeof segment_magic) != 0) return std::nullopt;
  const auto version = load_le<std::uint32_t>(in + 8);
  if (version < oldest_segment_format_version || version > segment_format_version)
    return std::nullopt;
  if (load_le<std::uint32_t>(in + 12) != segment_header_bytes) return std::nullopt;
  const auto layout = load_le<std::uint32_t>(in + 60);
  if (layout > 1 || (version == 1 && layout != 0)) return std::nullopt;
  SegmentHeader h;
  h.version = version;
  h.blocked = layout == 1;
  h.created_ns = load_le<std::int64_t>(in + 16);
  h.first_sequence = load_le<std::uint64_t>(in + 24);
  h.record_count = load_le<std::uint64_t>(in + 32);
  h.oldest_event_ns = load_le<std::int64_t>(in + 40);
  h.newest_event_ns = load_le<std::int64_t>(in + 48);
  h.sealed = load_le<std::uint32_t>(in + 56) == 1;
  return h;
}

std::string segment_file_name(std::uint64_t first_sequence) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string name = "seg-0000000000000000.sls";
  for (int i = 0; i < 16; ++i)
    name[4 + 15 - i] = hex[(first_sequence >> (4 * i)) & 0xF];
  return name;
}

std::optional<std::uint64_t> parse_segment_file_name(std::string_view name) {
  if (name.size() != 24 || name.substr(0, 4) != "seg-" || name.substr(20) != ".sls")
    return std::nullopt;
  std::uint64_t v = 0;
  for (char c : name.substr(4, 16)) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else
      return std::nullopt;
    v = (v << 4) | static_cast<std::uint64_t>(d);
  }
  return v;
}

bool append_record(std::string& out, const Event& e, std::string_view source_path) {
  // Upper bound: fixed part, a varint per number, every view as a literal.
  std::size_t bound = 8 + 3 * max_varint_bytes + 1 + 19 + 6 + 2 + max_varint_bytes + e.raw.size() +
                      6 * 2 * max_varint_bytes + e.host.size() + e.app.size() + e.procid.size() +
                      e.msgid.size() + e.message.size() + e.structured_data.size() +
                      max_varint_bytes + source_path.size() + max_varint_bytes;
  for (const auto& f : e.fields)
    bound += 4 * max_varint_bytes + f.name.size() + f.value.size();
  bound += max_varint_bytes;  // template id
  if (bound > max_record_payload_bytes) {
    // The bound overestimates; only refuse when the exact size is too large too. Computing it
    // would need a second pass, and no real record comes near 1 GiB, so the bound decides.
    return false;
  }
  const std::size_t start = out.size();
  out.resize(start + record_frame_bytes + bound + record_alignment);
  char* const frame = out.data() + start;
  char* const payload = frame + record_frame_bytes;
  char* p = payload;

  std::memcpy(p, &e.event_time_ns, 8);
  p += 8;
  p = put_varint(p, zigzag(static_cast<std::int64_t>(static_cast<std::uint64_t>(e.receive_time_ns) -
                                                     static_cast<std::uint64_t>(e.event_time_ns))));
  p = put_varint(p, e.line);
  p = put_varint(p, e.listener_id);
  bool has_peer = e.peer.family != 0 || e.peer.port != 0;
  for (auto b : e.peer.address)
    has_peer |= b != 0;
  *p++ = static_cast<char>(has_peer ? 1 : 0);
  if (has_peer) {
    *p++ = static_cast<char>(e.peer.family);
    std::memcpy(p, &e.peer.port, 2);
    p += 2;
    std::memcpy(p, e.peer.address.data(), 16);
    p += 16;
  }
  *p++ = static_cast<char>(e.facility);
  *p++ = static_cast<char>(e.severity);
  *p++ = static_cast<char>(e.format);
  *p++ = static_cast<char>(e.status);
  *p++ = static_cast<char>(e.reason);
  *p++ = static_cast<char>(e.flags);
  std::memcpy(p, &e.tz_offset_minutes, 2);
  p += 2;
  p = put_varint(p, e.raw.size());
  p = put_bytes(p, e.raw);
  for (std::string_view s : {e.host, e.app, e.procid, e.msgid, e.message, e.structured_data})
    p = put_slot(p, s, e.raw);
  p = put_varint(p, source_path.size());
  p = put_bytes(p, source_path);
  p = put_varint(p, e.fields.size());
  for (const auto& f : e.fields) {
    p = put_slot(p, f.name, e.raw);
    p = put_slot(p, f.value, e.raw);
  }
  p = put_varint(p, e.template_id);

  const auto length = static_cast<std::uint32_t>(p - payload);
  const std::uint32_t crc = crc32c(payload, length);
  std::memcpy(frame, &length, 4);
  std::memcpy(frame + 4, &crc, 4);
  const std::size_t framed = framed_record_bytes(length);
  std::memset(payload + length, 0, framed - record_frame_bytes - length);
  out.resize(start + framed);
  return true;
}

bool decode_record(std::string_view payload, StoredEvent& out, Arena& arena,
                   std::uint32_t version) {
  Cursor c(payload);
  Event& e = out.event;
  e = Event{};
  e.event_time_ns = c.fixed<std::int64_t>();
  e.receive_time_ns = static_cast<std::int64_t>(static_cast<std::uint64_t>(e.event_time_ns) +
                                                static_cast<std::uint64_t>(unzigzag(c.varint())));
  e.line = c.varint();
  std::uint64_t listener = c.varint();
  if (listener > UINT32_MAX) return false;
  e.listener_id = static_cast<std::uint32_t>(listener);
  auto has_peer = c.fixed<std::uint8_t>();
  if (has_peer > 1) return false;
  if (has_peer) {
    e.peer.family = c.fixed<std::uint8_t>();
    e.peer.port = c.fixed<std::uint16_t>();
    auto addr = c.bytes(16);
    if (addr.size() == 16) std::memcpy(e.peer.address.data(), addr.data(), 16);
  }
  e.facility = c.fixed<std::uint8_t>();
  e.severity = c.fixed<std::uint8_t>();
  auto format = c.fixed<std::uint8_t>();
  auto status = c.fixed<std::uint8_t>();
  auto reason = c.fixed<std::uint8_t>();
  if (format > static_cast<std::uint8_t>(InputFormat::raw) ||
      status > static_cast<std::uint8_t>(ParseStatus::unparsed) || reason >= unparsed_reason_count)
    return false;
  e.format = static_cast<InputFormat>(format);
  e.status = static_cast<ParseStatus>(status);
  e.reason = static_cast<UnparsedReason>(reason);
  e.flags = c.fixed<std::uint8_t>();
  e.tz_offset_minutes = c.fixed<std::int16_t>();
  e.raw = c.bytes(c.varint());
  e.host = c.slot(e.raw);
  e.app = c.slot(e.raw);
  e.procid = c.slot(e.raw);
  e.msgid = c.slot(e.raw);
  e.message = c.slot(e.raw);
  e.structured_data = c.slot(e.raw);
  out.source_path = c.bytes(c.varint());
  std::uint64_t count = c.varint();
  // Each field takes at least two bytes, which bounds the count before allocating.
  if (!c.ok() || count > payload.size() / 2) return false;
  if (count > 0) {
    auto fields = arena.allocate_array<Field>(count);
    for (auto& f : fields) {
      f.name = c.slot(e.raw);
      f.value = c.slot(e.raw);
    }
    e.fields = fields;
  }
  if (version >= 2) {
    const std::uint64_t template_id = c.varint();
    if (template_id > UINT32_MAX) return false;
    e.template_id = static_cast<std::uint32_t>(template_id);
  }
  return c.ok() && c.at_end();
}

}  // namespace sluice
