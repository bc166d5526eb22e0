// SPDX-License-Identifier: Apache-2.0
/// Opening a segment file for reading: one read-only mapping of the whole file and its decoded
/// header. Shared by `SegmentReader` and `SegmentIndex`, so a file is opened, checked and mapped
/// in one place (and once, when a reader hands a sealed segment on to its index).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>

#include "sluice/common/result.hpp"
#include "sluice/store/segment_format.hpp"
#include "sluice/store/segment_reader.hpp"

namespace sluice {

/// A read-only mapping of a segment file; whoever holds it unmaps it (`unmap_segment`).
struct SegmentMapping {
  const std::byte* data = nullptr;
  std::size_t size = 0;
  SegmentHeader header;
};

/// Opens and maps `file` and decodes its header. Errors name the file and the errno text, or say
/// that the file is too short or has no segment header of a known version.
Result<SegmentMapping> map_segment(const std::filesystem::path& file);

/// Releases a mapping from `map_segment` (no-op for an empty one).
void unmap_segment(const std::byte* data, std::size_t size);

/// Opens a listed segment for a store-wide scan and counts it in `report`. Null when it cannot be
/// read (the error goes into `report`) or was deleted by retention since the listing (silently).
std::unique_ptr<SegmentReader> open_listed_segment(const std::filesystem::path& file,
                                                   ScanReport& report);

}  // namespace sluice
