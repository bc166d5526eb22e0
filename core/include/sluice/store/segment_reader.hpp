// SPDX-License-Identifier: Apache-2.0
/// Reading a store: `SegmentReader` iterates the records of one segment file through a read-only
/// mapping and decodes them into `StoredEvent`s (views into the mapping, or for a blocked segment
/// into the block it decoded last); `StoreReader` lists a store folder's segments in order and
/// visits every record of all of them. For block-level access (pruning by time and token,
/// parallel decoding) use segment_index.hpp.
///
/// Safe while a `SegmentWriter` appends to the same folder (from this or another process): a
/// reader loads each length word with acquire semantics and the writer stores it last, so a
/// reader sees a zero length (the end, for now) or a whole record, never a torn one. A record
/// whose length runs past the file, whose CRC does not match or whose payload does not decode
/// is corruption: the segment's iteration stops there with an error naming the file and offset,
/// and `StoreReader` goes on with the next segment. In a blocked segment a corrupt block is
/// reported the same way and iteration goes on with the next block.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/common/result.hpp"
#include "sluice/event/arena.hpp"
#include "sluice/store/segment_format.hpp"

namespace sluice {

class SegmentIndex;
class BlockScratch;

/// Iterates one segment file, either layout. Owns its mapping (released by the destructor).
/// Events it returns from a record log view that mapping and stay valid until the reader is
/// destroyed; events from a blocked segment view the block decoded last and stay valid until
/// the next `next` call that moves to another block. Not thread-safe; use one reader per thread.
class SegmentReader {
 public:
  /// Maps `file` read-only and checks its header. Errors name the file and the errno text or what
  /// is wrong with the header.
  static Result<std::unique_ptr<SegmentReader>> open(const std::filesystem::path& file);
  /// Unmaps the segment; events returned by `next` become invalid.
  ~SegmentReader();
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  /// What `next` found.
  enum class Step : std::uint8_t {
    record,  ///< `out` holds the next record
    end,     ///< no further whole record (for now, if the segment is being written)
    /// The record at `offset()` is corrupt; `error()` says how. In a record log iteration is
    /// over; in a blocked segment the whole block is skipped and `next` goes on with the next.
    corrupt,
  };
  /// Decodes the next record into `out` (fields into `arena`). Does not allocate except from
  /// `arena` and, on corruption, for the error text.
  Step next(StoredEvent& out, Arena& arena);
  /// Record logs only: the next record's payload (CRC checked, not decoded) as a view into the
  /// mapping, for record kinds other than events (the alert log). In a blocked segment it
  /// returns `Step::corrupt` at once. Does not allocate except for an error text.
  Step next_payload(std::string_view& payload);

  /// After `Step::corrupt`: "<file>: corrupt record at offset N: <why>".
  const std::string& error() const { return error_; }
  /// Byte offset of the next record (or of the corrupt one); in a blocked segment, of the
  /// current (or corrupt) block's compressed data.
  std::uint64_t offset() const { return offset_; }
  /// True when the file is a sealed segment in the block layout.
  bool blocked() const { return index_ != nullptr; }
  const SegmentHeader& header() const { return header_; }
  const std::filesystem::path& path() const { return path_; }
  /// Records returned so far.
  std::uint64_t records() const { return records_; }

 private:
  SegmentReader() = default;
  Step corrupt(std::string why);

  std::filesystem::path path_;
  const std::byte* map_ = nullptr;
  std::size_t size_ = 0;
  std::size_t offset_ = segment_header_bytes;
  std::uint64_t records_ = 0;
  SegmentHeader header_;
  std::string error_;
  bool done_ = false;
  // Blocked segments: the index, the scratch of the current block and where in it we are.
  std::unique_ptr<SegmentIndex> index_;
  std::unique_ptr<BlockScratch> scratch_;
  std::size_t block_ = 0;
  std::span<const StoredEvent> decoded_;
  std::size_t position_ = 0;
};

/// A problem found in one segment while reading a store.
struct SegmentError {
  std::filesystem::path path;
  std::uint64_t offset = 0;  ///< where in the file (0 for problems with the whole file)
  std::string message;       ///< names the file and the offset too
};

/// What `StoreReader::for_each` read.
struct ScanReport {
  std::uint64_t records = 0;
  std::uint64_t segments = 0;
  std::vector<SegmentError> errors;
};

/// Lists and reads the segments of a store folder. Holds only the list; safe to use from several
/// threads at once (each `for_each` opens its own readers).
class StoreReader {
 public:
  /// Lists the segment files of `dir` in sequence order. Errors name the folder.
  static Result<StoreReader> open(const std::filesystem::path& dir);

  /// The segment files found by `open` (or the last `refresh`), oldest first.
  const std::vector<std::filesystem::path>& segments() const { return segments_; }
  /// Lists the folder again (new segments from a running writer, deletions by retention).
  Result<void> refresh();

  /// Visits every whole record of every segment in order. `arena` is reset after each record, so
  /// the visitor must copy what it keeps; the event's other views are valid only during the call.
  /// `visit` returns false to stop early. A corrupt segment (or block of a blocked segment) is
  /// reported in `errors` and reading goes on with the next segment (block); a segment deleted
  /// since the listing (retention) is skipped silently.
  ScanReport for_each(Arena& arena, const std::function<bool(const StoredEvent&)>& visit) const;

 private:
  std::filesystem::path dir_;
  std::vector<std::filesystem::path> segments_;
};

}  // namespace sluice
