// SPDX-License-Identifier: Apache-2.0
/// The store reader: corrupt records reported by file and offset while other segments stay
/// readable, and a reader thread racing a writer never sees a torn record.
#include "sluice/store/segment_reader.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

#include "store_test_support.hpp"
#include "tests_support.hpp"

namespace sluice {
namespace {

using test::numbered_batch;
using test::read_store;
using test::store_batch;
using test::test_config;

TEST(SegmentFormat, FileNamesSortBySequence) {
  EXPECT_EQ(segment_file_name(0x1a2b), "seg-0000000000001a2b.sls");
  EXPECT_EQ(parse_segment_file_name("seg-0000000000001a2b.sls"), 0x1a2bu);
  EXPECT_EQ(parse_segment_file_name("seg-ffffffffffffffff.sls"), UINT64_MAX);
  EXPECT_FALSE(parse_segment_file_name("seg-0000000000001a2b.sls.tmp"));
  EXPECT_FALSE(parse_segment_file_name("seg-0000000000001A2B.sls"));
  EXPECT_FALSE(parse_segment_file_name("notes.txt"));
}

TEST(SegmentFormat, DecoderRejectsTruncatedPayloads) {
  auto batch = numbered_batch(0, 1);
  std::string bytes;
  ASSERT_TRUE(append_record(bytes, batch->events()[0], "/x"));
  std::uint32_t len;
  std::memcpy(&len, bytes.data(), 4);
  Arena arena;
  StoredEvent ev;
  const std::string_view payload(bytes.data() + record_frame_bytes, len);
  EXPECT_TRUE(decode_record(payload, ev, arena));
  for (std::size_t n = 0; n < len; ++n)
    EXPECT_FALSE(decode_record(payload.substr(0, n), ev, arena));
}

TEST(StoreReader, CorruptRecordIsReportedAndOtherSegmentsStayReadable) {
  test::TempDir dir;
  // Record logs (as the active segment is) so single records can be damaged in place.
  {
    std::vector<BatchPtr> batches;
    std::vector<const EventBatch*> views;
    for (std::uint64_t b = 0; b < 6; ++b) {
      batches.push_back(numbered_batch(b * 10, 10));
      views.push_back(batches.back().get());
    }
    ASSERT_TRUE(test::write_record_logs(test_config(dir.path(), 1024), views));
  }
  auto reader = StoreReader::open(dir.path());
  ASSERT_TRUE(reader);
  const auto segments = reader->segments();
  ASSERT_GE(segments.size(), 3u);
  const auto victim = segments[1];
  // Find the middle record of the second segment and flip one bit of its payload.
  std::uint64_t victim_offset = 0, victim_records = 0, before = 0;
  {
    auto seg = SegmentReader::open(victim);
    ASSERT_TRUE(seg);
    ASSERT_FALSE((*seg)->blocked());
    Arena arena;
    StoredEvent ev;
    while ((*seg)->next(ev, arena) == SegmentReader::Step::record)
      ++victim_records;
    ASSERT_GE(victim_records, 3u);
    auto again = SegmentReader::open(victim);
    for (std::uint64_t i = 0; i < victim_records / 2; ++i)
      (*again)->next(ev, arena);
    victim_offset = (*again)->offset();
    before = victim_records / 2;
  }
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(victim_offset + record_frame_bytes + 3));
    char c;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(victim_offset + record_frame_bytes + 3));
    f.put(static_cast<char>(c ^ 0x10));
  }
  auto back = read_store(dir.path());
  ASSERT_EQ(back.report.errors.size(), 1u);
  const auto& err = back.report.errors[0];
  EXPECT_EQ(err.path, victim);
  EXPECT_EQ(err.offset, victim_offset);
  EXPECT_NE(err.message.find(victim.string()), std::string::npos) << err.message;
  EXPECT_NE(err.message.find("offset " + std::to_string(victim_offset)), std::string::npos)
      << err.message;
  EXPECT_NE(err.message.find("CRC32C mismatch"), std::string::npos) << err.message;
  // Everything but the corrupt record and the rest of its segment is read.
  EXPECT_EQ(back.events.size(), 60u - (victim_records - before));
  EXPECT_EQ(back.report.segments, segments.size());
  EXPECT_EQ(back.events.back().line, 59u);
}

TEST(StoreReader, ConcurrentReaderNeverSeesATornRecord) {
  test::TempDir dir;
  constexpr std::uint64_t batches = 400, per_batch = 25;
  auto out = StoreOutput::open(test_config(dir.path(), 64 << 10));
  ASSERT_TRUE(out);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> scans{0}, max_seen{0};
  std::string failure;
  std::thread reader([&] {
    Arena arena;
    while (failure.empty()) {
      const bool last = done.load();
      auto r = StoreReader::open(dir.path());
      if (!r) {
        failure = r.error().message;
        break;
      }
      std::uint64_t expect = 0;
      auto report = r->for_each(arena, [&](const StoredEvent& s) {
        const std::string want = "event " + std::to_string(expect) + " ";
        if (s.event.line != expect || s.sequence != expect || !s.event.raw.starts_with(want)) {
          failure =
              "record " + std::to_string(expect) + " read as line " + std::to_string(s.event.line);
          return false;
        }
        ++expect;
        return true;
      });
      if (!report.errors.empty()) failure = report.errors[0].message;
      if (expect > max_seen) max_seen = expect;
      scans.fetch_add(1);
      if (last) break;
    }
  });
  bool written = true;
  for (std::uint64_t b = 0; b < batches && written; ++b)
    written = store_batch(**out, *numbered_batch(b * per_batch, per_batch, b % 50)).has_value();
  written = written && (*out)->close().has_value();
  done = true;
  reader.join();
  ASSERT_TRUE(written);
  EXPECT_EQ(failure, "");
  EXPECT_EQ(max_seen.load(), batches * per_batch);
  EXPECT_GT(scans.load(), 1u);
}

}  // namespace
}  // namespace sluice
