// SPDX-License-Identifier: Apache-2.0
/// The store writer: segment creation (tmp file, preallocate, header, rename), appends through
/// the mapping with the length word published last, sealing, syncing, retention and recovery.
/// The ordering rules that recovery depends on are noted where they are enforced.
#include "sluice/store/segment_writer.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <vector>

#include "block_writer.hpp"
#include "sluice/common/log.hpp"
#include "sluice/store/crc32c.hpp"

namespace sluice {
namespace {

constexpr Logger logger{"store"};

std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::size_t page_bytes() {
  static const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

std::uint32_t load_u32(const std::byte* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

/// Smallest accepted `segment_bytes`: a header, one small record and the trailer. Tests use
/// tiny segments to exercise rolling; production sizes are MiB to GiB.
constexpr std::uint64_t min_segment_bytes = 256;

/// Retention runs from `flush` at most this often, so a frequent flush costs nothing extra.
constexpr std::int64_t retention_period_ns = 1'000'000'000;

}  // namespace

bool parse_fsync_policy(std::string_view text, FsyncPolicy& out) {
  if (text == "batch")
    out = FsyncPolicy::batch;
  else if (text == "interval")
    out = FsyncPolicy::interval;
  else if (text == "none")
    out = FsyncPolicy::none;
  else
    return false;
  return true;
}

bool parse_block_codec(std::string_view text, BlockCodec& out) {
  if (text == "zstd")
    out = BlockCodec::zstd;
  else if (text == "lz4")
    out = BlockCodec::lz4;
  else
    return false;
  return true;
}

std::string_view to_string(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::batch:
      return "batch";
    case FsyncPolicy::interval:
      return "interval";
    case FsyncPolicy::none:
      return "none";
  }
  SLUICE_UNREACHABLE();
}

SegmentWriter::SegmentWriter(const StoreConfig& config, FsyncPolicy policy, bool seal_to_blocks)
    : config_(config),
      policy_(policy),
      dir_(config.path),
      now_ns_(wall_clock_ns),
      seal_to_blocks_(seal_to_blocks) {
  BlockCodec codec = BlockCodec::zstd;
  parse_block_codec(config.codec, codec);  // checked by `open`
  if (seal_to_blocks_) blocks_ = std::make_unique<BlockWriter>(config.compression_level, codec);
}

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::open(const StoreConfig& config) {
  return open(config, true);
}

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::open(const StoreConfig& config,
                                                           bool seal_to_blocks) {
  FsyncPolicy policy;
  if (!parse_fsync_policy(config.fsync, policy))
    return Error{"store: fsync must be \"batch\", \"interval\" or \"none\", got \"" + config.fsync +
                 "\""};
  if (config.path.empty()) return Error{"store: path is empty"};
  if (config.segment_bytes < min_segment_bytes)
    return Error{"store: segment_bytes must be at least " + std::to_string(min_segment_bytes) +
                 ", got " + std::to_string(config.segment_bytes)};
  if (config.compression_level < 1 || config.compression_level > 19)
    return Error{"store: compression_level must be between 1 and 19, got " +
                 std::to_string(config.compression_level)};
  if (BlockCodec codec; !parse_block_codec(config.codec, codec))
    return Error{"store: codec must be \"zstd\" or \"lz4\", got \"" + config.codec + "\""};
  if (policy == FsyncPolicy::interval && config.fsync_interval_ms == 0)
    return Error{"store: fsync_interval_ms must be greater than 0 with fsync = \"interval\""};
  std::error_code ec;
  std::filesystem::create_directories(config.path, ec);
  if (ec) return Error{"store: cannot create folder " + config.path + ": " + ec.message()};
  std::unique_ptr<SegmentWriter> writer(new SegmentWriter(config, policy, seal_to_blocks));
  // One writer per folder: a second one would interleave records and break recovery. The lock
  // is advisory (readers ignore it) and dies with the process, so a crash leaves no stale lock.
  const auto lock_path = writer->dir_ / "LOCK";
  writer->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (writer->lock_fd_ < 0) return Error::from_errno("store: cannot open " + lock_path.string());
  if (::flock(writer->lock_fd_, LOCK_EX | LOCK_NB) != 0)
    return Error::from_errno("store: cannot lock " + lock_path.string() +
                             " (is another Sluice writing to this store?)");
  if (auto r = writer->recover(); !r) return r.error();
  if (auto r = writer->apply_retention(); !r) return r.error();
  return writer;
}

SegmentWriter::~SegmentWriter() {
  if (auto r = close(); !r) logger.error("{}", r.error().message);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<void> SegmentWriter::recover() {
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.size() > 4 && name.ends_with(".sls.tmp") && name.starts_with("seg-")) {
      // Created but never renamed: it holds no record (records are appended after the rename).
      std::filesystem::remove(it->path(), ec);
      if (ec) return Error{"store: cannot remove " + it->path().string() + ": " + ec.message()};
      continue;
    }
    if (auto seq = parse_segment_file_name(name)) files.emplace_back(*seq, it->path());
  }
  if (ec) return Error{"store: cannot list " + dir_.string() + ": " + ec.message()};
  std::sort(files.begin(), files.end());

  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& [seq, file] = files[i];
    const bool newest = i + 1 == files.size();
    std::byte header_bytes[segment_header_bytes];
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error::from_errno("store: cannot open " + file.string());
    struct stat st {};
    ssize_t n = ::pread(fd, header_bytes, sizeof header_bytes, 0);
    int saved = errno;
    ::fstat(fd, &st);
    ::close(fd);
    if (n < 0) return Error::from_errno("store: cannot read " + file.string(), saved);
    std::optional<SegmentHeader> header;
    if (n == static_cast<ssize_t>(segment_header_bytes))
      header = decode_segment_header(header_bytes);
    if (header && header->first_sequence != seq) header.reset();
    if (!header && !newest) {
      // Damage inside an old segment: keep it for forensics; readers report it. With no known
      // event time, age retention deletes it first (counted like any other deletion).
      logger.warn(
          "{}: bad segment header (not format version 1 to 3, or sequence not its name's); "
          "kept as is",
          file.string());
      sealed_.push_back(Sealed{seq, file, static_cast<std::uint64_t>(st.st_size), 0, 0});
      continue;
    }
    if (!header) {
      // The newest segment's creation was torn: with fsync = "none" nothing orders its header
      // before its name on disk. Moved aside (not deleted) and counted as recovered bytes.
      const auto aside = file.string() + ".damaged";
      if (::rename(file.c_str(), aside.c_str()) != 0)
        return Error::from_errno("store: cannot move damaged segment " + file.string());
      counters_.recovered_bytes.add(static_cast<std::uint64_t>(st.st_size));
      counters_.records_cut.add();
      logger.warn("{}: bad or short segment header; moved aside to {}", file.string(), aside);
      continue;
    }
    if (!header->blocked && (newest || !header->sealed)) {
      auto recovered = recover_segment(file, seq);
      if (!recovered) return recovered.error();
      if (recovered->records == 0) {
        // Nothing whole in it: remove it so the next segment can take its number.
        if (::unlink(file.c_str()) != 0)
          return Error::from_errno("store: cannot remove empty segment " + file.string());
        continue;
      }
      sealed_.push_back(std::move(*recovered));
    } else {
      sealed_.push_back(Sealed{seq, file, static_cast<std::uint64_t>(st.st_size),
                               header->record_count, header->newest_event_ns});
    }
    if (!header->blocked && seal_to_blocks_) {
      // A sealed record log: the writer crashed between sealing and converting, or the segment
      // is of format 1. A failed conversion keeps the log (readable) and is counted.
      if (auto r = convert_file(sealed_.back()); !r) {
        counters_.seal_failures.add();
        logger.error("{}", r.error().message);
      }
    }
  }
  if (!sealed_.empty())
    next_sequence_ = sealed_.back().first_sequence + sealed_.back().records;
  else if (!files.empty())
    next_sequence_ = files.back().first;  // the only segment(s) held nothing whole
  // Retention may have deleted every segment; the LOCK file remembers where numbering stopped
  // so sequences never restart.
  char buf[32] = {};
  if (::pread(lock_fd_, buf, sizeof buf - 1, 0) > 0) {
    const std::uint64_t remembered = std::strtoull(buf, nullptr, 10);
    next_sequence_ = std::max(next_sequence_, remembered);
  }
  return {};
}

Result<SegmentWriter::Sealed> SegmentWriter::recover_segment(const std::filesystem::path& file,
                                                             std::uint64_t first_sequence) {
  int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Error::from_errno("store: cannot open " + file.string());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    auto e = Error::from_errno("store: cannot stat " + file.string());
    ::close(fd);
    return e;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* m = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) {
    auto e = Error::from_errno("store: cannot map " + file.string());
    ::close(fd);
    return e;
  }
  auto* base = static_cast<std::byte*>(m);
  auto header = *decode_segment_header(base);

  // Walk whole records; the first one that does not check out ends the segment.
  std::size_t off = segment_header_bytes;
  std::uint64_t records = 0;
  std::int64_t oldest = 0, newest = 0;
  while (off + record_frame_bytes <= size) {
    const std::uint32_t len = load_u32(base + off);
    if (len < 8 || len > max_record_payload_bytes) break;
    const std::size_t framed = framed_record_bytes(len);
    if (framed > size - off) break;
    if (crc32c(base + off + record_frame_bytes, len) != load_u32(base + off + 4)) break;
    std::int64_t t;
    std::memcpy(&t, base + off + record_frame_bytes, 8);
    if (records == 0 || t < oldest) oldest = t;
    if (records == 0 || t > newest) newest = t;
    ++records;
    off += framed;
  }
  // Bytes past the last whole record that are not zero: a torn or corrupt tail. Scanning from
  // the end is cheap for the usual case (a sealed file, or a preallocated area of zero pages).
  std::size_t end_of_data = off;
  for (std::size_t i = size; i > off; --i) {
    if (base[i - 1] != std::byte{0}) {
      end_of_data = i;
      break;
    }
  }
  const std::uint64_t lost = end_of_data - off;
  const std::uint64_t missing =
      header.sealed && header.record_count > records ? header.record_count - records : 0;

  SegmentHeader sealed = header;
  sealed.record_count = records;
  sealed.oldest_event_ns = oldest;
  sealed.newest_event_ns = newest;
  sealed.sealed = true;
  encode_segment_header(sealed, base);
  ::munmap(m, size);

  Result<void> result;
  const std::size_t keep = off + segment_trailer_bytes;
  // Shrink to the last record, then grow by the trailer: the trailer then reads as zeros
  // whatever the tail held.
  if (::ftruncate(fd, static_cast<off_t>(off)) != 0 ||
      ::ftruncate(fd, static_cast<off_t>(keep)) != 0)
    result = Error::from_errno("store: cannot truncate " + file.string());
  else if (policy_ != FsyncPolicy::none) {
    if (::fdatasync(fd) != 0)
      result = Error::from_errno("store: cannot sync " + file.string());
    else
      counters_.fsyncs.add();
  }
  ::close(fd);
  if (!result) return result.error();

  if (lost > 0 || missing > 0) {
    counters_.recovered_bytes.add(lost);
    counters_.records_cut.add();
    logger.warn(
        "recovered {}: kept {} whole records, cut {} bytes of a torn or corrupt tail at offset {}"
        "{}",
        file.string(), records, lost, off,
        missing ? fmt::format(" ({} records the header counted are gone)", missing) : "");
  }
  return Sealed{first_sequence, file, keep, records, newest};
}

Result<void> SegmentWriter::sync_directory() {
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Error::from_errno("store: cannot open folder " + dir_.string());
  int rc = ::fsync(dfd);
  int saved = errno;
  ::close(dfd);
  if (rc != 0) return Error::from_errno("store: cannot sync folder " + dir_.string(), saved);
  counters_.fsyncs.add();
  return {};
}

Result<void> SegmentWriter::create_segment(std::size_t min_bytes) {
  const std::size_t size = std::max<std::size_t>(config_.segment_bytes, min_bytes);
  const auto final_path = dir_ / segment_file_name(next_sequence_);
  const auto tmp_path = std::filesystem::path(final_path.string() + ".tmp");
  int fd = ::open(tmp_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error::from_errno("store: cannot create " + tmp_path.string());
  auto fail = [&](const std::string& what) {
    auto e = Error::from_errno(what + " " + tmp_path.string());
    ::close(fd);
    ::unlink(tmp_path.c_str());
    return e;
  };
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return fail("store: cannot size");
  // Reserve the blocks now: a write into a mapped hole on a full disk is a SIGBUS, an
  // ENOSPC here is an error we can report. File systems without fallocate keep the sparse file.
  if (int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
      rc != 0 && rc != EOPNOTSUPP && rc != EINVAL) {
    errno = rc;
    return fail("store: cannot allocate " + std::to_string(size) + " bytes for");
  }
  void* m = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) return fail("store: cannot map");
  SegmentHeader header;
  header.created_ns = now_ns();
  header.first_sequence = next_sequence_;
  encode_segment_header(header, static_cast<std::byte*>(m));
  // The header reaches the disk before the name does, so after power loss a segment name
  // always has a header behind it.
  if (policy_ != FsyncPolicy::none) {
    if (::msync(m, page_bytes(), MS_SYNC) != 0) {
      ::munmap(m, size);
      return fail("store: cannot sync");
    }
    counters_.fsyncs.add();
  }
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    ::munmap(m, size);
    return fail("store: cannot rename to " + final_path.string() + " from");
  }
  fd_ = fd;
  map_ = static_cast<std::byte*>(m);
  map_bytes_ = size;
  used_ = segment_header_bytes;
  synced_ = used_;
  active_path_ = final_path;
  active_header_ = header;
  counters_.segments_created.add();
  if (seal_to_blocks_) {
    // Blocks are built as the segment fills, so sealing does not stall the writer for a whole
    // segment's worth of compression. If this fails, sealing converts the whole log instead.
    if (auto r = blocks_->begin(header, final_path.string() + ".tmp"); !r)
      logger.warn("{}; the segment will be converted when sealed", r.error().message);
  }
  if (policy_ != FsyncPolicy::none) return sync_directory();
  return {};
}

Result<void> SegmentWriter::sync_active() {
  if (map_ == nullptr || synced_ == used_) return {};
  const std::size_t from = synced_ & ~(page_bytes() - 1);
  if (::msync(map_ + from, used_ - from, MS_SYNC) != 0)
    return Error::from_errno("store: cannot sync " + active_path_.string());
  counters_.fsyncs.add();
  synced_ = used_;
  last_sync_ = std::chrono::steady_clock::now();
  return {};
}

Result<void> SegmentWriter::convert_to_blocks(const std::byte* log, std::size_t log_bytes,
                                              const SegmentHeader& header,
                                              const std::filesystem::path& file,
                                              std::uint64_t& file_bytes) {
  const auto tmp = std::filesystem::path(file.string() + ".tmp");
  // Synced under every policy, once per segment: the rename drops the log, so an unsynced blocked
  // file could turn a power loss into the loss of a whole sealed segment, not just recent records.
  // The active segment's blocks were written as it filled (see `append`); only the last block and
  // the footer are left. Anything else (recovery, an incremental write that failed) converts the
  // whole log now.
  auto written =
      blocks_->active() ? blocks_->finish(true) : blocks_->write(log, log_bytes, header, tmp, true);
  if (!written) return written.error();
  counters_.fsyncs.add();
  // The rename replaces the log in one step: a reader sees the whole log or the whole blocked
  // file (one that mapped the log keeps its mapping). After power loss, the synced blocked file
  // or the log is there, never neither.
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    auto e = Error::from_errno("store: cannot rename " + tmp.string() + " to " + file.string());
    ::unlink(tmp.c_str());
    return e;
  }
  counters_.segments_sealed.add();
  counters_.blocks_sealed.add(written->blocks);
  counters_.sealed_bytes.add(written->file_bytes);
  counters_.sealed_raw_bytes.add(written->raw_bytes);
  file_bytes = written->file_bytes;
  if (policy_ != FsyncPolicy::none) return sync_directory();
  return {};
}

Result<void> SegmentWriter::convert_file(Sealed& sealed) {
  const int fd = ::open(sealed.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::from_errno("store: cannot open " + sealed.path.string());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    auto e = Error::from_errno("store: cannot stat " + sealed.path.string());
    ::close(fd);
    return e;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* m = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  const int saved = errno;
  ::close(fd);
  if (m == MAP_FAILED) return Error::from_errno("store: cannot map " + sealed.path.string(), saved);
  const auto* base = static_cast<const std::byte*>(m);
  Result<void> result;
  if (auto header = decode_segment_header(base); !header || header->blocked)
    result = Error{"store: " + sealed.path.string() + " is not a record log"};
  else
    result = convert_to_blocks(base, size, *header, sealed.path, sealed.bytes);
  ::munmap(m, size);
  return result;
}

Result<void> SegmentWriter::seal_active() {
  if (map_ == nullptr) return {};
  active_header_.sealed = true;
  encode_segment_header(active_header_, map_);
  Result<void> result;
  if (policy_ != FsyncPolicy::none) {
    // Records and the sealed header reach the disk before the file shrinks or is replaced.
    if (::msync(map_, used_, MS_SYNC) != 0)
      result = Error::from_errno("store: cannot sync " + active_path_.string());
    else
      counters_.fsyncs.add();
  }
  std::uint64_t file_bytes = used_ + segment_trailer_bytes;
  bool converted = false;
  if (blocks_ != nullptr && blocks_->active() &&
      (!result || active_header_.record_count == 0 || !seal_to_blocks_))
    blocks_->abort();
  if (result && seal_to_blocks_ && active_header_.record_count > 0) {
    // Converted straight from the mapping, before it goes: no second read of the log.
    if (auto r = convert_to_blocks(map_, used_, active_header_, active_path_, file_bytes); r) {
      converted = true;
    } else {
      counters_.seal_failures.add();
      result = r;
    }
  }
  ::munmap(map_, map_bytes_);
  map_ = nullptr;
  if (!converted) {
    // The trailer bytes are already zero (preallocated, never written).
    const std::size_t keep = used_ + segment_trailer_bytes;
    if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0 && result)
      result = Error::from_errno("store: cannot truncate " + active_path_.string());
    if (result && policy_ != FsyncPolicy::none) {
      if (::fdatasync(fd_) != 0)
        result = Error::from_errno("store: cannot sync " + active_path_.string());
      else
        counters_.fsyncs.add();
    }
  }
  ::close(fd_);
  fd_ = -1;
  sealed_.push_back(Sealed{active_header_.first_sequence, active_path_, file_bytes,
                           active_header_.record_count, active_header_.newest_event_ns});
  if (!result) return result;
  return apply_retention();
}

Result<void> SegmentWriter::remember_next_sequence() {
  const std::string text = std::to_string(next_sequence_) + "\n";
  if (::pwrite(lock_fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()) ||
      ::ftruncate(lock_fd_, static_cast<off_t>(text.size())) != 0)
    return Error::from_errno("store: cannot write " + (dir_ / "LOCK").string());
  return {};
}

Result<void> SegmentWriter::apply_retention() {
  const std::int64_t now = now_ns();
  last_retention_ns_ = now;
  std::uint64_t total = map_ ? used_ + segment_trailer_bytes : 0;
  for (const auto& s : sealed_)
    total += s.bytes;
  auto drop_oldest = [&]() -> Result<void> {
    const Sealed& s = sealed_.front();
    if (::unlink(s.path.c_str()) != 0 && errno != ENOENT)
      return Error::from_errno("store: retention cannot delete " + s.path.string());
    // Deliberate loss by policy: counted in segments_deleted, events_deleted, bytes_deleted.
    counters_.segments_deleted.add();
    counters_.events_deleted.add(s.records);
    counters_.bytes_deleted.add(s.bytes);
    total -= s.bytes;
    sealed_.pop_front();
    if (sealed_.empty() && map_ == nullptr) return remember_next_sequence();
    return {};
  };
  while (config_.max_total_bytes > 0 && total > config_.max_total_bytes && !sealed_.empty())
    if (auto r = drop_oldest(); !r) return r;
  if (config_.max_age_seconds > 0) {
    const std::int64_t limit =
        now - static_cast<std::int64_t>(config_.max_age_seconds) * 1'000'000'000;
    // Oldest first: a segment is deleted only when every segment before it is gone too.
    while (!sealed_.empty() && sealed_.front().newest_event_ns < limit)
      if (auto r = drop_oldest(); !r) return r;
  }
  return {};
}

Result<void> SegmentWriter::append(std::string_view records) {
  const auto* src = reinterpret_cast<const std::byte*>(records.data());
  const std::size_t total = records.size();
  if (map_ != nullptr && config_.max_segment_age_seconds > 0 && active_header_.record_count > 0 &&
      now_ns() - active_header_.created_ns >=
          static_cast<std::int64_t>(config_.max_segment_age_seconds) * 1'000'000'000) {
    if (auto r = seal_active(); !r) return r;
  }
  std::size_t pos = 0;
  while (pos < total) {
    // Gather the longest run of whole records that fits in the active segment.
    const std::size_t room = map_ ? map_bytes_ - segment_trailer_bytes - used_ : 0;
    std::size_t run = 0;
    std::uint64_t count = 0;
    std::int64_t oldest = active_header_.oldest_event_ns, newest = active_header_.newest_event_ns;
    bool first_record = active_header_.record_count == 0;
    std::size_t next_framed = 0;
    while (pos + run < total) {
      if (total - pos - run < record_frame_bytes + 8)
        return Error{"store: write() got bytes that are not whole framed records (offset " +
                     std::to_string(pos + run) + ")"};
      const std::uint32_t len = load_u32(src + pos + run);
      const std::size_t framed = framed_record_bytes(len);
      if (len < 8 || len > max_record_payload_bytes || framed > total - pos - run)
        return Error{"store: write() got bytes that are not whole framed records (offset " +
                     std::to_string(pos + run) + ")"};
      if (run + framed > room) {
        next_framed = framed;
        break;
      }
      std::int64_t t;
      std::memcpy(&t, src + pos + run + record_frame_bytes, 8);
      if (first_record || t < oldest) oldest = t;
      if (first_record || t > newest) newest = t;
      first_record = false;
      run += framed;
      ++count;
    }
    if (run > 0) {
      std::byte* dst = map_ + used_;
      // Everything but the first length word, then that word with release semantics: a reader
      // that loads a nonzero length (acquire) sees the whole run behind it.
      std::memcpy(dst + 4, src + pos + 4, run - 4);
      __atomic_store_n(reinterpret_cast<std::uint32_t*>(dst), load_u32(src + pos),
                       __ATOMIC_RELEASE);
      if (blocks_ != nullptr && blocks_->active()) {
        if (auto r = blocks_->add(dst, run); !r) {
          logger.warn("{}; the segment will be converted when sealed", r.error().message);
          blocks_->abort();
        }
      }
      used_ += run;
      pos += run;
      active_header_.record_count += count;
      active_header_.oldest_event_ns = oldest;
      active_header_.newest_event_ns = newest;
      next_sequence_ += count;
      counters_.events_written.add(count);
      counters_.bytes_written.add(run);
    }
    if (next_framed > 0) {
      if (auto r = seal_active(); !r) return r;
      if (auto r = create_segment(segment_header_bytes + next_framed + segment_trailer_bytes); !r)
        return r;
    }
  }
  switch (policy_) {
    case FsyncPolicy::batch:
      return sync_active();
    case FsyncPolicy::interval:
      if (std::chrono::steady_clock::now() - last_sync_ >=
          std::chrono::milliseconds(config_.fsync_interval_ms))
        return sync_active();
      return {};
    case FsyncPolicy::none:
      return {};
  }
  SLUICE_UNREACHABLE();
}

Result<void> SegmentWriter::flush() {
  const std::int64_t now = now_ns();
  if (map_ != nullptr && config_.max_segment_age_seconds > 0 && active_header_.record_count > 0 &&
      now - active_header_.created_ns >=
          static_cast<std::int64_t>(config_.max_segment_age_seconds) * 1'000'000'000)
    return seal_active();  // syncs and runs retention
  if (policy_ == FsyncPolicy::batch || (policy_ == FsyncPolicy::interval &&
                                        std::chrono::steady_clock::now() - last_sync_ >=
                                            std::chrono::milliseconds(config_.fsync_interval_ms))) {
    if (auto r = sync_active(); !r) return r;
  }
  if (now - last_retention_ns_ >= retention_period_ns) return apply_retention();
  return {};
}

Result<void> SegmentWriter::close() {
  if (map_ == nullptr) return {};
  return seal_active();
}

StoreStats SegmentWriter::stats() const {
  StoreStats s;
  for (const auto& seg : sealed_) {
    s.events += seg.records;
    s.bytes += seg.bytes;
  }
  s.segments = sealed_.size();
  if (map_ != nullptr) {
    s.events += active_header_.record_count;
    s.bytes += used_ + segment_trailer_bytes;
    s.segments += 1;
  }
  return s;
}

}  // namespace sluice
