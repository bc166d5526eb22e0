// SPDX-License-Identifier: Apache-2.0
/// `StoreConfig`: the `[store]` section of the configuration, a plain struct with in-class
/// defaults, and the fsync policy it names. The durability each policy gives is documented on
/// `FsyncPolicy`; the writer that applies it is in segment_writer.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

/// When appended records are forced to stable storage. In every policy a record is in the
/// kernel's page cache as soon as `write` returns (the segment is a shared file mapping), so a
/// crash of the Sluice process alone (SIGKILL, abort) loses nothing that `write` accepted.
/// The policies differ only for a crash of the machine (power loss, kernel panic):
enum class FsyncPolicy : std::uint8_t {
  /// `msync(MS_SYNC)` of the appended range before every `write` returns: every record of every
  /// completed `write` survives power loss. Costs one synchronous flush per batch.
  batch,
  /// `msync(MS_SYNC)` when `fsync_interval_ms` has passed since the last one, checked on every
  /// `write` and `flush`: power loss loses at most the records of the last interval (plus the
  /// time until the next `write`/`flush` call).
  interval,
  /// Never forced; the kernel writes dirty pages back on its own schedule
  /// (`vm.dirty_expire_centisecs`, 30 s by default): power loss may lose that much.
  none,
};

/// Parses "batch", "interval" or "none"; false when unknown.
bool parse_fsync_policy(std::string_view text, FsyncPolicy& out);
/// The configuration name of `policy`.
std::string_view to_string(FsyncPolicy policy);

/// Event store settings. Plain value, copied into the writer at open.
struct StoreConfig {
  /// Folder that holds the segment files; created (with parents) when missing.
  std::string path = "/var/lib/sluice/store";
  /// Size of a segment file. The active segment is preallocated to this size and mapped; it is
  /// sealed (truncated to its records) when the next record does not fit. 256 MiB keeps the
  /// file count low (a few per GiB) while one mapping stays cheap to set up.
  std::uint64_t segment_bytes = 256ull << 20;
  /// Seal the active segment once it is this old (wall clock since creation), so quiet stores
  /// still produce segments that retention can delete. 0 = only roll when full.
  std::uint64_t max_segment_age_seconds = 3600;
  /// "batch", "interval" or "none"; see `FsyncPolicy` for what each survives.
  std::string fsync = "batch";
  /// With `fsync = "interval"`: the longest time between two syncs.
  std::uint64_t fsync_interval_ms = 1000;
  /// Delete the oldest sealed segments while the store is larger than this (sealed file sizes
  /// plus the used part of the active segment; the active segment's preallocated rest, up to
  /// `segment_bytes`, and its blocks built so far, `<segment>.tmp`, come on top on disk; the
  /// alert log is not counted). 0 = unlimited.
  std::uint64_t max_total_bytes = 0;
  /// Delete the oldest sealed segments whose newest event time is older than this (against the
  /// wall clock). 0 = unlimited.
  std::uint64_t max_age_seconds = 0;
  /// zstd level for sealed blocks, 1 (fastest) to 19. On the Loghub corpus level 3 costs a fifth
  /// more sealing time than level 1 and stores no less (1 MiB blocks of similar lines leave
  /// little for the slower levels to find); see bench/RESULTS.md, "Event store".
  int compression_level = 1;
  /// Codec of sealed blocks: "zstd" (the default: the smaller store, 0.139 of the raw bytes on
  /// the search corpus) or "lz4" (LZ4 level 1: blocks decompress 2–3 times faster, so searches
  /// that scan every block run faster, for a larger store; see bench/RESULTS.md, "Search").
  /// `compression_level` applies to zstd only. A store may mix segments of both.
  std::string codec = "zstd";
};

/// The block codecs `StoreConfig::codec` names.
enum class BlockCodec : std::uint8_t { zstd, lz4 };
/// Parses "zstd" or "lz4"; false when unknown.
bool parse_block_codec(std::string_view text, BlockCodec& out);

}  // namespace sluice
