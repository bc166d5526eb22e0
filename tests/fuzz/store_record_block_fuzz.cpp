// SPDX-License-Identifier: Apache-2.0
/// Fuzz target: a sealed block as read back from a damaged disk. The input supplies a block's
/// index area and its decompressed data; the harness wraps them in a segment file with valid
/// CRCs and a zstd frame of raw (stored) blocks, so the fuzzer reaches the index-area parser and
/// the stream decoder behind the checksums. The first byte's top bit picks the segment format
/// (2: one CRC over the index area; 3: the token filter first, with a CRC of its own), and each
/// input is read with the index checked at open and on first use. Whatever the bytes,
/// `SegmentIndex::open` and `decode` either reject them with an error or return events whose views
/// lie inside the segment mapping or the scratch buffer.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "sluice/store/crc32c.hpp"
#include "sluice/store/segment_index.hpp"

namespace {

template <class T>
void put(std::string& out, T v) {
  char b[sizeof v];
  std::memcpy(b, &v, sizeof v);
  out.append(b, sizeof v);
}

/// A zstd frame (RFC 8878) holding `data` in raw blocks: single-segment, 8-byte content size.
std::string raw_zstd_frame(std::string_view data) {
  std::string f;
  put<std::uint32_t>(f, 0xFD2FB528u);
  f.push_back(static_cast<char>(0xE0));  // content size flag 3 (8 bytes), single segment
  put<std::uint64_t>(f, data.size());
  constexpr std::size_t max_block = 128 << 10;
  std::size_t off = 0;
  do {
    const std::size_t n = std::min(max_block, data.size() - off);
    const bool last = off + n == data.size();
    const std::uint32_t header = (static_cast<std::uint32_t>(n) << 3) | (last ? 1u : 0u);
    f.append(reinterpret_cast<const char*>(&header), 3);
    f.append(data.substr(off, n));
    off += n;
  } while (off < data.size());
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size < 3) return 0;
  const std::uint32_t events = 1 + (bytes[0] & 0x7F);
  const std::uint32_t version = (bytes[0] & 0x80) ? 2 : 3;
  const std::size_t split = std::min<std::size_t>(size - 3, bytes[1] | (bytes[2] << 8));
  const std::string_view input(reinterpret_cast<const char*>(bytes) + 3, size - 3);
  const std::string_view index = input.substr(0, split);
  const std::string_view data = input.substr(split);
  const std::string frame = raw_zstd_frame(data);

  sluice::SegmentHeader h;
  h.sealed = true;
  h.blocked = true;
  h.record_count = events;
  h.version = version;
  std::string file(sluice::segment_header_bytes, '\0');
  sluice::encode_segment_header(h, reinterpret_cast<std::byte*>(file.data()));
  const std::uint64_t index_offset = file.size();
  file += index;
  const std::uint64_t data_offset = file.size();
  file += frame;
  while (file.size() % 8 != 0)
    file.push_back('\0');
  const std::uint64_t footer_offset = file.size();
  std::string footer;
  put<std::uint64_t>(footer, 0);
  put<std::uint32_t>(footer, events);
  // Format 3: the filter's bytes, as its leading bucket count says (none when it does not fit).
  std::size_t filter_bytes = 0;
  if (version == 3 && index.size() >= 4) {
    std::uint32_t buckets;
    std::memcpy(&buckets, index.data(), 4);
    if (buckets != 0 && 4 + std::uint64_t{buckets} * 32 <= index.size())
      filter_bytes = 4 + std::size_t{buckets} * 32;
  }
  const std::string_view rest = index.substr(filter_bytes);
  put<std::uint32_t>(footer, sluice::crc32c(rest.data(), rest.size()));
  put<std::int64_t>(footer, 0);
  put<std::int64_t>(footer, 1000);
  put<std::uint64_t>(footer, index_offset);
  put<std::uint64_t>(footer, data_offset);
  put<std::uint32_t>(footer, static_cast<std::uint32_t>(frame.size()));
  put<std::uint32_t>(footer, static_cast<std::uint32_t>(data.size()));
  put<std::uint32_t>(footer, sluice::crc32c(frame.data(), frame.size()));
  put<std::uint32_t>(footer, version == 3 ? sluice::crc32c(index.data(), filter_bytes) : 0);
  file += footer;
  file.append(sluice::blocks_trailer_magic, sizeof sluice::blocks_trailer_magic);
  put<std::uint64_t>(file, footer_offset);
  put<std::uint32_t>(file, 1);
  put<std::uint32_t>(file, sluice::crc32c(footer.data(), footer.size()));
  put<std::uint64_t>(file, 0);

  static const int fd = ::memfd_create("sluice-block-fuzz", 0);
  if (fd < 0) std::abort();
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, file.data(), file.size(), 0) != static_cast<ssize_t>(file.size()))
    std::abort();
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (auto lazy = sluice::SegmentIndex::open(path, sluice::IndexCheck::on_first_use)) {
    if (const auto* filter = (*lazy)->block_tokens(0)) (void)filter->may_contain("failed");
    (void)(*lazy)->block(0);
  }
  auto seg = sluice::SegmentIndex::open(path);
  if (!seg) return 0;
  if ((*seg)->blocks().size() != 1) std::abort();
  const sluice::BlockInfo& block = (*seg)->blocks()[0];
  for (std::uint32_t i = 0; i < block.events && block.error.empty(); ++i)
    if (block.host_codes[i] >= block.hosts.size() || block.app_codes[i] >= block.apps.size() ||
        block.source_codes[i] >= block.source_paths.size())
      std::abort();
  (void)block.may_contain_token("failed");
  static sluice::BlockScratch scratch;
  auto decoded = (*seg)->decode(0, scratch);
  if (!decoded) return 0;
  if (decoded->size() != events) std::abort();
  std::size_t total = 0;
  for (const auto& s : *decoded) {
    total += s.event.raw.size() + s.event.message.size();
    for (const auto& f : s.event.fields)
      total += f.name.size() + f.value.size();
  }
  __asm__ volatile("" : : "r"(total) : "memory");  // keeps the reads
  return 0;
}
