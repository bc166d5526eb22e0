// SPDX-License-Identifier: Apache-2.0
/// The block layout encoder (segment_format.hpp, "Blocks"). Per event it does a record decode,
/// one tokenising pass over the raw bytes, three dictionary lookups (a one-entry cache in front
/// of a hash map: consecutive events usually share host, app and source) and appends to three
/// streams; per block it writes the index area and one zstd frame.
#include "block_writer.hpp"

#include <fcntl.h>
#include <lz4.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "codec.hpp"
#include "sluice/store/crc32c.hpp"
#include "sluice/store/tokens.hpp"

namespace sluice {
namespace {

using detail::zigzag;

void put_varint(std::string& out, std::uint64_t v) {
  char buf[10];
  char* p = buf;
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  out.append(buf, static_cast<std::size_t>(p - buf));
}

template <class T>
void put_le(std::string& out, T v) {
  char buf[sizeof v];
  std::memcpy(buf, &v, sizeof v);
  out.append(buf, sizeof v);
}

bool inside(std::string_view s, std::string_view raw) {
  return !s.empty() && s.data() >= raw.data() && s.data() + s.size() <= raw.data() + raw.size();
}

/// A block slot (segment_format.hpp): literal, reference at an offset, or raw's suffix.
void put_slot(std::string& out, std::string_view s, std::string_view raw) {
  if (inside(s, raw)) {
    const auto off = static_cast<std::uint64_t>(s.data() - raw.data());
    if (off + s.size() == raw.size()) {
      put_varint(out, (std::uint64_t{s.size()} << 2) | 2);
    } else {
      put_varint(out, (std::uint64_t{s.size()} << 2) | 1);
      put_varint(out, off);
    }
    return;
  }
  put_varint(out, std::uint64_t{s.size()} << 2);
  out.append(s);
}

Result<void> write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno("store: cannot write " + path.string());
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

void pad_to(std::string& out, std::size_t base, std::size_t alignment) {
  while ((out.size() - base) % alignment != 0)
    out.push_back('\0');
}

}  // namespace

std::uint32_t BlockWriter::Dictionary::code(std::string_view v, bool& added) {
  added = false;
  if (has_last && v == last) {
    column.push_back(last_code);
    return last_code;
  }
  auto [it, inserted] = codes.try_emplace(v, static_cast<std::uint32_t>(values.size()));
  if (inserted) {
    values.push_back(v);
    added = true;
  }
  last = v;
  last_code = it->second;
  has_last = true;
  column.push_back(last_code);
  return last_code;
}

void BlockWriter::Dictionary::clear() {
  values.clear();
  codes.clear();
  column.clear();
  has_last = false;
}

BlockWriter::BlockWriter(int compression_level, BlockCodec codec)
    : level_(compression_level), codec_(codec), cctx_(ZSTD_createCCtx()) {}

BlockWriter::~BlockWriter() {
  abort();
  ZSTD_freeCCtx(cctx_);
}

void BlockWriter::add_value_tokens(std::string_view value, std::string_view raw) {
  if (value.empty()) return;
  if (inside(value, raw)) {
    // A view of raw that starts and ends at token boundaries has only tokens raw has (and raw's
    // tokens are all in the filter already). Parsers cut values at delimiters, so this is the
    // usual case and costs two byte tests.
    const auto begin = static_cast<std::size_t>(value.data() - raw.data());
    const std::size_t end = begin + value.size();
    const bool clean_start = begin == 0 ||
                             !is_token_byte(static_cast<unsigned char>(raw[begin - 1])) ||
                             !is_token_byte(static_cast<unsigned char>(raw[begin]));
    const bool clean_end = end == raw.size() ||
                           !is_token_byte(static_cast<unsigned char>(raw[end])) ||
                           !is_token_byte(static_cast<unsigned char>(raw[end - 1]));
    if (clean_start && clean_end) return;
  }
  tokens_.add_tokens(value);
}

void BlockWriter::add_event(const StoredEvent& stored) {
  const Event& e = stored.event;
  if (events_ == 0) {
    first_sequence_ = next_sequence_;
    min_ns_ = max_ns_ = e.event_time_ns;
  }
  min_ns_ = std::min(min_ns_, e.event_time_ns);
  max_ns_ = std::max(max_ns_, e.event_time_ns);
  times_.push_back(e.event_time_ns);

  bool added;
  hosts_.code(e.host, added);
  if (added) tokens_.add_tokens(e.host);
  apps_.code(e.app, added);
  if (added) tokens_.add_tokens(e.app);
  sources_.code(stored.source_path, added);
  if (added) tokens_.add_tokens(stored.source_path);

  tokens_.add_tokens(e.raw);
  add_value_tokens(e.procid, e.raw);
  add_value_tokens(e.msgid, e.raw);
  for (const auto& f : e.fields)
    add_value_tokens(f.value, e.raw);

  receive_times_.push_back(e.receive_time_ns);
  put_varint(rows_, zigzag(static_cast<std::int64_t>(e.line - prev_line_)));
  prev_line_ = e.line;
  put_varint(rows_, e.listener_id);
  put_varint(rows_, e.template_id);
  const char bytes[6] = {static_cast<char>(e.facility), static_cast<char>(e.severity),
                         static_cast<char>(e.format),   static_cast<char>(e.status),
                         static_cast<char>(e.reason),   static_cast<char>(e.flags)};
  rows_.append(bytes, 6);
  put_varint(rows_, zigzag(e.tz_offset_minutes));
  bool has_peer = e.peer.family != 0 || e.peer.port != 0;
  for (auto b : e.peer.address)
    has_peer |= b != 0;
  rows_.push_back(static_cast<char>(has_peer ? 1 : 0));
  if (has_peer) {
    rows_.push_back(static_cast<char>(e.peer.family));
    put_le<std::uint16_t>(rows_, e.peer.port);
    rows_.append(reinterpret_cast<const char*>(e.peer.address.data()), 16);
  }
  put_varint(rows_, e.raw.size());
  put_varint(rows_, e.fields.size());

  for (std::string_view s : {e.procid, e.msgid, e.message, e.structured_data})
    put_slot(slots_, s, e.raw);
  for (const auto& f : e.fields) {
    put_slot(slots_, f.name, e.raw);
    put_slot(slots_, f.value, e.raw);
  }
  data_.append(e.raw);  // the raw stream comes first in the data, so it is built in place
  ++events_;
  ++next_sequence_;
}

Result<void> BlockWriter::flush_block(int fd, const std::filesystem::path& out_path) {
  if (events_ == 0) return {};
  // Index area (format 3): the token filter first (it has its own CRC, so a query prunes the
  // block by reading the filter alone), then the dictionaries and code columns.
  index_.clear();
  tokens_.write(index_);
  tokens_.add_to(segment_tokens_);
  const std::size_t filter_bytes = index_.size();
  for (const Dictionary* d : {&hosts_, &apps_, &sources_}) {
    put_varint(index_, d->values.size());
    for (std::string_view v : d->values) {
      put_varint(index_, v.size());
      index_.append(v);
    }
  }
  for (const Dictionary* d : {&hosts_, &apps_, &sources_}) {
    const std::size_t n = d->values.size();
    const std::uint8_t width = n <= 1 ? 0 : n <= 0x100 ? 1 : n <= 0x10000 ? 2 : 4;
    index_.push_back(static_cast<char>(width));
    for (std::uint32_t c : d->column) {
      if (width == 1)
        index_.push_back(static_cast<char>(c));
      else if (width == 2)
        put_le<std::uint16_t>(index_, static_cast<std::uint16_t>(c));
      else if (width == 4)
        put_le<std::uint32_t>(index_, c);
    }
  }

  // Data: the raw stream (already in data_), then times (from the block's minimum), rows and
  // slots, then their three lengths.
  const std::size_t times_at = data_.size();
  // Event times, then receive times, each as deltas from the one before (the first from the
  // block's min event time): receive times of one read or datagram burst are equal or close, so
  // their deltas are small where `receive - event` would carry the event time's noise.
  for (const auto* column : {&times_, &receive_times_}) {
    std::int64_t prev = min_ns_;
    for (std::int64_t t : *column) {
      put_varint(data_, zigzag(static_cast<std::int64_t>(static_cast<std::uint64_t>(t) -
                                                         static_cast<std::uint64_t>(prev))));
      prev = t;
    }
  }
  const std::size_t times_bytes = data_.size() - times_at;
  data_.append(rows_);
  data_.append(slots_);
  put_le<std::uint32_t>(data_, static_cast<std::uint32_t>(times_bytes));
  put_le<std::uint32_t>(data_, static_cast<std::uint32_t>(rows_.size()));
  put_le<std::uint32_t>(data_, static_cast<std::uint32_t>(slots_.size()));
  std::size_t csize = 0;
  if (codec_ == BlockCodec::lz4) {
    // The magic, then one LZ4 block (segment_format.hpp, "Blocks"). LZ4 takes int sizes; a
    // block's data is far below 2 GiB (4096 events, 1 MiB of raw lines plus their metadata).
    if (data_.size() > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE))
      return Error{"store: block of " + out_path.string() + " too large for LZ4"};
    const int n = static_cast<int>(data_.size());
    compressed_.resize(sizeof block_lz4_magic + static_cast<std::size_t>(LZ4_compressBound(n)));
    std::memcpy(compressed_.data(), block_lz4_magic, sizeof block_lz4_magic);
    const int written =
        LZ4_compress_default(data_.data(), compressed_.data() + sizeof block_lz4_magic, n,
                             static_cast<int>(compressed_.size() - sizeof block_lz4_magic));
    if (written <= 0) return Error{"store: LZ4 cannot compress a block of " + out_path.string()};
    csize = sizeof block_lz4_magic + static_cast<std::size_t>(written);
  } else {
    compressed_.resize(ZSTD_compressBound(data_.size()));
    csize = ZSTD_compressCCtx(cctx_, compressed_.data(), compressed_.size(), data_.data(),
                              data_.size(), level_);
    if (ZSTD_isError(csize))
      return Error{"store: zstd cannot compress a block of " + out_path.string() + ": " +
                   ZSTD_getErrorName(csize)};
  }
  if (data_.size() > UINT32_MAX || csize > UINT32_MAX)
    return Error{"store: block of " + out_path.string() + " exceeds 4 GiB"};

  // File bytes: index area at an 8-byte boundary, data right after it.
  out_.clear();
  const std::uint64_t index_offset = file_offset_;
  out_.append(index_);
  const std::uint64_t data_offset = index_offset + out_.size();
  out_.append(compressed_.data(), csize);
  pad_to(out_, 0, 8);
  if (auto r = write_all(fd, out_, out_path); !r) return r;
  file_offset_ += out_.size();

  put_le<std::uint64_t>(footer_, first_sequence_);
  put_le<std::uint32_t>(footer_, events_);
  put_le<std::uint32_t>(footer_,
                        crc32c(index_.data() + filter_bytes, index_.size() - filter_bytes));
  put_le<std::int64_t>(footer_, min_ns_);
  put_le<std::int64_t>(footer_, max_ns_);
  put_le<std::uint64_t>(footer_, index_offset);
  put_le<std::uint64_t>(footer_, data_offset);
  put_le<std::uint32_t>(footer_, static_cast<std::uint32_t>(csize));
  put_le<std::uint32_t>(footer_, static_cast<std::uint32_t>(data_.size()));
  put_le<std::uint32_t>(footer_, crc32c(compressed_.data(), csize));
  put_le<std::uint32_t>(footer_, crc32c(index_.data(), filter_bytes));
  ++blocks_;

  reset_block();
  return {};
}

void BlockWriter::reset_block() {
  hosts_.clear();
  apps_.clear();
  sources_.clear();
  tokens_.clear();
  rows_.clear();
  slots_.clear();
  data_.clear();
  times_.clear();
  receive_times_.clear();
  events_ = 0;
  prev_line_ = 0;
  block_raw_ = 0;
}

void BlockWriter::abort() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(out_path_.c_str());
  fd_ = -1;
  reset_block();
}

Result<void> BlockWriter::begin(const SegmentHeader& header,
                                const std::filesystem::path& out_path) {
  abort();
  fd_ = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return Error::from_errno("store: cannot create " + out_path.string());
  out_path_ = out_path;
  header_ = header;
  result_ = BlockedSegment{};
  blocks_ = 0;
  footer_.clear();
  segment_tokens_.clear();
  next_sequence_ = header.first_sequence;
  reset_block();
  // The header is written last (it carries the totals); reserve its bytes now.
  const std::string zeros(segment_header_bytes, '\0');
  if (auto r = write_all(fd_, zeros, out_path_); !r) {
    abort();
    return r;
  }
  file_offset_ = segment_header_bytes;
  return {};
}

Result<void> BlockWriter::add(const std::byte* records, std::size_t bytes) {
  if (fd_ < 0) return Error{"store: no blocked segment is being written"};
  std::size_t off = 0;
  StoredEvent ev;
  while (off + record_frame_bytes <= bytes) {
    std::uint32_t len;
    std::memcpy(&len, records + off, 4);
    if (len == 0) break;  // a log's end mark
    const std::size_t framed = framed_record_bytes(len);
    if (len > max_record_payload_bytes || framed > bytes - off)
      return Error{"store: a record for " + out_path_.string() + " runs past its bytes"};
    const std::string_view payload(
        reinterpret_cast<const char*>(records + off + record_frame_bytes), len);
    if (!decode_record(payload, ev, arena_, header_.version))
      return Error{"store: a record for " + out_path_.string() + " does not decode"};
    if (events_ > 0 && block_raw_ + ev.event.raw.size() > block_max_raw_bytes)
      if (auto r = flush_block(fd_, out_path_); !r) return r;
    add_event(ev);
    arena_.reset();  // the streams hold copies; dictionaries view the log, not the arena
    block_raw_ += ev.event.raw.size();
    result_.raw_bytes += ev.event.raw.size();
    if (result_.records == 0 || ev.event.event_time_ns < result_.oldest_event_ns)
      result_.oldest_event_ns = ev.event.event_time_ns;
    if (result_.records == 0 || ev.event.event_time_ns > result_.newest_event_ns)
      result_.newest_event_ns = ev.event.event_time_ns;
    ++result_.records;
    off += framed;
    if (events_ == block_max_events)
      if (auto r = flush_block(fd_, out_path_); !r) return r;
  }
  return {};
}

Result<BlockedSegment> BlockWriter::finish(bool sync) {
  if (fd_ < 0) return Error{"store: no blocked segment is being written"};
  auto fail = [&](Error e) -> Result<BlockedSegment> {
    abort();
    return e;
  };
  if (auto r = flush_block(fd_, out_path_); !r) return fail(r.error());
  // The segment token filter (blocks end at a multiple of 8), then the footer and trailer. A
  // segment of one block has none: that block's own filter says the same.
  std::string tail;
  std::uint32_t filter_buckets = 0;
  std::uint32_t filter_crc = 0;
  if (blocks_ > 1) {
    segment_tokens_.write(tail);
    std::memcpy(&filter_buckets, tail.data(), 4);
    filter_crc = crc32c(tail.data(), tail.size());
  }
  const std::uint64_t footer_offset = file_offset_ + tail.size();
  tail.append(footer_);
  tail.append(blocks_trailer_magic, sizeof blocks_trailer_magic);
  put_le<std::uint64_t>(tail, footer_offset);
  put_le<std::uint32_t>(tail, static_cast<std::uint32_t>(blocks_));
  put_le<std::uint32_t>(tail, crc32c(footer_.data(), footer_.size()));
  put_le<std::uint32_t>(tail, filter_buckets);
  put_le<std::uint32_t>(tail, filter_crc);
  if (auto r = write_all(fd_, tail, out_path_); !r) return fail(r.error());
  file_offset_ += tail.size();

  SegmentHeader sealed = header_;
  sealed.version = segment_format_version;
  sealed.blocked = true;
  sealed.sealed = true;
  sealed.record_count = result_.records;
  sealed.oldest_event_ns = result_.oldest_event_ns;
  sealed.newest_event_ns = result_.newest_event_ns;
  std::byte hbytes[segment_header_bytes];
  encode_segment_header(sealed, hbytes);
  if (::pwrite(fd_, hbytes, sizeof hbytes, 0) != static_cast<ssize_t>(sizeof hbytes))
    return fail(Error::from_errno("store: cannot write " + out_path_.string()));
  if (sync && ::fdatasync(fd_) != 0)
    return fail(Error::from_errno("store: cannot sync " + out_path_.string()));
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    auto e = Error::from_errno("store: cannot close " + out_path_.string());
    ::unlink(out_path_.c_str());
    return e;
  }
  result_.blocks = blocks_;
  result_.file_bytes = file_offset_;
  return result_;
}

Result<BlockedSegment> BlockWriter::write(const std::byte* log, std::size_t log_bytes,
                                          const SegmentHeader& header,
                                          const std::filesystem::path& out_path, bool sync) {
  if (auto r = begin(header, out_path); !r) return r.error();
  if (log_bytes > segment_header_bytes)
    if (auto r = add(log + segment_header_bytes, log_bytes - segment_header_bytes); !r) {
      abort();
      return r.error();
    }
  return finish(sync);
}

}  // namespace sluice
