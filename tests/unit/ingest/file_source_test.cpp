// SPDX-License-Identifier: Apache-2.0
/// `FileSource` and `StdinSource`: lines, CRLF, a last line without LF, line numbers,
/// truncation, and `follow` through rotation, truncation and a late-appearing file.
#include "sluice/ingest/file_source.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include "source_runner.hpp"
#include "tests_support.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sluice/ingest/stdin_source.hpp"

namespace sluice {
namespace {

using test::TempDir;
using test::wait_for;

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Record {
  std::string raw;
  std::uint64_t line = 0;
  std::uint8_t flags = 0;
  std::string path;
  bool operator==(const Record&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Record& r) {
  return os << "{\"" << r.raw << "\", line " << r.line << ", flags " << int{r.flags} << ", "
            << r.path << "}";
}

/// A real sink that keeps every record.
class CollectingSink final : public BatchSink {
 public:
  bool push(BatchPtr batch) override {
    std::lock_guard lock(mutex_);
    for (const auto& e : batch->events())
      records_.push_back({std::string(e.raw), e.line, e.flags, std::string(batch->source_path())});
    return true;
  }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return records_.size();
  }
  std::vector<Record> records() {
    std::lock_guard lock(mutex_);
    return records_;
  }

 private:
  std::mutex mutex_;
  std::vector<Record> records_;
};

void write_file(const fs::path& p, std::string_view bytes, bool append = false) {
  std::ofstream out(p, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  out << bytes;
}

/// Runs a finite source to its end on this thread.
std::vector<Record> run_to_end(Source& source, SourceCounters& counters,
                               std::size_t batch_capacity = 512) {
  CollectingSink sink;
  SourceContext ctx;
  ctx.sink = &sink;
  ctx.counters = &counters;
  ctx.batch_capacity = batch_capacity;
  EXPECT_TRUE(source.run(ctx).has_value());
  return sink.records();
}

TEST(FileSource, LinesCrlfLastLineWithoutNewlineAndLineNumbers) {
  TempDir dir;
  const auto path = dir / "a.log";
  write_file(path, "<1>first\r\n<2>second\n\n<3>after empty\r\n\r\n<4>last");
  FileSourceConfig c;
  c.path = path;
  FileSource source(c);
  ASSERT_TRUE(source.open().has_value());
  EXPECT_TRUE(source.finite());
  SourceCounters counters;
  const auto records = run_to_end(source, counters, 2);
  const std::string p = path.string();
  const std::vector<Record> want{{"<1>first", 1, 0, p},
                                 {"<2>second", 2, 0, p},
                                 {"<3>after empty", 4, 0, p},
                                 {"<4>last", 6, 0, p}};
  EXPECT_EQ(records, want);
  EXPECT_EQ(counters.records.value(), 4u);
  EXPECT_EQ(counters.bytes.value(), fs::file_size(path));
}

TEST(FileSource, LongLinesAreTruncatedAcrossReads) {
  TempDir dir;
  const auto path = dir / "long.log";
  const std::string long_line = "<1>" + std::string(10000, 'z');
  write_file(path, "<0>short\n" + long_line + "\n<2>next\n" + long_line);
  FileSourceConfig c;
  c.path = path;
  c.max_message_bytes = 1000;
  c.read_bytes = 333;  // below the minimum: clamped, still splits lines across reads
  FileSource source(c);
  ASSERT_TRUE(source.open().has_value());
  SourceCounters counters;
  const auto records = run_to_end(source, counters);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[1].raw, long_line.substr(0, 1000));
  EXPECT_EQ(records[1].flags, event_flag_truncated);
  EXPECT_EQ(records[1].line, 2u);
  EXPECT_EQ(records[2].raw, "<2>next");
  EXPECT_EQ(records[2].line, 3u);
  EXPECT_EQ(records[3].flags, event_flag_truncated);
  EXPECT_EQ(records[3].line, 4u);
  EXPECT_EQ(counters.truncated.value(), 2u);
}

TEST(FileSource, ManyLinesInLargeFile) {
  TempDir dir;
  const auto path = dir / "big.log";
  std::string text;
  constexpr int lines = 100000;
  for (int i = 0; i < lines; ++i)
    text += "<13>line " + std::to_string(i) + "\n";
  write_file(path, text);
  FileSourceConfig c;
  c.path = path;
  FileSource source(c);
  ASSERT_TRUE(source.open().has_value());
  SourceCounters counters;
  const auto records = run_to_end(source, counters);
  ASSERT_EQ(records.size(), static_cast<std::size_t>(lines));
  for (int i = 0; i < lines; ++i) {
    ASSERT_EQ(records[i].raw, "<13>line " + std::to_string(i));
    ASSERT_EQ(records[i].line, static_cast<std::uint64_t>(i + 1));
  }
}

TEST(FileSource, MissingFileFailsWithoutFollow) {
  FileSourceConfig c;
  c.path = "/nonexistent/sluice/missing.log";
  FileSource source(c);
  const auto r = source.open();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("/nonexistent/sluice/missing.log"), std::string::npos);
}

class FollowRunner {
 public:
  FollowRunner(Source& source, CollectingSink& sink) {
    ctx_.sink = &sink;
    ctx_.counters = &counters_;
    thread_ = std::jthread([this, &source](std::stop_token st) {
      ctx_.stop = st;
      ok_ = source.run(ctx_).has_value();
    });
  }
  ~FollowRunner() { stop(); }
  void stop() {
    if (thread_.joinable()) {
      thread_.request_stop();
      thread_.join();
    }
  }
  bool ok() const { return ok_; }

 private:
  SourceContext ctx_;
  SourceCounters counters_;
  bool ok_ = false;
  std::jthread thread_;
};

std::vector<std::string> raws(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records)
    out.push_back(r.raw);
  return out;
}

TEST(FileSource, FollowAppendsRotationAndTruncation) {
  TempDir dir;
  const auto path = dir / "app.log";
  write_file(path, "<1>one\n<1>two\n");
  FileSourceConfig c;
  c.path = path;
  c.follow = true;
  c.poll_interval = 10ms;
  FileSource source(c);
  ASSERT_TRUE(source.open().has_value());
  EXPECT_FALSE(source.finite());
  CollectingSink sink;
  FollowRunner runner(source, sink);
  ASSERT_TRUE(wait_for([&] { return sink.size() >= 2; }));

  // Appends, one of them in two writes (a line is a record only once its LF is there).
  write_file(path, "<1>three\n<1>fo", true);
  ASSERT_TRUE(wait_for([&] { return sink.size() >= 3; }));
  write_file(path, "ur\n", true);
  ASSERT_TRUE(wait_for([&] { return sink.size() >= 4; }));

  // Rotation: rename, then a new file at the path. The old file's unterminated tail and a
  // line written after the rename are still read.
  write_file(path, "<1>old tail", true);
  fs::rename(path, dir / "app.log.1");
  write_file(dir / "app.log.1", " end\n", true);
  write_file(path, "<2>new one\n<2>new two\n");
  ASSERT_TRUE(wait_for([&] { return sink.size() >= 7; }));

  // Truncation in place (copytruncate), then new content shorter than what was read.
  { std::ofstream trunc(path, std::ios::binary | std::ios::trunc); }
  ASSERT_TRUE(wait_for([&] { return true; }));
  std::this_thread::sleep_for(50ms);
  write_file(path, "<3>x\n", true);
  ASSERT_TRUE(wait_for([&] { return sink.size() >= 8; }));
  runner.stop();
  EXPECT_TRUE(runner.ok());

  const auto records = sink.records();
  EXPECT_EQ(raws(records),
            (std::vector<std::string>{"<1>one", "<1>two", "<1>three", "<1>four", "<1>old tail end",
                                      "<2>new one", "<2>new two", "<3>x"}));
  // Line numbers start again in the new file and after the truncation.
  ASSERT_EQ(records.size(), 8u);
  EXPECT_EQ(records[3].line, 4u);
  EXPECT_EQ(records[4].line, 5u);
  EXPECT_EQ(records[5].line, 1u);
  EXPECT_EQ(records[6].line, 2u);
  EXPECT_EQ(records[7].line, 1u);
}

TEST(FileSource, FollowWaitsForFileToAppear) {
  TempDir dir;
  const auto path = dir / "later.log";
  FileSourceConfig c;
  c.path = path;
  c.follow = true;
  c.poll_interval = 10ms;
  FileSource source(c);
  ASSERT_TRUE(source.open().has_value());
  CollectingSink sink;
  FollowRunner runner(source, sink);
  std::this_thread::sleep_for(50ms);
  write_file(path, "<1>appeared\n");
  ASSERT_TRUE(wait_for([&] { return sink.size() >= 1; }));
  runner.stop();
  EXPECT_EQ(raws(sink.records()), std::vector<std::string>{"<1>appeared"});
}

TEST(FileSource, FollowStartAtEndSkipsExistingLines) {
  TempDir dir;
  const auto path = dir / "end.log";
  write_file(path, "<1>old\n");
  FileSourceConfig c;
  c.path = path;
  c.follow = true;
  c.start_at_end = true;
  c.poll_interval = 10ms;
  FileSource source(c);
  ASSERT_TRUE(source.open().has_value());
  CollectingSink sink;
  FollowRunner runner(source, sink);
  std::this_thread::sleep_for(30ms);
  write_file(path, "<1>new\n", true);
  ASSERT_TRUE(wait_for([&] { return sink.size() >= 1; }));
  runner.stop();
  EXPECT_EQ(raws(sink.records()), std::vector<std::string>{"<1>new"});
}

TEST(StdinSource, ReadsPipeToEnd) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  StdinSourceConfig c;
  c.fd = fds[0];
  StdinSource source(c);
  ASSERT_TRUE(source.open().has_value());
  EXPECT_EQ(source.kind(), "stdin");
  EXPECT_TRUE(source.finite());
  std::thread writer([&] {
    const std::string text = "<1>a\r\n<2>b\n<3>no newline";
    for (char ch : text) {
      ASSERT_EQ(::write(fds[1], &ch, 1), 1);
    }
    ::close(fds[1]);
  });
  SourceCounters counters;
  const auto records = run_to_end(source, counters);
  writer.join();
  ::close(fds[0]);
  const std::vector<Record> want{
      {"<1>a", 1, 0, ""}, {"<2>b", 2, 0, ""}, {"<3>no newline", 3, 0, ""}};
  EXPECT_EQ(records, want);
}

TEST(StdinSource, StopEndsAnIdlePipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  StdinSourceConfig c;
  c.fd = fds[0];
  StdinSource source(c);
  ASSERT_TRUE(source.open().has_value());
  CollectingSink sink;
  ASSERT_EQ(::write(fds[1], "<1>x\n", 5), 5);
  {
    FollowRunner runner(source, sink);
    ASSERT_TRUE(wait_for([&] { return sink.size() >= 1; }));
    runner.stop();
    EXPECT_TRUE(runner.ok());
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace sluice
