// SPDX-License-Identifier: Apache-2.0
/// Segment and store readers. The read side trusts nothing in a file: every length is bounded by
/// the mapping before the CRC is computed, and the payload decoder checks every bound.
#include "sluice/store/segment_reader.hpp"

#include <algorithm>
#include <cstring>
#include <system_error>

#include "segment_map.hpp"
#include "sluice/store/crc32c.hpp"
#include "sluice/store/segment_index.hpp"

namespace sluice {

Result<std::unique_ptr<SegmentReader>> SegmentReader::open(const std::filesystem::path& file) {
  auto mapping = map_segment(file);
  if (!mapping) return mapping.error();
  std::unique_ptr<SegmentReader> r(new SegmentReader());
  r->path_ = file;
  r->header_ = mapping->header;
  if (mapping->header.blocked) {
    // A sealed segment is read block by block: its index takes the mapping over.
    auto index = SegmentIndex::adopt(file, *mapping);
    if (!index) return index.error();
    r->index_ = std::move(*index);
    r->header_ = r->index_->header();
    r->scratch_ = std::make_unique<BlockScratch>();
  } else {
    r->map_ = mapping->data;
    r->size_ = mapping->size;
  }
  return r;
}

SegmentReader::~SegmentReader() {
  unmap_segment(map_, size_);
}

SegmentReader::Step SegmentReader::corrupt(std::string why) {
  done_ = true;
  error_ = path_.string() + ": corrupt record at offset " + std::to_string(offset_) + ": " + why;
  return Step::corrupt;
}

SegmentReader::Step SegmentReader::next(StoredEvent& out, Arena& arena) {
  if (index_ != nullptr) {
    while (position_ == decoded_.size()) {
      if (block_ == index_->blocks().size()) return Step::end;
      const std::size_t b = block_++;
      offset_ = index_->blocks()[b].data_offset;
      position_ = 0;
      auto events = index_->decode(b, *scratch_);
      if (!events) {
        decoded_ = {};
        error_ = events.error().message;
        return Step::corrupt;
      }
      decoded_ = *events;
    }
    out = decoded_[position_++];
    ++records_;
    return Step::record;
  }
  std::string_view payload;
  const Step step = next_payload(payload);
  if (step != Step::record) return step;
  if (!decode_record(payload, out, arena, header_.version)) {
    --records_;
    offset_ -= framed_record_bytes(payload.size());
    return corrupt("the payload does not follow the record layout");
  }
  out.sequence = header_.first_sequence + records_ - 1;
  return Step::record;
}

SegmentReader::Step SegmentReader::next_payload(std::string_view& out) {
  if (index_ != nullptr) {
    error_ = path_.string() + ": a blocked segment has no record payloads";
    return Step::corrupt;
  }
  if (done_) return Step::end;
  if (offset_ + record_frame_bytes > size_) {
    done_ = header_.sealed;
    if (header_.sealed && offset_ < size_)
      return corrupt("the file ends inside a record frame (" + std::to_string(size_) + " bytes)");
    if (header_.sealed && records_ < header_.record_count)
      return corrupt("the file ends after " + std::to_string(records_) + " of " +
                     std::to_string(header_.record_count) + " records");
    return Step::end;
  }
  // Pairs with the writer's release store: everything of the record is visible once its length.
  const std::uint32_t len =
      __atomic_load_n(reinterpret_cast<const std::uint32_t*>(map_ + offset_), __ATOMIC_ACQUIRE);
  if (len == 0) {
    if (header_.sealed && records_ < header_.record_count)
      return corrupt("the segment ends after " + std::to_string(records_) + " of " +
                     std::to_string(header_.record_count) + " records its header counts");
    return Step::end;
  }
  const std::size_t framed = framed_record_bytes(len);
  if (len < 8 || len > max_record_payload_bytes || framed > size_ - offset_)
    return corrupt("length " + std::to_string(len) + " runs past the end of the file (" +
                   std::to_string(size_) + " bytes)");
  std::uint32_t stored_crc;
  std::memcpy(&stored_crc, map_ + offset_ + 4, 4);
  const auto* payload = reinterpret_cast<const char*>(map_ + offset_ + record_frame_bytes);
  const std::uint32_t crc = crc32c(payload, len);
  if (crc != stored_crc) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "CRC32C mismatch (stored %08x, computed %08x)", stored_crc, crc);
    return corrupt(buf);
  }
  out = std::string_view(payload, len);
  ++records_;
  offset_ += framed;
  return Step::record;
}

Result<StoreReader> StoreReader::open(const std::filesystem::path& dir) {
  StoreReader r;
  r.dir_ = dir;
  if (auto s = r.refresh(); !s) return s.error();
  return r;
}

Result<void> StoreReader::refresh() {
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> found;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec))
    if (auto seq = parse_segment_file_name(it->path().filename().string()))
      found.emplace_back(*seq, it->path());
  if (ec) return Error{"store: cannot list " + dir_.string() + ": " + ec.message()};
  std::sort(found.begin(), found.end());
  segments_.clear();
  for (auto& f : found)
    segments_.push_back(std::move(f.second));
  return {};
}

std::unique_ptr<SegmentReader> open_listed_segment(const std::filesystem::path& file,
                                                   ScanReport& report) {
  auto reader = SegmentReader::open(file);
  if (!reader) {
    std::error_code ec;
    if (std::filesystem::exists(file, ec))  // else deleted by retention since listed
      report.errors.push_back(SegmentError{file, 0, reader.error().message});
    return nullptr;
  }
  ++report.segments;
  return std::move(*reader);
}

ScanReport StoreReader::for_each(Arena& arena,
                                 const std::function<bool(const StoredEvent&)>& visit) const {
  ScanReport report;
  StoredEvent ev;
  for (const auto& file : segments_) {
    auto reader = open_listed_segment(file, report);
    if (!reader) continue;
    for (;;) {
      auto step = reader->next(ev, arena);
      if (step == SegmentReader::Step::end) break;
      if (step == SegmentReader::Step::corrupt) {
        report.errors.push_back(SegmentError{file, reader->offset(), reader->error()});
        if (reader->blocked()) continue;  // the next block is still readable
        break;
      }
      ++report.records;
      const bool go_on = visit(ev);
      arena.reset();
      if (!go_on) return report;
    }
  }
  return report;
}

}  // namespace sluice
