// SPDX-License-Identifier: Apache-2.0
/// `FileSource` reads a log file line by line; with `follow` it keeps reading like `tail -F`:
/// new lines as they are written, the new file after a rotation (rename and create), the start
/// again after a truncation (copytruncate), and it waits for a missing file to appear. The same
/// reading loop serves stdin (`StdinSource`, which reads an open descriptor).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "sluice/ingest/framing.hpp"
#include "sluice/ingest/source.hpp"

namespace sluice {

/// Configuration of a file source (`[[source]] kind = "file"`).
struct FileSourceConfig {
  /// The file to read.
  std::string path;
  /// Keep reading at the end of the file, follow rotations and truncations (`tail -F`).
  bool follow = false;
  /// With `follow`: start at the current end of the file instead of its first line.
  bool start_at_end = false;
  /// Longest line kept; longer ones are cut, flagged truncated and counted, the rest skipped.
  std::size_t max_message_bytes = default_max_message_bytes;
  /// Bytes per `read`: large reads amortise system calls on big files.
  std::size_t read_bytes = 1024 * 1024;
  /// With `follow`: how often to look for new data, a rotation or the file's appearance.
  std::chrono::milliseconds poll_interval{100};
};

/// Reads lines (split on LF, one trailing CR removed, empty lines skipped but counted) into
/// records with their 1-based line number (`Event::line`) and the path on each batch. The last
/// line needs no LF. Without `follow` the source is finite and `run` returns at the end of the
/// file; a partial batch is handed on at the end and whenever reading pauses.
class FileSource final : public Source {
 public:
  explicit FileSource(FileSourceConfig config);
  /// Reads the already open descriptor `fd` (not owned, not followed, no path on batches) and
  /// calls itself `kind`; used by `StdinSource`.
  FileSource(FileSourceConfig config, int fd, std::string_view kind);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  std::string_view kind() const override { return kind_; }
  std::string describe() const override;
  Backpressure backpressure() const override { return Backpressure::block; }
  /// Opens the file. Without `follow` a missing file is an error naming the path; with `follow`
  /// the source waits for it (logged once).
  Result<void> open() override;
  Result<void> run(SourceContext& ctx) override;
  bool finite() const override { return !config_.follow; }

 private:
  Result<void> open_path();

  FileSourceConfig config_;
  std::string_view kind_ = "file";
  int fd_ = -1;
  bool owns_fd_ = true;
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

}  // namespace sluice
