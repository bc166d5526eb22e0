// SPDX-License-Identifier: Apache-2.0
#include "segment_map.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace sluice {

Result<SegmentMapping> map_segment(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::from_errno("store: cannot open " + file.string());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    auto e = Error::from_errno("store: cannot stat " + file.string());
    ::close(fd);
    return e;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size < segment_header_bytes) {
    ::close(fd);
    return Error{"store: " + file.string() + " is shorter than a segment header (" +
                 std::to_string(size) + " bytes)"};
  }
  // The size is a snapshot: a writer never grows a segment after creating it, and sealing
  // shrinks it only down to the end mark, which lies past every record a reader can reach.
  void* m = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  const int saved = errno;
  ::close(fd);
  if (m == MAP_FAILED) return Error::from_errno("store: cannot map " + file.string(), saved);
  SegmentMapping mapping{static_cast<const std::byte*>(m), size, {}};
  auto header = decode_segment_header(mapping.data);
  if (!header) {
    unmap_segment(mapping.data, mapping.size);
    return Error{"store: " + file.string() +
                 " is not a Sluice segment of format version 1 to 3 (bad header)"};
  }
  mapping.header = *header;
  return mapping;
}

void unmap_segment(const std::byte* data, std::size_t size) {
  if (data != nullptr) ::munmap(const_cast<std::byte*>(data), size);
}

}  // namespace sluice
