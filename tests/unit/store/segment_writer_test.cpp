// SPDX-License-Identifier: Apache-2.0
/// Crash recovery of the segment writer: torn tails cut at every offset of the last record, and a
/// child process killed with SIGKILL while it writes with fsync = "batch".
#include "sluice/store/segment_writer.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <set>

#include "sluice/store/segment_index.hpp"
#include "store_test_support.hpp"
#include "tests_support.hpp"

namespace sluice {
namespace {

using test::numbered_batch;
using test::read_store;
using test::store_batch;
using test::test_config;

std::string slurp(const std::filesystem::path& p) {
  return test::read_file(p);
}

void spit(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
}

enum class Damage { truncate, garbage, zeros };

// Writes 20 records into one record log, then damages its last record from every offset on,
// three ways; each time reopening must keep exactly the whole records, count the loss, convert
// the segment to blocks and append after them without duplicating any.
TEST(SegmentWriterRecovery, CutsTornTailAtEveryOffsetOfTheLastRecord) {
  test::TempDir dir;
  const auto original_dir = dir.path() / "original";
  {
    auto first = numbered_batch(0, 10), second = numbered_batch(10, 10, 13);
    auto r =
        test::write_record_logs(test_config(original_dir, 64 << 10), {first.get(), second.get()});
    ASSERT_TRUE(r) << r.error().message;
  }
  const auto segment_name = segment_file_name(0);
  const std::string pristine = slurp(original_dir / segment_name);
  // Where the last record starts and where its payload ends.
  std::size_t last_start = 0, payload_end = 0;
  {
    auto reader = SegmentReader::open(original_dir / segment_name);
    ASSERT_TRUE(reader);
    Arena arena;
    StoredEvent ev;
    for (int i = 0; i < 19; ++i)
      ASSERT_EQ((*reader)->next(ev, arena), SegmentReader::Step::record);
    last_start = (*reader)->offset();
    std::uint32_t len;
    std::memcpy(&len, pristine.data() + last_start, 4);
    payload_end = last_start + record_frame_bytes + len;
    ASSERT_EQ(pristine.size(), framed_record_bytes(len) + last_start + segment_trailer_bytes);
  }

  std::size_t cases = 0;
  for (Damage damage : {Damage::truncate, Damage::garbage, Damage::zeros}) {
    const std::size_t end =
        damage == Damage::truncate ? pristine.size() - segment_trailer_bytes : payload_end;
    for (std::size_t k = last_start; k < end; ++k) {
      SCOPED_TRACE(::testing::Message() << "damage " << static_cast<int>(damage) << " at " << k);
      const auto case_dir = dir.path() / ("case" + std::to_string(cases++));
      std::filesystem::create_directories(case_dir);
      std::string bytes = pristine;
      if (damage == Damage::truncate) bytes.resize(k);
      for (std::size_t i = k; damage == Damage::garbage && i < payload_end; ++i)
        bytes[i] ^= 0x5A;
      for (std::size_t i = k; damage == Damage::zeros && i < payload_end; ++i)
        bytes[i] = 0;
      spit(case_dir / segment_name, bytes);
      // Zeroing bytes that were already zero (a trailing field count of 0) damages nothing.
      const bool intact = damage == Damage::zeros && bytes == pristine;
      const std::uint64_t whole = intact ? 20 : 19;

      auto out = StoreOutput::open(test_config(case_dir, 64 << 10));
      ASSERT_TRUE(out) << out.error().message;
      EXPECT_EQ((*out)->counters().records_cut.value(), intact ? 0u : 1u);
      if (damage == Damage::garbage) {
        EXPECT_GT((*out)->counters().recovered_bytes.value(), 0u);
      }
      EXPECT_EQ((*out)->writer().stats().events, whole);
      ASSERT_TRUE(store_batch(**out, *numbered_batch(100, 5)));
      ASSERT_TRUE((*out)->close());
      EXPECT_EQ((*out)->counters().segments_sealed.value(), 2u);  // recovered one + new one
      out->reset();

      auto back = read_store(case_dir);
      EXPECT_TRUE(back.report.errors.empty())
          << (back.report.errors.empty() ? "" : back.report.errors[0].message);
      ASSERT_EQ(back.events.size(), whole + 5);
      for (std::size_t i = 0; i < back.events.size(); ++i) {
        EXPECT_EQ(back.events[i].line, i < whole ? i : 100 + (i - whole));
        EXPECT_EQ(back.sequences[i], i);
      }
      std::filesystem::remove_all(case_dir);
    }
  }
  EXPECT_GT(cases, 60u);
}

TEST(SegmentWriterRecovery, RemovesUnfinishedSegmentFilesAndEmptySegments) {
  test::TempDir dir;
  {
    auto out = StoreOutput::open(test_config(dir.path(), 4096));
    ASSERT_TRUE(out);
    ASSERT_TRUE(store_batch(**out, *numbered_batch(0, 3)));
  }
  spit(dir.path() / (segment_file_name(3) + ".tmp"), std::string(4096, '\0'));
  // A segment whose only record is torn: nothing whole, so it is removed and its number reused.
  auto torn = slurp(dir.path() / segment_file_name(0));
  std::string header = torn.substr(0, segment_header_bytes);
  header[24] = 3;  // first sequence 3
  header[56] = 0;  // not sealed
  header[60] = 0;  // a record log
  spit(dir.path() / segment_file_name(3), header + std::string("\x30\0\0\0\1\2", 6));
  auto out = StoreOutput::open(test_config(dir.path(), 4096));
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / (segment_file_name(3) + ".tmp")));
  ASSERT_TRUE(store_batch(**out, *numbered_batch(3, 2)));
  ASSERT_TRUE((*out)->close());
  auto back = read_store(dir.path());
  ASSERT_EQ(back.events.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_EQ(back.sequences[i], i);
  EXPECT_TRUE(back.report.errors.empty());
}

TEST(SegmentWriterRecovery, MovesANewestSegmentWithoutHeaderAside) {
  test::TempDir dir;
  {
    auto out = StoreOutput::open(test_config(dir.path(), 4096));
    ASSERT_TRUE(out);
    ASSERT_TRUE(store_batch(**out, *numbered_batch(0, 3)));
  }
  spit(dir.path() / segment_file_name(3), std::string(4096, '\0'));
  auto out = StoreOutput::open(test_config(dir.path(), 4096));
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ((*out)->counters().recovered_bytes.value(), 4096u);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / (segment_file_name(3) + ".damaged")));
  ASSERT_TRUE(store_batch(**out, *numbered_batch(3, 2)));
  ASSERT_TRUE((*out)->close());
  auto back = read_store(dir.path());
  EXPECT_TRUE(back.report.errors.empty());
  ASSERT_EQ(back.events.size(), 5u);
  EXPECT_EQ(back.events[4].line, 4u);
}

TEST(SegmentWriter, OneWriterPerFolder) {
  test::TempDir dir;
  auto first = StoreOutput::open(test_config(dir.path(), 4096));
  ASSERT_TRUE(first) << first.error().message;
  auto second = StoreOutput::open(test_config(dir.path(), 4096));
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find((dir.path() / "LOCK").string()), std::string::npos)
      << second.error().message;
  first->reset();
  EXPECT_TRUE(StoreOutput::open(test_config(dir.path(), 4096)));
}

// A child writes batches and acknowledges each through a pipe; the parent kills it mid-ingest.
// Every acknowledged event must be in the store exactly once. A process crash loses nothing
// `write` accepted under any fsync policy (the bytes are in the page cache), so "none" must
// pass too; it also makes a kill inside the copy (a torn, unpublished run) more likely.
void kill_mid_ingest(const char* fsync) {
  test::TempDir dir;
  constexpr std::size_t batch_events = 50;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    auto config = test_config(dir.path(), 32 << 10);  // several rolls before the kill
    config.fsync = fsync;
    auto out = StoreOutput::open(config);
    if (!out) ::_exit(2);
    for (std::uint64_t b = 0; b < 1'000'000; ++b) {
      if (!store_batch(**out, *numbered_batch(b * batch_events, batch_events, b % 40))) ::_exit(3);
      if (::write(fds[1], &b, sizeof b) != sizeof b) ::_exit(4);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::uint64_t acked = 0, b = 0;
  bool any = false;
  while (::read(fds[0], &b, sizeof b) == sizeof b) {
    any = true;
    acked = b;
    if (b == 60) ::kill(child, SIGKILL);  // mid-ingest: the child is inside its next batch
  }
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ASSERT_TRUE(any);
  ASSERT_GE(acked, 60u);

  auto out = StoreOutput::open(test_config(dir.path(), 32 << 10));
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_TRUE((*out)->close());
  auto back = read_store(dir.path());
  EXPECT_TRUE(back.report.errors.empty())
      << (back.report.errors.empty() ? "" : back.report.errors[0].message);
  // A prefix of what the child wrote, in order, each once, covering every acknowledged batch.
  ASSERT_GE(back.events.size(), (acked + 1) * batch_events);
  for (std::size_t i = 0; i < back.events.size(); ++i) {
    ASSERT_EQ(back.events[i].line, i);
    ASSERT_EQ(back.sequences[i], i);
  }
  EXPECT_EQ((*out)->writer().stats().events, back.events.size());
  // Recovery converted the torn log (and any log the kill caught before its conversion) to
  // blocks; no half-written blocked file is left behind.
  auto store = StoreIndex::open(dir.path());
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->errors().empty());
  for (const auto& seg : store->segments())
    EXPECT_TRUE(seg->blocked()) << seg->path();
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    EXPECT_FALSE(e.path().string().ends_with(".tmp")) << e.path();
}

TEST(SegmentWriterRecovery, SigkillMidIngestKeepsEveryAcknowledgedRecordOnce) {
  kill_mid_ingest("batch");
}

TEST(SegmentWriterRecovery, SigkillMidIngestWithoutFsyncLosesNothingAcknowledged) {
  kill_mid_ingest("none");
}

// Blocks are built while the segment fills: a full block is already on disk beside the active
// log before sealing, and sealing only adds the rest and the footer.
TEST(SegmentWriter, BuildsBlocksWhileTheSegmentFills) {
  test::TempDir dir;
  auto out = StoreOutput::open(test_config(dir.path(), 16 << 20));
  ASSERT_TRUE(out);
  for (std::uint64_t b = 0; b < 10; ++b)
    ASSERT_TRUE(store_batch(**out, *numbered_batch(b * 500, 500)));
  const auto pending = dir.path() / (segment_file_name(0) + ".tmp");
  ASSERT_TRUE(std::filesystem::exists(pending));
  // One block of 4096 events was written; the header is still zeros until sealing.
  EXPECT_GT(std::filesystem::file_size(pending), segment_header_bytes + 1000);
  EXPECT_EQ((*out)->counters().blocks_sealed.value(), 0u);
  ASSERT_TRUE((*out)->close());
  EXPECT_FALSE(std::filesystem::exists(pending));
  EXPECT_EQ((*out)->counters().blocks_sealed.value(), 2u);
  auto back = read_store(dir.path());
  EXPECT_TRUE(back.report.errors.empty());
  ASSERT_EQ(back.events.size(), 5000u);
  for (std::size_t i = 0; i < back.events.size(); ++i)
    ASSERT_EQ(back.events[i].line, i);
  // A writer closed with nothing in its active segment leaves no pending file.
  ASSERT_TRUE((*out)->close());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            2);  // LOCK and the one segment
}

}  // namespace
}  // namespace sluice
