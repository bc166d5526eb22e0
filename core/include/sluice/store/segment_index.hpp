// SPDX-License-Identifier: Apache-2.0
/// The block-level read API of the event store, for search: enumerate the sealed blocks of every
/// segment with what their index says (sequence range, event time range, a token filter,
/// host/app/source-path dictionaries and per-event dictionary codes), decode the blocks that
/// survive pruning (in parallel: decoding is const and thread-safe), and read the segments that
/// have no index yet (the active one) record by record.
///
/// Typical use (one query):
///
///     auto store = StoreIndex::open(dir);                // lists and opens every segment
///     // (a query opens each with `IndexCheck::on_first_use` and prunes a whole segment with
///     // `seg->may_contain_token`, then a block with `seg->block_tokens(b)`, before `block(b)`)
///     for (const auto& err : store->errors()) report(err);  // unreadable segments, named
///     for (const auto& seg : store->segments()) {
///       if (!seg->blocked()) { scan seg->log_reader() record by record; continue; }
///       for (std::size_t b = 0; b < seg->blocks().size(); ++b) {
///         const BlockInfo& block = seg->blocks()[b];
///         if (!block.error.empty()) { report(block.error); continue; }   // corrupt index area
///         if (block.max_event_ns < from || block.min_event_ns >= to) continue;
///         if (!block.may_contain_token("failed")) continue;
///         // `count by host` without decoding:
///         for (std::uint32_t i = 0; i < block.events; ++i)
///         ++counts[block.hosts[block.host_codes[i]]];
///         // or decode (one BlockScratch per thread):
///         auto events = seg->decode(b, scratch);   // Result<std::span<const StoredEvent>>
///       }
///     }
///
/// Lifetimes: `BlockInfo` and every view in it (dictionary strings, code columns, filter) point
/// into the segment's read-only mapping and stay valid while the `SegmentIndex` lives (the
/// `StoreIndex` holds them by `shared_ptr`, so keep either). Events from `decode` view the
/// scratch's buffer (raw, procid, msgid, message, structured data, fields) and the mapping
/// (host, app, source path); they stay valid until that scratch decodes another block.
///
/// Safe beside a running writer: segments are listed once by `open`; a segment the writer seals
/// and converts afterwards keeps the mapping taken at open (the old file stays readable until
/// unmapped), and a segment deleted by retention before it was opened is skipped silently.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/common/result.hpp"
#include "sluice/event/arena.hpp"
#include "sluice/store/segment_format.hpp"
#include "sluice/store/segment_reader.hpp"
#include "sluice/store/token_filter.hpp"

struct ZSTD_DCtx_s;

namespace sluice {

struct SegmentMapping;

/// A per-event column of dictionary codes, 0, 1, 2 or 4 bytes per event (width 0: the
/// dictionary has one entry and every code is 0). A view; cheap to copy.
class CodeColumn {
 public:
  CodeColumn() = default;
  CodeColumn(const std::byte* data, std::uint32_t width, std::uint32_t size)
      : data_(data), width_(width), size_(size) {}
  /// Code of event `i` (0 <= i < size()): an index into the matching dictionary. Does not check
  /// bounds in release builds.
  std::uint32_t operator[](std::size_t i) const {
    switch (width_) {
      case 0:
        return 0;
      case 1:
        return static_cast<std::uint8_t>(data_[i]);
      case 2: {
        std::uint16_t v;
        std::memcpy(&v, data_ + 2 * i, 2);
        return v;
      }
      default: {
        std::uint32_t v;
        std::memcpy(&v, data_ + 4 * i, 4);
        return v;
      }
    }
  }
  /// Events in the column (the block's event count).
  std::uint32_t size() const { return size_; }
  /// Bytes per code: 0, 1, 2 or 4.
  std::uint32_t width() const { return width_; }
  /// The codes as stored (width() * size() bytes, little-endian), for vectorised counting.
  const std::byte* data() const { return data_; }

 private:
  const std::byte* data_ = nullptr;
  std::uint32_t width_ = 0;
  std::uint32_t size_ = 0;
};

/// One sealed block, as the segment's footer and the block's index area describe it. Every code
/// in a column is checked against its dictionary when the segment is opened.
struct BlockInfo {
  std::uint64_t first_sequence = 0;  ///< store-wide sequence of the block's first event
  std::uint32_t events = 0;          ///< events in the block (sequences first .. first+events-1)
  std::int64_t min_event_ns = 0;     ///< smallest event time in the block
  std::int64_t max_event_ns = 0;     ///< largest event time in the block (inclusive)
  /// Distinct `Event::host` values of the block, in first-seen order (may include "").
  std::vector<std::string_view> hosts;
  /// Distinct `Event::app` values.
  std::vector<std::string_view> apps;
  /// Distinct source paths (`StoredEvent::source_path`; "" for network input).
  std::vector<std::string_view> source_paths;
  CodeColumn host_codes;    ///< per event, an index into `hosts`
  CodeColumn app_codes;     ///< per event, an index into `apps`
  CodeColumn source_codes;  ///< per event, an index into `source_paths`
  /// Over the tokens (tokens.hpp) of every event's raw bytes, field values, host, app, procid,
  /// msgid and source path.
  TokenFilter tokens;
  /// Non-empty when the block's index area is corrupt (CRC mismatch, bad layout): "<file>: block
  /// N (sequences A..B): <why>". Its other members are then only the footer's (sequences, times)
  /// (format 3: and its token filter when the filter's own CRC matched) and it cannot be decoded;
  /// the other blocks are unaffected.
  std::string error;

  /// False when `token` (any case) is certainly in no event of this block.
  bool may_contain_token(std::string_view token) const { return tokens.may_contain(token); }
  /// As `may_contain_token` with a hash from `token_hash` (hash once, test many blocks).
  bool may_contain_hash(std::uint64_t hash) const { return tokens.may_contain_hash(hash); }

  // Where the block's compressed events lie in the file (set from the footer).
  std::uint64_t data_offset = 0;
  std::uint32_t data_bytes = 0;      ///< compressed size
  std::uint32_t data_raw_bytes = 0;  ///< size after decompression
  std::uint32_t data_crc = 0;        ///< CRC32C of the compressed bytes
};

/// Per-thread state for `SegmentIndex::decode`: the decompressed bytes, the decoded events and
/// their field arrays. Not thread-safe; one per thread. Reused across blocks (keeps its memory).
class BlockScratch {
 public:
  BlockScratch() = default;
  ~BlockScratch();
  BlockScratch(const BlockScratch&) = delete;
  BlockScratch& operator=(const BlockScratch&) = delete;

 private:
  friend class SegmentIndex;
  std::string buffer_;
  std::vector<StoredEvent> events_;
  std::vector<std::string_view> raws_;
  Arena arena_;
  /// zstd's decompression context, created on first use and reused for every block (creating
  /// one per block costs an allocation and its initialisation).
  ZSTD_DCtx_s* dctx_ = nullptr;
};

/// When `SegmentIndex::open` checks and parses the blocks' index areas.
enum class IndexCheck {
  /// Every block's, at open: `blocks()` is complete. For readers that visit every block.
  at_open,
  /// A block's on its first `block(i)` (or decode): a query that the segment token filter or
  /// the time range rules out reads no index area at all. `blocks()` then holds only what the
  /// footer says (sequences, times, data location) for blocks not yet loaded.
  on_first_use,
};

/// One segment file opened for reading: its header, and for a sealed segment in the block
/// layout its blocks. Owns a read-only mapping of the file (released by the destructor).
/// Every const member is thread-safe.
class SegmentIndex {
 public:
  /// Maps `file`, checks its header and, for the block layout, the trailer, the footer's CRC,
  /// the segment token filter's CRC (format 3) and, with `IndexCheck::at_open`, every block's
  /// index area (a bad index area marks that block only, see `BlockInfo::error`). Errors name
  /// the file and what is wrong: not a segment, unknown version, truncated or corrupt footer.
  static Result<std::unique_ptr<SegmentIndex>> open(const std::filesystem::path& file,
                                                    IndexCheck check = IndexCheck::at_open);
  ~SegmentIndex();
  SegmentIndex(const SegmentIndex&) = delete;
  SegmentIndex& operator=(const SegmentIndex&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const SegmentHeader& header() const { return header_; }
  /// True for a sealed segment in the block layout. False for a record log: the active segment,
  /// a sealed one the writer has not converted yet (it converts them at the next open), or a
  /// format-1 segment. A record log has no blocks and is read with `log_reader()`.
  bool blocked() const { return blocked_; }
  /// The blocks in sequence order; empty for a record log. Opened with
  /// `IndexCheck::on_first_use`, the index members of a block (dictionaries, code columns,
  /// filter, index errors) are set only once `block(i)` has loaded it: use `block(i)` then.
  std::span<const BlockInfo> blocks() const { return blocks_; }
  /// Block `i` (< blocks().size()) with its index area checked and parsed: loaded on the first
  /// call when the segment was opened with `IndexCheck::on_first_use` (a CRC32C over the area
  /// and its parse; `BlockInfo::error` says when it is bad). Thread-safe; the returned reference
  /// lives as long as this object.
  const BlockInfo& block(std::size_t i) const;
  /// Block `i`'s token filter, checked on its own on first use (format 3: the filter has its own
  /// CRC, so pruning a block reads its filter and nothing else of its index area); null when the
  /// block's index area is bad (`block(i).error` then says why). Format 2: as `block(i).tokens`.
  /// Thread-safe.
  const TokenFilter* block_tokens(std::size_t i) const;
  /// False when `hash` (from `token_hash`) is certainly in no event of the segment: the segment
  /// token filter of a format-3 segment of several blocks; true when there is no such filter.
  bool may_contain_hash(std::uint64_t hash) const {
    return segment_tokens_.buckets() == 0 || segment_tokens_.may_contain_hash(hash);
  }
  /// As `may_contain_hash` for a token (any case).
  bool may_contain_token(std::string_view token) const {
    return may_contain_hash(token_hash(token));
  }
  /// True when the segment has a segment token filter (format 3, more than one block).
  bool has_segment_tokens() const { return segment_tokens_.buckets() != 0; }

  /// Decodes every event of block `block` into `scratch` and returns them in sequence order
  /// (`StoredEvent::sequence` set). Thread-safe: many threads may decode blocks of one segment at
  /// once, each with its own scratch. Allocates only in the scratch (amortised to nothing).
  /// Errors (CRC mismatch of the compressed bytes, a zstd error, a layout error, a corrupt index
  /// area) read "<file>: block N (sequences A..B): <why>" and leave other blocks readable.
  Result<std::span<const StoredEvent>> decode(std::size_t block, BlockScratch& scratch) const;

  /// For queries that read nothing but the raw lines: decompresses block `block` into `scratch`
  /// and returns every event's raw bytes in sequence order, without decoding the other fields
  /// (the rows stream is walked only for the raw lengths). The views stay valid until `scratch`
  /// decodes another block. Same checks and errors as `decode` for the data CRC, zstd and the
  /// raw and rows streams; thread-safe as `decode` is.
  Result<std::span<const std::string_view>> decode_raw(std::size_t block,
                                                       BlockScratch& scratch) const;

  /// A record-by-record reader over this file (for a record log: its records as far as they
  /// are written; for a blocked segment: its blocks in order, decoded one at a time). Opens and
  /// maps the file again, so it may outlive this object.
  Result<std::unique_ptr<SegmentReader>> log_reader() const { return SegmentReader::open(path_); }

 private:
  friend class SegmentReader;
  SegmentIndex() = default;
  /// `open` on a file already mapped by `map_segment`; takes the mapping over (even on error).
  static Result<std::unique_ptr<SegmentIndex>> adopt(const std::filesystem::path& file,
                                                     const SegmentMapping& mapping,
                                                     IndexCheck check = IndexCheck::at_open);
  /// Checks the data CRC of block `index` and decompresses it into `scratch.buffer_`.
  Result<std::string_view> decompress(std::size_t index, BlockScratch& scratch) const;
  /// Checks and parses block `i`'s index area into `blocks_[i]` (sets its error when bad).
  void load_index(std::size_t i) const;
  /// Format 3: checks block `i`'s token filter alone and sets its `tokens` and `filter_ok_`.
  void load_filter(std::size_t i) const;
  /// Sets `b.error` to "<block>: `why`" and clears its dictionaries and code columns.
  void clear_index(BlockInfo& b, const std::string& why, std::size_t i) const;
  /// Where a block's index area lies and its CRCs, from the footer.
  struct IndexArea {
    std::uint64_t offset = 0;
    std::uint64_t bytes = 0;       ///< 0: the footer entry is bad (the block's error says why)
    std::uint32_t crc = 0;         ///< of the area (format 3: of the area after the filter)
    std::uint32_t filter_crc = 0;  ///< format 3: of the token filter
  };
  std::filesystem::path path_;
  const std::byte* map_ = nullptr;
  std::size_t size_ = 0;
  SegmentHeader header_;
  bool blocked_ = false;
  /// Index members of a block are written once, under its `loaded_` flag (`load_index`).
  mutable std::vector<BlockInfo> blocks_;
  std::vector<IndexArea> index_areas_;
  std::unique_ptr<std::once_flag[]> loaded_;         ///< per block: `load_index` ran
  std::unique_ptr<std::once_flag[]> filter_loaded_;  ///< per block (format 3): `load_filter` ran
  mutable std::vector<std::uint8_t> filter_ok_;      ///< per block (format 3): filter intact
  TokenFilter segment_tokens_;
};

/// Every segment of a store folder, opened once. Holds shared ownership of the segments, so a
/// query may keep any of them beyond the `StoreIndex`. Thread-safe for concurrent const use.
class StoreIndex {
 public:
  /// Lists `dir` and opens each segment file in sequence order. A segment that cannot be opened
  /// (bad header, truncated or corrupt footer) goes to `errors()`; the others are readable.
  /// Errors only when the folder cannot be listed.
  static Result<StoreIndex> open(const std::filesystem::path& dir);

  /// The segments that opened, oldest first (the active record log, if any, last).
  const std::vector<std::shared_ptr<const SegmentIndex>>& segments() const { return segments_; }
  /// One entry per segment file that could not be opened.
  const std::vector<SegmentError>& errors() const { return errors_; }

 private:
  std::vector<std::shared_ptr<const SegmentIndex>> segments_;
  std::vector<SegmentError> errors_;
};

}  // namespace sluice
