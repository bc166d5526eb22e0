// SPDX-License-Identifier: Apache-2.0
/// File and stdin sources: large `read`s into one buffer, lines framed by `SyslogFramer` in LF
/// mode, and for `follow` a stat-based check for rotation and truncation at each end of file.
#include "sluice/ingest/file_source.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "ingest/source_util.hpp"
#include "sluice/common/log.hpp"

namespace sluice {
namespace {

constexpr Logger log{"ingest.file"};

/// How long a descriptor source waits in `poll` before checking stop and the flush interval.
constexpr int descriptor_poll_ms = 50;

}  // namespace

FileSource::FileSource(FileSourceConfig config) : config_(std::move(config)) {}

FileSource::FileSource(FileSourceConfig config, int fd, std::string_view kind)
    : config_(std::move(config)), kind_(kind), fd_(fd), owns_fd_(false) {
  config_.follow = false;
  config_.path.clear();
}

FileSource::~FileSource() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

std::string FileSource::describe() const {
  if (!owns_fd_) return std::string(kind_);
  return std::string(kind_) + " " + config_.path + (config_.follow ? " (follow)" : "");
}

Result<void> FileSource::open_path() {
  const int fd = ::open(config_.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::from_errno("file " + config_.path + ": open");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Error::from_errno("file " + config_.path + ": fstat", err);
  }
  fd_ = fd;
  device_ = st.st_dev;
  inode_ = st.st_ino;
  return {};
}

Result<void> FileSource::open() {
  if (config_.max_message_bytes == 0) return Error{describe() + ": max_message_bytes must be > 0"};
  if (!owns_fd_) {
    if (::fcntl(fd_, F_GETFD) < 0) return Error::from_errno(describe() + ": descriptor");
    return {};
  }
  if (config_.path.empty()) return Error{"file source: no path given"};
  auto opened = open_path();
  if (!opened) {
    if (!config_.follow) return opened;
    log.info("{}: {}; waiting for it to appear", describe(), opened.error().message);
    return {};
  }
  // Line numbers then count from the starting point, not from the top of the file.
  if (config_.follow && config_.start_at_end) (void)::lseek(fd_, 0, SEEK_END);
  return {};
}

Result<void> FileSource::run(SourceContext& ctx) {
  SLUICE_ASSERT(ctx.sink != nullptr && ctx.counters != nullptr,
                "FileSource needs a sink and counters");
  SourceCounters& counters = *ctx.counters;
  detail::BatchBuilder batch(ctx);
  if (owns_fd_) batch.set_source_path(config_.path);
  SyslogFramer framer(config_.max_message_bytes, FramingMode::lf_only);
  std::vector<char> buffer(std::max<std::size_t>(config_.read_bytes, 4096));
  static RateLimit truncate_limit{std::chrono::seconds(10)};

  bool sink_open = true;
  std::int64_t now = 0;
  auto on_frame = [&](const Frame& f) {
    Event& e = batch.add(f.bytes, now);
    e.line = f.line;
    if (f.truncated) {
      e.flags |= event_flag_truncated;
      counters.truncated.add();
      if (std::uint64_t suppressed = 0; truncate_limit.allow(suppressed))
        log.warn("{}: line {} cut at {} bytes ({} similar suppressed)", describe(), f.line,
                 config_.max_message_bytes, suppressed);
    }
    if (!batch.flush_if_full()) sink_open = false;
  };
  // Reads what `fd_` has now. Returns 1 after data, 0 at end of file, -1 on an error.
  auto read_some = [&]() -> int {
    const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
    if (n > 0) {
      now = wall_clock_ns();
      counters.bytes.add(static_cast<std::uint64_t>(n));
      framer.feed({buffer.data(), static_cast<std::size_t>(n)}, on_frame);
      return 1;
    }
    if (n == 0) return 0;
    return errno == EINTR || errno == EAGAIN ? 1 : -1;
  };
  auto end_of_stream = [&] {
    now = wall_clock_ns();
    framer.finish(on_frame);
  };

  while (sink_open && !ctx.stop.stop_requested()) {
    if (fd_ < 0) {
      // Following a file that does not exist (yet, or again).
      if (open_path()) {
        log.info("{}: opened", describe());
        framer.reset();
        continue;
      }
      if (!detail::sleep_unless_stopped(ctx.stop, config_.poll_interval)) break;
      continue;
    }
    if (!owns_fd_) {
      pollfd pfd{fd_, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, descriptor_poll_ms);
      if (ready == 0) {
        if (!batch.flush_if_due()) sink_open = false;
        continue;
      }
    }
    const int got = read_some();
    if (got > 0) {
      if (!batch.flush_if_due()) sink_open = false;
      continue;
    }
    if (got < 0) {
      const int err = errno;
      if (!config_.follow) {
        end_of_stream();
        (void)batch.flush();
        return Error::from_errno(describe() + ": read", err);
      }
      counters.errors.add();
      log.warn("{}: read: {}; reopening", describe(), std::strerror(err));
      ::close(fd_);
      fd_ = -1;
      continue;
    }
    // End of file.
    if (!config_.follow) break;
    // Nothing more to read now: whatever is batched goes on at once rather than waiting.
    if (!batch.flush()) break;
    struct stat at_path {};
    if (::stat(config_.path.c_str(), &at_path) == 0 &&
        (at_path.st_ino != inode_ || at_path.st_dev != device_)) {
      // Rotated: drain what the writer added to the old file before it switched, then the old
      // file's unterminated last line is complete.
      while (sink_open && read_some() > 0) {
      }
      end_of_stream();
      ::close(fd_);
      fd_ = -1;
      log.info("{}: rotated, reopening", describe());
      continue;
    }
    struct stat at_fd {};
    const off_t position = ::lseek(fd_, 0, SEEK_CUR);
    if (::fstat(fd_, &at_fd) == 0 && position >= 0 && at_fd.st_size < position) {
      // Truncated in place (copytruncate): start again from the top. Bytes written between
      // our last read and the truncation are lost to us; they would be to `tail -F` too.
      end_of_stream();
      framer.reset();
      (void)::lseek(fd_, 0, SEEK_SET);
      log.info("{}: truncated, reading from the start", describe());
      continue;
    }
    if (!detail::sleep_unless_stopped(ctx.stop, config_.poll_interval)) break;
  }
  end_of_stream();
  (void)batch.flush();
  return {};
}

}  // namespace sluice
