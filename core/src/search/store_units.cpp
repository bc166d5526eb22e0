// SPDX-License-Identifier: Apache-2.0
#include "store_units.hpp"

namespace sluice::search::detail {

Result<StoreUnits> StoreUnits::open(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return Error{"store: " + dir.string() + " is not a folder"};
  auto reader = StoreReader::open(dir);
  if (!reader) return reader.error();
  StoreUnits s;
  s.segments_ = reader->segments();
  for (std::size_t i = 0; i < s.segments_.size(); ++i) {
    Unit u;
    u.segment = i;
    auto seg = SegmentReader::open(s.segments_[i]);
    if (seg && (*seg)->header().sealed) {
      u.min_time = (*seg)->header().oldest_event_ns;
      u.max_time = (*seg)->header().newest_event_ns;
    }
    s.units_.push_back(u);
  }
  return s;
}

bool StoreUnits::may_match(const Unit&, const CompiledQuery&) const {
  return true;
}

}  // namespace sluice::search::detail
