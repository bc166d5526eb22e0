// SPDX-License-Identifier: Apache-2.0
/// `BlockWriter` turns a sealed record log into the block layout (segment_format.hpp, "Blocks"):
/// it regroups the records into blocks, builds each block's dictionaries, code columns and
/// token filter, compresses the event data with zstd and writes the file with its footer.
/// Private to the store: the segment writer calls it when it seals a segment and when it
/// recovers a store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sluice/common/result.hpp"
#include "sluice/event/arena.hpp"
#include "sluice/store/segment_format.hpp"
#include "sluice/store/store_config.hpp"
#include "sluice/store/token_filter.hpp"

struct ZSTD_CCtx_s;

namespace sluice {

/// What converting one segment produced.
struct BlockedSegment {
  std::uint64_t records = 0;     ///< events written (equals the log's records)
  std::uint64_t blocks = 0;      ///< blocks written
  std::uint64_t file_bytes = 0;  ///< size of the blocked file
  std::uint64_t raw_bytes = 0;   ///< sum of the events' raw sizes
  std::int64_t oldest_event_ns = 0;
  std::int64_t newest_event_ns = 0;
};

/// Converts record logs to blocked segments. Not thread-safe; one per segment writer. Keeps its
/// buffers between segments (a few MiB for 4096-event blocks).
class BlockWriter {
 public:
  /// `compression_level` is zstd's (1 fastest .. 19); `codec` compresses the blocks' data.
  BlockWriter(int compression_level, BlockCodec codec);
  ~BlockWriter();
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;

  /// Reads the whole records of the record log `log` (`log_bytes` from the start of the file,
  /// header included; records of format `header.version`) and writes the blocked segment to
  /// `out_path` (created or truncated), with `header`'s creation time and first sequence. With
  /// `sync`, the file is fdatasync'ed before returning. The log must hold only whole, checked
  /// records up to its end mark (the writer's own active segment, or one recovery has checked).
  /// Errors name `out_path` and the errno text, or the record that does not decode.
  Result<BlockedSegment> write(const std::byte* log, std::size_t log_bytes,
                               const SegmentHeader& header, const std::filesystem::path& out_path,
                               bool sync);

  /// Incremental conversion, so the writer seals a segment as it fills instead of all at once:
  /// `begin` creates `out_path` for a segment with `header`'s creation time, first sequence and
  /// record format; `add` takes whole framed records in order (as appended to the log; stops at
  /// a zero length) and writes each block as it fills; `finish` writes the last block, footer,
  /// trailer and header (fdatasync'ed with `sync`) and closes the file. Records passed to `add`
  /// must stay mapped until `finish` (dictionaries view them). After an error, the caller
  /// calls `abort`, which removes the file; `finish` removes it itself.
  Result<void> begin(const SegmentHeader& header, const std::filesystem::path& out_path);
  Result<void> add(const std::byte* records, std::size_t bytes);
  Result<BlockedSegment> finish(bool sync);
  void abort();
  /// True between a successful `begin` and `finish`/`abort`.
  bool active() const { return fd_ >= 0; }

 private:
  struct Dictionary {
    std::vector<std::string_view> values;
    std::unordered_map<std::string_view, std::uint32_t> codes;
    std::vector<std::uint32_t> column;  // per event
    std::string_view last;
    std::uint32_t last_code = 0;
    bool has_last = false;
    /// Code of `v`; `added` set when it is new to the block.
    std::uint32_t code(std::string_view v, bool& added);
    void clear();
  };

  void add_event(const StoredEvent& stored);
  void reset_block();
  void add_value_tokens(std::string_view value, std::string_view raw);
  Result<void> flush_block(int fd, const std::filesystem::path& out_path);

  int level_;
  BlockCodec codec_;
  ZSTD_CCtx_s* cctx_ = nullptr;
  Arena arena_;
  TokenFilterBuilder tokens_;
  /// Every block's token hashes, for the segment token filter written before the footer.
  TokenFilterBuilder segment_tokens_;
  Dictionary hosts_, apps_, sources_;
  std::string rows_, slots_, data_, compressed_, index_, out_, footer_;
  std::uint32_t events_ = 0;
  std::int64_t min_ns_ = 0, max_ns_ = 0;
  std::vector<std::int64_t> times_, receive_times_;
  std::uint64_t first_sequence_ = 0;  // of the block being built
  std::uint64_t next_sequence_ = 0;
  std::uint64_t file_offset_ = 0;  // bytes written to the file so far
  std::uint64_t prev_line_ = 0;
  std::uint64_t blocks_ = 0;
  // The segment being written.
  int fd_ = -1;
  std::filesystem::path out_path_;
  SegmentHeader header_;
  BlockedSegment result_;
  std::size_t block_raw_ = 0;
};

}  // namespace sluice
