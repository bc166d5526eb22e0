// SPDX-License-Identifier: Apache-2.0
/// Reading the block layout: the trailer and footer are checked when a segment is opened, each
/// block's index area is checked and parsed into views, and `decode` checks the compressed
/// bytes' CRC, decompresses and decodes with every bound checked (the file may be damaged).
#include "sluice/store/segment_index.hpp"

#include <lz4.h>
#include <zstd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <system_error>

#include "codec.hpp"
#include "segment_map.hpp"
#include "sluice/common/assert.hpp"
#include "sluice/store/crc32c.hpp"

namespace sluice {
namespace {

using detail::Cursor;
using detail::unzigzag;

template <class T>
T load_le(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::string block_name(const std::filesystem::path& file, std::size_t index, const BlockInfo& b) {
  return file.string() + ": block " + std::to_string(index) + " (sequences " +
         std::to_string(b.first_sequence) + ".." +
         std::to_string(b.first_sequence + (b.events == 0 ? 0 : b.events - 1)) + ")";
}

/// The largest code of a column (0 for an empty one), in a loop the compiler vectorises: every
/// code is checked against its dictionary at open, and a block has thousands.
std::uint32_t max_code(const CodeColumn& column) {
  const std::uint32_t n = column.size();
  const auto* p = column.data();
  switch (column.width()) {
    case 0:
      return 0;
    case 1: {
      std::uint32_t i = 0;
      std::uint8_t m = 0;
#if defined(__SSE2__)
      __m128i acc = _mm_setzero_si128();
      for (; i + 16 <= n; i += 16)
        acc = _mm_max_epu8(acc, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)));
      alignas(16) std::uint8_t lanes[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(lanes), acc);
      for (auto v : lanes)
        m = std::max(m, v);
#endif
      for (; i < n; ++i)
        m = std::max(m, static_cast<std::uint8_t>(p[i]));
      return m;
    }
    case 2: {
      std::uint16_t m = 0;
      for (std::uint32_t i = 0; i < n; ++i) {
        std::uint16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        m = std::max(m, v);
      }
      return m;
    }
    default: {
      std::uint32_t m = 0;
      for (std::uint32_t i = 0; i < n; ++i) {
        std::uint32_t v;
        std::memcpy(&v, p + 4 * i, 4);
        m = std::max(m, v);
      }
      return m;
    }
  }
}

/// Parses the dictionaries and code columns at `c` into `b`; the reason on failure.
std::string parse_dictionaries(Cursor& c, std::size_t area_bytes, BlockInfo& b) {
  for (auto* dict : {&b.hosts, &b.apps, &b.source_paths}) {
    const std::uint64_t n = c.varint();
    if (!c.ok() || n > area_bytes || n > b.events) return "dictionary count out of range";
    dict->reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) {
      auto s = c.bytes(c.varint());
      if (!c.ok()) return "dictionary entry runs past the index area";
      dict->push_back(s);
    }
    if (n == 0 && b.events > 0) return "empty dictionary";
  }
  for (auto [column, dict] : {std::pair{&b.host_codes, &b.hosts}, std::pair{&b.app_codes, &b.apps},
                              std::pair{&b.source_codes, &b.source_paths}}) {
    const auto width = c.fixed<std::uint8_t>();
    if (width != 0 && width != 1 && width != 2 && width != 4) return "bad code width";
    if (width == 0 && dict->size() > 1) return "code width 0 with several dictionary entries";
    auto bytes = c.bytes(std::uint64_t{width} * b.events);
    if (!c.ok()) return "code column runs past the index area";
    *column = CodeColumn(reinterpret_cast<const std::byte*>(bytes.data()), width, b.events);
    if (width != 0 && max_code(*column) >= dict->size())
      return "code out of its dictionary's range";
  }
  return {};
}

/// Parses a format-2 block's index area (CRC already checked) into `b`: dictionaries, code
/// columns, then the token filter at the next multiple of 4. The reason on failure.
std::string parse_index_area_v2(std::string_view area, BlockInfo& b) {
  Cursor c(area);
  if (auto why = parse_dictionaries(c, area.size(), b); !why.empty()) return why;
  const std::size_t used = area.size() - c.left();
  const std::size_t filter_at = (used + 3) & ~std::size_t{3};
  if (filter_at + 4 > area.size()) return "token filter missing";
  const auto* filter = reinterpret_cast<const std::byte*>(area.data() + filter_at);
  const auto buckets = load_le<std::uint32_t>(filter);
  if (buckets == 0 || std::uint64_t{buckets} * 32 != area.size() - filter_at - 4)
    return "token filter size does not match the index area";
  b.tokens = TokenFilter(filter, buckets);
  return {};
}

/// The byte size of a format-3 block's token filter (at the start of its index area), or 0 when
/// its bucket count does not fit the area.
std::uint64_t filter_bytes_v3(std::string_view area) {
  if (area.size() < 4) return 0;
  const auto buckets = load_le<std::uint32_t>(reinterpret_cast<const std::byte*>(area.data()));
  const std::uint64_t bytes = 4 + std::uint64_t{buckets} * 32;
  return buckets == 0 || bytes > area.size() ? 0 : bytes;
}

}  // namespace

Result<std::unique_ptr<SegmentIndex>> SegmentIndex::open(const std::filesystem::path& file,
                                                         IndexCheck check) {
  auto mapping = map_segment(file);
  if (!mapping) return mapping.error();
  return adopt(file, *mapping, check);
}

Result<std::unique_ptr<SegmentIndex>> SegmentIndex::adopt(const std::filesystem::path& file,
                                                          const SegmentMapping& mapping,
                                                          IndexCheck check) {
  std::unique_ptr<SegmentIndex> seg(new SegmentIndex());
  seg->path_ = file;
  seg->map_ = mapping.data;
  seg->size_ = mapping.size;
  seg->header_ = mapping.header;
  const std::size_t size = mapping.size;
  const SegmentHeader& header = seg->header_;
  seg->blocked_ = header.blocked;
  if (!seg->blocked_) return seg;

  const auto bad_footer = [&](const std::string& why) {
    return Error{"store: " + file.string() + ": truncated or corrupt footer: " + why};
  };
  if (size < segment_header_bytes + blocks_trailer_bytes)
    return bad_footer("the file is too short for a trailer");
  const std::byte* trailer = seg->map_ + size - blocks_trailer_bytes;
  if (std::memcmp(trailer, blocks_trailer_magic, sizeof blocks_trailer_magic) != 0)
    return bad_footer("no trailer magic at the end of the file");
  const auto footer_offset = load_le<std::uint64_t>(trailer + 8);
  const auto count = load_le<std::uint32_t>(trailer + 16);
  const auto footer_crc = load_le<std::uint32_t>(trailer + 20);
  if (footer_offset < segment_header_bytes ||
      footer_offset + std::uint64_t{count} * block_footer_entry_bytes !=
          size - blocks_trailer_bytes)
    return bad_footer("footer offset " + std::to_string(footer_offset) + " and " +
                      std::to_string(count) + " blocks do not match the file size " +
                      std::to_string(size));
  const std::byte* footer = seg->map_ + footer_offset;
  if (crc32c(footer, std::size_t{count} * block_footer_entry_bytes) != footer_crc)
    return bad_footer("CRC32C mismatch");
  // Blocks end where the segment token filter (format 3) or the footer starts.
  std::uint64_t blocks_end = footer_offset;
  if (header.version >= 3) {
    const auto buckets = load_le<std::uint32_t>(trailer + 24);
    const auto filter_crc = load_le<std::uint32_t>(trailer + 28);
    if (buckets != 0) {
      const std::uint64_t filter_bytes = 4 + std::uint64_t{buckets} * 32;
      if (filter_bytes > footer_offset - segment_header_bytes)
        return bad_footer("segment token filter of " + std::to_string(buckets) +
                          " buckets does not fit before the footer");
      blocks_end = footer_offset - filter_bytes;
      const std::byte* filter = seg->map_ + blocks_end;
      if (load_le<std::uint32_t>(filter) != buckets || crc32c(filter, filter_bytes) != filter_crc)
        return bad_footer("segment token filter CRC32C mismatch");
      seg->segment_tokens_ = TokenFilter(filter, buckets);
    } else if (filter_crc != 0) {
      return bad_footer("segment token filter CRC without a filter");
    }
  }

  seg->blocks_.resize(count);
  seg->index_areas_.resize(count);
  std::uint64_t expect_sequence = header.first_sequence;
  std::uint64_t total = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::byte* e = footer + std::size_t{i} * block_footer_entry_bytes;
    BlockInfo& b = seg->blocks_[i];
    b.first_sequence = load_le<std::uint64_t>(e);
    b.events = load_le<std::uint32_t>(e + 8);
    const auto index_crc = load_le<std::uint32_t>(e + 12);
    b.min_event_ns = load_le<std::int64_t>(e + 16);
    b.max_event_ns = load_le<std::int64_t>(e + 24);
    const auto index_offset = load_le<std::uint64_t>(e + 32);
    b.data_offset = load_le<std::uint64_t>(e + 40);
    b.data_bytes = load_le<std::uint32_t>(e + 48);
    b.data_raw_bytes = load_le<std::uint32_t>(e + 52);
    b.data_crc = load_le<std::uint32_t>(e + 56);
    const auto filter_crc = load_le<std::uint32_t>(e + 60);
    if (b.first_sequence != expect_sequence || b.events == 0)
      return bad_footer("block " + std::to_string(i) + " starts at sequence " +
                        std::to_string(b.first_sequence) + ", expected " +
                        std::to_string(expect_sequence));
    expect_sequence += b.events;
    total += b.events;
    if (index_offset < segment_header_bytes || index_offset > b.data_offset ||
        b.data_offset > blocks_end || b.data_bytes > blocks_end - b.data_offset) {
      b.error = block_name(file, i, b) + ": index or data area lies outside the file's blocks";
      continue;
    }
    seg->index_areas_[i] =
        IndexArea{index_offset, b.data_offset - index_offset, index_crc, filter_crc};
  }
  if (total != header.record_count)
    return bad_footer("blocks hold " + std::to_string(total) + " events, the header counts " +
                      std::to_string(header.record_count));
  if (header.version >= 3) {
    seg->filter_loaded_ = std::make_unique<std::once_flag[]>(count);
    seg->filter_ok_.assign(count, 0);
  }
  seg->loaded_ = std::make_unique<std::once_flag[]>(count);
  if (check == IndexCheck::at_open) {
    for (std::uint32_t i = 0; i < count; ++i)
      (void)seg->block(i);
  }
  return seg;
}

void SegmentIndex::clear_index(BlockInfo& b, const std::string& why, std::size_t i) const {
  b.error = block_name(path_, i, b) + ": " + why;
  b.hosts.clear();
  b.apps.clear();
  b.source_paths.clear();
  b.host_codes = b.app_codes = b.source_codes = CodeColumn();
}

void SegmentIndex::load_filter(std::size_t i) const {
  // Format 3 only. Runs once per block, before `load_index` (which calls it first); writes only
  // `tokens` and `filter_ok_[i]`.
  const IndexArea& where = index_areas_[i];
  if (where.bytes == 0) return;  // the footer already places the block outside the file
  const std::string_view area(reinterpret_cast<const char*>(map_ + where.offset), where.bytes);
  const std::uint64_t bytes = filter_bytes_v3(area);
  if (bytes == 0 || crc32c(area.data(), bytes) != where.filter_crc) return;
  blocks_[i].tokens = TokenFilter(reinterpret_cast<const std::byte*>(area.data()),
                                  load_le<std::uint32_t>(map_ + where.offset));
  filter_ok_[i] = 1;
}

void SegmentIndex::load_index(std::size_t i) const {
  BlockInfo& b = blocks_[i];
  if (!b.error.empty()) return;  // the footer already places it outside the file
  const IndexArea& where = index_areas_[i];
  const std::string_view area(reinterpret_cast<const char*>(map_ + where.offset), where.bytes);
  if (header_.version < 3) {
    if (crc32c(area.data(), area.size()) != where.crc)
      return clear_index(b, "index area CRC32C mismatch", i);
    if (auto why = parse_index_area_v2(area, b); !why.empty()) {
      b.tokens = TokenFilter();
      return clear_index(b, "index area: " + why, i);
    }
    return;
  }
  std::call_once(filter_loaded_[i], [&] { load_filter(i); });
  if (!filter_ok_[i]) return clear_index(b, "index area CRC32C mismatch (token filter)", i);
  const std::string_view rest = area.substr(filter_bytes_v3(area));
  if (crc32c(rest.data(), rest.size()) != where.crc)
    return clear_index(b, "index area CRC32C mismatch", i);
  Cursor c(rest);
  if (auto why = parse_dictionaries(c, rest.size(), b); !why.empty())
    return clear_index(b, "index area: " + why, i);
  if (!c.at_end()) return clear_index(b, "index area: bytes after the code columns", i);
}

const BlockInfo& SegmentIndex::block(std::size_t i) const {
  SLUICE_ASSERT(i < blocks_.size());
  if (loaded_) std::call_once(loaded_[i], [&] { load_index(i); });
  return blocks_[i];
}

const TokenFilter* SegmentIndex::block_tokens(std::size_t i) const {
  SLUICE_ASSERT(i < blocks_.size());
  if (header_.version < 3) {
    const BlockInfo& b = block(i);
    return b.error.empty() ? &b.tokens : nullptr;
  }
  std::call_once(filter_loaded_[i], [&] { load_filter(i); });
  return filter_ok_[i] ? &blocks_[i].tokens : nullptr;
}

SegmentIndex::~SegmentIndex() {
  unmap_segment(map_, size_);
}

BlockScratch::~BlockScratch() {
  ZSTD_freeDCtx(dctx_);
}

Result<std::string_view> SegmentIndex::decompress(std::size_t index, BlockScratch& scratch) const {
  if (index >= blocks_.size())
    return Error{path_.string() + ": no block " + std::to_string(index) + " (" +
                 std::to_string(blocks_.size()) + " blocks)"};
  const BlockInfo& b = block(index);
  if (!b.error.empty()) return Error{b.error};
  const auto fail = [&](const std::string& why) {
    return Error{block_name(path_, index, b) + ": " + why};
  };
  const auto* compressed = map_ + b.data_offset;
  if (crc32c(compressed, b.data_bytes) != b.data_crc) return fail("data CRC32C mismatch");
  if (header_.version >= 3 && b.data_bytes >= sizeof block_lz4_magic &&
      std::memcmp(compressed, block_lz4_magic, sizeof block_lz4_magic) == 0) {
    if (b.data_raw_bytes > static_cast<std::uint32_t>(LZ4_MAX_INPUT_SIZE))
      return fail("LZ4 block larger than LZ4 allows");
    scratch.buffer_.resize(b.data_raw_bytes);
    const int n = LZ4_decompress_safe(
        reinterpret_cast<const char*>(compressed) + sizeof block_lz4_magic, scratch.buffer_.data(),
        static_cast<int>(b.data_bytes - sizeof block_lz4_magic),
        static_cast<int>(scratch.buffer_.size()));
    if (n < 0) return fail("LZ4: malformed block");
    if (static_cast<std::uint32_t>(n) != b.data_raw_bytes)
      return fail("decompressed to " + std::to_string(n) + " bytes, the footer says " +
                  std::to_string(b.data_raw_bytes));
    if (n < 12) return fail("data shorter than its stream lengths");
    return std::string_view(scratch.buffer_.data(), static_cast<std::size_t>(n));
  }
  if (scratch.dctx_ == nullptr) {
    scratch.dctx_ = ZSTD_createDCtx();
    if (scratch.dctx_ == nullptr) return fail("zstd: cannot create a decompression context");
  }
  scratch.buffer_.resize(b.data_raw_bytes);
  const std::size_t n = ZSTD_decompressDCtx(scratch.dctx_, scratch.buffer_.data(),
                                            scratch.buffer_.size(), compressed, b.data_bytes);
  if (ZSTD_isError(n)) return fail(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != b.data_raw_bytes)
    return fail("decompressed to " + std::to_string(n) + " bytes, the footer says " +
                std::to_string(b.data_raw_bytes));
  if (n < 12) return fail("data shorter than its stream lengths");
  return std::string_view(scratch.buffer_.data(), n);
}

Result<std::span<const std::string_view>> SegmentIndex::decode_raw(std::size_t index,
                                                                   BlockScratch& scratch) const {
  auto decompressed = decompress(index, scratch);
  if (!decompressed) return decompressed.error();
  const BlockInfo& b = blocks_[index];
  const auto fail = [&](const std::string& why) {
    return Error{block_name(path_, index, b) + ": " + why};
  };
  const std::string_view data = *decompressed;
  const std::size_t n = data.size();
  std::uint32_t lengths[3];
  std::memcpy(lengths, data.data() + n - 12, 12);
  const std::uint64_t streams = std::uint64_t{lengths[0]} + lengths[1] + lengths[2];
  if (streams > n - 12) return fail("stream lengths run past the data");
  const std::size_t raw_bytes = n - 12 - streams;
  std::string_view raw_stream = data.substr(0, raw_bytes);
  Cursor rows(data.substr(raw_bytes + lengths[0], lengths[1]));
  scratch.raws_.resize(b.events);
  for (std::uint32_t i = 0; i < b.events; ++i) {
    // The row layout of `decode`, skipped up to the raw length.
    rows.varint();  // line
    rows.varint();  // listener
    rows.varint();  // template
    rows.bytes(6);  // facility, severity, format, status, reason, flags
    rows.varint();  // time zone
    const auto has_peer = rows.fixed<std::uint8_t>();
    if (has_peer > 1) return fail("bad peer flag");
    if (has_peer) rows.bytes(19);
    const std::uint64_t raw_size = rows.varint();
    rows.varint();  // field count
    if (!rows.ok() || raw_size > raw_stream.size())
      return fail("event " + std::to_string(i) + ": rows stream ends early");
    scratch.raws_[i] = raw_stream.substr(0, raw_size);
    raw_stream.remove_prefix(raw_size);
  }
  if (!rows.at_end() || !raw_stream.empty()) return fail("streams do not end with the last event");
  return std::span<const std::string_view>(scratch.raws_);
}

Result<std::span<const StoredEvent>> SegmentIndex::decode(std::size_t index,
                                                          BlockScratch& scratch) const {
  auto decompressed = decompress(index, scratch);
  if (!decompressed) return decompressed.error();
  const BlockInfo& b = blocks_[index];
  const auto fail = [&](const std::string& why) {
    return Error{block_name(path_, index, b) + ": " + why};
  };
  const std::string_view data = *decompressed;
  const std::size_t n = data.size();
  std::uint32_t lengths[3];
  std::memcpy(lengths, data.data() + n - 12, 12);
  const std::uint64_t streams = std::uint64_t{lengths[0]} + lengths[1] + lengths[2];
  if (streams > n - 12) return fail("stream lengths run past the data");
  const std::size_t raw_bytes = n - 12 - streams;
  std::string_view raw_stream = data.substr(0, raw_bytes);
  Cursor times(data.substr(raw_bytes, lengths[0]));
  Cursor rows(data.substr(raw_bytes + lengths[0], lengths[1]));
  Cursor slots(data.substr(raw_bytes + lengths[0] + lengths[1], lengths[2]));
  const std::uint64_t slots_bytes = lengths[2];

  scratch.arena_.reset();
  scratch.events_.resize(b.events);
  std::int64_t prev_time = b.min_event_ns;
  std::uint64_t prev_line = 0;
  for (std::uint32_t i = 0; i < b.events; ++i) {
    StoredEvent& out = scratch.events_[i];
    out.sequence = b.first_sequence + i;
    out.source_path = b.source_paths[b.source_codes[i]];
    Event& e = out.event;
    e = Event{};
    e.host = b.hosts[b.host_codes[i]];
    e.app = b.apps[b.app_codes[i]];
    e.event_time_ns =
        static_cast<std::int64_t>(static_cast<std::uint64_t>(prev_time) +
                                  static_cast<std::uint64_t>(unzigzag(times.varint())));
    prev_time = e.event_time_ns;
    e.line = prev_line + static_cast<std::uint64_t>(unzigzag(rows.varint()));
    prev_line = e.line;
    const std::uint64_t listener = rows.varint();
    const std::uint64_t template_id = rows.varint();
    if (listener > UINT32_MAX || template_id > UINT32_MAX) return fail("number out of range");
    e.listener_id = static_cast<std::uint32_t>(listener);
    e.template_id = static_cast<std::uint32_t>(template_id);
    e.facility = rows.fixed<std::uint8_t>();
    e.severity = rows.fixed<std::uint8_t>();
    const auto format = rows.fixed<std::uint8_t>();
    const auto status = rows.fixed<std::uint8_t>();
    const auto reason = rows.fixed<std::uint8_t>();
    if (format > static_cast<std::uint8_t>(InputFormat::raw) ||
        status > static_cast<std::uint8_t>(ParseStatus::unparsed) ||
        reason >= unparsed_reason_count)
      return fail("event " + std::to_string(i) + ": enum value out of range");
    e.format = static_cast<InputFormat>(format);
    e.status = static_cast<ParseStatus>(status);
    e.reason = static_cast<UnparsedReason>(reason);
    e.flags = rows.fixed<std::uint8_t>();
    const std::int64_t tz = unzigzag(rows.varint());
    if (tz < INT16_MIN || tz > INT16_MAX) return fail("time zone offset out of range");
    e.tz_offset_minutes = static_cast<std::int16_t>(tz);
    const auto has_peer = rows.fixed<std::uint8_t>();
    if (has_peer > 1) return fail("bad peer flag");
    if (has_peer) {
      e.peer.family = rows.fixed<std::uint8_t>();
      e.peer.port = rows.fixed<std::uint16_t>();
      auto addr = rows.bytes(16);
      if (addr.size() == 16) std::memcpy(e.peer.address.data(), addr.data(), 16);
    }
    const std::uint64_t raw_size = rows.varint();
    const std::uint64_t field_count = rows.varint();
    if (!rows.ok() || raw_size > raw_stream.size())
      return fail("event " + std::to_string(i) + ": rows stream ends early");
    e.raw = raw_stream.substr(0, raw_size);
    raw_stream.remove_prefix(raw_size);
    const auto slot = [&]() -> std::string_view {
      const std::uint64_t tag = slots.varint();
      const std::uint64_t len = tag >> 2;
      switch (tag & 3) {
        case 0:
          return slots.bytes(len);
        case 1: {
          const std::uint64_t off = slots.varint();
          if (off > e.raw.size() || len > e.raw.size() - off) break;
          return e.raw.substr(off, len);
        }
        case 2:
          if (len > e.raw.size()) break;
          return e.raw.substr(e.raw.size() - len);
        default:
          break;
      }
      slots.set_failed();
      return {};
    };
    e.procid = slot();
    e.msgid = slot();
    e.message = slot();
    e.structured_data = slot();
    // Each field takes at least two slot bytes, which bounds the count before allocating.
    if (field_count > slots_bytes / 2) return fail("event " + std::to_string(i) + ": field count");
    if (field_count > 0) {
      auto fields = scratch.arena_.allocate_array<Field>(field_count);
      for (auto& f : fields) {
        f.name = slot();
        f.value = slot();
      }
      e.fields = fields;
    }
    if (!slots.ok()) return fail("event " + std::to_string(i) + ": slots stream ends early");
  }
  std::int64_t prev_receive = b.min_event_ns;
  for (std::uint32_t i = 0; i < b.events; ++i) {
    Event& e = scratch.events_[i].event;
    e.receive_time_ns =
        static_cast<std::int64_t>(static_cast<std::uint64_t>(prev_receive) +
                                  static_cast<std::uint64_t>(unzigzag(times.varint())));
    prev_receive = e.receive_time_ns;
  }
  if (!times.ok() || !times.at_end() || !rows.at_end() || !slots.at_end() || !raw_stream.empty())
    return fail("streams do not end with the last event");
  return std::span<const StoredEvent>(scratch.events_);
}

Result<StoreIndex> StoreIndex::open(const std::filesystem::path& dir) {
  auto listing = StoreReader::open(dir);
  if (!listing) return listing.error();
  StoreIndex index;
  for (const auto& file : listing->segments()) {
    auto seg = SegmentIndex::open(file);
    if (!seg) {
      std::error_code ec;
      if (!std::filesystem::exists(file, ec)) continue;  // deleted by retention since listed
      index.errors_.push_back(SegmentError{file, 0, seg.error().message});
      continue;
    }
    index.segments_.push_back(std::shared_ptr<const SegmentIndex>(std::move(*seg)));
  }
  return index;
}

}  // namespace sluice
