// SPDX-License-Identifier: Apache-2.0
/// `SegmentWriter` appends framed records (segment_format.hpp) to the active segment of a store
/// folder through a shared, writable file mapping; it rolls, seals, syncs, applies retention, and
/// recovers the store when it opens it.
///
/// Recovery on open: the newest segment (and any other segment whose header is not marked
/// sealed) is scanned record by record; the first record that is short, runs past the file, has a
/// zero length or a CRC mismatch ends it. The file is truncated to its last whole record plus the
/// zero trailer and its header is rewritten as sealed. The nonzero bytes that were cut off are
/// counted in `recovered_bytes` (and `records_cut` when any), and logged once per segment.
/// Appending then continues in a new segment numbered after the last kept record, so no record is
/// written twice and the recovered segment is never modified again. A newest segment whose
/// header is unreadable (creation torn by power loss under fsync = "none") is renamed to
/// `<name>.damaged`, its size counted in `recovered_bytes`; an older one is kept as it is. Leftover
/// `.tmp` files (a crash during segment creation, or a blocked file not yet complete) hold no
/// record that is not also in a log, and are removed.
///
/// Sealing: the active record log is also converted to the block layout (segment_format.hpp,
/// "Blocks") as it fills: every 4096 events (or 1 MiB of raw bytes), a block with dictionaries,
/// code columns and a token filter, its event data compressed with zstd at `compression_level`,
/// is appended to `<segment>.tmp` beside the log, on the writer's thread, inside `append`. When
/// the segment is full or old, or the writer closes, the last block, the footer and the header
/// are added (no stall for a whole segment's compression). The blocked file is synced
/// (under every fsync policy: once per segment, so a power loss never takes a sealed segment
/// with it), and renamed over the log. A crash before the rename leaves the log, which recovery
/// converts; recovery also converts every
/// sealed record log it finds (format-1 segments included). If the conversion fails (a full
/// disk), the sealed log is kept, readable, and counted in `seal_failures`; if only the
/// incremental file fails, the whole log is converted at the seal instead.
///
/// Deliberate losses, each counted: torn tails at recovery (`recovered_bytes`, `records_cut`),
/// segments deleted by retention (`segments_deleted`, `events_deleted`, `bytes_deleted`).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "sluice/common/result.hpp"
#include "sluice/metrics/counter.hpp"
#include "sluice/store/segment_format.hpp"
#include "sluice/store/store_config.hpp"

namespace sluice {

class BlockWriter;

/// The store's counters. Written by the writer thread, readable from any thread.
struct StoreCounters {
  Counter events_written;    ///< records appended
  Counter bytes_written;     ///< framed record bytes appended (frame and padding included)
  Counter segments_created;  ///< segment files created
  Counter segments_deleted;  ///< sealed segments deleted by retention
  Counter events_deleted;    ///< records in the segments retention deleted
  Counter bytes_deleted;     ///< file bytes retention deleted
  Counter fsyncs;            ///< msync/fdatasync/fsync calls made for durability
  Counter recovered_bytes;   ///< bytes cut off torn segment tails at open
  Counter records_cut;       ///< segments whose tail held a partial or corrupt record at open
  Counter events_too_large;  ///< events not stored: payload over `max_record_payload_bytes`
  Counter segments_sealed;   ///< record logs converted to the block layout
  Counter blocks_sealed;     ///< blocks written into sealed segments
  Counter sealed_bytes;      ///< file bytes of the blocked segments written (indexes included)
  Counter sealed_raw_bytes;  ///< raw event bytes inside those segments
  Counter seal_failures;     ///< conversions that failed (the record log is kept and readable)
};

/// Size of the store as the writer knows it.
struct StoreStats {
  std::uint64_t events = 0;    ///< records in the store's segments
  std::uint64_t segments = 0;  ///< segment files, the active one included
  std::uint64_t bytes = 0;     ///< bytes of the sealed files plus the used part of the active one
};

/// One writer per store folder, enforced with an exclusive `flock` on `<path>/LOCK` (released when
/// the writer or its process goes). When retention deletes every segment, the next sequence is
/// written into LOCK (decimal text), so record numbers never restart. Not thread-safe: every call
/// comes from one thread (the pipeline's sink thread). `counters()` may be read from any thread.
class SegmentWriter {
 public:
  /// Opens (creating when missing) the store folder `config.path`, takes its lock, recovers it (see
  /// the file comment) and applies retention. Does not create a segment until the first append.
  /// Errors name the path and the errno text, or the key of a bad setting.
  static Result<std::unique_ptr<SegmentWriter>> open(const StoreConfig& config);
  /// As `open`, choosing whether sealed segments are converted to blocks (false keeps record
  /// logs; the alert log uses this, its records not being events).
  static Result<std::unique_ptr<SegmentWriter>> open(const StoreConfig& config,
                                                     bool seal_to_blocks);
  /// Seals the active segment (errors are logged, not returned; call `close` to see them).
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  /// Appends whole framed records (as made by `append_record`, back to back). A record never
  /// straddles segments: when the next one does not fit, the active segment is sealed and a new
  /// one created (sized for the record when it alone exceeds `segment_bytes`). Rolls first when
  /// the active segment is older than `max_segment_age_seconds`. Then applies the fsync policy.
  /// Copies bytes only; allocates only when creating a segment. An error leaves the records
  /// before the failing one appended.
  Result<void> append(std::string_view records);
  /// Applies the fsync policy to what was appended (batch: sync now; interval: sync when due;
  /// none: nothing), rolls an aged segment, and runs retention at most once a second.
  Result<void> flush();
  /// Seals the active segment. The writer may append again afterwards (into a new segment).
  Result<void> close();

  const StoreCounters& counters() const { return counters_; }
  /// Current size of the store. Writer thread only (or after it stopped).
  StoreStats stats() const;
  const std::filesystem::path& path() const { return dir_; }
  /// Sequence the next appended record gets. Writer thread only.
  std::uint64_t next_sequence() const { return next_sequence_; }
  FsyncPolicy fsync_policy() const { return policy_; }

  /// Replaces the wall clock (ns since the epoch) used for segment age and retention; for tests.
  void set_clock(std::function<std::int64_t()> now_ns) { now_ns_ = std::move(now_ns); }

 private:
  struct Sealed {
    std::uint64_t first_sequence = 0;
    std::filesystem::path path;
    std::uint64_t bytes = 0;
    std::uint64_t records = 0;
    std::int64_t newest_event_ns = 0;
  };

  SegmentWriter(const StoreConfig& config, FsyncPolicy policy, bool seal_to_blocks);
  Result<void> convert_to_blocks(const std::byte* log, std::size_t log_bytes,
                                 const SegmentHeader& header, const std::filesystem::path& file,
                                 std::uint64_t& file_bytes);
  Result<void> convert_file(Sealed& sealed);
  Result<void> recover();
  Result<Sealed> recover_segment(const std::filesystem::path& file, std::uint64_t first_sequence);
  Result<void> create_segment(std::size_t min_bytes);
  Result<void> seal_active();
  Result<void> sync_active();
  Result<void> apply_retention();
  Result<void> sync_directory();
  Result<void> remember_next_sequence();
  std::int64_t now_ns() const { return now_ns_(); }

  StoreConfig config_;
  FsyncPolicy policy_;
  std::filesystem::path dir_;
  std::function<std::int64_t()> now_ns_;
  std::deque<Sealed> sealed_;
  std::uint64_t next_sequence_ = 0;

  int lock_fd_ = -1;
  // The active segment; `map_ == nullptr` when there is none.
  int fd_ = -1;
  std::byte* map_ = nullptr;
  std::size_t map_bytes_ = 0;
  std::size_t used_ = 0;
  std::size_t synced_ = 0;
  std::filesystem::path active_path_;
  SegmentHeader active_header_;
  std::chrono::steady_clock::time_point last_sync_{};
  std::int64_t last_retention_ns_ = 0;

  StoreCounters counters_;
  bool seal_to_blocks_ = true;
  std::unique_ptr<BlockWriter> blocks_;
};

}  // namespace sluice
