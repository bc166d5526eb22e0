// SPDX-License-Identifier: Apache-2.0
/// The on-disk format of the event store: segment files, their header, the framed binary
/// records of a record log, and the block layout of a sealed segment. Everything is
/// little-endian. Changing any layout below means bumping `segment_format_version` and keeping a
/// decoder for the old one.
///
/// ## Segment file
///
/// A store is a folder of files named `seg-<first sequence as 16 lower-case hex digits>.sls`,
/// where the first sequence is the store-wide number of the segment's first record (records are
/// numbered from 0 in write order, across segments). Sorting the names sorts the segments.
/// A segment is created as `seg-….sls.tmp`, preallocated, given its header, and only then renamed,
/// so a reader never sees a file without a header. A segment comes in one of two layouts:
///
/// - **record log** (layout 0): the active segment. Records are appended one after another
///   through a shared mapping; readers scan it record by record.
/// - **blocks** (layout 1): what a record log becomes when the writer seals it. Its events are
///   regrouped into blocks of up to `block_max_events` events, each with an uncompressed index
///   area (dictionaries, code columns, token filter) and zstd-compressed event data, followed by a
///   footer that lists every block. The blocked file is written as `seg-….sls.tmp` and renamed
///   over the record log, so a segment name always holds one whole layout or the other.
///
/// Header (`segment_header_bytes` = 64 bytes):
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 0 | 8 | magic `SLUICESG` |
/// | 8 | 4 | u32 format version (3; 1 and 2 are still read, see below) |
/// | 12 | 4 | u32 header size in bytes (64) |
/// | 16 | 8 | i64 creation time, ns since the epoch (wall clock) |
/// | 24 | 8 | u64 first sequence (equals the file name's) |
/// | 32 | 8 | u64 record count; 0 until sealed |
/// | 40 | 8 | i64 oldest event time (ns) of its records; 0 until sealed |
/// | 48 | 8 | i64 newest event time (ns) of its records; 0 until sealed |
/// | 56 | 4 | u32 sealed: 1 once the writer closed the segment, else 0 |
/// | 60 | 4 | u32 layout: 0 record log, 1 blocks (format 1 has 0 here: always a record log) |
///
/// Format 1 differs from format 2 only in the record payload (it has no template id); format-1
/// segments are read as record logs and converted to blocks the next time a writer opens the
/// store. Format 3 differs from format 2 only in the block layout (see "Blocks"): a segment token
/// filter before the footer (named by the trailer), and each block's token filter first in its
/// index area with a CRC32C of its own in the footer entry, and block data that may be LZ4 as
/// well as zstd. Record logs of formats 2 and 3 are the same; blocked segments of format 2 stay
/// readable as they are.
///
/// ## Record log
///
/// After the header, records back to back, each starting at a multiple of 4 bytes:
///
/// | size | field |
/// | --- | --- |
/// | 4 | u32 payload length L (never 0) |
/// | 4 | u32 CRC32C of the L payload bytes |
/// | L | payload |
/// | 0–3 | zero padding to the next multiple of 4 |
///
/// A length of 0 where a record would start ends the segment. An active segment is preallocated
/// (`ftruncate` to the segment size, so the unused area reads as zeros); the writer copies a
/// record's bytes first and stores its length last (a release store on a 4-byte aligned word), so
/// a concurrent reader either sees 0 there or a whole record. A sealed record log is truncated to
/// its last record plus an 8-byte zero trailer (the end mark), so readers that mapped the larger
/// file never touch a page past the end of the file.
///
/// ### Record payload
///
/// | field | encoding |
/// | --- | --- |
/// | event_time_ns | i64, 8 bytes fixed (always at payload offset 0; the writer reads it) |
/// | receive_time_ns | varint of zigzag(receive − event), wrapping 64-bit arithmetic |
/// | line | varint |
/// | listener_id | varint |
/// | peer | u8 0 = none (family, port, address all zero); 1 = u8 family, u16 port, 16 bytes |
/// | facility, severity, format, status, reason, flags | u8 each |
/// | tz_offset_minutes | i16, 2 bytes |
/// | raw | varint length, bytes |
/// | host, app, procid, msgid, message, structured_data | a *slot* each (below) |
/// | source path | varint length, bytes |
/// | fields | varint count, then per field a name slot and a value slot |
/// | template_id | varint (format 2 only) |
///
/// A slot is a varint tag: `tag & 1 == 0` is a literal of `tag >> 1` bytes that follow;
/// `tag & 1 == 1` is a reference to `tag >> 1` bytes of `raw` at the varint offset that follows.
/// Varints are LEB128 (7 bits per byte, low group first, at most 10 bytes).
///
/// ## Blocks
///
/// After the header, blocks back to back, each starting at a multiple of 8 bytes: the block's
/// index area, then its compressed data. Then (format 3) the segment token filter, then the
/// footer, then the 32-byte trailer that ends the file.
///
/// Segment token filter (format 3): a token filter (token_filter.hpp layout: u32 bucket count
/// B, then B × 32 bytes) over the tokens of every block of the segment, starting at a multiple
/// of 8 bytes and ending where the footer starts. Its CRC32C and B are in the trailer, so a
/// query whose terms are absent from the whole segment reads the trailer, the footer and this
/// filter, and no block's index area. It is sized like a block's filter (12 bits per distinct
/// token of the segment). A segment of one block has none (B = 0 in the trailer): that block's
/// filter says the same.
///
/// Index area, format 3 (the footer entry holds a CRC32C of the token filter and one of the
/// rest, so a query that prunes the block by its filter checks and reads the filter alone):
///
/// | field | encoding |
/// | --- | --- |
/// | token filter | token_filter.hpp: u32 bucket count B, then B × 32 bytes |
/// | host, app, source path dictionaries | each: varint count, then per entry length, bytes |
/// | host, app, source code columns | each: u8 width (0, 1, 2, 4), then width × events bytes |
///
/// Index area, format 2 (one CRC32C over all of it): the dictionaries and code columns as above,
/// zero padding to a multiple of 4 bytes from the area's start, then the token filter.
///
/// A code column of width 0 means every code is 0 (a one-entry dictionary).
///
/// Data (CRC32C of the compressed bytes in the footer entry): one zstd frame, or in format 3 the
/// four bytes `SLZ4` (`block_lz4_magic`) followed by one LZ4 block (the LZ4 block format, no
/// frame) that decompresses to the footer's size after decompression; `[store] codec` picks one
/// per segment. Decompressed, it is four streams and their lengths: the raw stream (every event's
/// raw bytes back to back), the times, rows and slots streams, then three u32: the byte lengths of
/// times, rows and slots (raw takes the rest). The times stream holds per event varint
/// zigzag(event_time_ns − the previous event's), then per event varint zigzag(receive_time_ns − the
/// previous event's), each column's first value against the block's min event time. Per event, the
/// rows stream holds:
///
/// | field | encoding |
/// | --- | --- |
/// | line | varint zigzag(line − previous event's line), the first against 0 |
/// | listener_id, template_id | varint each |
/// | facility, severity, format, status, reason, flags | u8 each |
/// | tz_offset_minutes | varint zigzag |
/// | peer | u8 0 = none; 1 = u8 family, u16 port, 16 address bytes |
/// | raw length | varint |
/// | field count | varint |
///
/// and the slots stream holds, per event, slots for procid, msgid, message, structured_data,
/// then a name slot and a value slot per field. A block slot is a varint tag with the length in
/// `tag >> 2` and the kind in `tag & 3`: 0 a literal (the bytes follow), 1 a reference into the
/// event's raw bytes at the varint offset that follows, 2 a reference to the last `length` bytes
/// of raw (no offset). Host, app and source path are not in the data: they are the dictionary
/// entries the code columns name.
///
/// Footer: per block a 64-byte entry:
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 0 | 8 | u64 first sequence |
/// | 8 | 4 | u32 events |
/// | 12 | 4 | u32 index area CRC32C (format 3: of the area after the token filter) |
/// | 16 | 8 | i64 min event time (ns) |
/// | 24 | 8 | i64 max event time (ns) |
/// | 32 | 8 | u64 index area offset in the file (its size: data offset − index offset) |
/// | 40 | 8 | u64 data offset in the file |
/// | 48 | 4 | u32 data bytes (compressed) |
/// | 52 | 4 | u32 data bytes after decompression |
/// | 56 | 4 | u32 data CRC32C |
/// | 60 | 4 | u32 format 3: CRC32C of the block's token filter (format 2: reserved, 0) |
///
/// Trailer (`blocks_trailer_bytes` = 32, the last bytes of the file):
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 0 | 8 | magic `SLUICEFT` |
/// | 8 | 8 | u64 footer offset |
/// | 16 | 4 | u32 block count |
/// | 20 | 4 | u32 footer CRC32C (of block count × 64 bytes) |
/// | 24 | 4 | u32 segment token filter bucket count B; 0: no segment filter (format 2: always 0) |
/// | 28 | 4 | u32 CRC32C of the segment token filter's 4 + 32 × B bytes (format 2: reserved, 0) |
///
/// A reader checks the trailer, the footer's CRC and (format 3) the segment filter's CRC when it
/// opens a segment. A block's index area is checked by its CRC before any of it is trusted:
/// either for every block at open, or when a query first reads that block's index
/// (`SegmentIndex::open` with `IndexCheck::on_first_use`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/event/arena.hpp"
#include "sluice/event/event.hpp"

namespace sluice {

inline constexpr char segment_magic[8] = {'S', 'L', 'U', 'I', 'C', 'E', 'S', 'G'};
inline constexpr std::uint32_t segment_format_version = 3;
/// The oldest format version still read.
inline constexpr std::uint32_t oldest_segment_format_version = 1;
/// First bytes of a format-3 block's data compressed with LZ4 (a zstd frame starts with
/// 28 B5 2F FD, so the two cannot be confused).
inline constexpr char block_lz4_magic[4] = {'S', 'L', 'Z', '4'};
inline constexpr char blocks_trailer_magic[8] = {'S', 'L', 'U', 'I', 'C', 'E', 'F', 'T'};
inline constexpr std::size_t blocks_trailer_bytes = 32;
inline constexpr std::size_t block_footer_entry_bytes = 64;
/// A sealed block holds at most this many events, or `block_max_raw_bytes` of raw lines:
/// "a few thousand events" keeps a block's dictionaries and token filter selective (a block
/// skipped by the filter skips this much decompression) while zstd still sees enough similar
/// lines to compress well (a 1 MiB window holds 4096 typical syslog lines).
inline constexpr std::uint32_t block_max_events = 4096;
inline constexpr std::size_t block_max_raw_bytes = 1u << 20;
inline constexpr std::size_t segment_header_bytes = 64;
/// Length word + CRC word in front of every payload.
inline constexpr std::size_t record_frame_bytes = 8;
/// Records start at multiples of this, so the length word can be stored atomically.
inline constexpr std::size_t record_alignment = 4;
/// The zero end mark after the last record of a sealed segment.
inline constexpr std::size_t segment_trailer_bytes = 8;
/// Largest payload accepted. Far above any log record (sources cap messages at 64 KiB–1 MiB);
/// it bounds what a reader trusts from a length word before the CRC is checked.
inline constexpr std::size_t max_record_payload_bytes = std::size_t{1} << 30;

/// The decoded segment header. Plain value; no invariants beyond the table above.
struct SegmentHeader {
  std::int64_t created_ns = 0;       ///< wall clock when the writer created the segment
  std::uint64_t first_sequence = 0;  ///< store-wide number of the segment's first record
  std::uint64_t record_count = 0;    ///< records in the segment; 0 until sealed
  std::int64_t oldest_event_ns = 0;  ///< smallest event time of its records; 0 until sealed
  std::int64_t newest_event_ns = 0;  ///< largest event time (retention by age); 0 until sealed
  bool sealed = false;               ///< the writer closed it; no record will be added
  /// Format version read from the file (the writer writes `segment_format_version`).
  std::uint32_t version = segment_format_version;
  /// False: a record log; true: blocks with a footer (sealed only).
  bool blocked = false;
};

/// Writes the 64 header bytes of `header` (of its `version`) to `out`. Does not allocate.
void encode_segment_header(const SegmentHeader& header, std::byte* out);

/// Decodes 64 header bytes; nullopt when the magic, version (1 to 3) or header size does not
/// match, or the layout is unknown.
std::optional<SegmentHeader> decode_segment_header(const std::byte* in);

/// `seg-<16 hex digits>.sls` for `first_sequence`. Allocates the returned string.
std::string segment_file_name(std::uint64_t first_sequence);

/// The first sequence in a segment file name, or nullopt when `name` is not one (temporary
/// `.tmp` files included).
std::optional<std::uint64_t> parse_segment_file_name(std::string_view name);

/// Rounds a frame + payload of `payload_bytes` up to the record alignment.
constexpr std::size_t framed_record_bytes(std::size_t payload_bytes) {
  return (record_frame_bytes + payload_bytes + record_alignment - 1) & ~(record_alignment - 1);
}

/// Appends one framed record (length, CRC, payload, padding) for `event` to `out`. Returns false
/// and appends nothing when the payload would exceed `max_record_payload_bytes`. Thread-safe (no
/// shared state); grows `out` at most once per call.
bool append_record(std::string& out, const Event& event, std::string_view source_path);

/// An event decoded from a record: views point into the record's bytes (the reader's mapping),
/// `event.fields` into the caller's arena.
struct StoredEvent {
  Event event;                   ///< every field as written; `raw` and slots view the record
  std::string_view source_path;  ///< the batch's file path when written; empty for network input
  /// Store-wide record number (the segment's first sequence plus the record's index).
  std::uint64_t sequence = 0;
};

/// Decodes a payload (CRC already checked) of format `version` (1 to 3) into `out`. Returns false
/// when the bytes do not follow the layout above (out of bounds, a reference outside `raw`, an
/// unknown enum value). Field arrays come from `arena`; nothing else allocates. Thread-safe.
bool decode_record(std::string_view payload, StoredEvent& out, Arena& arena,
                   std::uint32_t version = segment_format_version);

}  // namespace sluice
