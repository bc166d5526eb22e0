// SPDX-License-Identifier: Apache-2.0
#include "store_units.hpp"

#include <fcntl.h>
#include <tbb/parallel_for.h>
#include <unistd.h>

#include <atomic>

#include "sluice/store/token_filter.hpp"

namespace sluice::search::detail {

namespace {

/// The header of a segment file, read with one pread (no mapping); nullopt when unreadable (the
/// full open then reports why).
std::optional<SegmentHeader> read_header(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::byte buf[segment_header_bytes];
  const auto n = ::pread(fd, buf, sizeof buf, 0);
  ::close(fd);
  if (n != static_cast<ssize_t>(sizeof buf)) return std::nullopt;
  return decode_segment_header(buf);
}

}  // namespace

Result<StoreUnits> StoreUnits::open(const std::filesystem::path& dir, std::int64_t from_ns,
                                    std::int64_t to_ns) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return Error{"store: " + dir.string() + " is not a folder"};
  auto listing = StoreReader::open(dir);
  if (!listing) return listing.error();
  const auto& files = listing->segments();
  StoreUnits s;
  s.segment_count_ = files.size();
  std::vector<std::shared_ptr<const SegmentIndex>> opened(files.size());
  std::vector<std::optional<SegmentError>> failed(files.size());
  std::atomic<std::size_t> skipped{0};
  const bool bounded = from_ns != std::numeric_limits<std::int64_t>::min() ||
                       to_ns != std::numeric_limits<std::int64_t>::max();
  tbb::parallel_for(std::size_t{0}, files.size(), [&](std::size_t i) {
    if (bounded) {
      // A sealed segment's header holds its event time range: skip it unopened when it lies
      // outside the query's (timelines look at minutes of a store that holds months).
      auto h = read_header(files[i]);
      if (h && h->sealed && h->record_count > 0 &&
          (h->newest_event_ns < from_ns || h->oldest_event_ns >= to_ns)) {
        skipped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
    auto seg = SegmentIndex::open(files[i], IndexCheck::on_first_use);
    if (seg) {
      opened[i] = std::shared_ptr<const SegmentIndex>(std::move(*seg));
      return;
    }
    std::error_code ec;
    if (!std::filesystem::exists(files[i], ec)) return;  // deleted by retention since listed
    failed[i] = SegmentError{files[i], 0, seg.error().message};
  });
  s.segments_skipped_ = skipped.load();
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (opened[i]) s.segments_.push_back(std::move(opened[i]));
    if (failed[i]) s.open_errors_.push_back(std::move(*failed[i]));
  }
  for (const auto& seg : s.segments_) {
    if (!seg->blocked()) {
      Unit u;
      u.segment = seg.get();
      if (seg->header().sealed && seg->header().record_count > 0) {
        u.min_time = seg->header().oldest_event_ns;
        u.max_time = seg->header().newest_event_ns;
      }
      s.units_.push_back(u);
      continue;
    }
    const auto blocks = seg->blocks();
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      if (!blocks[b].error.empty()) {
        s.open_errors_.push_back(SegmentError{seg->path(), blocks[b].data_offset, blocks[b].error});
        continue;
      }
      Unit u;
      u.segment = seg.get();
      u.block = &blocks[b];
      u.block_index = b;
      u.min_time = blocks[b].min_event_ns;
      u.max_time = blocks[b].max_event_ns;
      s.units_.push_back(u);
    }
  }
  return s;
}

namespace {

bool dictionary_has(const std::vector<std::string_view>& dict, std::string_view value) {
  for (auto v : dict)
    if (iequals(v, value)) return true;
  return false;
}

}  // namespace

StoreUnits::Verdict StoreUnits::may_match(const Unit& unit, const CompiledQuery& query) const {
  if (unit.block == nullptr) return Verdict::may_match;  // a record log has no index
  const SegmentIndex& seg = *unit.segment;
  if (seg.has_segment_tokens() && !query.token_requirement().satisfied([&](std::string_view token) {
        return seg.may_contain_token(token);
      }))
    return Verdict::no_match;
  // The block's filter first: it is checked on its own (format 3), so a block it rules out
  // costs the filter's bytes and not its dictionaries and code columns.
  const TokenFilter* filter = seg.block_tokens(unit.block_index);
  if (filter == nullptr) return Verdict::corrupt;
  if (!query.token_requirement().satisfied(
          [&](std::string_view token) { return filter->may_contain(token); }))
    return Verdict::no_match;
  const BlockInfo& b = seg.block(unit.block_index);
  if (!b.error.empty()) return Verdict::corrupt;
  for (const auto& r : query.required_values()) {
    switch (r.field) {
      case FieldId::host:
        if (!dictionary_has(b.hosts, r.value)) return Verdict::no_match;
        break;
      case FieldId::app:
        if (!dictionary_has(b.apps, r.value)) return Verdict::no_match;
        break;
      case FieldId::source_path:
        if (!dictionary_has(b.source_paths, r.value)) return Verdict::no_match;
        break;
      default:
        break;
    }
  }
  return Verdict::may_match;
}

void StoreUnits::count_codes(const CodeColumn& codes, std::size_t entries,
                             std::vector<std::uint64_t>& counts) {
  counts.assign(entries, 0);
  const std::uint32_t n = codes.size();
  if (entries == 0 || n == 0) return;
  switch (codes.width()) {
    case 0:
      counts[0] = n;
      return;
    case 1: {
      // The common case (a block rarely has more than 255 hosts): a byte per event, counted in
      // four interleaved tables so that runs of one host do not serialise on one counter.
      const auto* p = reinterpret_cast<const std::uint8_t*>(codes.data());
      std::uint32_t t[4][256] = {};
      std::uint32_t i = 0;
      for (; i + 4 <= n; i += 4) {
        ++t[0][p[i]];
        ++t[1][p[i + 1]];
        ++t[2][p[i + 2]];
        ++t[3][p[i + 3]];
      }
      for (; i < n; ++i)
        ++t[0][p[i]];
      for (std::size_t c = 0; c < entries && c < 256; ++c)
        counts[c] = std::uint64_t{t[0][c]} + t[1][c] + t[2][c] + t[3][c];
      return;
    }
    default:
      for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint32_t c = codes[i];
        if (c < entries) ++counts[c];
      }
      return;
  }
}

std::vector<std::uint64_t>& StoreUnits::counts_scratch() {
  thread_local std::vector<std::uint64_t> counts;
  return counts;
}

}  // namespace sluice::search::detail
